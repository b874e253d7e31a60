"""Read-only units of work and the connection shares, on SQLite and PostgreSQL.

A read-only unit (``run_in_transaction(..., read_only=True)``, ``run_read``) that tries to write
fails loudly; the connection it used writes again in the next writing unit. On SQLite a reader
runs beside a writer that holds the write lock, while a second writer waits for it. Background
work never holds more than its share of connections, and an interaction runs meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.db.engine import create_engine, create_sessionmaker, is_sqlite, write_holds
from bot.db.models import GuildSetting
from bot.forum.uow import run_in_transaction
from bot.transactions import BACKGROUND_CONNECTIONS, TransactionRunner, background_context

GUILD = 4242


async def _write(session: AsyncSession) -> None:
    await session.execute(
        text(
            "INSERT INTO guild_settings (guild_id, key, value, updated_at) "
            "VALUES (:g, 'min_answer_length', '20', CURRENT_TIMESTAMP)"
        ),
        {"g": GUILD},
    )


async def _count(session: AsyncSession) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(GuildSetting).where(GuildSetting.guild_id == GUILD)
        )
        or 0
    )


@pytest.fixture
async def one_connection(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine whose pool has one connection: every unit of work reuses it."""
    eng = create_engine(db_url, pool_size=1, max_overflow=0)
    try:
        yield eng
    finally:
        await eng.dispose()


async def test_a_read_only_unit_that_writes_fails_and_the_connection_writes_again(
    one_connection: AsyncEngine,
) -> None:
    sessionmaker = create_sessionmaker(one_connection)
    with pytest.raises(DBAPIError, match=r"(?i)read-?only"):
        await run_in_transaction(sessionmaker, _write, read_only=True)
    assert await run_in_transaction(sessionmaker, _count, read_only=True) == 0
    # The twin: the same connection, in a writing unit, writes.
    await run_in_transaction(sessionmaker, _write)
    assert await run_in_transaction(sessionmaker, _count, read_only=True) == 1


async def test_a_reader_never_waits_for_the_writer_while_a_second_writer_does(
    engine: AsyncEngine,
) -> None:
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as holder, holder.begin():
        await _write(holder)  # holds SQLite's write lock (a row lock on PostgreSQL) from now on
        second_writer = asyncio.create_task(run_in_transaction(sessionmaker, _write))
        # The reader ends while the writer still holds its transaction open, and sees the
        # last committed state.
        seen = await asyncio.wait_for(
            run_in_transaction(sessionmaker, _count, read_only=True), timeout=5
        )
        assert seen == 0
        if is_sqlite(str(engine.url)):
            # BEGIN IMMEDIATE waits for the lock: the second writer does not get through.
            _, pending = await asyncio.wait({second_writer}, timeout=0.2)
            assert pending == {second_writer}
    with pytest.raises(DBAPIError):  # the same key: the second insert breaks the primary key
        await second_writer
    assert await run_in_transaction(sessionmaker, _count, read_only=True) == 1


async def test_sqlite_write_lock_holds_are_measured(engine: AsyncEngine) -> None:
    holds = write_holds(engine)
    if not is_sqlite(str(engine.url)):
        assert holds is None
        return
    assert holds is not None
    sessionmaker = create_sessionmaker(engine)
    before = holds.count
    await run_in_transaction(sessionmaker, _count, read_only=True)
    assert holds.count == before  # a reader takes no write lock
    await run_in_transaction(sessionmaker, _write)
    assert holds.count == before + 1
    assert 0 < holds.longest < 5


async def test_background_work_holds_at_most_its_share_and_interactions_run_meanwhile(
    engine: AsyncEngine,
) -> None:
    runner = TransactionRunner(create_sessionmaker(engine), lambda *_: None)
    release = asyncio.Event()
    full = asyncio.Event()
    running = 0
    most = 0
    counted = 0

    async def slow_read(session: AsyncSession) -> int:
        nonlocal running, most, counted
        running += 1
        most = max(most, running)
        try:
            count = await _count(session)
            counted += 1
            if counted == BACKGROUND_CONNECTIONS:
                full.set()  # every slot has read (entering is not enough: a read may lag)
            await release.wait()
            return count
        finally:
            running -= 1

    async def background_jobs() -> list[int]:
        jobs = [runner.run(slow_read, read_only=True) for _ in range(BACKGROUND_CONNECTIONS * 3)]
        return list(await asyncio.gather(*jobs))

    background = asyncio.get_running_loop().create_task(
        background_jobs(), context=background_context()
    )
    try:
        await asyncio.wait_for(full.wait(), timeout=5)
        # An interaction's unit of work is not one of them: it runs now, to its end.
        await asyncio.wait_for(runner.run(_write), timeout=5)
        assert running == BACKGROUND_CONNECTIONS
    finally:
        release.set()
    # Those that had to wait for a slot began after the interaction's commit, and saw it.
    seen = await asyncio.wait_for(background, timeout=10)
    assert seen == [0] * BACKGROUND_CONNECTIONS + [1] * (BACKGROUND_CONNECTIONS * 2)
    assert most == BACKGROUND_CONNECTIONS
    assert (runner.reads, runner.writes) == (BACKGROUND_CONNECTIONS * 3, 1)
    await runner.close()
