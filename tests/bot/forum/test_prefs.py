"""DM preferences, the DMs-closed marker, the DM channel cache, erased markers and following."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Follow, Post, UserPref
from bot.forum import prefs
from bot.forum.errors import InvalidState, NotFound
from bot.forum.prefs import Prefs

GUILD = 1
ASKER = 10
READER = 20
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
_ids = itertools.count(50_000)


async def _question(session: AsyncSession, *, deleted: bool = False, guild_id: int = GUILD) -> Post:
    message_id = next(_ids)
    question = Post(
        guild_id=guild_id,
        kind="question",
        author_id=ASKER,
        thread_id=message_id,
        message_id=message_id,
        title="How do I cope with exam stress?",
        body="details",
        deleted_at=NOW if deleted else None,
    )
    session.add(question)
    await session.flush()
    return question


async def test_defaults_without_a_row(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        got = await prefs.get_prefs(session, 7)
    assert got == Prefs(user_id=7)
    assert got.notifications is True
    assert not got.dms_closed
    assert not got.erased
    assert got.dm_channel_id is None


async def test_notifications_on_off_persist(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        assert (await prefs.set_notifications(session, 7, False)).notifications is False
    async with sessionmaker() as session:
        assert (await prefs.get_prefs(session, 7)).notifications is False
    async with sessionmaker.begin() as session:
        await prefs.set_notifications(session, 7, False)  # idempotent
        assert (await prefs.set_notifications(session, 7, True)).notifications is True
    async with sessionmaker() as session:
        assert (await prefs.get_prefs(session, 7)).notifications is True
        count = await session.scalar(select(func.count()).select_from(UserPref))
    assert count == 1


async def test_dm_channel_cache_keeps_other_prefs(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        await prefs.set_notifications(session, 7, False)
        await prefs.remember_dm_channel(session, 7, 9001)
        await prefs.remember_dm_channel(session, 8, 9002)
    async with sessionmaker() as session:
        seven = await prefs.get_prefs(session, 7)
        eight = await prefs.get_prefs(session, 8)
    assert (seven.notifications, seven.dm_channel_id) == (False, 9001)
    assert (eight.notifications, eight.dm_channel_id) == (True, 9002)


async def test_dms_closed_notice_is_consumed_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        assert await prefs.consume_dms_closed_notice(session, 7) is False  # no row
        await prefs.mark_dms_closed(session, 7, NOW)
        got = await prefs.get_prefs(session, 7)
        assert got.dms_closed and got.dms_closed_at == NOW
    async with sessionmaker.begin() as session:
        assert await prefs.consume_dms_closed_notice(session, 7) is True
    async with sessionmaker.begin() as session:
        assert await prefs.consume_dms_closed_notice(session, 7) is False
        assert not (await prefs.get_prefs(session, 7)).dms_closed


async def test_concurrent_consumers_tell_the_user_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        await prefs.mark_dms_closed(session, 7, NOW)

    async def consume() -> bool:
        async with sessionmaker.begin() as session:
            return await prefs.consume_dms_closed_notice(session, 7)

    results = await asyncio.gather(*(consume() for _ in range(6)))
    assert sorted(results) == [False] * 5 + [True]


async def test_erased_markers(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        await prefs.set_notifications(session, 8, False)
        await prefs.mark_erased(session, 7, NOW)
        await prefs.mark_erased(session, 9, NOW)
    async with sessionmaker() as session:
        assert await prefs.is_erased(session, 7)
        assert not await prefs.is_erased(session, 8)
        assert not await prefs.is_erased(session, 1234)
        assert await prefs.erased_among(session, [7, 8, 9, 1234]) == {7, 9}
        assert await prefs.erased_among(session, []) == set()
        assert (await prefs.get_prefs(session, 7)).erased


async def test_unreachable_among(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        await prefs.set_notifications(session, 1, False)
        await prefs.mark_dms_closed(session, 2, NOW)
        await prefs.mark_erased(session, 3, NOW)
        await prefs.set_notifications(session, 4, True)
        await prefs.remember_dm_channel(session, 5, 55)
    async with sessionmaker() as session:
        assert await prefs.unreachable_among(session, [1, 2, 3, 4, 5, 6]) == {1, 2, 3}
        assert await prefs.unreachable_among(session, []) == set()


async def test_follow_unfollow_idempotent(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        question = await _question(session)
        assert await prefs.followers(session, question.id) == [ASKER]
        assert await prefs.follow(session, guild_id=GUILD, question_id=question.id, user_id=READER)
        assert not await prefs.follow(
            session, guild_id=GUILD, question_id=question.id, user_id=READER
        )
        assert await prefs.followers(session, question.id) == [ASKER, READER]
        assert await prefs.is_following(session, question_id=question.id, user_id=READER)
        assert await prefs.is_following(session, question_id=question.id, user_id=ASKER)
    async with sessionmaker.begin() as session:
        assert await prefs.unfollow(
            session, guild_id=GUILD, question_id=question.id, user_id=READER
        )
        assert not await prefs.unfollow(
            session, guild_id=GUILD, question_id=question.id, user_id=READER
        )
        assert await prefs.followers(session, question.id) == [ASKER]
        assert not await prefs.is_following(session, question_id=question.id, user_id=READER)


async def test_asker_follows_implicitly(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        question = await _question(session)
        # Following explicitly as the asker is harmless and lists them once.
        await prefs.follow(session, guild_id=GUILD, question_id=question.id, user_id=ASKER)
        assert await prefs.followers(session, question.id) == [ASKER]
        with pytest.raises(InvalidState) as err:
            await prefs.unfollow(session, guild_id=GUILD, question_id=question.id, user_id=ASKER)
        assert "/notifications off" in str(err.value)


async def test_deleted_missing_or_foreign_questions_refused(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        deleted = await _question(session, deleted=True)
        foreign = await _question(session, guild_id=GUILD + 1)
        answer = Post(
            guild_id=GUILD,
            kind="answer",
            author_id=READER,
            question_id=foreign.id,
            parent_id=foreign.id,
            body="an answer",
        )
        session.add(answer)
        await session.flush()
        for question_id, guild_id in (
            (deleted.id, GUILD),
            (foreign.id, GUILD),  # exists, but in another guild
            (answer.id, GUILD),  # not a question
            (999_999, GUILD),
        ):
            with pytest.raises(NotFound) as err:
                await prefs.follow(
                    session, guild_id=guild_id, question_id=question_id, user_id=READER
                )
            assert str(err.value) == "That question no longer exists."
            with pytest.raises(NotFound):
                await prefs.unfollow(
                    session, guild_id=guild_id, question_id=question_id, user_id=READER
                )
        assert await prefs.followers(session, deleted.id) == []
        assert await prefs.followers(session, 999_999) == []
        assert await session.scalar(select(func.count()).select_from(Follow)) == 0


async def test_follows_of_a_deleted_question_are_not_followers(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await _question(session)
        await prefs.follow(session, guild_id=GUILD, question_id=question.id, user_id=READER)
        question.deleted_at = NOW
        await session.flush()
        assert await prefs.followers(session, question.id) == []


async def test_concurrent_follows_store_one_row(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await _question(session)

    async def follow() -> bool:
        async with sessionmaker.begin() as session:
            return await prefs.follow(
                session, guild_id=GUILD, question_id=question.id, user_id=READER
            )

    results = await asyncio.gather(*(follow() for _ in range(6)))
    assert sorted(results) == [False] * 5 + [True]


async def test_set_following_in_a_thread(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        question = await _question(session)
        thread = question.thread_id
        assert thread is not None

        async def set_(user: int, following: bool) -> prefs.FollowResult:
            return await prefs.set_following(
                session, guild_id=GUILD, thread_id=thread, user_id=user, following=following
            )

        first = await set_(READER, True)
        assert (first.question_id, first.following, first.changed) == (question.id, True, True)
        assert not first.asker and first.notifications
        assert not (await set_(READER, True)).changed  # idempotent
        await prefs.set_notifications(session, READER, False)
        assert (await set_(READER, True)).notifications is False
        off = await set_(READER, False)
        assert (off.following, off.changed) == (False, True)
        assert not (await set_(READER, False)).changed
        assert not await prefs.is_following(session, question_id=question.id, user_id=READER)
        # The asker follows already (nothing stored) and cannot unfollow.
        asker = await set_(ASKER, True)
        assert asker.asker and asker.following and not asker.changed
        assert await session.scalar(select(func.count()).select_from(Follow)) == 0
        with pytest.raises(InvalidState, match="You asked this question"):
            await set_(ASKER, False)
        # Outside a question's thread (another guild's, a deleted question's, no question).
        gone = await _question(session, deleted=True)
        for guild_id, thread_id in ((GUILD + 1, thread), (GUILD, gone.thread_id), (GUILD, 1)):
            assert thread_id is not None
            with pytest.raises(NotFound, match="inside a question's thread"):
                await prefs.set_following(
                    session, guild_id=guild_id, thread_id=thread_id, user_id=READER, following=True
                )
