"""Who may act on a post: its author, or a moderator.

Whether someone is a moderator is decided once, outside the domain (``bot.permissions``), and the
domain is told the answer (``is_moderator``); the rule built on it lives here.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Post
from bot.forum.errors import PermissionDenied
from bot.forum.post_rows import locked_question


def require_author_or_moderator(
    post: Post, *, actor_id: int, is_moderator: bool, refusal: str
) -> None:
    """Refuse with ``refusal`` unless the actor wrote ``post`` or is a moderator."""
    if not (is_moderator or actor_id == post.author_id):
        raise PermissionDenied(refusal)


async def locked_question_for(
    session: AsyncSession,
    question_id: int,
    *,
    actor_id: int,
    is_moderator: bool,
    refusal: str,
    guild_id: int | None = None,
) -> Post:
    """The live question, locked (``post_rows.locked_question``), when the actor asked it or is
    a moderator; refused with ``refusal`` otherwise."""
    question = await locked_question(session, question_id, guild_id=guild_id)
    require_author_or_moderator(
        question, actor_id=actor_id, is_moderator=is_moderator, refusal=refusal
    )
    return question
