"""SQLite's writers take turns in the process; readers and PostgreSQL's writers do not.

On SQLite a second writing transaction waits on the runner's turn (not in SQLite's busy
handler) until the first has committed, while a reader runs beside them; on PostgreSQL two
writers on different rows run at once.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.db.engine import create_sessionmaker, is_sqlite
from bot.transactions import TransactionRunner


def _setting(guild_id: int) -> str:
    return (
        "INSERT INTO guild_settings (guild_id, key, value, updated_at) "
        f"VALUES ({guild_id}, 'min_answer_length', '20', CURRENT_TIMESTAMP)"
    )


async def test_sqlite_writers_take_turns_readers_and_postgresql_writers_do_not(
    engine: AsyncEngine,
) -> None:
    runner = TransactionRunner(create_sessionmaker(engine), lambda *_: None)
    assert runner.one_writer == is_sqlite(str(engine.url))
    release = asyncio.Event()
    first_in = asyncio.Event()
    second_in = asyncio.Event()
    entered: list[str] = []

    async def first(session: AsyncSession) -> None:
        entered.append("first")
        await session.execute(text(_setting(1)))
        first_in.set()
        await release.wait()

    async def second(session: AsyncSession) -> None:
        entered.append("second")
        second_in.set()
        await session.execute(text(_setting(2)))

    async def read(session: AsyncSession, where: str = "") -> int:
        sql = f"SELECT COUNT(*) FROM guild_settings {where}"
        return int(await session.scalar(text(sql)) or 0)

    async def first_row(session: AsyncSession) -> int:
        return await read(session, "WHERE guild_id = 1")

    writing = asyncio.gather(runner.run(first), runner.run(second))
    try:
        await asyncio.wait_for(first_in.wait(), timeout=5)
        # A reader is never held by the writers, and sees nothing uncommitted.
        assert await asyncio.wait_for(runner.run(first_row, read_only=True), timeout=5) == 0
        for _ in range(20):  # turns of the loop in which the second writer could begin
            await asyncio.sleep(0)
        if is_sqlite(str(engine.url)):
            assert entered == ["first"]  # its turn comes once the first has committed
        else:
            await asyncio.wait_for(second_in.wait(), timeout=5)  # beside the first
    finally:
        release.set()
        await asyncio.wait_for(writing, timeout=10)
    assert entered == ["first", "second"]
    assert await runner.run(read, read_only=True) == 2
