"""Domain errors. Each carries the sentence the user sees (ephemerally)."""

from __future__ import annotations


class ForumError(Exception):
    """Base of every refusal the domain makes; ``str(err)`` is the user-facing sentence."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(ForumError):
    """The input is empty, too long or otherwise not acceptable."""


class NotFound(ForumError):
    """The question, answer or setting referred to does not exist (or was deleted)."""


class PermissionDenied(ForumError):
    """The actor may not do this (not the asker, not a moderator, ...)."""


class InvalidState(ForumError):
    """The post is in a state that forbids this (closed, deleted, already answered...)."""


class RateLimited(ForumError):
    """Too many actions in the window; ``retry_after`` is in seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotConfigured(ForumError):
    """The guild has not run ``/qa setup`` yet (or its forum is gone)."""
