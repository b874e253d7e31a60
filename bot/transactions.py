"""The transaction runner: every unit of work a cog or worker does is one named domain operation
run here, in its own transaction, retried when the database asks to (``bot.forum.uow``).

After the commit, members whose public points moved (the ledger notes them on the session, see
``bot.forum.ledger.POINTS_MOVED``) are announced once, as ``on_qa_points_changed(guild_id,
user_ids)``: the point roles follow them. Anonymous points never move public points.

A transaction is never cut in the middle. It runs in a task of its own (``TransactionRunner``):
when its caller is cancelled (a timeout, a worker stopping) the caller stops waiting at once and
the transaction still ends, committed or rolled back, with its connection back in the pool (a
cancellation reaching SQLAlchemy while it hands a connection back is logged as an
``Exception during reset`` traceback). The runner knows the transactions in flight and the
tasks that ran them: a closing bot lets those tasks finish their work (``wait_callers``: a
command halfway through still gets its reply out), then waits for the transactions and refuses
new ones (``close``), so nothing holds a database session once ``QABot.close`` returns and the
engine can be disposed.

Reads never wait behind writers. A unit of work that only reads is run with ``run_read`` (or
``read_only=True``): a read-only transaction (``bot.forum.uow``), which on SQLite is a deferred
``BEGIN`` that WAL lets run beside the writer's ``BEGIN IMMEDIATE``, and in which a write fails.
A read written as a function of a ``Connection`` (``run_sync_read``, ``bot.db.reads``) is the
cheapest: on SQLite the whole unit is one hand-off to a reading thread of the runner's own.
A writing batch of many statements (the thread intake's, the vote writer's) is run with
``write`` (``run_write``): on SQLite the whole transaction is one hand-off to a writing thread of
the runner's own (``bot.db.writes``), taken in the writers' turn as any write; so is a short
write that comes in a burst (a native post's adoption, a reaction re-read, a DM channel
remembered), whose statements would otherwise each wait for a turn of the busy event loop with
the write lock held. Only an operation that awaits nothing but its session can run there.

Background work takes a bounded share of the connection pool. The bot starts its workers in a
context marked as background (``background_context``); every transaction run from a task
created there (the vote writer, the notifier, status lines and point roles the writer asks for,
retention, thread renames) waits for one of ``BACKGROUND_CONNECTIONS`` slots before it takes a
connection. The pool (``bot.db.engine``: ``POOL_SIZE`` + ``MAX_OVERFLOW``) is larger, so the
commands and listeners always find connections the workers cannot take: on PostgreSQL an
interaction never queues for a pooled connection behind a burst of background writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Coroutine, Iterable
from typing import Any, Final, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db.engine import MAX_OVERFLOW, POOL_SIZE, hold_unit
from bot.db.reads import ReadRunner, SyncRead
from bot.db.writes import WriteRunner
from bot.forum.ledger import POINTS_MOVED
from bot.forum.uow import Planned, run_in_transaction, run_planned

log = logging.getLogger(__name__)

T = TypeVar("T")
Operation = Callable[[AsyncSession], Awaitable[T]]
Dispatch = Callable[..., None]


#: The event dispatched after a commit that moved members' public points.
POINTS_CHANGED: Final = "qa_points_changed"
#: Seconds a closing bot waits for the transactions in flight before it cancels them.
CLOSE_GRACE: Final = 10.0
#: Connections background work may hold at once; the rest of the pool is the interactions'.
BACKGROUND_CONNECTIONS: Final = 4
if BACKGROUND_CONNECTIONS >= POOL_SIZE + MAX_OVERFLOW:  # a constants edit that leaves none
    raise RuntimeError("background work must leave pooled connections to the interactions")

_background: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "qa_background_work", default=False
)


def background_context() -> contextvars.Context:
    """A copy of the current context marked as background work: tasks created while it runs
    (``context.run(worker.start)``) run their transactions in the background share."""
    context = contextvars.copy_context()
    context.run(_background.set, True)
    return context


class RunnerClosed(RuntimeError):
    """A transaction was asked for after the bot closed (work cut short by a shutdown)."""


class TransactionRunner:
    """Runs the bot's transactions, each to its end, and lets a closing bot wait for them.

    ``dispatch`` (the bot's) announces whose public points a committed transaction moved.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], dispatch: Dispatch) -> None:
        self.sessionmaker = sessionmaker
        self._dispatch = dispatch
        self._in_flight: set[asyncio.Task[Any]] = set()
        #: Tasks that ran a transaction (listeners, commands, workers), while they live.
        self._callers: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()
        self._closed = False
        self._background_slots = asyncio.Semaphore(BACKGROUND_CONNECTIONS)
        #: SQLite's writers take turns here (see the module's docstring); None on PostgreSQL.
        self._write_turn = asyncio.Lock() if _on_sqlite(sessionmaker) else None
        bind = sessionmaker.kw.get("bind")
        #: Reads written as functions of a connection (``read``); None without an async engine.
        self._reads = ReadRunner(bind) if isinstance(bind, AsyncEngine) else None
        #: Writing batches (``write``); None without an async engine.
        self._writes = WriteRunner(bind, sessionmaker) if isinstance(bind, AsyncEngine) else None
        #: Transactions run so far: reads, writes.
        self.reads = 0
        self.writes = 0

    @property
    def one_writer(self) -> bool:
        """Whether the database takes one writer at a time (SQLite): the writers take turns."""
        return self._write_turn is not None

    @property
    def in_flight(self) -> int:
        """How many transactions are running now."""
        return len(self._in_flight)

    async def run(self, operation: Operation[T], *, read_only: bool = False) -> T:
        """Run one domain operation in its own transaction (retried on serialization
        failures), in a task of its own: a cancelled caller stops waiting, the transaction
        goes on to its end; after the commit, announce whose public points moved.
        ``read_only``: the operation only reads (a write in it fails)."""
        return await self._to_the_end(self._transaction(operation, read_only))

    async def write(self, operation: Operation[T]) -> T:
        """Run a writing domain operation as ``run`` does; on SQLite the whole transaction in
        the write runner's thread (``bot.db.writes``): one hand-off, not one per statement
        (for a batch of many statements)."""
        return await self._to_the_end(self._transaction(operation, False, in_thread=True))

    @property
    def compiled_for_writes(self) -> int:
        """Statements the write runner's engine has compiled (``bot.db.writes``; 0: none)."""
        return 0 if self._writes is None else self._writes.compiled

    async def rehearse(self, operation: Operation[Any]) -> bool:
        """On an SQLite file: run a writing operation in the write runner's thread on a scratch
        copy of the schema, and roll it back, so its statements are compiled on the thread's
        engine before a real batch holds the write lock with them (``bot.db.writes``,
        ``bot.forum.rehearsal``). Elsewhere (the async engine's statements are compiled once
        for every session): nothing. Whether it ran."""
        writes = self._writes
        if writes is None or not writes.in_thread:
            return False

        async def rolled_back(made: async_sessionmaker[AsyncSession]) -> None:
            async with made() as session:
                try:
                    await operation(session)
                finally:
                    await session.rollback()

        # Not as a transaction of the caller (``_to_the_end``): the caller is the bot's start,
        # whose task lives until the bot closes, and a closing bot waits for the tasks that
        # ran transactions (``wait_callers``). The write runner's close waits for it anyway.
        await writes.rehearse(rolled_back)
        return True

    async def read(self, work: SyncRead[T], *, inline: bool = False) -> T:
        """Run a read-only unit of work written as a function of a ``Connection`` (``bot.db.
        reads``: on SQLite one hand-off to a reading thread, none for a small ``inline`` one),
        to its end as ``run`` does."""
        if self._reads is None:
            raise RuntimeError("this runner's sessionmaker is bound to no async engine")
        reads = self._reads

        async def counted() -> T:
            async with self._share():
                self.reads += 1
                return await reads.read(work, inline=inline)

        return await self._to_the_end(counted())

    async def _to_the_end(self, work: Coroutine[Any, Any, T]) -> T:
        """``work`` in a task of its own that a cancelled caller leaves running (see ``run``)."""
        if self._closed:
            work.close()
            raise RunnerClosed("the bot is closed: no new transaction begins")
        caller = asyncio.current_task()
        if caller is not None:
            self._callers.add(caller)
        transaction = asyncio.get_running_loop().create_task(work, name="transaction")
        self._in_flight.add(transaction)
        transaction.add_done_callback(self._finished)
        # A cancelled shield leaves the transaction running (``_finished`` retrieves its outcome).
        return await asyncio.shield(transaction)

    def _finished(self, transaction: asyncio.Task[Any]) -> None:
        """Forget a transaction that ended and mark its outcome retrieved: once its caller was
        cancelled nobody awaits it (a shield stops listening), and a failure (the database
        gone at a shutdown) would be reported as "Task exception was never retrieved"."""
        self._in_flight.discard(transaction)
        if not transaction.cancelled():
            transaction.exception()

    async def _transaction(
        self, operation: Operation[T], read_only: bool, *, in_thread: bool = False
    ) -> T:
        moved: set[tuple[int, int]] = set()

        async def noted(session: AsyncSession, work: Awaitable[T]) -> T:
            moved.clear()  # a retried attempt starts over
            result = await work
            moved.update(session.info.get(POINTS_MOVED, ()))
            return result

        async def attempt(session: AsyncSession) -> T:
            return await noted(session, operation(session))

        hold_unit.set(
            operation.name
            if isinstance(operation, Planned)
            else getattr(operation, "__qualname__", type(operation).__name__)
        )
        async with self._share():
            if read_only:
                self.reads += 1
                result = await run_in_transaction(self.sessionmaker, attempt, read_only=True)
            else:
                self.writes += 1
                async with self._writer_turn():
                    writes = self._writes if in_thread else None
                    if writes is not None and writes.in_thread and isinstance(operation, Planned):
                        # In the write runner's thread, the one user of its connection: the
                        # plan before the writing transaction begins, so the write lock is
                        # held for the writes only (``bot.forum.uow.run_planned``).
                        planned: Planned[Any, T] = operation

                        async def write(session: AsyncSession, plan: Any) -> T:
                            return await noted(session, planned.write(session, plan))

                        noting = Planned(planned.name, planned.plan, write)
                        result = await writes.write(lambda made: run_planned(made, noting))
                    elif writes is not None:
                        result = await writes.write(lambda made: run_in_transaction(made, attempt))
                    else:
                        result = await run_in_transaction(self.sessionmaker, attempt)
        announce_points_moved(self._dispatch, moved)
        return result

    @contextlib.asynccontextmanager
    async def _share(self) -> AsyncIterator[None]:
        """A background transaction's slot (see the module's docstring); none for the rest."""
        if not _background.get():
            yield
            return
        async with self._background_slots:
            yield

    @contextlib.asynccontextmanager
    async def _writer_turn(self) -> AsyncIterator[None]:
        """A writing transaction's turn on SQLite (see the module's docstring)."""
        if self._write_turn is None:
            yield
            return
        async with self._write_turn:
            yield

    async def wait_running(self) -> None:
        """Until the transactions running now have ended (not those begun later)."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight))

    async def wait_callers(
        self, grace: float = CLOSE_GRACE, *, besides: Collection[asyncio.Task[Any]] = ()
    ) -> None:
        """Until the tasks still running that ran a transaction (a command or listener halfway
        through its work) have ended, at most ``grace`` seconds; not the current task nor those
        in ``besides`` (they wait for the caller)."""
        current = asyncio.current_task()
        busy = {t for t in self._callers if not t.done() and t is not current and t not in besides}
        if not busy:
            return
        _, late = await asyncio.wait(busy, timeout=grace)
        if late:
            log.warning("%d tasks still at work after %g s: closing anyway", len(late), grace)

    async def close(self, grace: float = CLOSE_GRACE) -> None:
        """Refuse new transactions; wait up to ``grace`` seconds for those in flight, then
        cancel the rest and wait for them to end (idempotent)."""
        self._closed = True
        try:
            await self._wait_in_flight(grace)
        finally:
            if self._reads is not None:
                await self._reads.close()
            if self._writes is not None:
                await self._writes.close()

    async def _wait_in_flight(self, grace: float) -> None:
        if not self._in_flight:
            return
        _, late = await asyncio.wait(set(self._in_flight), timeout=grace)
        if late:
            log.warning("%d transactions still running after %g s: cancelled", len(late), grace)
            for transaction in late:
                transaction.cancel()
            await asyncio.wait(late)


def _on_sqlite(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    bind = sessionmaker.kw.get("bind")
    return isinstance(bind, AsyncEngine) and bind.dialect.name == "sqlite"


class HasTransactionRunner(Protocol):
    """What ``run_transaction`` needs of the bot (``QABot``)."""

    @property
    def transaction_runner(self) -> TransactionRunner: ...


async def run_transaction(
    bot: HasTransactionRunner, operation: Operation[T], *, read_only: bool = False
) -> T:
    """Run one domain operation in its own transaction with the bot's runner (see
    ``TransactionRunner.run``); ``read_only`` when it only reads."""
    return await bot.transaction_runner.run(operation, read_only=read_only)


async def run_read(bot: HasTransactionRunner, operation: Operation[T]) -> T:
    """Run a domain operation that only reads, in a read-only transaction: on SQLite it never
    waits for the writer; a write in it fails."""
    return await bot.transaction_runner.run(operation, read_only=True)


async def run_write(bot: HasTransactionRunner, operation: Operation[T]) -> T:
    """Run a writing domain operation with the bot's runner, on SQLite in the writing thread
    (``TransactionRunner.write``): its statements hold the write lock without waiting for turns
    of the event loop. Only for an operation that awaits nothing but its session."""
    return await bot.transaction_runner.write(operation)


async def run_sync_read(bot: HasTransactionRunner, work: SyncRead[T], *, inline: bool = False) -> T:
    """Run a read-only unit of work written as ``work(connection)`` (``bot.db.reads``) with the
    bot's runner: on SQLite the whole read is one hand-off to a reading thread, or none for a
    small bounded read (``inline``)."""
    return await bot.transaction_runner.read(work, inline=inline)


def announce_points_moved(dispatch: Dispatch, moved: Iterable[tuple[int, int]]) -> None:
    by_guild: dict[int, set[int]] = {}
    for guild_id, user_id in moved:
        by_guild.setdefault(guild_id, set()).add(user_id)
    for guild_id, user_ids in by_guild.items():
        dispatch(POINTS_CHANGED, guild_id, frozenset(user_ids))
