"""Read-only units of work written once, as a synchronous function of a ``Connection``.

A read through the async stack costs a trip to aiosqlite's connection thread for every step of
it (``BEGIN``, each statement's cursor, execute, fetch and close, ``COMMIT``, the pool's reset):
a question page was nine hand-offs between threads for two milliseconds of SQLite's own work.
``ReadRunner.read(work)`` runs ``work(connection)`` (a plain function, e.g. ``lambda c:
question_page(c, question_id=q)``) in one read-only transaction, and picks how:

- **SQLite file**: in a small pool of worker threads of its own, on a synchronous engine
  (pysqlite) opened on the same file with the same PRAGMAs, file modes and ``BEGIN`` as the async
  one (``bot.db.engine.configure_sqlite``), every connection ``query_only``: the whole unit, its
  deferred ``BEGIN`` (one snapshot for all its statements), the statements and the ``COMMIT``, is
  one hand-off to a thread and one back;
- **SQLite file, ``inline=True``**: a small bounded read (a page, not a sitemap) runs in the
  calling thread on a connection of its own, no hand-off at all. Each hand-off between threads
  costs a wake-up, milliseconds on a machine whose cores are busy (``make bench --scenario
  page``), and the reading thread holds the GIL for the Python part of the read anyway, so the
  event loop waits about as long either way. That connection stays checked out of its pool
  between reads (a checkout and its reset cost as much as SQLite's work for a page; only the
  loop's thread uses it, one read at a time: a read is a plain function). It never waits for a
  lock (``PRAGMA busy_timeout=0``: in WAL a reader only meets one during a checkpoint or a
  recovery); when it meets one the read runs again in a thread, which waits for it;
- **PostgreSQL** (and an in-memory SQLite, which a second engine cannot see): on the async
  engine, through SQLAlchemy's ``AsyncConnection.run_sync``, in a ``READ ONLY`` transaction at
  ``REPEATABLE READ``, so all its statements see one snapshot there too.

Either way a write fails ("attempt to write a readonly database"; SQLSTATE 25006), and a
failure propagates with the statement's parameters kept out of its message
(``hide_parameters``). ``close`` waits for the reads in flight and closes the connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final, TypeVar

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import READ_ONLY, configure_sqlite, sqlite_path

T = TypeVar("T")
#: A read-only unit of work: a function of one connection, run inside its transaction.
SyncRead = Callable[[Connection], T]

#: Threads (and pooled SQLite connections) reading at once; the machine's cores bound it anyway.
READ_THREADS: Final = 4
#: On PostgreSQL every statement of a read sees the same snapshot, as SQLite's transaction does
#: (a ``READ ONLY`` transaction at this level never fails to serialize).
_SNAPSHOT: Final = {"isolation_level": "REPEATABLE READ"}


class ReadRunner:
    """Runs read-only units of work on ``engine``'s database (see the module's docstring)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sync: Engine | None = None
        self._threads: ThreadPoolExecutor | None = None
        url = engine.url
        on_postgres = url.get_backend_name() == "postgresql"
        self._options = {**READ_ONLY, **(_SNAPSHOT if on_postgres else {})}
        self._inline: Engine | None = None
        self._inline_connection: Connection | None = None
        path = sqlite_path(url.render_as_string(hide_password=False))
        if url.get_backend_name() == "sqlite" and path is not None:
            self._sync = _reading_engine(url, path, READ_THREADS, None)
            self._threads = ThreadPoolExecutor(READ_THREADS, thread_name_prefix="qa-read")
            # Never waits for a lock, opening included (see the module's docstring).
            self._inline = _reading_engine(url, path, 1, 0)

    @property
    def in_threads(self) -> bool:
        """Whether reads run in the runner's own threads (an SQLite file)."""
        return self._sync is not None

    @property
    def sync_engines(self) -> tuple[Engine, ...]:
        """The engines the reads' statements run on (for their events: counting, timing)."""
        own = tuple(e for e in (self._sync, self._inline) if e is not None)
        return own or (self.engine.sync_engine,)

    async def read(self, work: SyncRead[T], *, inline: bool = False) -> T:
        """``work(connection)`` in one read-only transaction; its result. ``inline``: a small,
        bounded read (a page) that on SQLite runs in the calling thread, without a hand-off
        (see the module's docstring)."""
        if self._sync is None:
            async with self.engine.connect() as connection:
                await connection.execution_options(**self._options)
                async with connection.begin():
                    return await connection.run_sync(work)
        if self._threads is None:
            raise RuntimeError("the read runner is closed")
        if inline and self._inline is not None:
            try:
                return self._read_inline(self._inline, work)
            except OperationalError as exc:
                if "locked" not in str(exc.orig).lower():
                    raise
                # The file is busy (a checkpoint, a recovery): wait in a thread, not in the loop.
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, _in_transaction, self._sync, work)

    def _read_inline(self, engine: Engine, work: SyncRead[T]) -> T:
        connection = self._inline_connection
        if connection is None or connection.closed:
            connection = self._inline_connection = engine.connect()
        with connection.begin():
            return work(connection)

    async def close(self) -> None:
        """Wait for the reads in flight, then close the runner's connections (idempotent)."""
        threads, self._threads = self._threads, None
        if threads is not None:
            await asyncio.to_thread(threads.shutdown, wait=True)
        inline, self._inline_connection = self._inline_connection, None
        if inline is not None:
            inline.close()
        for engine in (self._sync, self._inline):
            if engine is not None:
                engine.dispose()


def _reading_engine(url: URL, path: Path, connections: int, busy_ms: int | None) -> Engine:
    """A synchronous engine reading the SQLite file at ``path`` as the async one does, every
    connection ``query_only``; ``connections`` at most, waiting ``busy_ms`` for a lock."""
    engine = create_sync_engine(
        url.set(drivername="sqlite"),
        hide_parameters=True,
        pool_size=connections,
        max_overflow=0,
        execution_options=dict(READ_ONLY),
    )
    configure_sqlite(engine, path, query_only=True, busy_ms=busy_ms)
    return engine


def _in_transaction(engine: Engine, work: SyncRead[T]) -> T:
    with engine.connect() as connection, connection.begin():
        return work(connection)
