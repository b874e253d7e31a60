"""Migration 0014 (threads found in the index) on a database holding posts: the index re-keyed
(SQLite) or the threads' words filled (PostgreSQL), the same results before and after, and back
again on a downgrade."""

from __future__ import annotations

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


async def _keys(sm: async_sessionmaker[AsyncSession]) -> list[int]:
    """The search index's keys on SQLite; the threads with words on PostgreSQL."""
    async with sm() as session:
        if session.get_bind().dialect.name == "sqlite":
            sql = "SELECT rowid FROM posts_search ORDER BY rowid"
        else:
            sql = "SELECT question_id FROM thread_search ORDER BY 1"
        return list((await session.execute(text(sql))).scalars())


@pytest.mark.parametrize("empty_db_url", BACKENDS, indirect=True)
async def test_upgrading_to_0014_keeps_results_and_downgrading_restores_the_old_index(
    empty_db_url: str,
) -> None:
    await migrate.upgrade(empty_db_url, "0013")
    engine = create_engine(empty_db_url)
    try:
        sm = create_sessionmaker(engine)
        board = Board(sm)
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
        dialect = engine.dialect.name
        old_keys = await _keys(sm) if dialect == "sqlite" else []
        assert old_keys == ([1, 2, 3, 4, 5, 6, 7] if dialect == "sqlite" else [])

        await migrate.upgrade(empty_db_url)
        if dialect == "sqlite":
            # (thread << 32) | post: question 1's posts, then question 4's.
            keys = [(1 << 32) | post for post in (1, 2, 3, 5, 7)] + [(4 << 32) | 4, (4 << 32) | 6]
            assert await _keys(sm) == keys
        else:
            assert await _keys(sm) == [1, 4]
        await assert_index_mirrors_posts(sm)
        assert await _results(board) == EXPECTED

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
        assert await _results(board) == EXPECTED
    finally:
        await engine.dispose()
