"""Retention sweeps: ``Retention``, one per bot (``bot.retention``).

A ``discord.ext.tasks`` loop runs the sweeps of ``bot.forum.retention`` every
``SWEEP_INTERVAL`` seconds, the first pass as soon as the worker starts: finished DM
notifications, old ``/ask`` drafts, and the servers that removed the bot longer ago than their
retention, each only in the servers of the process's shards (``scope``). Each sweep is its own
transaction, so one failing leaves the others done. ``wake`` asks for a pass now (one more after
a pass in progress). Each pass logs counts only and
dispatches ``qa_retention_swept(Swept)``. ``clock`` is the time a pass judges ages by.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, TypeVar

import discord
from discord.ext import tasks
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db import health
from bot.forum import retention
from bot.forum.shards import ALL_SERVERS, ServerScope
from bot.transactions import TransactionRunner
from bot.workers.base import Worker

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Seconds between two passes.
SWEEP_INTERVAL: Final = 600.0


@dataclass(frozen=True, slots=True)
class Swept:
    """What one pass removed (a sweep that failed counts 0), judging ages at ``at``."""

    at: datetime
    notifications: int = 0
    drafts: int = 0
    guilds: int = 0
    guild_rows: int = 0


class Retention(Worker):
    """Runs the retention sweeps every ``interval`` seconds while it runs; ``wake`` runs a
    pass now."""

    name = "retention sweeper"

    def __init__(
        self,
        bot: discord.Client,
        runner: TransactionRunner,
        *,
        interval: float = SWEEP_INTERVAL,
        scope: ServerScope = ALL_SERVERS,
    ) -> None:
        super().__init__(bot, runner)
        #: The servers this process sweeps: those of its shards (``bot.forum.shards``).
        self.scope = scope
        self._periodic = tasks.loop(seconds=interval, name="qa-bot retention")(self._pass)
        self._woken: asyncio.Task[None] | None = None
        self._one_at_a_time = asyncio.Lock()
        #: The time a pass judges ages by (tests move it forward).
        self.clock: Callable[[], datetime] = utc_now

    @property
    def running(self) -> bool:
        return self._periodic.is_running()

    def start(self) -> None:
        if not self.running:
            self._periodic.start()
            log.info("%s started", self.name)

    def wake(self) -> None:
        """Sweep now (after the pass in progress, if any); wake-ups meanwhile are one pass."""
        if not self.running or (self._woken is not None and not self._woken.done()):
            return
        self._woken = asyncio.get_running_loop().create_task(
            self._pass(), name="qa-bot retention (woken)"
        )

    async def stop(self) -> None:
        if not self.running:
            return
        tasks_ = [t for t in (self._periodic.get_task(), self._woken) if t is not None]
        self._periodic.cancel()
        if self._woken is not None:
            self._woken.cancel()
        for task in tasks_:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        log.info("%s stopped", self.name)

    async def wait_idle(self) -> None:
        """Until a pass asked for by ``wake`` and the pass in progress are done."""
        if self._woken is not None:
            await asyncio.wait({self._woken})
        async with self._one_at_a_time:
            pass

    async def _sweep(
        self, what: str, operation: Callable[[AsyncSession], Awaitable[T]], failed: T
    ) -> T:
        try:
            return await self.runner.run(operation)
        except Exception as exc:
            health.log_failure(log, exc, "the retention sweep of %s failed", what)
            return failed

    async def _pass(self) -> None:
        async with self._one_at_a_time:
            now, scope = self.clock(), self.scope
            notifications = await self._sweep(
                "notifications",
                lambda s: retention.purge_notifications(s, now=now, scope=scope),
                0,
            )
            drafts = await self._sweep(
                "drafts", lambda s: retention.purge_drafts(s, now=now, scope=scope), 0
            )
            departed = await self._sweep(
                "departed servers",
                lambda s: retention.purge_departed(s, now=now, scope=scope),
                retention.DepartedPurged(guilds=0, rows=0),
            )
        swept = Swept(now, notifications, drafts, departed.guilds, departed.rows)
        if notifications or drafts or departed.guilds:
            log.info(
                "retention: purged %d notifications, %d ask drafts, %d departed servers (%d rows)",
                notifications,
                drafts,
                departed.guilds,
                departed.rows,
            )
        self.bot.dispatch("qa_retention_swept", swept)
