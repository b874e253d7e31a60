"""``bot.db.writes`` through ``TransactionRunner.write``: a writing domain operation run whole in
a writing thread of its own on an SQLite file, on the async engine elsewhere. Either way: the
rows committed or none, the writers' turn taken, the write-lock holds counted with the async
engine's, whose points moved announced after the commit, and a failure whose message carries
no statement parameter."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.clock import utc_now
from bot.db.engine import create_sessionmaker, is_sqlite, write_holds
from bot.db.models import GuildSetting
from bot.db.writes import WriteRunner
from bot.forum.ledger import POINTS_MOVED
from bot.forum.uow import Planned
from bot.transactions import POINTS_CHANGED, RunnerClosed, TransactionRunner
from tests.db_support import commit_elsewhere

GUILD = 4545
#: A value that must never show in an error's message (it stands for a member's id).
SECRET = "secret-4545-value"


@pytest.fixture
async def dispatched() -> list[tuple[Any, ...]]:
    return []


@pytest.fixture
async def runner(
    engine: AsyncEngine, dispatched: list[tuple[Any, ...]]
) -> AsyncIterator[TransactionRunner]:
    made = TransactionRunner(create_sessionmaker(engine), lambda *a: dispatched.append(a))
    try:
        yield made
    finally:
        await made.close()


async def _store(session: AsyncSession, key: str, value: str = '"x"') -> None:
    await session.execute(
        insert(GuildSetting).values(guild_id=GUILD, key=key, value=value, updated_at=utc_now())
    )


async def _keys(runner: TransactionRunner) -> list[str]:
    async def read(session: AsyncSession) -> list[str]:
        stmt = select(GuildSetting.key).where(GuildSetting.guild_id == GUILD)
        return sorted(await session.scalars(stmt))

    return await runner.run(read, read_only=True)


async def test_a_write_runs_in_the_writing_thread_on_an_sqlite_file_only(
    db_url: str, engine: AsyncEngine, runner: TransactionRunner
) -> None:
    holds = write_holds(engine)
    before = 0 if holds is None else holds.count
    where: list[str] = []

    async def write(session: AsyncSession) -> int:
        where.append(threading.current_thread().name)
        await _store(session, "alpha")
        await _store(session, "beta")
        return int(await session.scalar(select(func.count()).select_from(GuildSetting)) or 0)

    assert await runner.write(write) == 2
    assert await _keys(runner) == ["alpha", "beta"]
    assert where[0].startswith("qa-write") is is_sqlite(db_url)
    assert runner.writes == 1
    if holds is not None:  # the thread's hold counted with the bot's engine's
        assert holds.count == before + 1


async def test_a_failing_write_writes_nothing_and_hides_its_parameters(
    runner: TransactionRunner,
) -> None:
    async def failing(session: AsyncSession) -> None:
        await _store(session, "alpha")
        await _store(session, "alpha", SECRET)  # the same key again

    with pytest.raises(IntegrityError) as failed:
        await runner.write(failing)
    assert SECRET not in str(failed.value) and SECRET not in repr(failed.value.args)
    assert await _keys(runner) == []
    await runner.write(lambda s: _store(s, "after"))  # the thread writes on
    assert await _keys(runner) == ["after"]


async def test_points_moved_are_announced_after_the_commit(
    runner: TransactionRunner, dispatched: list[tuple[Any, ...]]
) -> None:
    async def moving(session: AsyncSession) -> None:
        await _store(session, "alpha")
        session.info.setdefault(POINTS_MOVED, set()).update({(GUILD, 7), (GUILD, 8)})

    await runner.write(moving)
    assert dispatched == [(POINTS_CHANGED, GUILD, frozenset({7, 8}))]


async def test_a_write_in_the_thread_waits_for_the_writers_turn_on_sqlite(
    db_url: str, runner: TransactionRunner
) -> None:
    release = asyncio.Event()
    first_in = asyncio.Event()
    order: list[str] = []

    async def first(session: AsyncSession) -> None:
        await _store(session, "first")
        first_in.set()
        await release.wait()
        order.append("first")

    async def second(session: AsyncSession) -> None:
        order.append("second")
        await _store(session, "second")

    holding = asyncio.create_task(runner.run(first))
    await first_in.wait()
    waiting = asyncio.create_task(runner.write(second))
    if not is_sqlite(db_url):  # PostgreSQL's writers do not take turns
        await waiting
    release.set()
    await asyncio.gather(holding, waiting)
    # On SQLite the second's turn came after the first writer's commit.
    assert order == (["first", "second"] if is_sqlite(db_url) else ["second", "first"])
    assert await _keys(runner) == ["first", "second"]


async def test_a_closed_runner_writes_no_more(db_url: str, engine: AsyncEngine) -> None:
    runner = TransactionRunner(create_sessionmaker(engine), lambda *_: None)
    await runner.write(lambda s: _store(s, "alpha"))
    await runner.close()
    with pytest.raises(RunnerClosed):
        await runner.write(lambda s: _store(s, "beta"))
    writes = WriteRunner(engine, create_sessionmaker(engine))
    await writes.close()
    await writes.close()  # idempotent
    if is_sqlite(db_url):
        with pytest.raises(RuntimeError, match="closed"):
            await writes.write(lambda made: asyncio.sleep(0))


async def test_each_hold_is_counted_under_its_units_name_in_the_thread_or_not(
    db_url: str, engine: AsyncEngine, runner: TransactionRunner
) -> None:
    async def named_in_thread(session: AsyncSession) -> None:
        await _store(session, "alpha")

    async def named_on_the_loop(session: AsyncSession) -> None:
        await _store(session, "beta")

    await runner.write(named_in_thread)
    await runner.run(named_on_the_loop)
    holds = write_holds(engine)
    if not is_sqlite(db_url):  # PostgreSQL has no write lock to count
        assert holds is None
        return
    assert holds is not None
    units = {unit.rsplit(".", 1)[-1] for _, unit in holds.longest_units}
    assert {"named_in_thread", "named_on_the_loop"} <= units
    assert holds.count >= 2 and holds.longest >= max(-held for held, _ in holds.longest_units)


async def _count(session: AsyncSession) -> int:
    stmt = select(GuildSetting.value).where(GuildSetting.guild_id == GUILD)
    return int(await session.scalar(stmt.where(GuildSetting.key == "count")) or 0)


def _counting_up(
    plans: list[int], meanwhile: Callable[[], None] | None = None
) -> Planned[int, int]:
    """A planned write that counts up: its plan reads the count (and the first time, runs
    ``meanwhile``), its write stores the count planned plus one."""

    async def plan(session: AsyncSession) -> int:
        plans.append(await _count(session))
        if meanwhile is not None and len(plans) == 1:
            meanwhile()
        return plans[-1]

    async def write(session: AsyncSession, planned: int) -> int:
        stmt = update(GuildSetting).where(
            GuildSetting.guild_id == GUILD, GuildSetting.key == "count"
        )
        await session.execute(stmt.values(value=str(planned + 1)))
        return planned + 1

    return Planned("count up", plan, write)


async def test_a_planned_write_plans_once_when_nothing_moved_meanwhile(
    db_url: str, engine: AsyncEngine, runner: TransactionRunner
) -> None:
    await runner.write(lambda s: _store(s, "count", "1"))
    holds = write_holds(engine)
    plans: list[int] = []
    assert await runner.write(_counting_up(plans)) == 2
    assert plans == [1]
    assert await runner.run(_count, read_only=True) == 2
    if holds is not None:  # the writes' hold counted under the operation's name
        assert "count up" in {unit for _, unit in holds.longest_units}


async def test_a_planned_write_plans_without_the_write_lock_and_again_when_the_data_moved(
    db_url: str, runner: TransactionRunner
) -> None:
    """On an SQLite file the plan runs before the writing transaction: meanwhile another
    connection takes the write lock at once and commits; the write then plans again on what it
    writes over, so the outcome is one transaction's. Elsewhere both steps are one transaction."""
    await runner.write(lambda s: _store(s, "count", "1"))
    moved = commit_elsewhere(db_url, "UPDATE guild_settings SET value = '10' WHERE key = 'count'")
    plans: list[int] = []
    in_thread = is_sqlite(db_url)  # an SQLite file: the write runner's thread
    made = await runner.write(_counting_up(plans, moved if in_thread else None))
    if in_thread:
        assert (plans, made) == ([1, 10], 11)
    else:
        assert (plans, made) == ([1], 2)
    assert await runner.run(_count, read_only=True) == made
