"""Per-member rate limits per guild (Q2A's defaults: 10 questions and 25 answers per hour), and
when a member last posted, for a channel's slowmode (``last_post_at``).

No table of its own: the limit counts the member's posts of that kind in the ``posts`` table whose
``created_at`` lies in the last hour. Soft-deleted posts count too, so deleting a post does not
refund it. When the member is at the limit, the time to wait is when the N-th most recent post
(N = the limit) leaves the window: from then on fewer than N posts are in it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Literal, TypedDict, Unpack

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Post
from bot.forum.errors import RateLimited
from bot.forum.settings import GuildConfig

WINDOW = timedelta(hours=1)
#: Discord's epoch (2015-01-01T00:00:00Z) in Unix milliseconds: snowflakes count from it.
DISCORD_EPOCH_MS = 1_420_070_400_000

RateKind = Literal["question", "answer"]


def limit_for(config: GuildConfig, kind: RateKind) -> int:
    """The guild's hourly limit for ``kind``."""
    if kind == "question":
        return config.questions_per_hour
    return config.answers_per_hour


class PostsCounted(TypedDict):
    """Whose posts of which kind a limit counts, in the window ending ``now``."""

    guild_id: int
    user_id: int
    kind: RateKind
    now: datetime


async def _blocking_post_time(
    session: AsyncSession, config: GuildConfig, counted: PostsCounted
) -> datetime | None:
    """The creation time of the N-th most recent post in the window (N = the guild's limit for
    ``kind``), or None when the member is under the limit."""
    stmt = (
        select(Post.created_at)
        .where(
            Post.guild_id == counted["guild_id"],
            Post.author_id == counted["user_id"],
            Post.kind == counted["kind"],
            Post.created_at > counted["now"] - WINDOW,
        )
        .order_by(Post.created_at.desc(), Post.id.desc())
        .offset(limit_for(config, counted["kind"]) - 1)
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def posts_in_window(
    session: AsyncSession, *, guild_id: int, user_ids: Iterable[int], kind: RateKind, now: datetime
) -> dict[int, int]:
    """How many posts of ``kind`` each of ``user_ids`` made in the window (absent: none): one
    more is over the limit when that count has reached ``limit_for`` (as ``over_limit``)."""
    ids = set(user_ids)
    if not ids:
        return {}
    stmt = (
        select(Post.author_id, func.count())
        .where(
            Post.guild_id == guild_id,
            Post.author_id.in_(ids),
            Post.kind == kind,
            Post.created_at > now - WINDOW,
        )
        .group_by(Post.author_id)
    )
    return {row[0]: row[1] for row in await session.execute(stmt)}


async def over_limit(
    session: AsyncSession, config: GuildConfig, **counted: Unpack[PostsCounted]
) -> bool:
    """Whether one more post of ``kind`` by the member now would exceed the guild's limit."""
    return await _blocking_post_time(session, config, counted) is not None


async def check_rate(
    session: AsyncSession, config: GuildConfig, **counted: Unpack[PostsCounted]
) -> None:
    """Refuse with ``RateLimited`` (the wait in its sentence and ``retry_after``) when over."""
    blocking = await _blocking_post_time(session, config, counted)
    if blocking is None:
        return
    kind = counted["kind"]
    retry_after = max(1.0, (blocking + WINDOW - counted["now"]).total_seconds())
    raise RateLimited(
        _sentence(kind, limit_for(config, kind), retry_after), retry_after=retry_after
    )


async def last_post_at(
    session: AsyncSession, *, guild_id: int, author_id: int, thread_id: int | None = None
) -> datetime | None:
    """When the member last posted where a slowmode counts, from the stored posts (a restart
    forgets nothing): without ``thread_id`` their latest question in the guild (the Q&A forum's
    slowmode paces new posts), with it their latest post in that thread (a thread's slowmode
    paces its messages, the post's starter included). Deleted and pending posts count, as on
    Discord a deleted message does not refund the wait. None when they have not posted there.

    A post's time is its Discord message's (the snowflake's timestamp: the clock Discord judges
    slowmode by), or for a pending post without a message yet when it was stored."""
    stmt = select(
        func.max(Post.message_id), func.max(Post.created_at).filter(Post.message_id.is_(None))
    ).where(Post.guild_id == guild_id, Post.author_id == author_id)
    if thread_id is None:
        stmt = stmt.where(Post.kind == "question")
    else:
        stmt = stmt.where(Post.thread_id == thread_id)
    newest_message, newest_pending = (await session.execute(stmt)).one()
    times = [t for t in (newest_pending,) if t is not None]
    if newest_message is not None:
        times.append(snowflake_time(newest_message))
    return max(times, default=None)


def snowflake_time(snowflake: int) -> datetime:
    """When Discord made the object with this id (a snowflake carries its creation time)."""
    milliseconds = (snowflake >> 22) + DISCORD_EPOCH_MS
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    word = singular if count == 1 else (plural or singular + "s")
    return f"{count} {word}"


def format_wait(seconds: float) -> str:
    """A wait as a person says it, rounded up: "45 seconds", "1 minute", "12 minutes"."""
    whole = max(1, math.ceil(seconds))
    if whole < 60:
        return _plural(whole, "second")
    return _plural(math.ceil(whole / 60), "minute")


def _sentence(kind: RateKind, limit: int, retry_after: float) -> str:
    if kind == "question":
        what = f"ask {_plural(limit, 'question')}"
    else:
        what = f"post {_plural(limit, 'answer')}"
    return f"You can {what} per hour; try again in {format_wait(retry_after)}."
