"""Reconciliation on a new session: what happened while the bot was away, made to count.

Discord replays missed events after a RESUME but not after a fresh IDENTIFY, and the bot may
simply have been down. When a shard's session is new (``on_shard_ready``; never on a resume) the
``Reconciler`` runs, in the background, the steps of ``reconcile_steps.STEPS`` for each server of
the shard, in order (each named, each an ``async def step(run: GuildRun)``; a step such as the
re-read of the window's vote reactions is added to ``reconcile_steps.STEPS``: it finds the window's
questions in ``run.window``, the messages paged in ``run.scanned``, spends ``run.budget`` and
counts into ``run.votes_backfilled``):

1. list the Q&A forum's threads (the guild's active threads, the forum's newest archived ones);
2. adopt the threads created in the forum while the bot was away, archived ones included, like
   native posts (the asking cog's adopter);
3. complete the pending rows an earlier process left (the bot's post was sent, its commit was
   not) from the message Discord holds, found by its footer key among the bot's recent messages,
   or discard them (a discarded row never counts toward a limit);
4. for the questions active within the window (``reconcile_window_days``), hand the thread
   messages after each thread's high-water mark (``posts.last_seen_message_id``) to the live path
   (the answering cog's intake: answers, comments, their DMs queued once); a thread whose last
   message id, as Discord lists it, is the stored mark costs no request;
5. re-page the earlier messages of the threads that had missed messages, to catch edits and
   deletes.

Limits: only questions active within the window are looked at (nothing older is caught); each run
makes at most ``reconcile_request_budget`` requests, each bounded by ``reconcile_request_timeout``,
and what is left waits for the next run (the marks, re-page rows, pending rows and unadopted
threads stay as they are); what the live path itself sends (an adopted post's status reply and
vote reactions) is not counted, as when live; edits and deletes in a thread with no missed
message are not caught; a pending row is looked for among the thread's 50 newest messages.
One summary line per run logs counts only; each server's last run is stored for ``/qa status``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

import discord

from bot.clock import utc_now
from bot.db import health
from bot.forum import reconcile
from bot.forum.errors import ForumError
from bot.forum.reconcile import RunSummary
from bot.forum.settings import load_config
from bot.metrics import RUN_DONE, RUN_FAILED, Metrics
from bot.settings import Settings
from bot.workers.base import QueueWorker
from bot.workers.reconcile_run import (
    Budget,
    GuildRun,
    MessageIngester,
    OutOfBudget,
    Step,
    ThreadAdopter,
)
from bot.workers.reconcile_steps import STEPS
from bot.workers.status_lines import StatusLines

if TYPE_CHECKING:
    from bot.transactions import TransactionRunner

log = logging.getLogger(__name__)


class Reconciler(QueueWorker):
    """Runs the reconciliation of each shard whose session is new (``request``)."""

    name = "reconciler"

    def __init__(
        self,
        bot: discord.Client,
        runner: TransactionRunner,
        settings: Settings,
        status_lines: StatusLines,
        *,
        metrics: Metrics,
    ) -> None:
        super().__init__(bot, runner)
        self.settings = settings
        self.status_lines = status_lines
        self.metrics = metrics
        #: Pending rows stored before this moment belong to an earlier process.
        self.started_at = utc_now()
        #: Registered by the answering cog: the live path of a thread message.
        self.ingest: MessageIngester | None = None
        #: Registered by the asking cog: the adoption of a native forum post.
        self.adopt: ThreadAdopter | None = None
        #: The named steps of a server's run, in order.
        self.steps: list[tuple[str, Step]] = list(STEPS)
        self._shards: set[int] = set()
        #: Set once a run has ended (done, cut short by its budget, or failed).
        self._ran = asyncio.Event()

    def request(self, shard_id: int) -> None:
        """A new session for the shard: reconcile its servers (in the background)."""
        self._shards.add(shard_id)
        self.given()

    async def wait_first_run(self) -> None:
        """Until this process's first run has ended (its start-up reconciliation)."""
        await self._ran.wait()

    def forget_work(self) -> None:
        self._shards.clear()

    def has_work(self) -> bool:
        return bool(self._shards)

    async def work_once(self) -> None:
        shard_id = min(self._shards)
        self._shards.discard(shard_id)
        try:
            await self.reconcile_shard(shard_id)
            self.metrics.reconciliation_runs.labels(RUN_DONE).inc()
        except Exception as exc:
            self.metrics.reconciliation_runs.labels(RUN_FAILED).inc()
            health.log_failure(log, exc, "reconciling shard %s failed", shard_id)
        finally:
            self._ran.set()

    async def reconcile_shard(self, shard_id: int) -> RunSummary:
        """One run for the shard's servers within one budget; logs the summary line and
        dispatches ``qa_reconciled`` (shard id, summary)."""
        settings = self.settings
        budget = Budget(settings.reconcile_request_budget, settings.reconcile_request_timeout)
        start = time.monotonic()
        total = RunSummary()
        for guild in [g for g in self.bot.guilds if g.shard_id == shard_id]:
            guild_start, used_before = time.monotonic(), budget.used
            summary = await self._reconcile_guild(guild, budget)
            summary = replace(
                summary,
                requests_used=budget.used - used_before,
                seconds=round(time.monotonic() - guild_start, 3),
            )
            await self.runner.run(partial(reconcile.save_run, guild_id=guild.id, run=summary))
            total = _add(total, summary)
        total = replace(total, requests_used=budget.used, seconds=time.monotonic() - start)
        log.info(
            "reconciled shard %s: %d questions scanned, %d messages back-filled, "
            "%d votes back-filled, %d requests used, %.2f s%s",
            shard_id,
            total.questions_scanned,
            total.messages_backfilled,
            total.votes_backfilled,
            total.requests_used,
            total.seconds,
            "" if total.complete else " (budget spent: the rest waits for the next run)",
        )
        self.bot.dispatch("qa_reconciled", shard_id, total)
        return total

    async def _reconcile_guild(self, guild: discord.Guild, budget: Budget) -> RunSummary:
        config = await self.runner.run(lambda s: load_config(s, guild.id))
        run = GuildRun(
            self.bot,
            guild,
            config,
            budget,
            self.runner,
            self.status_lines,
            started_at=self.started_at,
            window_days=self.settings.reconcile_window_days,
            ingest=self.ingest,
            adopt=self.adopt,
        )
        complete = True
        for name, step in self.steps:
            try:
                await step(run)
            except OutOfBudget:
                complete = False
                break
            except (discord.HTTPException, TimeoutError, ForumError) as error:
                log.warning(  # the next steps still run; the next run tries again
                    "reconciliation step %s in guild %s failed (%s)",
                    name,
                    guild.id,
                    type(error).__name__,
                )
        return RunSummary(
            questions_scanned=len(run.window),
            messages_backfilled=run.messages_backfilled,
            votes_backfilled=run.votes_backfilled,
            complete=complete,
        )


def _add(a: RunSummary, b: RunSummary) -> RunSummary:
    return RunSummary(
        questions_scanned=a.questions_scanned + b.questions_scanned,
        messages_backfilled=a.messages_backfilled + b.messages_backfilled,
        votes_backfilled=a.votes_backfilled + b.votes_backfilled,
        complete=a.complete and b.complete,
    )
