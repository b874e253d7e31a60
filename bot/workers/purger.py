"""Deleted words leave the database files: ``Purger``, one per bot (``bot.purger``).

Deletes blank a post's text in their own transaction (``bot.forum.purge``); this worker finishes
the job the files need, and purges what a moderator removed once it can no longer be restored:

- every ``PURGE_INTERVAL`` seconds, and when woken: removed posts older than their guild's
  ``restore_window_days`` are blanked (``purge.purge_removed``), in the servers of the
  process's shards (``scope``);
- after a pass that blanked something, or a wake-up after a delete (``wake``): what the files
  still hold is reclaimed (``bot.db.compaction``: on SQLite the full-text index merged and the
  write-ahead log checkpointed and emptied; on PostgreSQL the dead row versions are left to
  autovacuum, and ``VACUUM FULL`` to the operator). Wake-ups during a pass make one more pass,
  at least ``spacing`` seconds after it, so a burst of deletes costs one rewrite.

Each pass dispatches ``qa_purged(blanked)``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Final

from bot.db import health
from bot.db.compaction import reclaim_deleted_text
from bot.forum import purge
from bot.forum.shards import ALL_SERVERS, ServerScope
from bot.workers.base import TaskWorker, cancelling

if TYPE_CHECKING:
    import discord
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.transactions import TransactionRunner

log = logging.getLogger(__name__)

#: Seconds between two looks for removed posts past their restore window.
PURGE_INTERVAL: Final = 3600.0
#: Seconds at least between two rewrites of the index after deletes.
RECLAIM_SPACING: Final = 30.0


class Purger(TaskWorker):
    """Blanks removed posts past the restore window; after deletes, rewrites SQLite's search
    index and empties its write-ahead log. ``wake`` after a delete."""

    name = "purger"
    #: Its timing (tests set it per instance): seconds between two looks for removed posts,
    #: and at least between two rewrites after deletes.
    interval: float = PURGE_INTERVAL
    spacing: float = RECLAIM_SPACING

    def __init__(
        self,
        bot: discord.Client,
        runner: TransactionRunner,
        engine: AsyncEngine,
        *,
        scope: ServerScope = ALL_SERVERS,
    ) -> None:
        super().__init__(bot, runner)
        self.engine = engine
        #: The servers this process purges: those of its shards (``bot.forum.shards``).
        self.scope = scope
        self._asked = 0
        self._done = 0
        self._progress = asyncio.Condition()

    def wake(self) -> None:
        self._asked += 1
        super().wake()

    async def wait_idle(self) -> None:
        """Until the passes asked for before this call are done."""
        asked = self._asked
        async with self._progress:
            await self._progress.wait_for(lambda: self._done >= asked or not self.running)

    async def after_stop(self) -> None:
        async with self._progress:
            self._progress.notify_all()  # wait_idle returns: nothing more will be done

    async def run(self) -> None:
        while True:
            asked = self._asked
            woken = asked > self._done  # deletes since the last pass
            await self.purge_once(compact=woken)
            async with self._progress:
                self._done = asked
                self._progress.notify_all()
            if woken:
                await asyncio.sleep(self.spacing)  # wake-ups meanwhile wait: one pass for all
            await self.sleep_until_woken(self.interval)

    async def purge_once(self, *, compact: bool) -> int:
        """One pass (``compact``: after deletes); the number of removed posts blanked."""
        try:
            blanked = await self.runner.run(lambda s: purge.purge_removed(s, scope=self.scope))
            if compact or blanked:
                await reclaim_deleted_text(self.engine)
        except Exception as exc:  # a closing bot or a busy database: the next pass retries
            if cancelling():
                raise asyncio.CancelledError from exc  # a stop, seen through the driver
            what = health.outage(exc)
            cause = f"{what}, {type(exc).__name__}" if what else type(exc).__name__
            log.warning("purging deleted text failed (%s); the next pass retries", cause)
            return 0
        if blanked:
            log.info("purged the text of %d removed posts past their restore window", blanked)
        self.bot.dispatch("qa_purged", blanked)
        return blanked
