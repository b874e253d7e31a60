"""Per-member hourly limits counted from the posts table (Q2A defaults 10 questions, 25 answers)."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Post
from bot.forum import ratelimits
from bot.forum.errors import RateLimited
from bot.forum.settings import DEFAULTS, GuildConfig

GUILD = 1
USER = 500
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
_ids = itertools.count(10_000)


async def _post(
    session: AsyncSession,
    kind: str,
    created_at: datetime,
    *,
    guild_id: int = GUILD,
    author_id: int = USER,
    deleted: bool = False,
    thread_id: int | None = None,
    pending: bool = False,
) -> None:
    # A Discord message id made at ``created_at`` (a snowflake carries its time).
    since_epoch = int(created_at.timestamp() * 1000) - ratelimits.DISCORD_EPOCH_MS
    message_id = (since_epoch << 22) + next(_ids) % (1 << 22)
    session.add(
        Post(
            guild_id=guild_id,
            kind=kind,
            author_id=author_id,
            thread_id=thread_id or message_id,
            message_id=None if pending else message_id,
            state="pending" if pending else "live",
            title="A question" if kind == "question" else None,
            body="body text of the post",
            created_at=created_at,
            deleted_at=created_at if deleted else None,
        )
    )
    await session.flush()


async def _check(
    session: AsyncSession,
    kind: ratelimits.RateKind = "question",
    *,
    config: GuildConfig = DEFAULTS,
    guild_id: int = GUILD,
    user_id: int = USER,
    now: datetime = NOW,
) -> None:
    await ratelimits.check_rate(
        session, config, guild_id=guild_id, user_id=user_id, kind=kind, now=now
    )


async def test_under_the_limit_passes(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        await _check(session)
        for minute in range(9):
            await _post(session, "question", NOW - timedelta(minutes=50 - minute))
        await _check(session)
        assert not await ratelimits.over_limit(
            session, DEFAULTS, guild_id=GUILD, user_id=USER, kind="question", now=NOW
        )


async def test_tenth_question_in_the_hour_blocks_with_the_wait(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        # The oldest of the ten was 48 minutes ago: it leaves the window in 12 minutes.
        for minute in range(10):
            await _post(session, "question", NOW - timedelta(minutes=48 - minute))
        with pytest.raises(RateLimited) as err:
            await _check(session)
        assert str(err.value) == "You can ask 10 questions per hour; try again in 12 minutes."
        assert err.value.retry_after == pytest.approx(12 * 60)
        assert await ratelimits.over_limit(
            session, DEFAULTS, guild_id=GUILD, user_id=USER, kind="question", now=NOW
        )
        # Just after the oldest leaves the window, one more question is allowed.
        await _check(session, now=NOW + timedelta(minutes=12, seconds=1))


async def test_answers_have_their_own_limit_and_sentence(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        for second in range(25):
            await _post(session, "answer", NOW - timedelta(seconds=100 - second))
        await _check(session, "question")  # answers do not count towards questions
        with pytest.raises(RateLimited) as err:
            await _check(session, "answer")
        # The oldest answer (100 s ago) leaves the window in 3500 s: 58.33 min -> 59 minutes.
        assert str(err.value) == "You can post 25 answers per hour; try again in 59 minutes."
        assert err.value.retry_after == pytest.approx(3500)


async def test_comments_count_towards_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        for second in range(30):
            await _post(session, "comment", NOW - timedelta(seconds=second + 1))
        await _check(session, "question")
        await _check(session, "answer")


async def test_deleting_does_not_refund(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        for minute in range(10):
            await _post(session, "question", NOW - timedelta(minutes=minute + 1), deleted=True)
        with pytest.raises(RateLimited):
            await _check(session)


async def test_old_posts_other_members_and_guilds_do_not_count(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        for i in range(10):
            await _post(session, "question", NOW - timedelta(hours=1, seconds=i))  # outside
            await _post(session, "question", NOW - timedelta(minutes=5), author_id=USER + 1)
            await _post(session, "question", NOW - timedelta(minutes=5), guild_id=GUILD + 1)
        await _check(session)
        with pytest.raises(RateLimited):
            await _check(session, user_id=USER + 1)
        with pytest.raises(RateLimited):
            await _check(session, guild_id=GUILD + 1)


async def test_wait_counts_from_the_nth_newest_when_over(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Lowering the limit below the member's recent count: they wait until fewer than N remain."""
    config = dataclasses.replace(DEFAULTS, questions_per_hour=2)
    async with sessionmaker.begin() as session:
        for minutes_ago in (50, 40, 30, 20):
            await _post(session, "question", NOW - timedelta(minutes=minutes_ago))
        with pytest.raises(RateLimited) as err:
            await _check(session, config=config)
        # The 2nd newest (30 min ago) must leave: 30 minutes; then only one remains.
        assert err.value.retry_after == pytest.approx(30 * 60)
        assert str(err.value) == "You can ask 2 questions per hour; try again in 30 minutes."
        await _check(session, config=config, now=NOW + timedelta(minutes=30, seconds=1))


