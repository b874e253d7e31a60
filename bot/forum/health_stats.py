"""Community health for moderators (``/mod stats``, the weekly digest): are questions answered,
how fast, by how many - per week and over a period, computed by SQL aggregates.

The period is the ``weeks`` whole weeks that end at ``now``; week ``i`` is
``[start + 7i days, start + 7(i+1) days)``. A question counts in the week it was asked; its
figures are read from its live answers (posted, not deleted, not removed by a moderator).

- **Answered** is Area 51's meaning: the question has an answer with a positive score, or an
  accepted answer.
- **Answered within 24 h** and the **time to first answer** look at its first live answer, of
  any score.
- **Medians** are exact: the mean of the two middle values when their count is even. The
  **90th percentile** is the nearest rank (the ``ceil(0.9 n)``-th smallest). The database
  numbers each week's delays (a window function) and returns only the rows at those ranks.
- **Active askers / answerers** count distinct members (anonymous ones included, as a number
  only): askers of the period's questions, authors of answers posted in the period.

Nothing here loads every post: two grouped statements, each returning a few rows per week,
read with the index ``ix_posts_guild_kind_created`` (guild, kind, created_at; partial to
``created_at IS NOT NULL``, which the queries state, so that ``/unanswered``, which only orders
by ``created_at``, keeps its own index) and the answers by ``ix_posts_question_score``.
What needs attention (the unanswered backlog, falling categories) is ``bot.forum.health_attention``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.dialect import dialect_name
from bot.db.types import UTCDateTime
from bot.forum.listing import SHOWN
from bot.forum.results import Derived

#: The periods ``/mod stats`` offers, in weeks.
PERIODS: Final = (4, 12, 52)
WEEK: Final = timedelta(days=7)
DAY_SECONDS: Final = 86_400

#: Area 51's bars for an "excellent" beta site.
BAR_ANSWERED: Final = 0.90
BAR_ANSWERS_PER_QUESTION: Final = 2.5
BAR_QUESTIONS_PER_DAY: Final = 15.0

#: A live post of ``p`` (the ``SHOWN`` condition of listings, table-qualified).
_LIVE: Final = " AND ".join(f"p.{part}" for part in SHOWN.split(" AND ")) + (
    " AND p.deleted_at IS NULL"
)


class _PerQuestion(Derived[float | None]):
    """The count ``source`` per question of the figures' period (None: it had no question)."""

    __slots__ = ()

    def value(self, figures: Figures) -> float | None:
        count: int = getattr(figures, self.source)
        return count / figures.questions if figures.questions else None


@dataclass(frozen=True, slots=True)
class Figures:
    """The figures of one week, or of the whole period (``week`` None)."""

    week: int | None
    starts: datetime
    ends: datetime
    questions: int = 0
    answered: int = 0
    answered_24h: int = 0
    with_answer: int = 0
    answers: int = 0
    accepted: int = 0
    askers: int = 0
    answerers: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None

    @property
    def days(self) -> float:
        return (self.ends - self.starts) / timedelta(days=1)

    @property
    def questions_per_day(self) -> float:
        return self.questions / self.days

    answered_share = _PerQuestion("answered")
    answered_24h_share = _PerQuestion("answered_24h")
    accepted_share = _PerQuestion("accepted")
    answers_per_question = _PerQuestion("answers")


@dataclass(frozen=True, slots=True)
class PeriodStats:
    """``weeks`` rows, oldest first, the period's figures (``overall``) and each category's
    answered share by half of the period (``halves``)."""

    starts: datetime
    ends: datetime
    weeks: list[Figures] = field(default_factory=list)
    overall: Figures | None = None
    #: category -> {0: the first half's (questions, answered), 1: the second half's}
    halves: dict[str, dict[int, tuple[int, int]]] = field(default_factory=dict)


def period_bounds(now: datetime, weeks: int) -> list[tuple[datetime, datetime]]:
    """Each week's ``[start, end)``, oldest first; the last ends at ``now``."""
    start = now - weeks * WEEK
    return [(start + i * WEEK, start + (i + 1) * WEEK) for i in range(weeks)]


