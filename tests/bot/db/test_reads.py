"""``bot.db.reads``: a read written once as a function of a connection, on SQLite and PostgreSQL.

On an SQLite file the runner reads in threads of its own on a synchronous engine; elsewhere it
reads through the async engine's ``run_sync``. Either way: the same rows as an async session
reads, a write refused, one snapshot for every statement of the unit, and a failure whose
message carries no statement parameter.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import utc_now
from bot.db.engine import create_engine, create_sessionmaker, is_sqlite
from bot.db.models import GuildSetting
from bot.db.reads import ReadRunner
from bot.forum.uow import run_in_transaction

GUILD = 4343
#: A value that must never show in an error's message (it stands for a member's id).
SECRET = "secret-4343-value"


@pytest.fixture
async def reads(engine: AsyncEngine) -> AsyncIterator[ReadRunner]:
    runner = ReadRunner(engine)
    try:
        yield runner
    finally:
        await runner.close()


def _settings(connection: Connection) -> list[tuple[str, str]]:
    rows = connection.execute(
        select(GuildSetting.key, GuildSetting.value)
        .where(GuildSetting.guild_id == GUILD)
        .order_by(GuildSetting.key)
    )
    return [(key, value) for key, value in rows]


def _count(connection: Connection) -> int:
    return int(
        connection.scalar(
            select(func.count()).select_from(GuildSetting).where(GuildSetting.guild_id == GUILD)
        )
        or 0
    )


def _write(connection: Connection, key: str, value: str = '"x"') -> None:
    connection.execute(
        insert(GuildSetting).values(guild_id=GUILD, key=key, value=value, updated_at=utc_now())
    )


async def _store(engine: AsyncEngine, *keys: str) -> None:
    async def work(session: object) -> None:
        await session.run_sync(lambda s: [_write(s.connection(), k) for k in keys])  # type: ignore[attr-defined]

    await run_in_transaction(create_sessionmaker(engine), work)


def _commit_elsewhere(url: str, key: str) -> None:
    """Commit a row from another thread, on an engine of its own (the runner's thread, or the
    event loop's under ``run_sync``, waits meanwhile)."""

    async def commit() -> None:
        other = create_engine(url)
        try:
            await _store(other, key)
        finally:
            await other.dispose()

    thread = threading.Thread(target=asyncio.run, args=(commit(),))
    thread.start()
    thread.join()


async def test_reads_in_threads_on_an_sqlite_file_only(db_url: str, reads: ReadRunner) -> None:
    assert reads.in_threads is is_sqlite(db_url)
    seen: list[str] = []
    await reads.read(lambda c: seen.append(threading.current_thread().name))
    assert seen[0].startswith("qa-read") is is_sqlite(db_url)


async def test_the_same_rows_as_an_async_session_reads(
    engine: AsyncEngine, reads: ReadRunner
) -> None:
    await _store(engine, "alpha", "beta")

    async def through_session(session: object) -> list[tuple[str, str]]:
        return await session.run_sync(lambda s: _settings(s.connection()))  # type: ignore[attr-defined, no-any-return]

    expected = await run_in_transaction(
        create_sessionmaker(engine), through_session, read_only=True
    )
    assert await reads.read(_settings) == expected == [("alpha", '"x"'), ("beta", '"x"')]


async def test_an_inline_read_reads_the_same_in_the_calling_thread(
    engine: AsyncEngine, reads: ReadRunner
) -> None:
    await _store(engine, "alpha")
    where: list[str] = []

    def settings_here(connection: Connection) -> list[tuple[str, str]]:
        where.append(threading.current_thread().name)
        return _settings(connection)

    assert await reads.read(settings_here, inline=True) == await reads.read(_settings)
    assert where == [threading.current_thread().name]  # PostgreSQL's run_sync: here too
    with pytest.raises(DBAPIError, match=r"(?i)read-?only"):
        await reads.read(lambda c: _write(c, "refused"), inline=True)


async def test_an_inline_read_of_a_locked_file_waits_in_a_thread_not_in_the_loop(
    db_url: str, engine: AsyncEngine, reads: ReadRunner
) -> None:
    if not is_sqlite(db_url):
        pytest.skip("an SQLite file's lock")
    await _store(engine, "alpha")
    await engine.dispose()  # no connection open: the holder's lock is exclusive
    path = db_url.removeprefix("sqlite+aiosqlite:///")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("DELETE FROM guild_settings")  # the lock is held from here on
    ticks = 0

    async def ticking() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(ticking())
    release = threading.Timer(0.5, lambda: (holder.execute("ROLLBACK"), holder.close()))
    release.start()
    try:
        found = await reads.read(_settings, inline=True)
    finally:
        release.join()
        ticker.cancel()
    assert found == [("alpha", '"x"')]
    assert ticks >= 10  # the event loop ran while the read waited for the lock


async def test_a_write_is_refused_and_writing_units_still_write(
    engine: AsyncEngine, reads: ReadRunner
) -> None:
    with pytest.raises(DBAPIError, match=r"(?i)read-?only"):
        await reads.read(lambda c: _write(c, "refused"))
    assert await reads.read(_count) == 0
    await _store(engine, "written")
    assert await reads.read(_count) == 1


async def test_every_statement_of_a_read_sees_one_snapshot(db_url: str, reads: ReadRunner) -> None:
    def twice(connection: Connection) -> tuple[int, int]:
        before = _count(connection)
        _commit_elsewhere(db_url, "meanwhile")
        return before, _count(connection)

    assert await reads.read(twice) == (0, 0)
    assert await reads.read(_count) == 1  # the next read sees the commit


async def test_a_failure_propagates_without_its_parameters(reads: ReadRunner) -> None:
    def failing(connection: Connection) -> None:
        _write(connection, SECRET, SECRET)

    with pytest.raises(StatementError) as failed:
        await reads.read(failing)
    assert SECRET not in str(failed.value) and SECRET not in repr(failed.value.args)


async def test_a_closed_runner_reads_no_more(db_url: str, engine: AsyncEngine) -> None:
    runner = ReadRunner(engine)
    assert await runner.read(_count) == 0
    await runner.close()
    await runner.close()  # idempotent
    if is_sqlite(db_url):
        with pytest.raises(RuntimeError, match="closed"):
            await runner.read(_count)


async def test_inline_reads_keep_one_connection_and_each_sees_the_latest_commit(
    db_url: str, reads: ReadRunner
) -> None:
    """The inline connection stays open between reads (``bot.db.reads``): each read is still a
    transaction of its own, a failed one leaves it usable, and a commit made between two reads
    is seen by the second."""

    def count_and_connection(connection: Connection) -> tuple[int, object]:
        return _count(connection), connection

    before, first = await reads.read(count_and_connection, inline=True)
    with pytest.raises(DBAPIError, match=r"(?i)read-?only"):
        await reads.read(lambda c: _write(c, "refused"), inline=True)
    _commit_elsewhere(db_url, "meanwhile")
    after, second = await reads.read(count_and_connection, inline=True)
    assert (before, after) == (0, 1)
    assert (second is first) == is_sqlite(db_url)
