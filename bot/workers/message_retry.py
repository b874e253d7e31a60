"""Thread changes that met the database gone: kept in memory and recorded once it is back.

A member's message in a question thread is recorded when it arrives, by the live path the
answering cog hands in (``record``: an answer or a comment, its DMs queued); Discord's own edits
and deletes of messages and threads are applied by the lifecycle cog's live paths (``apply``).
When one meets the database gone (``bot.db.health``), it is kept and run again, in arrival
order, after a pause that doubles from half a second to 30 seconds (``OUTAGE_RETRY``) until the
database answers; changes arriving while some are kept queue behind them, so a message is
recorded before its edit and its delete. A message is recorded in a batch (the thread intake,
``bot.workers.thread_intake``), so its recording may still be under way when its edit or
delete arrives: the edit or delete of a message, or the bulk delete or delete of its thread,
first waits until the recordings of those messages under way have ended (or been kept).
At most ``max_kept`` wait: beyond that a change is dropped and counted (``dropped``, logged at
the first drop and every hundredth; a later reconciliation may still catch it). Changes still
kept at a stop are not recorded (the log says how many). Log lines carry what kind of change,
message or thread and guild ids and counts.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import discord

from bot.db import health
from bot.workers.backoff import OUTAGE_RETRY, Backoff
from bot.workers.base import QueueWorker, cancelling

if TYPE_CHECKING:
    from bot.transactions import TransactionRunner

log = logging.getLogger(__name__)

#: Messages kept while the database is gone; more are dropped and counted.
MAX_KEPT: Final = 5_000

Record = Callable[[discord.Message], Awaitable[None]]
#: One change to record: runs its live path once.
Change = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Kept:
    """A change waiting for the database: what it is (for logs) and the ids it concerns."""

    what: str
    object_id: int
    guild_id: int | None
    run: Change


class MessageRetry(QueueWorker):
    """Records thread changes through their live paths, keeping those the database missed."""

    name = "message retry"
    #: Changes kept at most (tests set it per instance).
    max_kept: int = MAX_KEPT

    def __init__(self, bot: discord.Client, runner: TransactionRunner) -> None:
        super().__init__(bot, runner)
        self.backoff = Backoff(OUTAGE_RETRY)
        #: Changes dropped because ``max_kept`` were waiting.
        self.dropped = 0
        self._kept: deque[Kept] = deque()
        #: Whether the last try met the database gone (the next waits for the backoff first).
        self._failing = False
        #: Thread messages being recorded: message id -> ended; channel id -> message ids.
        self._recording: dict[int, asyncio.Event] = {}
        self._recording_in: dict[int, set[int]] = {}

    @property
    def kept(self) -> int:
        return len(self._kept)

    async def record(self, message: discord.Message, live: Record) -> None:
        """Record a thread ``message`` through ``live`` now, or keep it when the database is
        gone (or earlier changes are kept); any other failure is raised."""
        guild_id = message.guild.id if message.guild else None
        ended = self._recording[message.id] = asyncio.Event()
        self._recording_in.setdefault(message.channel.id, set()).add(message.id)
        try:
            await self._run_or_keep(
                Kept("thread message", message.id, guild_id, lambda: live(message))
            )
        finally:
            ended.set()
            if self._recording.get(message.id) is ended:
                del self._recording[message.id]
                in_channel = self._recording_in[message.channel.id]
                in_channel.discard(message.id)
                if not in_channel:
                    del self._recording_in[message.channel.id]

    async def apply(self, what: str, object_id: int, guild_id: int | None, change: Change) -> None:
        """Run ``change`` now, or keep it when the database is gone (or earlier changes are
        kept); any other failure is raised."""
        # The message (or the thread's messages) recorded first, when that is under way.
        ids = [object_id, *self._recording_in.get(object_id, ())]
        for ended in [self._recording[i] for i in ids if i in self._recording]:
            await ended.wait()
        await self._run_or_keep(Kept(what, object_id, guild_id, change))

    async def _run_or_keep(self, kept: Kept) -> None:
        what, object_id, guild_id, change = kept.what, kept.object_id, kept.guild_id, kept.run
        if not self._kept:
            try:
                await change()
                return
            except Exception as exc:
                outage = health.outage(exc)
                if outage is None:
                    raise
                log.warning(
                    "%s (%s): %s %s in guild %s kept for a retry",
                    outage,
                    type(exc).__name__,
                    what,
                    object_id,
                    guild_id,
                )
                self._failing = True
        self._keep(kept)

    def _keep(self, kept: Kept) -> None:
        if len(self._kept) >= self.max_kept:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 100 == 0:
                log.warning(
                    "message retry full (%d kept): %d thread changes dropped so far",
                    len(self._kept),
                    self.dropped,
                )
            return
        self._kept.append(kept)
        self.given()

    def has_work(self) -> bool:
        return bool(self._kept)

    async def work_once(self) -> None:
        if self._failing:
            await asyncio.sleep(self.backoff.next())
        kept = self._kept[0]
        try:
            await kept.run()
        except Exception as exc:
            if cancelling():
                raise asyncio.CancelledError from exc  # a stop, seen through the driver
            what = health.outage(exc)
            if what is not None:
                self._failing = True
                log.warning(
                    "%s (%s): %d kept thread changes wait",
                    what,
                    type(exc).__name__,
                    len(self._kept),
                )
                return
            log.exception("recording kept %s %s failed", kept.what, kept.object_id)
        else:
            self._failing = False
            self.backoff.reset()
        self._kept.popleft()

    def forget_work(self) -> None:
        if self._kept:
            log.info("message retry stopped with %d thread changes unrecorded", len(self._kept))
        self._kept.clear()
