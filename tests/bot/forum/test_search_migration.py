"""Migrations 0014 (threads found in the index) and 0015 (live posts only) on a database holding
posts: the index re-keyed (SQLite) or the threads' words filled (PostgreSQL), then only live
posts kept in SQLite's index; the same results at the head, and back again on a downgrade."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import migrate
from bot.db.engine import create_engine, create_sessionmaker
from bot.forum.settings import set_setting
from tests.bot.forum.core_support import FORUM, GUILD
from tests.bot.forum.search_support import Board
from tests.bot.forum.test_search import _insert_0001_post, assert_index_mirrors_posts
from tests.db_support import BACKENDS

# Each query's expected titles: words in one post, across posts (one thread also holding them
# in a deleted answer), in a deleted answer only.
EXPECTED = {
    "swimming lake": ["Older question about swimming"],
    "cold lake": ["Older question about swimming"],
    "swimming towel": [],
    "goggles": ["Goggles fogging up"],
    "goggles lake": [],
}


async def _results(board: Board) -> dict[str, list[str]]:
    return {query: await board.titles(query) for query in EXPECTED}


async def _scalars(
    sm: async_sessionmaker[AsyncSession], *, sqlite: str, postgres: str
) -> list[Any]:
    """The first column of ``sqlite`` or ``postgres``, whichever engine ``sm`` opens."""
    async with sm() as session:
        sql = sqlite if session.get_bind().dialect.name == "sqlite" else postgres
        return list((await session.execute(text(sql))).scalars())


async def _keys(sm: async_sessionmaker[AsyncSession]) -> list[int]:
    """The search index's keys on SQLite; the threads with words on PostgreSQL."""
    return await _scalars(
        sm,
        sqlite="SELECT rowid FROM posts_search ORDER BY rowid",
        postgres="SELECT question_id FROM thread_search ORDER BY 1",
    )


@contextlib.asynccontextmanager
async def _posts_at_0013(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A database at 0013 holding two threads, three of their answers deleted (one of them
    holding "cold lake"), and the forum its readers see."""
    await migrate.upgrade(url, "0013")
    engine = create_engine(url)
    try:
        sm = create_sessionmaker(engine)
        await _insert_0001_post(sm, 1, "question", None, "Older question about swimming")
        await _insert_0001_post(sm, 2, "answer", 1, None, "Try the lake.")
        await _insert_0001_post(sm, 3, "answer", 1, None, "Bring a towel.")
        await _insert_0001_post(sm, 4, "question", None, "Goggles fogging up")
        await _insert_0001_post(sm, 5, "answer", 1, None, "The water is cold.")
        await _insert_0001_post(sm, 6, "answer", 4, None, "Lake water works too.")
        await _insert_0001_post(sm, 7, "answer", 1, None, "A cold lake, deleted.")
        async with sm() as session, session.begin():
            await session.execute(
                text("UPDATE posts SET deleted_at = created_at WHERE id IN (3, 6, 7)")
            )
            await set_setting(session, GUILD, "forum_channel_id", FORUM)
        yield sm
    finally:
        await engine.dispose()


async def _dialect(sm: async_sessionmaker[AsyncSession]) -> str:
    async with sm() as session:
        return session.get_bind().dialect.name


def _key(thread: int, post: int) -> int:
    return (thread << 32) | post


@pytest.mark.parametrize("empty_db_url", BACKENDS, indirect=True)
async def test_upgrading_to_0014_rekeys_the_index_and_downgrading_restores_the_old_index(
    empty_db_url: str,
) -> None:
    async with _posts_at_0013(empty_db_url) as sm:
        dialect = await _dialect(sm)
        old_keys = await _keys(sm) if dialect == "sqlite" else []
        assert old_keys == ([1, 2, 3, 4, 5, 6, 7] if dialect == "sqlite" else [])

        await migrate.upgrade(empty_db_url, "0014")
        if dialect == "sqlite":
            # (thread << 32) | post: question 1's posts, then question 4's; deleted ones too.
            keys = [_key(1, post) for post in (1, 2, 3, 5, 7)] + [_key(4, 4), _key(4, 6)]
            assert await _keys(sm) == keys
        else:
            assert await _keys(sm) == [1, 4]

        await migrate.downgrade(empty_db_url, "0013")
        if dialect == "sqlite":
            assert await _keys(sm) == old_keys
        else:
            async with sm() as session:
                left = await session.execute(
                    text(
                        "SELECT to_regclass('thread_search') IS NULL AND NOT EXISTS"
                        " (SELECT 1 FROM pg_proc WHERE proname LIKE 'thread_search%')"
                    )
                )
                assert left.scalar_one()
        await migrate.upgrade(empty_db_url)
        await assert_index_mirrors_posts(sm)
        assert await _results(Board(sm)) == EXPECTED


async def _has_lookup_index(sm: async_sessionmaker[AsyncSession]) -> bool:
    (count,) = await _scalars(
        sm,
        sqlite="SELECT count(*) FROM sqlite_master WHERE name = 'ix_posts_search_lookup'",
        postgres="SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_posts_search_lookup'",
    )
    return bool(count)


@pytest.mark.parametrize("empty_db_url", BACKENDS, indirect=True)
async def test_upgrading_to_0015_keeps_only_live_posts_in_the_index_and_back(
    empty_db_url: str,
) -> None:
    async with _posts_at_0013(empty_db_url) as sm:
        await migrate.upgrade(empty_db_url, "0014")
        # A pending answer and an answer hidden by a moderator, in question 4's thread.
        await _insert_0001_post(sm, 8, "answer", 4, None, "Pending swimming towel.")
        await _insert_0001_post(sm, 9, "answer", 4, None, "Hidden swimming towel.")
        async with sm() as session, session.begin():
            await session.execute(text("UPDATE posts SET state = 'pending' WHERE id = 8"))
            await session.execute(text("UPDATE posts SET removed_at = created_at WHERE id = 9"))
        dialect = await _dialect(sm)
        every = await _keys(sm)
        if dialect == "sqlite":
            assert every == [_key(1, p) for p in (1, 2, 3, 5, 7)] + [
                _key(4, p) for p in (4, 6, 8, 9)
            ]
        assert await _has_lookup_index(sm)

        await migrate.upgrade(empty_db_url, "0015")
        if dialect == "sqlite":
            assert await _keys(sm) == [_key(1, 1), _key(1, 2), _key(1, 5), _key(4, 4)]
        assert not await _has_lookup_index(sm)
        await assert_index_mirrors_posts(sm)
        board = Board(sm)
        assert await _results(board) == EXPECTED
        assert await board.titles("towel") == []

        await migrate.downgrade(empty_db_url, "0014")
        assert await _keys(sm) == every
        assert await _has_lookup_index(sm)
        await migrate.upgrade(empty_db_url)
        await assert_index_mirrors_posts(sm)
        assert await _results(board) == EXPECTED
