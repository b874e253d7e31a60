"""Shared fixtures: every ``db_url`` test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db import migrate
from bot.db.engine import create_engine, create_sessionmaker
from tests.db_support import (
    BACKENDS,
    drop_postgres_database,
    new_postgres_database,
    postgres_url,
    run,
    truncate_all,
)

pytest_plugins = [
    "tests.fakediscord.clock",
    "tests.fakediscord.fixtures",
    "tests.gc_pauses",
    "tests.leaks",
]

hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, max_examples=40)
hypothesis_settings.register_profile("dev", deadline=None, max_examples=40)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    run(migrate.upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> Iterator[str]:
    async def make() -> str:
        url = await new_postgres_database()
        await migrate.upgrade(url)
        return url

    import asyncio

    url = asyncio.run(make())
    yield url
    run(drop_postgres_database(url))


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "qa-bot.sqlite3"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    postgres_url()  # skip or fail before touching the session fixture
    url: str = request.getfixturevalue("postgres_migrated")
    # Emptied before the test, not after: at teardown this test's bots may still hold
    # connections (fixture teardown order), and TRUNCATE would wait on them while their event
    # loop is not running. Before the test, every earlier bot is closed.
    run(truncate_all(url))
    yield url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(db_url)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
async def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty (unmigrated) database; parametrize indirectly with a backend name."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    url = await new_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(url)
