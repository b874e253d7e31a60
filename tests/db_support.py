"""Real databases for tests: a migrated SQLite file per test, a shared PostgreSQL database.

SQLite: migrations run once into a template file, which each test copies (fast and isolated).
PostgreSQL: the cluster started by ``scripts/run-tests`` (``QA_TEST_POSTGRES_URL``); migrations
run once per session and every table is truncated before each test. Tests that need an empty
database of their own (migrations) get a freshly created one from ``new_postgres_database``.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import create_engine, sqlite_path
from bot.db.models import Base

BACKENDS = ("sqlite", "postgresql")


def postgres_url() -> str:
    """The test cluster's URL; skips (fails in CI) when there is none."""
    url = os.environ.get("QA_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("QA_TEST_POSTGRES_URL is not set: CI must run the PostgreSQL leg")
        pytest.skip("no PostgreSQL test cluster (run the suite through `make test`)")
    return url


async def _admin_execute(url: str, sql: str) -> None:
    admin = make_url(url).set(database="postgres")
    engine = create_engine(
        admin.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
    )
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def new_postgres_database() -> str:
    """Create an empty database in the test cluster and return its URL."""
    base = postgres_url()
    name = f"qa_{uuid.uuid4().hex[:12]}"
    await _admin_execute(base, f'CREATE DATABASE "{name}"')
    return make_url(base).set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    await _admin_execute(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def truncate_all(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


async def until(
    check: Callable[[], Awaitable[bool]],
    what: str,
    timeout: float = 30.0,  # noqa: ASYNC109
) -> None:
    """Poll ``check`` (a database read: the bot under test is another process, whose writes
    send no event) every 50 ms until it holds; fail naming ``what`` after ``timeout`` s."""
    try:
        async with asyncio.timeout(timeout):
            while not await check():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"never: {what}") from None


@contextmanager
def statements_run(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> Iterator[list[tuple[str, bool]]]:
    """Every statement sent to the driver meanwhile: (statement, executemany)."""
    engine = sessionmaker.kw["bind"].sync_engine
    seen: list[tuple[str, bool]] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, ctx: Any, many: bool) -> None:
        seen.append((statement, many))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def commit_elsewhere(url: str, sql: str, parameters: tuple[Any, ...] = ()) -> Callable[[], None]:
    """What another connection does while a planned write plans (``bot.forum.uow.Planned``): on
    the SQLite file of ``url``, take the write lock at once (a zero timeout: it fails if the plan
    held the lock), run ``sql`` and commit. Call it only on an SQLite file."""

    path = sqlite_path(url)

    def commit() -> None:
        assert path is not None, "another connection's commit is for an SQLite file"
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # fails at once if the plan held the lock
            other.execute(sql, parameters)
            other.execute("COMMIT")
        finally:
            other.close()

    return commit
