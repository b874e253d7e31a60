"""Thread messages that met the database gone: kept in memory and recorded once it is back.

A member's message in a question thread is recorded when it arrives, by the live path the
answering cog hands in (``record``: an answer or a comment, its DMs queued). When that meets the
database gone (``bot.db.health``), the message is kept and handed to the live path again, in
arrival order, after a pause that doubles from ``RETRY_FIRST`` to ``RETRY_MOST`` seconds until
the database answers; messages arriving while some are kept queue behind them, so a thread's
messages keep their order. At most ``max_kept`` wait: beyond that a message is dropped and counted
(``dropped``, logged at the first drop and every hundredth). Messages still kept at a stop are
not recorded (the log says how many). Log lines carry message, thread and guild ids and counts.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

import discord

from bot.db import health
from bot.workers.backoff import Backoff
from bot.workers.base import TaskWorker, cancelling

if TYPE_CHECKING:
    from bot.transactions import TransactionRunner

log = logging.getLogger(__name__)

#: Messages kept while the database is gone; more are dropped and counted.
MAX_KEPT: Final = 5_000
#: Seconds before recording a kept message again, doubling up to the most.
RETRY_FIRST: Final = 0.5
RETRY_MOST: Final = 30.0

Record = Callable[[discord.Message], Awaitable[None]]


class MessageRetry(TaskWorker):
    """Records thread messages through the live path, keeping those the database missed."""

    name = "message retry"

    def __init__(
        self, bot: discord.Client, runner: TransactionRunner, *, max_kept: int = MAX_KEPT
    ) -> None:
        super().__init__(bot, runner)
        self.max_kept = max_kept
        self.backoff = Backoff(RETRY_FIRST, RETRY_MOST)
        #: Messages dropped because ``max_kept`` were waiting.
        self.dropped = 0
        self._kept: deque[tuple[discord.Message, Record]] = deque()
        #: Whether the last try met the database gone (the next waits for the backoff first).
        self._failing = False
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def kept(self) -> int:
        return len(self._kept)

    async def record(self, message: discord.Message, live: Record) -> None:
        """Record ``message`` through ``live`` now, or keep it when the database is gone (or
        earlier messages are kept); any other failure is raised."""
        if not self._kept:
            try:
                await live(message)
                return
            except Exception as exc:
                what = health.outage(exc)
                if what is None:
                    raise
                log.warning(
                    "%s (%s): thread message %s in guild %s kept for a retry",
                    what,
                    type(exc).__name__,
                    message.id,
                    message.guild.id if message.guild else None,
                )
                self._failing = True
        self._keep(message, live)

    def _keep(self, message: discord.Message, live: Record) -> None:
        if len(self._kept) >= self.max_kept:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 100 == 0:
                log.warning(
                    "message retry full (%d kept): %d thread messages dropped so far",
                    len(self._kept),
                    self.dropped,
                )
            return
        self._kept.append((message, live))
        self._idle.clear()
        self.wake()

    async def wait_idle(self) -> None:
        await self._idle.wait()

    async def run(self) -> None:
        while True:
            if not self._kept:
                self._idle.set()
                await self.sleep_until_woken(None)
                continue
            if self._failing:
                await asyncio.sleep(self.backoff.next())
            message, live = self._kept[0]
            try:
                await live(message)
            except Exception as exc:
                if cancelling():
                    raise asyncio.CancelledError from exc  # a stop, seen through the driver
                what = health.outage(exc)
                if what is not None:
                    self._failing = True
                    log.warning(
                        "%s (%s): %d kept thread messages wait",
                        what,
                        type(exc).__name__,
                        len(self._kept),
                    )
                    continue
                log.exception("recording kept thread message %s failed", message.id)
            else:
                self._failing = False
                self.backoff.reset()
            self._kept.popleft()

    async def after_stop(self) -> None:
        if self._kept:
            log.info("message retry stopped with %d thread messages unrecorded", len(self._kept))
        self._kept.clear()
        self._idle.set()
