"""Who may act on a post: its author, or a moderator.

Whether someone is a moderator is decided once, outside the domain (``bot.permissions``), and the
domain is told the answer (``is_moderator``); the rule built on it lives here.
"""

from __future__ import annotations

from bot.db.models import Post
from bot.forum.errors import PermissionDenied


def require_author_or_moderator(
    post: Post, *, actor_id: int, is_moderator: bool, refusal: str
) -> None:
    """Refuse with ``refusal`` unless the actor wrote ``post`` or is a moderator."""
    if not (is_moderator or actor_id == post.author_id):
        raise PermissionDenied(refusal)
