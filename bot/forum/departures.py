"""Members who were banned from a server or left it: the bot stops DMing them about it.

``end_membership`` is the one operation, run in one transaction when a ban reaches the bot
(``cogs.notifications``) or when the DM worker finds at send time that a recipient is no longer a
member (``bot.workers.memberships``): the member's follows of that server's questions end, and
their notifications about it that are still waiting (or being sent) are cancelled with the
reason, so ``/qa status`` counts them and no worker retries them. Their questions, answers,
votes and points stay: a departure is not an erasure (``/mydata erase`` is).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.models import Follow, Notification
from bot.forum.outbox import PENDING_STATUSES

BANNED: Final = "the recipient was banned from the server"
LEFT: Final = "the recipient is no longer a member of the server (left or banned)"


@dataclass(frozen=True, slots=True)
class MembershipEnded:
    """What ``end_membership`` changed: follows ended, notifications dropped."""

    follows_ended: int
    notifications_dropped: int


async def end_membership(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    reason: str,
    now: datetime | None = None,
) -> MembershipEnded:
    """The member is gone from the server: their follows there end and their waiting
    notifications about it are cancelled with ``reason`` (``BANNED`` or ``LEFT``). Idempotent:
    a repeat (a replayed ban event, a second worker finding the same departure) changes
    nothing and counts zero."""
    now = now or utc_now()
    follows = await session.execute(
        delete(Follow)
        .where(Follow.guild_id == guild_id, Follow.user_id == user_id)
        .returning(Follow.question_id)
    )
    dropped = await session.execute(
        update(Notification)
        .where(
            Notification.guild_id == guild_id,
            Notification.recipient_id == user_id,
            Notification.status.in_(PENDING_STATUSES),
        )
        .values(status="cancelled", last_error=reason, next_attempt_at=now, claimed_until=None)
        .returning(Notification.id)
    )
    return MembershipEnded(
        follows_ended=len(follows.all()), notifications_dropped=len(dropped.all())
    )
