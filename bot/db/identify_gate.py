"""IDENTIFYs spaced across the processes sharing one token: ``IdentifyGate``.

Discord starts at most one session per ``max_concurrency`` bucket (``shard_id %
max_concurrency``) every 5 seconds for a token; an IDENTIFY past that is refused. discord.py
spaces the shards of one process by itself; processes sharing a PostgreSQL database meet here.
Before an IDENTIFY a process takes the bucket's session advisory lock on a connection of its
own and keeps it ``window`` seconds after the IDENTIFY, so the next IDENTIFY in that bucket, from
any process, comes at least ``window`` seconds later. The window's clock starts once the task
holding the lock first runs: discord.py sends the IDENTIFY right after the hook returns, without
giving the event loop a turn in between, so that is after the IDENTIFY went to the socket. The
connection is closed at the end of the window (closing it releases the lock), and a process that
dies releases its locks with its connections. On SQLite (one process, ``enabled`` False)
``wait_turn`` returns at once. A database gone lets the IDENTIFY through, with one warning.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from bot.db import health

log = logging.getLogger(__name__)

#: The first key of ``pg_advisory_lock(int, int)`` for every bucket lock ("QAID"); the second is
#: the bucket. The two-key space never meets the migrations' one-key lock.
LOCK_CLASS: Final = 0x5141_4944


class IdentifyGate:
    """One IDENTIFY per bucket per ``window`` seconds across processes (PostgreSQL only).
    ``max_concurrency`` is asked once, at the first IDENTIFY (``GET /gateway/bot``)."""

    def __init__(
        self,
        engine: AsyncEngine,
        window: float,
        max_concurrency: Callable[[], Awaitable[int]],
    ) -> None:
        self.window = window
        self._ask_concurrency = max_concurrency
        self._concurrency: int | None = None
        # Connections of their own, outside the pool: each holds a lock for a whole window.
        self._engine: AsyncEngine | None = None
        if engine.dialect.name == "postgresql":
            self._engine = create_async_engine(engine.url, poolclass=NullPool, hide_parameters=True)
        self._holds: set[asyncio.Task[None]] = set()

    @property
    def enabled(self) -> bool:
        return self._engine is not None

    async def bucket(self, shard_id: int) -> int:
        if self._concurrency is None:
            self._concurrency = max(1, await self._ask_concurrency())
        return shard_id % self._concurrency

    async def wait_turn(self, shard_id: int) -> None:
        """Until this process may IDENTIFY ``shard_id`` now: the bucket's lock is ours and
        stays ours ``window`` seconds from now."""
        if self._engine is None:
            return
        bucket = await self.bucket(shard_id)
        try:
            conn = await self._engine.connect()
        except Exception as exc:
            self._unguarded(shard_id, exc)
            return
        try:
            await conn.execute(
                text("SELECT pg_advisory_lock(:key, :bucket)"),
                {"key": LOCK_CLASS, "bucket": bucket},
            )
        except BaseException as exc:
            await asyncio.shield(conn.close())
            if isinstance(exc, Exception):
                self._unguarded(shard_id, exc)
                return
            raise
        log.info("identify turn of shard %s (bucket %s)", shard_id, bucket)
        hold = asyncio.get_running_loop().create_task(
            self._hold(conn), name=f"qa-bot identify window {bucket}"
        )
        self._holds.add(hold)
        hold.add_done_callback(self._holds.discard)

    @staticmethod
    def _unguarded(shard_id: int, exc: Exception) -> None:
        """The database is gone: identify without the gate (Discord refuses an IDENTIFY too
        soon with op 9, and discord.py identifies again); a bug keeps its traceback."""
        what = health.outage(exc)
        if what is None:
            raise exc
        log.warning("%s (%s): shard %s identifies unguarded", what, type(exc).__name__, shard_id)

    async def _hold(self, conn: AsyncConnection) -> None:
        try:
            await asyncio.sleep(self.window)
        finally:
            await asyncio.shield(conn.close())  # the lock goes with the connection

    async def close(self) -> None:
        """Wait for the windows still running (a later IDENTIFY by another process must not
        fall in them), then close the gate's engine."""
        if self._holds:
            await asyncio.wait(set(self._holds))
        if self._engine is not None:
            await self._engine.dispose()
