"""Retention sweeps: ``Retention``, one per bot (``bot.retention``).

A ``discord.ext.tasks`` loop runs the sweeps of ``bot.forum.retention`` every
``SWEEP_INTERVAL`` seconds, the first pass as soon as the worker starts: finished DM
notifications, old ``/ask`` drafts, and the servers that removed the bot longer ago than their
retention, each only in the servers of the process's shards (``scope``). Each sweep is its own
transaction, so one failing leaves the others done. ``wake`` asks for a pass now (one more after
a pass in progress). Each pass logs counts only and dispatches ``qa_retention_swept(Swept)``.
``clock`` is the time a pass judges ages by.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, TypeVar

import discord
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import health
from bot.forum import retention
from bot.forum.shards import ALL_SERVERS, ServerScope
from bot.transactions import TransactionRunner
from bot.workers.periodic import Periodic

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


class Retention(Periodic):
    """Runs the retention sweeps every ``interval`` seconds while it runs; ``wake`` runs a
    pass now."""

    name = "retention sweeper"

    def __init__(
        self,
        bot: discord.Client,
        runner: TransactionRunner,
        *,
        scope: ServerScope = ALL_SERVERS,
    ) -> None:
        super().__init__(bot, runner, interval=SWEEP_INTERVAL)
        #: The servers this process sweeps: those of its shards (``bot.forum.shards``).
        self.scope = scope

    async def _sweep(
        self, what: str, operation: Callable[[AsyncSession], Awaitable[T]], failed: T
    ) -> T:
        try:
            return await self.runner.run(operation)
        except Exception as exc:
            health.log_failure(log, exc, "the retention sweep of %s failed", what)
            return failed

    async def run_pass(self, now: datetime) -> None:
        scope = self.scope
        notifications = await self._sweep(
            "notifications", lambda s: retention.purge_notifications(s, now=now, scope=scope), 0
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
