"""Deleted words leave the database files: ``Purger``, one per bot (``bot.purger``).

Deletes blank a post's text in their own transaction (``bot.forum.purge``); this worker finishes
the job the files need, and purges what a moderator removed once it can no longer be restored:

- every ``PURGE_INTERVAL`` seconds, and when woken: removed posts older than their guild's
  ``restore_window_days`` are blanked (``purge.purge_removed``);
- after a pass that blanked something, or a wake-up after a delete (``wake``): on SQLite the
  full-text index is merged into one segment (``purge.optimize_search_index``: FTS5 keeps a
  deleted entry's terms in older segments until then), then a TRUNCATE checkpoint copies the
  write-ahead log into the database and empties the ``-wal`` file. ``secure_delete`` zeroes the
  freed pages. On PostgreSQL nothing more is done: the dead row versions go at the next VACUUM,
  which autovacuum runs on its own.

Each pass dispatches ``qa_purged(blanked)``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Final

from bot.db.engine import checkpoint_truncate, make_private, sqlite_path
from bot.forum import purge
from bot.workers.base import TaskWorker

if TYPE_CHECKING:
    import discord
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.transactions import TransactionRunner

log = logging.getLogger(__name__)

#: Seconds between two looks for removed posts past their restore window.
PURGE_INTERVAL: Final = 3600.0


class Purger(TaskWorker):
    """Blanks removed posts past the restore window; after deletes, rewrites SQLite's search
    index and empties its write-ahead log. ``wake`` after a delete."""

    name = "purger"

    def __init__(
        self,
        bot: discord.Client,
        runner: TransactionRunner,
        engine: AsyncEngine,
        *,
        interval: float = PURGE_INTERVAL,
    ) -> None:
        super().__init__(bot, runner)
        self.interval = interval
        self._path = sqlite_path(str(engine.url)) if engine.dialect.name == "sqlite" else None
        self._sqlite = engine.dialect.name == "sqlite"
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

    async def run(self) -> None:
        woken = True  # the first pass also tidies what a previous run left
        while True:
            asked = self._asked
            await self.purge_once(compact=woken)
            async with self._progress:
                self._done = asked
                self._progress.notify_all()
            await self.sleep_until_woken(self.interval)
            woken = self._asked > asked

    async def purge_once(self, *, compact: bool) -> int:
        """One pass; the number of removed posts blanked."""
        try:
            blanked = await self.runner.run(lambda s: purge.purge_removed(s))
            if (compact or blanked) and self._sqlite:
                await self.runner.run(purge.optimize_search_index)
                if self._path is not None:
                    busy, _, _ = await asyncio.to_thread(checkpoint_truncate, self._path)
                    make_private(self._path)
                    if busy:
                        log.info("the write-ahead log checkpoint waited on a reader; next pass")
        except Exception:
            log.exception("purging deleted text failed")
            return 0
        if blanked:
            log.info("purged the text of %d removed posts past their restore window", blanked)
        self.bot.dispatch("qa_purged", blanked)
        return blanked