def _delay_sql(dialect: str, later: str, earlier: str) -> str:
    """Seconds from ``earlier`` to ``later`` (timestamps stored naive UTC), to the millisecond."""
    if dialect == "postgresql":
        return f"ROUND(CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) AS NUMERIC), 3)"
    return f"ROUND((julianday({later}) - julianday({earlier})) * 86400.0, 3)"


def _weeks_sql(count: int) -> str:
    """The weeks as rows ``(i, lo, hi)``: a ``UNION ALL`` of selects (both backends)."""
    return " UNION ALL ".join(f"SELECT {i} AS i, :lo{i} AS lo, :hi{i} AS hi" for i in range(count))


def bound_weeks(sql: str, bounds: list[tuple[datetime, datetime]]) -> tuple[Any, dict[str, Any]]:
    """``sql`` with its week bounds bound as ``UTCDateTime`` (stored text on SQLite compares
    exactly), and their values."""
    params: dict[str, Any] = {}
    binds = []
    for i, (lo, hi) in enumerate(bounds):
        params[f"lo{i}"], params[f"hi{i}"] = lo, hi
        binds += [
            bindparam(f"lo{i}", type_=UTCDateTime()),
            bindparam(f"hi{i}", type_=UTCDateTime()),
        ]
    return text(sql).bindparams(*binds), params


def per_question_sql(dialect: str, weeks: int) -> str:
    """The CTEs ``weeks``, ``q`` (the period's live questions, with their week) and ``pq`` (each
    question's answer figures: its answers found by question through the index, never a scan
    of every answer), shared by the statements below and by the category trend."""
    delay = _delay_sql(dialect, "MIN(p.created_at)", "q.created_at")
    return f"""
        WITH weeks AS ({_weeks_sql(weeks)}),
        q AS (
            SELECT w.i AS week, p.id, p.category, p.created_at,
                   CASE WHEN p.accepted_answer_id IS NULL THEN 0 ELSE 1 END AS accepted
            FROM weeks AS w
            JOIN posts AS p ON p.guild_id = :guild_id AND p.kind = 'question'
                 AND p.created_at IS NOT NULL AND p.created_at >= w.lo AND p.created_at < w.hi
            WHERE {_LIVE}
        ),
        pq AS (
            SELECT q.week, q.category, q.accepted, COUNT(p.id) AS n,
                   CASE WHEN MAX(CASE WHEN p.score > 0 THEN 1 ELSE 0 END) = 1 OR q.accepted = 1
                        THEN 1 ELSE 0 END AS answered,
                   {delay} AS delay
            FROM q LEFT JOIN posts AS p ON p.question_id = q.id AND p.kind = 'answer'
                 AND {_LIVE}
            GROUP BY q.id, q.week, q.category, q.accepted, q.created_at
        )
    """


def _period_sql(dialect: str, weeks: int) -> str:
    """One statement over ``pq`` (computed once, referenced three times), three kinds of rows:
    ``f``: each week's counts; ``r``: the delays at the median's and the 90th percentile's
    ranks, per week (``week`` >= 0) and over the period (``week`` -1), a few rows per week;
    ``c``: each category's questions and answered ones in the period's first (0) and second (1)
    half. The columns after ``week`` are the kind's own values."""
    half = weeks // 2
    late = f"CASE WHEN week >= {half} THEN 1 ELSE 0 END"
    ranked = """
        SELECT {key} AS week, delay,
               ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY delay) AS rn,
               COUNT(*) OVER (PARTITION BY {key}) AS cnt
        FROM pq WHERE delay IS NOT NULL
    """
    return (
        per_question_sql(dialect, weeks)
        + f"""
        , ranked AS ({ranked.format(key="week")} UNION ALL {ranked.format(key="-1")})
        SELECT 'f' AS part, week, COUNT(*) AS v1, SUM(answered) AS v2,
               SUM(CASE WHEN delay <= {DAY_SECONDS} THEN 1 ELSE 0 END) AS v3,
               SUM(CASE WHEN delay IS NULL THEN 0 ELSE 1 END) AS v4, SUM(n) AS v5,
               SUM(accepted) AS v6, NULL AS category
        FROM pq GROUP BY week
        UNION ALL
        SELECT 'r', week, rn, cnt, delay, 0, 0, 0, NULL FROM ranked
        WHERE rn = (cnt + 1) / 2 OR rn = (cnt + 2) / 2 OR rn = (9 * cnt + 9) / 10
        UNION ALL
        SELECT 'c', {late}, COUNT(*), SUM(answered), 0, 0, 0, 0, category
        FROM pq WHERE category IS NOT NULL GROUP BY category, {late}
    """
    )


