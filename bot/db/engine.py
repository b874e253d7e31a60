"""One engine and one session factory per process.

SQLite (the embedded default) gets WAL, foreign keys, a busy timeout, ``synchronous=NORMAL`` and
``secure_delete`` (deleted content is overwritten with zeros, not left in free pages). Its folder
is created readable by the owner only (0700), and so are the database file and its ``-wal`` and
``-shm`` (0600): every connection opens under a 0077 umask and the files are chmodded after.
Every SQLite transaction starts with ``BEGIN IMMEDIATE``: a deferred transaction that later
writes can fail at once with SQLITE_BUSY when another connection holds the write lock, whereas
an immediate one waits ``busy_timeout`` for it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: The data folder and the database files: the owner's alone.
FOLDER_MODE: Final = 0o700
FILE_MODE: Final = 0o600
SQLITE_SUFFIXES: Final = ("", "-wal", "-shm", "-journal")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path | None:
    """The file behind an SQLite URL (None for an in-memory database)."""
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(database)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``url``. Statement parameters are kept out of SQLAlchemy's error
    messages (``hide_parameters``): a failing statement's values (a member id beside an
    anonymous post, a display name) must never reach a log line or a traceback."""
    kwargs.setdefault("hide_parameters", True)
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is not None:
            with private_umask():
                path.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine, path)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


@contextlib.contextmanager
def private_umask() -> Iterator[None]:
    """Files and folders created meanwhile are the owner's alone (the umask is the process's:
    keep the block short)."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def make_private(path: Path) -> None:
    """The database file, its ``-wal``/``-shm`` (those that exist) readable by the owner only."""
    for suffix in SQLITE_SUFFIXES:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(f"{path}{suffix}", FILE_MODE)


def _configure_sqlite(engine: AsyncEngine, path: Path | None) -> None:
    @event.listens_for(engine.sync_engine, "do_connect")
    def _private_files(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        with private_umask():
            connection = engine.sync_engine.dialect.connect(*cargs, **cparams)
        if path is not None:
            make_private(path)
        return connection

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN, not the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The busy timeout first: setting the journal mode waits for a lock too.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()
        if path is not None:  # the -wal and -shm exist once WAL is on
            make_private(path)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