async def test_singular_and_seconds_in_the_sentence(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    config = dataclasses.replace(DEFAULTS, questions_per_hour=1, answers_per_hour=1)
    async with sessionmaker.begin() as session:
        await _post(session, "question", NOW - timedelta(minutes=59, seconds=15))
        await _post(session, "answer", NOW - timedelta(minutes=58, seconds=30))
        with pytest.raises(RateLimited) as err:
            await _check(session, "question", config=config)
        assert str(err.value) == "You can ask 1 question per hour; try again in 45 seconds."
        assert err.value.retry_after == pytest.approx(45)
        with pytest.raises(RateLimited) as err:
            await _check(session, "answer", config=config)
        assert str(err.value) == "You can post 1 answer per hour; try again in 2 minutes."


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.2, "1 second"),
        (1, "1 second"),
        (1.5, "2 seconds"),
        (59, "59 seconds"),
        (60, "1 minute"),
        (61, "2 minutes"),
        (720, "12 minutes"),
        (3600, "60 minutes"),
    ],
)
def test_format_wait(seconds: float, text: str) -> None:
    assert ratelimits.format_wait(seconds) == text


def test_limit_for_reads_the_config() -> None:
    config = dataclasses.replace(DEFAULTS, questions_per_hour=3, answers_per_hour=4)
    assert ratelimits.limit_for(config, "question") == 3
    assert ratelimits.limit_for(config, "answer") == 4


async def test_last_post_at_reads_the_forum_and_each_thread_apart(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A forum's slowmode paces questions; a thread's paces the posts in it."""
    thread = 77

    async def last(thread_id: int | None = None, author_id: int = USER) -> datetime | None:
        return await ratelimits.last_post_at(
            session, guild_id=GUILD, author_id=author_id, thread_id=thread_id
        )

    async with sessionmaker.begin() as session:
        assert await last() is None and await last(thread) is None
        await _post(session, "question", NOW - timedelta(minutes=9))
        await _post(session, "question", NOW - timedelta(minutes=3), deleted=True)
        await _post(session, "answer", NOW - timedelta(minutes=5), thread_id=thread)
        await _post(session, "comment", NOW - timedelta(minutes=2), thread_id=thread)
        await _post(session, "answer", NOW - timedelta(minutes=1), thread_id=thread + 1)
        await _post(session, "question", NOW, author_id=USER + 1)
        await _post(session, "answer", NOW, author_id=USER + 1, thread_id=thread)
        await _post(session, "question", NOW, guild_id=GUILD + 1)
        assert await last() == NOW - timedelta(minutes=3)  # deleting refunds no wait
        assert await last(thread) == NOW - timedelta(minutes=2)
        assert await last(thread + 1) == NOW - timedelta(minutes=1)
        assert await last(thread + 2) is None
        await _post(session, "question", NOW - timedelta(seconds=5), thread_id=thread + 2)
        assert await last(thread + 2) == NOW - timedelta(seconds=5)  # the starter counts
        # A pending post (no Discord message yet) counts from when it was stored.
        await _post(session, "answer", NOW - timedelta(seconds=1), thread_id=thread, pending=True)
        assert await last(thread) == NOW - timedelta(seconds=1)
