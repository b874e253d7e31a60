"""Writing units of work run whole in a thread of their own: one hand-off, not one per statement.

Through the async stack every statement of a transaction on SQLite is a trip to aiosqlite's
connection thread and back through the event loop (``BEGIN``, each statement's execute, fetch
and close, ``COMMIT``): a batch of answers of about 20 statements waited for about 20 turns of a
busy loop, and the waits cost as much as the work (in-process, 2,000 answers in batches of 100:
about 1.3 ms of wall time per answer for 0.65 ms of CPU). ``WriteRunner.write(transaction)``
runs ``transaction(sessionmaker)``: a writing transaction on the sessions it makes (as
``bot.forum.uow.run_in_transaction(sessionmaker, operation)`` runs a domain operation, an
ordinary ``async def`` of an ``AsyncSession``, retried when the database asks to), and picks
where:

- **SQLite file**: in one writing thread of the runner's own, on a synchronous engine (pysqlite)
  opened on the same file with the same PRAGMAs, file modes and ``BEGIN IMMEDIATE`` as the async
  one (``bot.db.engine.configure_sqlite``; its write-lock holds counted with the async engine's).
  The thread runs the operation to its end in an event loop of its own, on an ``AsyncSession``
  whose session is bound to that engine: every statement runs at once in the thread (no
  statement waits for anything but SQLite), so the operation, its ``BEGIN`` and its ``COMMIT``
  are one hand-off to the thread and one back. The domain code is the same code, rules and all.
- **PostgreSQL** (and an in-memory SQLite, which a second engine cannot see): on the async
  engine's sessionmaker, as any transaction.

The caller takes SQLite's writers' turn first (``bot.transactions``), so the thread never waits
for another writer of this process. ``close`` waits for the write in flight, then closes the
thread's loop and the connection.

The thread's engine compiles each statement the first time it runs it (SQLAlchemy keeps the
compiled form per dialect, in the engine's cache): a batch's first run compiled while it held the
write lock, 450 ms and more as a burst began. ``rehearse(transaction)`` runs a transaction in the
thread on a scratch copy of the database's schema, in memory, through an engine that shares the
thread engine's dialect and compiled cache: its statements are compiled there, the database file
is not touched and its lock not taken (``bot.forum.rehearsal`` says what is rehearsed).
"""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final, TypeVar

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool
from sqlalchemy.util import LRUCache

from bot.db.engine import READ_ONLY, configure_sqlite, sqlite_path, write_holds

T = TypeVar("T")
#: A writing transaction, given the sessionmaker to make its sessions with.
Transaction = Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]

#: The writing thread's name (SQLite takes one writer at a time: one thread is enough).
THREAD_NAME: Final = "qa-write"
#: Compiled statements the writing engine keeps (SQLAlchemy's default cache size).
COMPILED_KEPT: Final = 500


