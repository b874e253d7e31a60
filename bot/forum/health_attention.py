"""What needs the moderators' attention (``/mod stats``, the weekly digest): the unanswered
backlog and its oldest questions, and the categories whose answer rate is falling.

- **Unanswered** here is what ``/unanswered`` lists (``bot.forum.listing``): open, posted, not
  deleted or removed, and no live answer yet; the backlog counts every such question of the
  guild, whatever its age, through an index (``ix_posts_unanswered``, or the guild's questions
  by ``ix_posts_guild_kind_created``: the planner picks).
- A category's answer rate is **falling** when its share of answered questions (Area 51's
  meaning, as in ``bot.forum.health_stats``) in the second half of the period is lower than in
  the first half, each half holding at least ``TREND_MIN_QUESTIONS`` of its questions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.types import UTCDateTime
from bot.forum.health_stats import (
    PeriodStats,
    period_stats,
)
from bot.forum.listing import SHOWN, UNANSWERED

#: The oldest unanswered questions shown.
OLDEST_SHOWN: Final = 5
#: Questions each half of the period needs in a category before its trend is judged.
TREND_MIN_QUESTIONS: Final = 3
#: Falling categories shown, the steepest fall first.
FALLING_SHOWN: Final = 5


@dataclass(frozen=True, slots=True)
class Unanswered:
    """One unanswered question, enough to link it."""

    id: int
    title: str
    thread_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Falling:
    """A category whose answered share fell from ``before`` to ``after`` (0..1)."""

    category: str
    before: float
    after: float
    questions_before: int
    questions_after: int


@dataclass(frozen=True, slots=True)
class Attention:
    backlog: int
    oldest: list[Unanswered]
    falling: list[Falling]


async def unanswered_backlog(
    session: AsyncSession, *, guild_id: int, limit: int = OLDEST_SHOWN
) -> tuple[int, list[Unanswered]]:
    """How many questions of the guild wait for a first answer, and the ``limit`` oldest."""
    where = f"guild_id = :guild_id AND {UNANSWERED} AND {SHOWN}"
    params = {"guild_id": guild_id, "limit": limit}
    total = await session.execute(text(f"SELECT COUNT(*) FROM posts WHERE {where}"), params)
    oldest = await session.execute(
        text(
            f"SELECT id, COALESCE(title, '') AS title, thread_id, created_at FROM posts"
            f" WHERE {where} ORDER BY created_at, id LIMIT :limit"
        ).columns(created_at=UTCDateTime()),
        params,
    )
    return int(total.scalar_one()), [Unanswered(*row) for row in oldest.all()]


def falling_categories(halves: dict[str, dict[int, tuple[int, int]]]) -> list[Falling]:
    """The categories whose answered share fell from the period's first half to its second
    (``PeriodStats.halves``), the steepest fall first."""
    falling: list[Falling] = []
    for category, split in halves.items():
        asked_before, answered_before = split.get(0, (0, 0))
        asked_after, answered_after = split.get(1, (0, 0))
        if min(asked_before, asked_after) < TREND_MIN_QUESTIONS:
            continue
        before, after = answered_before / asked_before, answered_after / asked_after
        if after < before:
            falling.append(Falling(category, before, after, asked_before, asked_after))
    falling.sort(key=lambda f: (f.after - f.before, f.category))
    return falling[:FALLING_SHOWN]


async def needs_attention(session: AsyncSession, *, guild_id: int, stats: PeriodStats) -> Attention:
    backlog, oldest = await unanswered_backlog(session, guild_id=guild_id)
    return Attention(backlog, oldest, falling_categories(stats.halves))


@dataclass(frozen=True, slots=True)
class HealthReport:
    """Everything ``/mod stats`` and the digest show."""

    stats: PeriodStats
    attention: Attention


async def health_report(
    session: AsyncSession, *, guild_id: int, weeks: int, now: datetime
) -> HealthReport:
    """The guild's figures for the ``weeks`` weeks ending at ``now`` and what needs attention:
    one read-only unit of work."""
    stats = await period_stats(session, guild_id=guild_id, weeks=weeks, now=now)
    return HealthReport(stats, await needs_attention(session, guild_id=guild_id, stats=stats))
