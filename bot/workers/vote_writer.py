"""The vote writer: reaction gestures applied in the order the gateway delivered them.

One ``VoteWriter`` per bot (``bot.vote_writer``). The voting cog turns each raw reaction event
into a plain gesture (``bot.forum.votes.Reaction`` / ``Clear``) and ``submit``s it before its
first ``await``, so the queue keeps the gateway's order: an add and a remove of one reaction
must land in the order they happened. The writer applies the queued gestures in short batches,
one transaction each (``votes.apply_gestures``: group commit, DESIGN.md section 1), run by
``TransactionRunner.write``: on SQLite the whole transaction in the write runner's thread
(``bot.db.writes``), so the write lock is held for the batch's own work, not for the turns of a
busy event loop between its statements. A batch is
whatever is queued, up to ``BATCH_SIZE`` (on SQLite up to the budget's size,
``bot.workers.batch_budget``: each batch's work takes about 50 ms at most, so it holds the write
lock no longer), gathered for at most ``BATCH_WAIT`` after its first gesture; it is reduced and
written set-based (``bot.forum.vote_batch``). A batch that fails is
applied again one gesture at a time, so one bad gesture costs only itself.

After each batch, what Discord shows follows: the status lines of the questions whose score
changed are refreshed (``bot.status_lines``), and a member's vote reaction on their own named
post is taken off when the bot has Manage Messages there (it counts nothing). Members whose
public points moved are announced by the transaction itself (``bot.transactions``).
Gestures still queued at a stop are not applied.

The database gone (``bot.db.health``: unreachable, locked too long, disk full): the batch is not
split or dropped but tried again, whole, after a pause that doubles from half a second to
30 seconds (``bot.workers.backoff.OUTAGE_RETRY``), until the database is back; gestures arriving
meanwhile wait in memory, at most ``max_queued`` of them: beyond that a gesture is dropped and
counted (``dropped``, logged at the first drop and every thousandth).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Final

import discord
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import health
from bot.forum import votes
from bot.forum.uow import Planned
from bot.forum.votes import Gesture, GesturePlan, GesturesApplied, Reaction
from bot.metrics import Metrics
from bot.transactions import TransactionRunner
from bot.workers.backoff import OUTAGE_RETRY, Backoff
from bot.workers.base import TaskWorker, cancelling
from bot.workers.batch_budget import HOLD_BUDGET, BatchBudget
from bot.workers.status_lines import StatusLines

log = logging.getLogger(__name__)

#: Gestures applied in one transaction at most.
BATCH_SIZE: Final = 500
#: How long a batch waits for more gestures after its first (seconds): a burst fills batches,
#: a lone reaction is applied at once plus this. Where writers do not take turns (PostgreSQL)
#: batches are not sized by a time budget, and each costs a dozen round trips whatever its
#: size: there a burst's batch waits longer (``BATCH_WAIT_UNBUDGETED``) to gather more.
BATCH_WAIT: Final = 0.005
BATCH_WAIT_UNBUDGETED: Final = 0.02
#: Gestures kept in memory while the database is gone; more are dropped and counted.
MAX_QUEUED: Final = 50_000


@dataclass(slots=True)
class LiveGestures:
    """The live gestures submitted for one message while it was watched (``VoteWriter.watch``):
    the members who reacted, and whether a reaction clear came."""

    users: set[int] = field(default_factory=set)
    cleared: bool = False


class VoteWriter(TaskWorker):
    """Applies queued gestures in arrival order, a batch per transaction, then their effects."""

    name = "vote writer"

    def __init__(
        self,
        bot: discord.Client,
        runner: TransactionRunner,
        status_lines: StatusLines,
        *,
        metrics: Metrics,
        batch_size: int = BATCH_SIZE,
        batch_wait: float | None = None,
        max_queued: int = MAX_QUEUED,
    ) -> None:
        super().__init__(bot, runner)
        self.status_lines = status_lines
        self.metrics = metrics
        self.batch_size = batch_size
        #: The size of the next batch: on SQLite (one writer at a time) kept so a batch's work
        #: stays within its time budget; elsewhere always ``batch_size``.
        self.budget = BatchBudget(batch_size, budget=HOLD_BUDGET if runner.one_writer else None)
        if batch_wait is None:
            batch_wait = BATCH_WAIT if runner.one_writer else BATCH_WAIT_UNBUDGETED
        self.batch_wait = batch_wait
        self.max_queued = max_queued
        self.backoff = Backoff(OUTAGE_RETRY)
        #: Gestures dropped because ``max_queued`` were waiting; batches retried in an outage.
        self.dropped = 0
        self.retried = 0
        self._queue: asyncio.Queue[Gesture] = asyncio.Queue()
        self._effects: set[asyncio.Task[None]] = set()
        #: Gestures submitted since the start (a draining shutdown logs it).
        self.received = 0
        self._watches: dict[int, list[LiveGestures]] = {}

    @property
    def queued(self) -> int:
        """Gestures waiting (not counting the batch being applied)."""
        return self._queue.qsize()

    def submit(self, gesture: Gesture) -> None:
        """Queue a gesture (synchronous, so gestures keep the order they arrived in); drop and
        count it when ``max_queued`` already wait (the database has been gone a while)."""
        if self._queue.qsize() >= self.max_queued:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning(
                    "vote writer full (%d gestures waiting): %d dropped so far",
                    self._queue.qsize(),
                    self.dropped,
                )
            return
        self._queue.put_nowait(gesture)
        self.received += 1
        for seen in self._watches.get(gesture.message_id, ()):
            if isinstance(gesture, Reaction):
                seen.users.add(gesture.user_id)
            else:
                seen.cleared = True

    @contextmanager
    def watch(self, message_id: int) -> Iterator[LiveGestures]:
        """Note the live gestures on a message while the block runs: a re-read of its reactions
        (``bot.reaction_sync``) leaves the votes of those members to the live path, since
        Discord's answer may predate their gesture."""
        seen = LiveGestures()
        self._watches.setdefault(message_id, []).append(seen)
        try:
            yield seen
        finally:
            watches = self._watches[message_id]
            watches.remove(seen)
            if not watches:
                del self._watches[message_id]

    async def wait_idle(self) -> None:
        """Until every queued gesture is applied and its effects (REST calls) are done."""
        while True:
            await self._queue.join()
            if not self._effects:
                return
            await asyncio.gather(*list(self._effects), return_exceptions=True)

    async def _next_batch(self) -> list[Gesture]:
        """The queued gestures in order, at most the budget's size, waiting at most
        ``batch_wait`` after the first for more to arrive."""
        batch = [await self._queue.get()]
        most = self.budget.size
        deadline = asyncio.get_running_loop().time() + self.batch_wait
        while len(batch) < most:
            while len(batch) < most and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            left = deadline - asyncio.get_running_loop().time()
            if len(batch) >= most or left <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), left))
            except TimeoutError:
                break
        return batch

    async def run(self) -> None:
        while True:
            batch = await self._next_batch()
            started = time.perf_counter()
            try:
                self._after(await self._apply(batch))
                self.metrics.vote_batch(len(batch), time.perf_counter() - started)
            except Exception:
                log.exception("vote batch of %d gestures failed", len(batch))
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def after_stop(self) -> None:
        effects = list(self._effects)
        for effect in effects:
            effect.cancel()
        await asyncio.gather(*effects, return_exceptions=True)
        if not self._queue.empty():
            log.info("vote writer stopped with %d gestures unapplied", self._queue.qsize())

    async def _apply(self, batch: Sequence[Gesture]) -> list[GesturesApplied]:
        try:
            return [await self._until_applied(batch)]
        except Exception:
            log.warning(
                "a vote batch of %d failed; applying it one by one", len(batch), exc_info=True
            )
        applied = []
        for gesture in batch:
            try:
                applied.append(await self._until_applied([gesture]))
            except Exception:
                log.exception(
                    "vote gesture on message %s in guild %s failed",
                    gesture.message_id,
                    gesture.guild_id,
                )
        return applied

    async def _until_applied(self, gestures: Sequence[Gesture]) -> GesturesApplied:
        """Apply ``gestures`` in one transaction, waiting out a database outage (backoff);
        any other failure is raised."""
        while True:
            try:
                applied = await self.runner.write(self._applying(gestures))
            except Exception as exc:
                what = health.outage(exc)
                if what is None:
                    raise
                if cancelling():
                    raise asyncio.CancelledError from exc  # a stop, seen through the driver
                self.retried += 1
                pause = self.backoff.next()
                log.warning(
                    "%s (%s): %d gestures retried in %.2f s, %d waiting",
                    what,
                    type(exc).__name__,
                    len(gestures),
                    pause,
                    self._queue.qsize(),
                )
                await asyncio.sleep(pause)
                continue
            self.backoff.reset()
            self.metrics.votes_applied.inc(len(gestures))
            return applied

    def _applying(self, gestures: Sequence[Gesture]) -> Planned[GesturePlan, GesturesApplied]:
        """The batch's operation, planned apart from its writes (``bot.forum.uow.Planned``: on
        SQLite the write lock is held for the writes only); how long its work took sizes the
        next batch (the wait for a connection or for the write lock before it does not
        count)."""
        spent = 0.0

        async def plan(session: AsyncSession) -> GesturePlan:
            nonlocal spent
            started = time.perf_counter()
            try:
                return await votes.plan_gestures(session, gestures)
            finally:
                spent += time.perf_counter() - started

        async def write(session: AsyncSession, planned: GesturePlan) -> GesturesApplied:
            started = time.perf_counter()
            applied = await votes.write_gestures(session, planned)
            self.budget.took(len(gestures), spent + time.perf_counter() - started)
            return applied

        return Planned("VoteWriter.apply_gestures", plan, write)

    # ------------------------------------------------------------------ effects

    def _after(self, applied: list[GesturesApplied]) -> None:
        for question_id in sorted({q for batch in applied for q in batch.questions}):
            self.status_lines.request(question_id)
        for batch in applied:
            for reaction in (*batch.self_votes, *batch.erased_votes):
                self._spawn(reaction)

    def _spawn(self, reaction: Reaction) -> None:
        task = asyncio.get_running_loop().create_task(
            self._remove_uncounted_vote(reaction), name="vote effect"
        )
        self._effects.add(task)
        task.add_done_callback(self._effects.discard)

    def _can_manage_messages(self, guild_id: int, channel_id: int) -> bool | None:
        """Whether the bot has Manage Messages in the channel; None when it cannot tell."""
        guild = self.bot.get_guild(guild_id)
        if guild is None:
            return None
        channel = guild.get_channel_or_thread(channel_id)
        if channel is None:
            return None
        return channel.permissions_for(guild.me).manage_messages

    async def _remove_uncounted_vote(self, g: Reaction) -> None:
        """Take a vote reaction that counts nothing off: a member's own on their named post, or
        one by a member who erased their data."""
        if self._can_manage_messages(g.guild_id, g.channel_id) is False:
            return
        channel = self.bot.get_partial_messageable(g.channel_id, guild_id=g.guild_id)
        message = channel.get_partial_message(g.message_id)
        emoji = discord.PartialEmoji(name=g.emoji.name, id=g.emoji.id)
        try:
            await message.remove_reaction(emoji, discord.Object(id=g.user_id))
        except discord.NotFound:
            return
        except discord.HTTPException as exc:
            log.warning(
                "could not remove an uncounted vote on message %s in guild %s (status %s)",
                g.message_id,
                g.guild_id,
                exc.status,
            )
            return
        log.info("removed an uncounted vote on message %s in guild %s", g.message_id, g.guild_id)