class WriteRunner:
    """Runs writing units of work on ``engine``'s database (see the module's docstring)."""

    def __init__(self, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        self._sync: Engine | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._local = threading.local()
        path = sqlite_path(engine.url.render_as_string(hide_password=False))
        if engine.dialect.name == "sqlite" and path is not None:
            self._sync = _writing_engine(engine, path)
            self._thread = ThreadPoolExecutor(1, thread_name_prefix=THREAD_NAME)
            self._sessionmaker = async_sessionmaker(
                sync_session_class=_OnSyncEngine, sync_bind=self._sync, expire_on_commit=False
            )

    @property
    def in_thread(self) -> bool:
        """Whether writes run in the runner's own thread (an SQLite file)."""
        return self._sync is not None

    @property
    def compiled(self) -> int:
        """How many statements the writing engine has compiled and keeps (0 without one)."""
        if self._sync is None:
            return 0
        return len(self._sync.get_execution_options()["compiled_cache"])

    async def write(self, transaction: Transaction[T]) -> T:
        """``transaction(sessionmaker)`` run to its end (see the module's docstring); its
        result."""
        if self._sync is None:
            return await transaction(self._sessionmaker)
        if self._thread is None:
            raise RuntimeError("the write runner is closed")
        loop = asyncio.get_running_loop()
        # The caller's context goes along (``bot.db.engine.hold_unit`` names the hold).
        context = contextvars.copy_context()
        return await loop.run_in_executor(self._thread, context.run, self._in_thread, transaction)

    def _in_thread(self, transaction: Transaction[T]) -> T:
        """In the writing thread: the whole transaction, in the thread's own event loop."""
        loop: asyncio.AbstractEventLoop | None = getattr(self._local, "loop", None)
        if loop is None:
            loop = self._local.loop = asyncio.new_event_loop()
        return loop.run_until_complete(transaction(self._sessionmaker))

    async def rehearse(self, transaction: Transaction[T]) -> T | None:
        """``transaction(sessionmaker)`` run in the writing thread on a scratch, in-memory copy
        of the schema whose statements are compiled into the writing engine's cache (see the
        module's docstring); its result. None without a writing thread (nothing is run)."""
        if self._sync is None or self._thread is None:
            return None
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        return await loop.run_in_executor(self._thread, context.run, self._rehearsed, transaction)

    def _rehearsed(self, transaction: Transaction[T]) -> T:
        """In the writing thread: the transaction on a scratch engine, disposed after."""
        assert self._sync is not None
        scratch = _scratch_engine(self._sync)
        try:
            made = async_sessionmaker(
                sync_session_class=_OnSyncEngine, sync_bind=scratch, expire_on_commit=False
            )
            return self._in_thread(lambda _: transaction(made))
        finally:
            scratch.dispose()

    async def close(self) -> None:
        """Wait for the write in flight, then close the thread's loop and the connection
        (idempotent)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            await asyncio.wrap_future(thread.submit(self._close_loop))
            await asyncio.to_thread(thread.shutdown, wait=True)
        if self._sync is not None:
            self._sync.dispose()

    def _close_loop(self) -> None:
        loop: asyncio.AbstractEventLoop | None = getattr(self._local, "loop", None)
        if loop is not None:
            loop.close()
            self._local.loop = None


class _OnSyncEngine(Session):
    """The session behind the writing thread's ``AsyncSession``: bound to the synchronous
    engine (an ``AsyncSession`` only takes async engines as its bind)."""

    def __init__(self, *, bind: Any = None, sync_bind: Engine, **kw: Any) -> None:
        super().__init__(bind=sync_bind, **kw)


class _Cursor(sqlite3.Cursor):
    """A pysqlite cursor an ``AsyncSession`` can take results from: it closes a cursor it has
    not read to the end through this method of the async drivers' cursors, which for a
    client-side cursor (all of SQLite's) has nothing to do."""

    async def _async_soft_close(self) -> None:
        return None


class _Connection(sqlite3.Connection):
    """A pysqlite connection whose cursors are ``_Cursor``."""

    def cursor(self, factory: Any = _Cursor) -> Any:
        return super().cursor(factory)


def _writing_engine(engine: AsyncEngine, path: Path) -> Engine:
    """A synchronous engine writing the SQLite file at ``path`` as ``engine`` does, one
    connection, its write-lock holds counted with ``engine``'s."""
    url: URL = engine.url.set(drivername="sqlite")
    sync = create_sync_engine(
        url,
        hide_parameters=True,
        pool_size=1,
        max_overflow=0,
        connect_args={"factory": _Connection, "check_same_thread": False},
        # A cache of its own a scratch engine can share (``_scratch_engine``).
        execution_options={"compiled_cache": LRUCache(COMPILED_KEPT)},
    )
    configure_sqlite(sync, path, query_only=False, holds=write_holds(engine))
    return sync


def _scratch_engine(sync: Engine) -> Engine:
    """An engine on an in-memory copy of the schema of ``sync``'s database, sharing its dialect
    and compiled cache (what it compiles, ``sync`` finds compiled)."""
    with sync.connect() as connection:
        # A read (deferred BEGIN, ``READ_ONLY``): the schema, in the order it was made.
        schema = (
            connection.execution_options(**READ_ONLY)
            .exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
            )
            .all()
        )
    scratch = _Connection(":memory:", check_same_thread=False)
    for name, sql in schema:
        if name.startswith("sqlite_"):
            continue  # SQLite's own tables: made by SQLite
        try:
            scratch.execute(sql)
        except sqlite3.OperationalError as exc:
            if "already exists" not in str(exc):  # a full-text index's own tables
                raise
    scratch.isolation_level = None  # SQLAlchemy issues BEGIN, as on the writing engine

    def connect() -> Any:
        return scratch

    engine = Engine(
        StaticPool(connect),
        sync.dialect,
        sync.url,
        hide_parameters=True,
        execution_options={"compiled_cache": sync.get_execution_options()["compiled_cache"]},
    )

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine
