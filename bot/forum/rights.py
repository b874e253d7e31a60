"""Who may act on a post: its author, or a moderator.

Whether someone is a moderator is decided once, outside the domain (``bot.permissions``), and the
domain is told the answer in an ``Actor``; the rule built on it lives here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Post
from bot.forum.errors import PermissionDenied
from bot.forum.post_rows import locked_question


@dataclass(frozen=True, slots=True)
class Actor:
    """The member acting through a command: their id, whether they moderate the guild (decided
    by the adapter) and, when the command names it, the guild it came from - a post of another
    guild is then refused as one that does not exist."""

    member_id: int
    is_moderator: bool = False
    guild_id: int | None = None

    def may_change(self, post: Post) -> bool:
        """Whether the actor wrote ``post`` or moderates."""
        return self.is_moderator or self.member_id == post.author_id


def require_author_or_moderator(post: Post, actor: Actor, *, refusal: str) -> None:
    """Refuse with ``refusal`` unless the actor wrote ``post`` or is a moderator."""
    if not actor.may_change(post):
        raise PermissionDenied(refusal)


async def locked_question_for(
    session: AsyncSession, question_id: int, actor: Actor, *, refusal: str
) -> Post:
    """The live question (of the actor's guild, when it is known), locked
    (``post_rows.locked_question``), when the actor asked it or is a moderator; refused with
    ``refusal`` otherwise."""
    question = await locked_question(session, question_id, guild_id=actor.guild_id)
    require_author_or_moderator(question, actor, refusal=refusal)
    return question
