"""One engine and one session factory per process.

SQLite (the embedded default) gets WAL, foreign keys, a busy timeout, ``synchronous=NORMAL`` and
``secure_delete`` (deleted content is overwritten with zeros, not left in free pages). Its folder
is created readable by the owner only (0700), and so are the database file and its ``-wal`` and
``-shm`` (0600): every connection opens under a 0077 umask and the files are chmodded after.
A unit of work that writes starts with ``BEGIN IMMEDIATE``: a deferred transaction that later
writes can fail at once with SQLITE_BUSY when another connection holds the write lock, whereas
an immediate one waits ``busy_timeout`` for it. A read-only unit of work (``READ_ONLY``, see
``bot.forum.uow``) starts with a plain deferred ``BEGIN``: in WAL mode a reader never waits for
the writer, so ``/profile`` does not queue behind the vote writer. Its connection has ``PRAGMA
query_only`` on while it runs, so a read-only unit that tries to write fails loudly ("attempt to
write a readonly database"); every transaction sets the flag it needs before its ``BEGIN`` (a
connection's next writing transaction turns it off again). On PostgreSQL the same option makes
the transaction ``READ ONLY`` (a write fails with SQLSTATE 25006).

``write_holds(engine)`` keeps how long SQLite's write lock was held (from ``BEGIN IMMEDIATE``
to the commit or rollback): the longest hold is logged when the bot closes, with the units of
work of the longest few and how many held it over ``HOLD_BUDGET`` (each named by what
``hold_unit`` says while it begins: the transaction runner sets the operation's name).

Connection pool: SQLAlchemy's queue pool, ``POOL_SIZE`` connections kept plus ``MAX_OVERFLOW``
more on demand. Background workers get a bounded share of them (``bot.transactions``:
``BACKGROUND_CONNECTIONS``), so interactions always find a connection of their own and never
queue behind the vote writer, the notifier, status lines or retention for one.
"""

from __future__ import annotations

import bisect
import contextlib
import contextvars
import os
import time
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
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
#: Connections the pool keeps open, and how many more it opens under load (both backends).
POOL_SIZE: Final = 5
MAX_OVERFLOW: Final = 10

#: The execution option marking a read-only unit of work.
READ_ONLY_OPTION: Final = "qa_read_only"
#: Execution options of a read-only unit of work: a deferred ``BEGIN`` with ``PRAGMA
#: query_only`` on SQLite, a ``READ ONLY`` transaction on PostgreSQL (asyncpg).
READ_ONLY: Final[Mapping[str, Any]] = {READ_ONLY_OPTION: True, "postgresql_readonly": True}
# The pooled connection's info key remembering whether ``PRAGMA query_only`` is on.
_QUERY_ONLY: Final = "qa_query_only"
_HOLD_STARTED: Final = "qa_hold_started"
_HOLD_UNIT: Final = "qa_hold_unit"
#: How long one writing transaction should hold SQLite's write lock at most (seconds).
HOLD_BUDGET: Final = 0.05
#: The longest holds remembered with their unit of work's name.
LONGEST_KEPT: Final = 5

#: The name of the unit of work whose transaction begins now (its write-lock hold is counted
#: under it).
hold_unit: contextvars.ContextVar[str] = contextvars.ContextVar("qa_hold_unit", default="-")


@dataclass
class WriteHolds:
    """How long SQLite write transactions held the database's write lock: how many, the
    longest, how many over ``HOLD_BUDGET``, and the longest few with their unit's name."""

    count: int = 0
    longest: float = 0.0
    over_budget: int = 0
    longest_units: list[tuple[float, str]] = field(default_factory=list)

    def add(self, seconds: float, unit: str = "-") -> None:
        self.count += 1
        self.longest = max(self.longest, seconds)
        if seconds > HOLD_BUDGET:
            self.over_budget += 1
        bisect.insort(self.longest_units, (-seconds, unit))
        del self.longest_units[LONGEST_KEPT:]


_holds: weakref.WeakKeyDictionary[Engine, WriteHolds] = weakref.WeakKeyDictionary()


def write_holds(engine: AsyncEngine) -> WriteHolds | None:
    """The write-lock holds seen on ``engine`` (None: not an SQLite engine)."""
    return _holds.get(engine.sync_engine)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path | None:
    """The file behind an SQLite URL (None for an in-memory database)."""
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(database)


def create_engine(url: str, *, read_only: bool = False, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``url``. Statement parameters are kept out of SQLAlchemy's error
    messages (``hide_parameters``): a failing statement's values (a member id beside an
    anonymous post, a display name) must never reach a log line or a traceback.

    ``read_only`` (the web archive's process): every transaction is read-only, and on SQLite
    every connection is opened with ``PRAGMA query_only=ON`` before anything else runs."""
    kwargs.setdefault("hide_parameters", True)
    if read_only:
        kwargs["execution_options"] = {**kwargs.get("execution_options", {}), **READ_ONLY}
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is not None:
            with private_umask():
                path.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
            # A file: a queue pool (an in-memory database keeps its single connection).
            kwargs.setdefault("pool_size", POOL_SIZE)
            kwargs.setdefault("max_overflow", MAX_OVERFLOW)
        engine = create_async_engine(url, **kwargs)
        configure_sqlite(engine.sync_engine, path, query_only=read_only)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", POOL_SIZE)
    kwargs.setdefault("max_overflow", MAX_OVERFLOW)
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


def configure_sqlite(
    engine: Engine,
    path: Path | None,
    *,
    query_only: bool,
    busy_ms: int | None = None,
    holds: WriteHolds | None = None,
) -> None:
    """The PRAGMAs, file modes and ``BEGIN`` of every connection ``engine`` opens to SQLite
    (the sync engine behind an async one, or ``bot.db.reads``'s or ``bot.db.writes``'s own);
    ``busy_ms``: how long a statement waits for a lock (``None``: ``SQLITE_BUSY_TIMEOUT_MS`` as
    it is when the connection opens); ``holds``: where its write-lock holds are counted (another
    engine's, on the same file; ``None``: its own)."""

    @event.listens_for(engine, "do_connect")
    def _private_files(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        with private_umask():
            connection = engine.dialect.connect(*cargs, **cparams)
        if path is not None:
            make_private(path)
        return connection

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN, not the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The busy timeout first: setting the journal mode waits for a lock too.
        busy = SQLITE_BUSY_TIMEOUT_MS if busy_ms is None else busy_ms
        cursor.execute(f"PRAGMA busy_timeout={int(busy)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA secure_delete=ON")
        if query_only:  # the connection's settings are made: from here on it only reads
            cursor.execute("PRAGMA query_only=ON")
            record.info[_QUERY_ONLY] = True
        cursor.close()
        if path is not None:  # the -wal and -shm exist once WAL is on
            make_private(path)

    holds = _holds.setdefault(engine, holds or WriteHolds())

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read_only = bool(conn.get_execution_options().get(READ_ONLY_OPTION, False))
        if conn.info.get(_QUERY_ONLY, False) != read_only:
            conn.exec_driver_sql(f"PRAGMA query_only={int(read_only)}")
            conn.info[_QUERY_ONLY] = read_only
        if read_only:
            conn.exec_driver_sql("BEGIN")
            return
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        conn.info[_HOLD_STARTED] = time.perf_counter()
        conn.info[_HOLD_UNIT] = hold_unit.get()

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(conn: Connection) -> None:
        started = conn.info.pop(_HOLD_STARTED, None)
        unit = conn.info.pop(_HOLD_UNIT, "-")
        if started is not None:
            holds.add(time.perf_counter() - started, unit)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
