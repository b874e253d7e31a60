"""Units of work: one transaction per domain operation, row locks in one global order, retries.

Every domain operation is an ``async def op(session, *, ...)`` that runs inside a transaction
the caller owns. ``run_in_transaction`` is that caller for code holding a sessionmaker (cogs,
workers): it opens a session, begins, runs the operation, commits, and runs it again from scratch
when the database aborted it for a serialization failure or a deadlock (PostgreSQL 40001/40P01)
or a busy SQLite file, so those never reach the user.

Lock order (what makes deadlocks rare in the first place): rows of ``posts`` are locked in
ascending id order. A question is always older than its answers, so "question, then its answers
by id" is that order. The vote path locks only the voted post and merely reads its question.
``members`` rows are written last, once per transaction, in ascending user id order.
PostgreSQL locks with ``FOR NO KEY UPDATE``, which does not block the ``KEY SHARE`` locks that
foreign-key checks take when votes, answers and notifications reference a locked post. SQLite
has no row locks: its write transactions start with ``BEGIN IMMEDIATE`` and run one at a time.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from typing import Final, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Post

log = logging.getLogger(__name__)

T = TypeVar("T")

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
) -> T:
    """Run ``work(session)`` in its own transaction, retrying it when the database asks to.

    ``work`` must do all its writing through the session (it may run more than once); domain
    errors (``ForumError``) and other failures propagate after the rollback, unretried.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            async with sessionmaker() as session, session.begin():
                return await work(session)
        except DBAPIError as exc:
            if attempt >= attempts or not is_retryable(exc):
                raise
            log.info(
                "transaction retried (attempt %d, sqlstate %s)", attempt, sqlstate(exc) or "busy"
            )
        # Jittered exponential backoff so the transactions that collided do not collide again.
        await asyncio.sleep(BACKOFF_SECONDS * (2 ** min(attempt, 6)) * random.random())


async def load_post(session: AsyncSession, post_id: int, *, lock: bool = False) -> Post | None:
    """The post row, fresh from the database (locked ``FOR NO KEY UPDATE`` when asked)."""
    stmt = select(Post).where(Post.id == post_id).execution_options(populate_existing=True)
    if lock:
        stmt = stmt.with_for_update(key_share=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def post_id_by_message(session: AsyncSession, message_id: int) -> int | None:
    stmt = select(Post.id).where(Post.message_id == message_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def lock_posts(session: AsyncSession, post_ids: Iterable[int]) -> dict[int, Post]:
    """Lock several posts in ascending id order and return them fresh."""
    ids = sorted(set(post_ids))
    if not ids:
        return {}
    stmt = (
        select(Post)
        .where(Post.id.in_(ids))
        .order_by(Post.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return {row.id: row for row in (await session.execute(stmt)).scalars()}


async def lock_answers(session: AsyncSession, question_id: int) -> list[Post]:
    """Lock every answer of a (locked) question, in id order."""
    stmt = (
        select(Post)
        .where(Post.question_id == question_id, Post.kind == "answer")
        .order_by(Post.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(stmt)).scalars())
