"""What ``/healthz`` answers: is this process doing its work?

Three checks, each in the JSON body (ids and counts only), all of which must pass for a 200:

- ``gateway``: every local shard's session is live, or went down less than
  ``HEALTH_GATEWAY_GRACE`` seconds ago (Discord asks bots to reconnect routinely and a RESUME
  takes a moment: that must not flap the check). ``ShardStates`` follows the shard events
  ``QABot.dispatch`` passes to ``saw``: a READY (``shard_connect``) or RESUMED
  (``shard_resumed``) makes a shard live, a ``shard_disconnect`` starts its clock. A shard not
  yet connected counts as down since the process started. A zombie connection (silent, no
  heartbeat ACK) counts as live until discord.py gives up on it (``GATEWAY_HEARTBEAT_TIMEOUT``).
- ``database``: one transaction answers within ``HEALTH_DATABASE_TIMEOUT`` seconds. It is a
  writing transaction, so on SQLite it takes the write lock for an instant: a file that another
  process keeps locked counts as down, as it does for the bot's own writes. One probe at a time:
  a probe still waiting is awaited by the next check, never doubled.
- ``outbox``: the DMs not yet delivered (read in that same transaction) are fewer than
  ``HEALTH_OUTBOX_BACKLOG``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.db import health
from bot.forum.outbox import OutboxBacklog, outbox_backlog
from bot.settings import Settings
from bot.transactions import TransactionRunner

log = logging.getLogger(__name__)

Check = dict[str, Any]


class ShardStates:
    """When each shard's gateway went down (monotonic seconds), from the events the bot sees."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.started = clock()
        self._live: set[int] = set()
        self._down_since: dict[int, float] = {}

    def saw(self, event_name: str, args: tuple[Any, ...]) -> None:
        if event_name in ("shard_connect", "shard_resumed"):
            self._live.add(args[0])
            self._down_since.pop(args[0], None)
        elif event_name == "shard_disconnect":
            self._live.discard(args[0])
            self._down_since.setdefault(args[0], self.clock())

    def live(self, shard_id: int) -> bool:
        return shard_id in self._live

    def down_for(self, shard_id: int) -> float:
        """Seconds the shard has been down (0 while live; since the start if never up)."""
        if shard_id in self._live:
            return 0.0
        return self.clock() - self._down_since.get(shard_id, self.started)


def local_shards(bot: discord.AutoShardedClient) -> list[int]:
    """The shards this process runs: ``SHARD_IDS``, else all of ``shard_count`` once known."""
    if bot.shard_ids is not None:
        return list(bot.shard_ids)
    return list(range(bot.shard_count or 0))


@dataclass
class Report:
    """One answer of ``/healthz``: healthy when every check is ``ok``."""

    checks: dict[str, Check] = field(default_factory=dict)
    backlog: OutboxBacklog | None = None

    @property
    def healthy(self) -> bool:
        return all(check["ok"] for check in self.checks.values())

    def body(self) -> dict[str, Any]:
        return {"healthy": self.healthy, "checks": self.checks}


class HealthChecks:
    """Runs the checks of one bot (see the module docstring)."""

    def __init__(
        self,
        bot: discord.AutoShardedClient,
        runner: TransactionRunner,
        settings: Settings,
        states: ShardStates,
    ) -> None:
        self.bot = bot
        self.runner = runner
        self.states = states
        self.grace = settings.health_gateway_grace
        self.database_timeout = settings.health_database_timeout
        self.backlog_limit = settings.health_outbox_backlog
        self._probe: asyncio.Task[OutboxBacklog] | None = None

    def gateway(self) -> Check:
        shards = local_shards(self.bot)
        states = self.states
        if not shards:  # discord.py has not asked Discord for the shard count yet
            waited = states.clock() - states.started
            return {"ok": waited < self.grace, "shards": {}, "starting_seconds": round(waited, 1)}
        detail = {
            str(shard): {
                "live": states.live(shard),
                "down_seconds": round(states.down_for(shard), 1),
            }
            for shard in shards
        }
        ok = all(states.down_for(shard) < self.grace for shard in shards)
        return {"ok": ok, "grace_seconds": self.grace, "shards": detail}

    def shard_liveness(self) -> dict[int, bool]:
        return {shard: self.states.live(shard) for shard in local_shards(self.bot)}

    async def read_backlog(self) -> OutboxBacklog:
        """The outbox backlog, in a read-only transaction (the metrics' scrape)."""
        async with asyncio.timeout(self.database_timeout):
            return await self.runner.run(outbox_backlog, read_only=True)

    async def database(self) -> tuple[Check, OutboxBacklog | None]:
        """The database check, and the backlog it read (None when it did not answer)."""
        if self._probe is None or self._probe.done():
            self._probe = asyncio.get_running_loop().create_task(
                self._probe_once(), name="health probe"
            )
            self._probe.add_done_callback(_retrieve)
        try:
            async with asyncio.timeout(self.database_timeout):
                backlog = await asyncio.shield(self._probe)
        except TimeoutError:
            return {"ok": False, "error": f"no answer within {self.database_timeout:g} s"}, None
        except Exception as exc:
            what = health.outage(exc)
            if what is None:
                health.log_failure(log, exc, "the health check's database probe failed")
            return {"ok": False, "error": what or f"failed ({type(exc).__name__})"}, None
        return {"ok": True}, backlog

    async def _probe_once(self) -> OutboxBacklog:
        # A writing transaction: on SQLite it needs the write lock (module docstring).
        return await self.runner.run(outbox_backlog)

    def outbox(self, backlog: OutboxBacklog | None) -> Check:
        if backlog is None:
            return {"ok": False, "error": "database did not answer"}
        age = backlog.oldest_age
        return {
            "ok": backlog.undelivered < self.backlog_limit,
            "backlog": backlog.undelivered,
            "threshold": self.backlog_limit,
            "oldest_age_seconds": None if age is None else round(age.total_seconds(), 1),
        }

    async def close(self) -> None:
        """Stop waiting for a probe still running (its transaction ends in the runner)."""
        probe, self._probe = self._probe, None
        if probe is not None and not probe.done():
            probe.cancel()
            await asyncio.wait({probe})

    async def report(self) -> Report:
        database, backlog = await self.database()
        checks = {"gateway": self.gateway(), "database": database, "outbox": self.outbox(backlog)}
        return Report(checks, backlog)


def _retrieve(task: asyncio.Task[Any]) -> None:
    """A probe nobody awaited any more (its check timed out) still has its outcome read."""
    if not task.cancelled():
        task.exception()
