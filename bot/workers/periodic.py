"""``Periodic``: a worker whose work is a pass run every ``interval`` seconds by a
``discord.ext.tasks`` loop, the first as soon as it starts; ``wake`` asks for a pass now (one
more after a pass in progress; wake-ups meanwhile are that one pass). Passes never overlap.
``clock`` is the time a pass judges by (tests move it). The retention sweeps and the weekly
digest are periodic workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import abstractmethod
from collections.abc import Callable
from datetime import datetime

import discord
from discord.ext import tasks

from bot.clock import utc_now
from bot.transactions import TransactionRunner
from bot.workers.base import Worker

log = logging.getLogger(__name__)


class Periodic(Worker):
    def __init__(self, bot: discord.Client, runner: TransactionRunner, *, interval: float) -> None:
        super().__init__(bot, runner)
        self._periodic = tasks.loop(seconds=interval, name=f"qa-bot {self.name}")(self._pass)
        self._woken: asyncio.Task[None] | None = None
        self._one_at_a_time = asyncio.Lock()
        #: The time a pass judges by (tests move it forward).
        self.clock: Callable[[], datetime] = utc_now

    @property
    def running(self) -> bool:
        return self._periodic.is_running()

    def start(self) -> None:
        if not self.running:
            self._periodic.start()
            log.info("%s started", self.name)

    def wake(self) -> None:
        """Run a pass now (after the pass in progress, if any)."""
        if not self.running or (self._woken is not None and not self._woken.done()):
            return
        self._woken = asyncio.get_running_loop().create_task(
            self._pass(), name=f"qa-bot {self.name} (woken)"
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

    async def _pass(self) -> None:
        async with self._one_at_a_time:
            await self.run_pass(self.clock())

    @abstractmethod
    async def run_pass(self, now: datetime) -> None:
        """One pass, judging by ``now``."""