def _members_sql(weeks: int) -> str:
    """Distinct askers and answerers per week and over the period (``week`` -1): the period's
    posts are read once (``m``), then counted both ways."""
    return f"""
        WITH weeks AS ({_weeks_sql(weeks)}),
        m AS (
            SELECT CASE WHEN p.kind = 'question' THEN 'q' ELSE 'a' END AS what, w.i AS week,
                   p.author_id
            FROM weeks AS w
            JOIN posts AS p ON p.guild_id = :guild_id AND p.kind IN ('question', 'answer')
                 AND p.created_at IS NOT NULL AND p.created_at >= w.lo AND p.created_at < w.hi
            WHERE {_LIVE}
        )
        SELECT what, week, COUNT(DISTINCT author_id) FROM m GROUP BY what, week
        UNION ALL
        SELECT what, -1, COUNT(DISTINCT author_id) FROM m GROUP BY what
    """


def _percentiles(rows: list[Any]) -> dict[int, tuple[float, float]]:
    """week -> (median, p90) from the rows at the ranks ``_period_sql`` picks."""
    picked: dict[int, dict[int, float]] = {}
    counts: dict[int, int] = {}
    for week, rn, cnt, delay in rows:
        picked.setdefault(int(week), {})[int(rn)] = float(delay)
        counts[int(week)] = int(cnt)
    out: dict[int, tuple[float, float]] = {}
    for week, ranks in picked.items():
        n = counts[week]
        median = (ranks[(n + 1) // 2] + ranks[(n + 2) // 2]) / 2
        out[week] = (median, ranks[(9 * n + 9) // 10])
    return out


async def period_stats(
    session: AsyncSession, *, guild_id: int, weeks: int, now: datetime
) -> PeriodStats:
    """The guild's figures for the ``weeks`` weeks ending at ``now``, per week and overall."""
    bounds = period_bounds(now, weeks)
    dialect = dialect_name(session)

    async def rows(sql: str) -> list[Any]:
        statement, params = bound_weeks(sql, bounds)
        return list((await session.execute(statement, {**params, "guild_id": guild_id})).all())

    counts: dict[int, list[int]] = {}
    ranks: list[tuple[Any, ...]] = []
    halves: dict[str, dict[int, tuple[int, int]]] = {}
    for part, week, *values, category in await rows(_period_sql(dialect, weeks)):
        if part == "f":
            counts[int(week)] = [int(v or 0) for v in values]
        elif part == "r":
            ranks.append((week, *values[:3]))
        else:
            halves.setdefault(str(category), {})[int(week)] = (int(values[0]), int(values[1] or 0))
    percentiles = _percentiles(ranks)
    members: dict[tuple[str, int], int] = {}
    for what, week, n in await rows(_members_sql(weeks)):
        members[(str(what), int(week))] = int(n)

    def figures(week: int, starts: datetime, ends: datetime, values: list[int]) -> Figures:
        median, p90 = percentiles.get(week, (None, None))
        questions, answered, day, with_answer, answers, accepted = values or [0] * 6
        return Figures(
            week=None if week < 0 else week,
            starts=starts,
            ends=ends,
            questions=questions,
            answered=answered,
            answered_24h=day,
            with_answer=with_answer,
            answers=answers,
            accepted=accepted,
            askers=members.get(("q", week), 0),
            answerers=members.get(("a", week), 0),
            median_seconds=median,
            p90_seconds=p90,
        )

    per_week = [figures(i, lo, hi, counts.get(i, [])) for i, (lo, hi) in enumerate(bounds)]
    totals = [sum(values[k] for values in counts.values()) for k in range(6)]
    start, end = bounds[0][0], bounds[-1][1]
    return PeriodStats(start, end, per_week, figures(-1, start, end, totals), halves)
