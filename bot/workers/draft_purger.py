"""Old ``/ask`` drafts are deleted: ``DraftPurger``, one per bot (``bot.draft_purger``).

A draft (``bot.forum.drafts``) holds a question while its asker looks at similar ones; it is kept
a day after it expired or was used, so a late press of its buttons still gets its sentence. A
``discord.ext.tasks`` loop deletes older ones every ``PURGE_INTERVAL`` seconds, the first pass as
soon as the worker starts; ``wake`` asks for a pass now (one more after a pass in progress).
Each pass dispatches ``qa_drafts_purged(count)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

import discord
from discord.ext import tasks

from bot.forum import drafts
from bot.transactions import TransactionRunner
from bot.workers.base import Worker

log = logging.getLogger(__name__)

#: Seconds between two purges of old drafts.
PURGE_INTERVAL: Final = 600.0


class DraftPurger(Worker):
    """Deletes old drafts every ``interval`` seconds while it runs; ``wake`` runs a pass now."""

    name = "draft purger"

    def __init__(
        self, bot: discord.Client, runner: TransactionRunner, *, interval: float = PURGE_INTERVAL
    ) -> None:
        super().__init__(bot, runner)
        self._periodic = tasks.loop(seconds=interval, name="qa-bot draft purger")(self._pass)
        self._woken: asyncio.Task[None] | None = None
        self._one_at_a_time = asyncio.Lock()

    @property
    def running(self) -> bool:
        return self._periodic.is_running()

    def start(self) -> None:
        if not self.running:
            self._periodic.start()
            log.info("%s started", self.name)

    def wake(self) -> None:
        """Purge now (after the pass in progress, if any); wake-ups meanwhile are one pass."""
        if not self.running or (self._woken is not None and not self._woken.done()):
            return
        self._woken = asyncio.get_running_loop().create_task(
            self._pass(), name="qa-bot draft purger (woken)"
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
            try:
                removed = await self.runner.run(lambda s: drafts.purge_drafts(s))
            except Exception:
                log.exception("purging old ask drafts failed")
                return
        if removed:
            log.info("purged %d old ask drafts", removed)
        self.bot.dispatch("qa_drafts_purged", removed)
