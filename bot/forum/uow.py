"""Units of work: one transaction per domain operation, retried when the database asks to.

Every domain operation is an ``async def op(session, *, ...)`` that runs inside a transaction
the caller owns. ``run_in_transaction`` is that caller for code holding a sessionmaker (cogs,
workers): it opens a session, begins, runs the operation, commits, and runs it again from scratch
when the database aborted it for a serialization failure or a deadlock (PostgreSQL 40001/40P01)
or a busy SQLite file, so those never reach the user.

A unit of work that only reads says so (``read_only=True``): it runs in a read-only transaction
(``bot.db.engine.READ_ONLY``: on SQLite a deferred ``BEGIN`` that never waits for the writer,
with ``PRAGMA query_only`` on; on PostgreSQL ``READ ONLY``), and a write it attempts fails.

A writing operation may come in two steps (``Planned``): a plan that reads and decides, and the
writes it decided. ``run_planned`` runs them on SQLite with the write lock held only for the
writes.

The order in which an operation locks rows, which keeps deadlocks rare, is described in
``bot.forum.post_rows``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot.db.engine import READ_ONLY

log = logging.getLogger(__name__)

T = TypeVar("T")
P = TypeVar("P")

# serialization_failure, deadlock_detected
RETRYABLE_SQLSTATES: Final = frozenset({"40001", "40P01"})
DEFAULT_ATTEMPTS: Final = 8
BACKOFF_SECONDS: Final = 0.01


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error (PostgreSQL), if it has one."""
    orig = getattr(exc, "orig", None)
    for source in (orig, getattr(orig, "__cause__", None)):
        code = getattr(source, "sqlstate", None) or getattr(source, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def is_retryable(exc: BaseException) -> bool:
    """Whether running the whole transaction again may succeed."""
    if not isinstance(exc, DBAPIError):
        return False
    if sqlstate(exc) in RETRYABLE_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig).lower()


async def run_in_transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    attempts: int = DEFAULT_ATTEMPTS,
    read_only: bool = False,
) -> T:
    """Run ``work(session)`` in its own transaction, retrying it when the database asks to.

    ``work`` must do all its writing through the session (it may run more than once); domain
    errors (``ForumError``) and other failures propagate after the rollback, unretried. With
    ``read_only`` the transaction is read-only: ``work`` reads, and a write fails.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            async with sessionmaker() as session, session.begin():
                if read_only:
                    # Options apply when the session first takes its connection, before BEGIN
                    # (taken by the session itself: its engine may be the write runner's
                    # synchronous one, ``bot.db.writes``).
                    await session.run_sync(_read_only_connection)
                return await work(session)
        except DBAPIError as exc:
            if attempt >= attempts or not is_retryable(exc):
                raise
            log.info(
                "transaction retried (attempt %d, sqlstate %s)", attempt, sqlstate(exc) or "busy"
            )
        # Jittered exponential backoff so the transactions that collided do not collide again.
        await asyncio.sleep(BACKOFF_SECONDS * (2 ** min(attempt, 6)) * random.random())


@dataclass(frozen=True, slots=True)
class Planned(Generic[P, T]):
    """A writing operation in two steps: ``plan(session)`` reads and decides, writing nothing;
    ``write(session, plan)`` writes what was decided. Called as an operation, it runs both in
    the caller's transaction (PostgreSQL, whose row locks the plan takes, and any caller);
    ``run_planned`` runs the plan before the writing transaction begins."""

    #: What the unit of work is called in the write-lock holds (``bot.db.engine``).
    name: str
    plan: Callable[[AsyncSession], Awaitable[P]]
    write: Callable[[AsyncSession, P], Awaitable[T]]

    async def __call__(self, session: AsyncSession) -> T:
        return await self.write(session, await self.plan(session))


async def run_planned(sessionmaker: async_sessionmaker[AsyncSession], planned: Planned[P, T]) -> T:
    """``planned`` on an SQLite connection that no other unit of work uses meanwhile (the write
    runner's thread, ``bot.db.writes``), with the write lock held for its writes only.

    The plan runs in a read transaction (a deferred ``BEGIN``: no lock taken, no writer waited
    for), the writes in a writing one (``BEGIN IMMEDIATE``). ``PRAGMA data_version``, read
    first in each, starts the transaction's snapshot and changes only when another connection
    commits: when it differs, the database moved between the two, and the plan is made again
    inside the writing transaction, on what it will write over. Same outcome as running both
    steps in one writing transaction, as ``Planned`` does when called.
    """

    async def planning(session: AsyncSession) -> tuple[int, P]:
        version = await data_version(session)
        return version, await planned.plan(session)

    version, plan = await run_in_transaction(sessionmaker, planning, read_only=True)

    async def writing(session: AsyncSession) -> T:
        current = plan if await data_version(session) == version else await planned.plan(session)
        return await planned.write(session, current)

    return await run_in_transaction(sessionmaker, writing)


def _read_only_connection(session: Session) -> None:
    session.connection(execution_options=dict(READ_ONLY))


async def data_version(session: AsyncSession) -> int:
    """SQLite's ``PRAGMA data_version``: changes when another connection commits."""
    return int((await session.execute(text("PRAGMA data_version"))).scalar_one())
