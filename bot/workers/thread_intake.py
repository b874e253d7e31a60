"""The thread intake: members' messages in question threads recorded in batches.

One ``ThreadIntake`` per bot (``bot.thread_intake``). The answering cog hands each thread
message in (``record``) and awaits what it became; the intake records whatever is queued, in
arrival order, in one transaction (``bot.forum.thread_batch``: a plain answer costs a share of
about 20 statements for the batch instead of about 25 of its own), one batch at a time, so a
flood holds one pooled connection. On SQLite a batch runs whole in the runner's writing thread
(``TransactionRunner.write``, ``bot.db.writes``): one hand-off, not one per statement through a
busy event loop; planned apart from its writes (``bot.forum.uow.Planned``), it holds the write
lock for its writes only. A batch is at most ``BATCH_SIZE`` messages; on SQLite at most the
size whose work fits the writers' time budget (``bot.workers.batch_budget``, as the vote
writer's), so it holds the write lock about 50 ms at most. A lone message is recorded at once;
while a batch is written, the next one gathers.

A batch that fails on the database gone fails for each of its messages (the message retry
keeps them, in order: ``bot.workers.message_retry``); one that fails otherwise is recorded
again one message at a time, so one bad message costs only itself. Messages still queued at a
stop are not recorded (their callers are cancelled; the log says how many).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import health
from bot.forum.thread_batch import (
    Recorded,
    ThreadBatchPlan,
    ThreadMessage,
    plan_thread_messages,
    write_thread_messages,
)
from bot.forum.uow import Planned
from bot.transactions import RunnerClosed
from bot.workers.base import QueueWorker, cancelling
from bot.workers.batch_budget import HOLD_BUDGET, BatchBudget

if TYPE_CHECKING:
    import discord

    from bot.transactions import TransactionRunner

log = logging.getLogger(__name__)

#: Thread messages recorded in one transaction at most.
BATCH_SIZE: Final = 200
#: The smallest batch the budget shrinks to: a batch's 20-odd statements cost about the same
#: for one message or for 64 (about 25 ms and 40 ms of work on the shared 2-core machine).
LEAST: Final = 64

Waiting = tuple[ThreadMessage, "asyncio.Future[Recorded]"]


class ThreadIntake(QueueWorker):
    """Records thread messages in batches, each caller awaiting its own message's outcome."""

    name = "thread intake"

    def __init__(self, bot: discord.Client, runner: TransactionRunner) -> None:
        super().__init__(bot, runner)
        #: On SQLite each batch's work stays within the writers' time budget, so it holds the
        #: write lock about as long as a vote batch; elsewhere always up to ``BATCH_SIZE``.
        self.budget = BatchBudget(
            BATCH_SIZE, budget=HOLD_BUDGET if runner.one_writer else None, least=LEAST
        )
        self._queue: deque[Waiting] = deque()
        #: The batch being recorded.
        self._batch: list[Waiting] = []

    async def record(self, message: ThreadMessage) -> Recorded:
        """What ``message`` became once its batch committed; the batch's error otherwise
        (``RunnerClosed`` once the intake has stopped: nothing would record it)."""
        if not self.running:
            raise RunnerClosed("the thread intake is stopped: the message is not recorded")
        outcome: asyncio.Future[Recorded] = asyncio.get_running_loop().create_future()
        self._queue.append((message, outcome))
        self.given()
        return await outcome

    def has_work(self) -> bool:
        return bool(self._queue)

    async def work_once(self) -> None:
        count = min(len(self._queue), self.budget.size)
        self._batch = [self._queue.popleft() for _ in range(count)]
        await self._record(self._batch)
        self._batch = []

    async def _record(self, batch: list[Waiting]) -> None:
        messages = [message for message, _ in batch]
        try:
            results = await self.runner.write(self._recording(messages))
        except Exception as exc:
            if cancelling():
                raise asyncio.CancelledError from exc  # a stop, seen through the driver
            if len(batch) == 1 or health.outage(exc) is not None:
                for _, outcome in batch:
                    if not outcome.done():
                        outcome.set_exception(exc)
                return
            log.warning(
                "a batch of %d thread messages failed (%s): recorded one by one",
                len(batch),
                type(exc).__name__,
            )
            for waiting in batch:
                await self._record([waiting])
            return
        for (_, outcome), result in zip(batch, results, strict=True):
            if not outcome.done():
                outcome.set_result(result)

    def _recording(
        self, messages: Sequence[ThreadMessage]
    ) -> Planned[ThreadBatchPlan, list[Recorded]]:
        """The batch's operation, planned apart from its writes (``bot.forum.uow.Planned``: on
        SQLite a batch of plain answers holds the write lock for its writes only); how long its
        work took sizes the next batch (the wait for a connection or for the write lock before
        it does not count)."""
        spent = 0.0

        async def plan(session: AsyncSession) -> ThreadBatchPlan:
            nonlocal spent
            started = time.perf_counter()
            try:
                return await plan_thread_messages(session, messages)
            finally:
                spent += time.perf_counter() - started

        async def write(session: AsyncSession, planned: ThreadBatchPlan) -> list[Recorded]:
            started = time.perf_counter()
            recorded = await write_thread_messages(session, planned)
            self.budget.took(len(messages), spent + time.perf_counter() - started)
            return recorded

        return Planned("ThreadIntake.record", plan, write)

    def forget_work(self) -> None:
        """At a stop: the callers still waiting stop waiting (a batch in flight runs on to its
        commit or rollback in the runner; the messages queued behind it are not recorded)."""
        if self._queue:
            log.warning("%d thread messages still queued at a stop: not recorded", len(self._queue))
        for _, outcome in [*self._batch, *self._queue]:
            outcome.cancel()
        self._batch = []
        self._queue.clear()
