"""Logging, configured once per process.

Log lines carry ids (guild, post, user), never message text and never the author of an
anonymous post. The ``discord`` loggers stay at INFO or above whatever ``LOG_LEVEL`` says: at
DEBUG discord.py logs raw gateway payloads and request bodies (user ids and text included). A
filter also redacts the bot token from every record as a last line of defence.
"""

from __future__ import annotations

import logging
import sys
from typing import Final

_FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"
_REDACTED = "[redacted]"


class RedactFilter(logging.Filter):
    """Replaces each secret with ``[redacted]`` in a record's rendered message."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        changed = False
        for secret in self._secrets:
            if secret in message:
                message = message.replace(secret, _REDACTED)
                changed = True
            if record.exc_text and secret in record.exc_text:
                record.exc_text = record.exc_text.replace(secret, _REDACTED)
        if changed:
            record.msg, record.args = message, None
        return True


def configure_logging(level: str = "INFO", *, secrets: list[str] | None = None) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_qa_bot", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(RedactFilter(secrets or []))
    handler._qa_bot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    set_levels(level)


#: Loggers kept at INFO or above: at DEBUG they log raw payloads (ids, names, text).
DISCORD_LOGGERS: Final = (
    "discord",
    "discord.http",
    "discord.gateway",
    "discord.client",
    "discord.state",
)
#: Loggers kept at WARNING or above: SQL echo would print bound parameters (message text).
QUIET_LOGGERS: Final = ("sqlalchemy", "aiosqlite", "alembic")


def set_levels(level: str) -> None:
    """The levels of the root logger and of the noisy libraries for ``LOG_LEVEL=level`` (the
    leak scanner of the tests applies the same levels at DEBUG, to see what production logs)."""
    root = logging.getLogger()
    numeric = logging.getLevelName(level.upper())
    root.setLevel(numeric if isinstance(numeric, int) else logging.INFO)
    for name in DISCORD_LOGGERS:
        logging.getLogger(name).setLevel(max(root.level, logging.INFO))
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(root.level, logging.WARNING))
