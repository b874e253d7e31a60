"""Alembic, driven from code: ``upgrade``/``downgrade`` under a cross-process lock.

The lock: a PostgreSQL advisory lock held on the migrating connection; on SQLite an exclusive
``flock`` on a file beside the database, so processes starting together cannot race.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.db.engine import FOLDER_MODE, create_engine, is_sqlite, private_umask, sqlite_path

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# pg_advisory_lock key: "qa-bot migrations" hashed once, fixed forever.
ADVISORY_LOCK_KEY = 7_402_113_905_221

# Objects the models cannot declare (created by migrations only), excluded from schema diffs.
# Full-text search (0002): SQLite's FTS5 table ``posts_search`` (and its shadow tables
# ``posts_search_*``), PostgreSQL's generated column ``posts.search_vector`` and its GIN index
# ``posts_search_gin``. Threads' words (0014): PostgreSQL's ``thread_search``, its GIN index
# ``thread_search_gin`` and ``thread_search_posts`` (posts by thread).
UNMANAGED_OBJECTS: frozenset[str] = frozenset({"posts_search", "search_vector", "thread_search"})


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic filter: leave migration-only objects (e.g. full-text indexes) out of diffs."""
    if name is None:
        return True
    return not any(name == o or name.startswith(o + "_") for o in UNMANAGED_OBJECTS)


def alembic_config(url: str, connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@contextlib.asynccontextmanager
async def _file_lock(url: str) -> AsyncIterator[None]:
    path = sqlite_path(url)
    if path is None:
        yield
        return
    lock_path = path.with_name(path.name + ".migrate.lock")
    with private_umask():  # the data folder is the owner's alone
        path.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        handle = lock_path.open("a")
    with handle:
        # Blocking flock in a thread, so other tasks of this loop keep running meanwhile.
        await asyncio.to_thread(fcntl.flock, handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def _run(url: str, action: str, revision: str) -> None:
    def run_alembic(connection: Connection) -> None:
        cfg = alembic_config(url, connection)
        if action == "upgrade":
            command.upgrade(cfg, revision)
        else:
            command.downgrade(cfg, revision)

    engine = create_engine(url)
    try:
        if is_sqlite(url):
            async with _file_lock(url), engine.connect() as conn:
                await conn.run_sync(run_alembic)
                await conn.commit()
        else:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
                await conn.commit()
                try:
                    await conn.run_sync(run_alembic)
                    await conn.commit()
                finally:
                    await conn.execute(
                        text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY}
                    )
                    await conn.commit()
    finally:
        await engine.dispose()


async def upgrade(url: str, revision: str = "head") -> None:
    await _run(url, "upgrade", revision)


async def downgrade(url: str, revision: str = "base") -> None:
    await _run(url, "downgrade", revision)


def upgrade_sync(url: str, revision: str = "head") -> None:
    asyncio.run(upgrade(url, revision))
