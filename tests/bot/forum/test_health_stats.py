"""Community health figures (``bot.forum.health_stats``, ``health_attention``) on both backends:
a hand-built fortnight whose figures are written out below, and a generated community whose
every weekly and overall figure equals the plain-Python computation from its specs."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.forum import health_attention, health_stats
from bot.forum.uow import run_in_transaction
from tests import health_community as community
from tests.health_community import AnswerSpec, QuestionSpec

GUILD = 1
NOW = community.NOW
M = timedelta(minutes=1)


def fortnight() -> list[QuestionSpec]:
    """Week 1 (the last 7 days): five questions, delays 10, 20, 30, 40 min and none; week 0:
    two questions, one answered after 25 h. One removed question, one in another guild."""
    w1, w0 = NOW - timedelta(days=6), NOW - timedelta(days=13)
    return [
        QuestionSpec(w1, 1, "Sleep", [AnswerSpec(10 * M, 1, 7), AnswerSpec(60 * M, 3, 8)]),
        QuestionSpec(w1 + M, 2, "Sleep", [AnswerSpec(20 * M, 0, 7)], accepted=0),
        QuestionSpec(w1 + 2 * M, 2, "Work", [AnswerSpec(30 * M, 0, 9)], anonymous=True),
        QuestionSpec(
            w1 + 3 * M,
            3,
            "Work",
            [AnswerSpec(5 * M, 2, 7, deleted=True), AnswerSpec(40 * M, -1, 8)],
        ),
        QuestionSpec(w1 + 4 * M, 4, None, title="Oldest of week 1"),
        QuestionSpec(w1 + 5 * M, 5, None, [AnswerSpec(M, 5, 7)], removed=True),
        QuestionSpec(w0, 1, "Sleep", [AnswerSpec(25 * 60 * M, 1, 9)]),
        QuestionSpec(w0 + M, 6, "Work", title="Oldest of all"),
    ]


async def report(
    sessionmaker: async_sessionmaker[AsyncSession], weeks: int
) -> health_attention.HealthReport:
    return await run_in_transaction(
        sessionmaker,
        lambda s: health_attention.health_report(s, guild_id=GUILD, weeks=weeks, now=NOW),
    )


async def test_a_fortnight_of_known_figures(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    await community.insert(sessionmaker, GUILD, fortnight())
    await community.insert(sessionmaker, GUILD + 1, fortnight()[:2])
    shown = await report(sessionmaker, 2)
    week0, week1 = shown.stats.weeks
    overall = shown.stats.overall
    assert overall is not None
    # Week 1: 5 questions; answered (positive score or accepted): the 1st and the 2nd.
    assert (week1.questions, week1.answered, week1.answered_24h) == (5, 2, 4)
    assert week1.answers == 5 and week1.accepted == 1
    assert (week1.askers, week1.answerers) == (4, 3)
    assert week1.median_seconds == 25 * 60.0  # (20 + 30) / 2 minutes
    assert week1.p90_seconds == 40 * 60.0  # the 4th of 4
    assert week1.answered_share == 0.4 and week1.answers_per_question == 1.0
    # Week 0: 2 questions, one answered after 25 hours.
    assert (week0.questions, week0.answered, week0.answered_24h) == (2, 1, 0)
    assert week0.median_seconds == week0.p90_seconds == 25 * 3600.0
    # The period: delays 10, 20, 30, 40 min and 25 h.
    assert (overall.questions, overall.answered, overall.answered_24h) == (7, 3, 4)
    assert overall.median_seconds == 30 * 60.0 and overall.p90_seconds == 25 * 3600.0
    assert (overall.askers, overall.answerers) == (5, 3)
    assert overall.questions_per_day == 0.5
    # Needs attention: the two questions without any live answer, oldest first.
    attention = shown.attention
    assert attention.backlog == 2
    assert [q.title for q in attention.oldest] == ["Oldest of all", "Oldest of week 1"]
    assert attention.falling == []


async def test_a_generated_community_matches_plain_python(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    specs = community.generated(weeks=12)
    await community.insert(sessionmaker, GUILD, specs)
    for weeks in (4, 12):
        shown = (await report(sessionmaker, weeks)).stats
        bounds = health_stats.period_bounds(NOW, weeks)
        rows = [*shown.weeks, shown.overall]
        for figures, (lo, hi) in zip(rows, [*bounds, (bounds[0][0], bounds[-1][1])], strict=True):
            assert figures is not None
            truth = asdict(community.expected(specs, lo, hi))
            got = {key: getattr(figures, key) for key in truth}
            assert got == truth, (weeks, figures.week)
    assert sum(f.questions for f in shown.weeks) > 300


async def test_a_falling_category_is_named(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    await community.insert(sessionmaker, GUILD, community.generated(weeks=12))
    attention = (await report(sessionmaker, 12)).attention
    assert [f.category for f in attention.falling][:1] == ["Work"]
    work = attention.falling[0]
    assert work.after < work.before and work.questions_after >= 3
    assert len(attention.oldest) == 5
    assert [q.created_at for q in attention.oldest] == sorted(
        q.created_at for q in attention.oldest
    )
