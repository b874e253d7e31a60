"""The thread intake: members' messages in question threads recorded in batches.

One ``ThreadIntake`` per bot (``bot.thread_intake``). The answering cog hands each thread
message in (``record``) and awaits what it became; the intake records whatever is queued, in
arrival order, in one transaction (``bot.forum.thread_batch``: a plain answer costs a share of
about 20 statements for the batch instead of about 25 of its own), one batch at a time, so a
flood holds one pooled connection. On SQLite a batch runs whole in the runner's writing thread
(``TransactionRunner.write``, ``bot.db.writes``): one hand-off, not one per statement through a
busy event loop; planned apart from its writes (``bot.forum.uow.Planned``), it holds the write
lock for its writes only. A batch is at most ``BATCH_SIZE`` messages. On SQLite the time
budget (``bot.workers.batch_budget``) bounds how long a batch holds the write lock (about 50 ms):
- a batch of plain answers is planned without the lock and written with packed statements,
  whose cost hardly grows with the batch (about 20 ms for 300 answers here): it starts at the
  largest size and shrinks only when its writes (a plan made again inside them included) run
  over the budget;
- a batch with any other message (a reply, a comment, a repeat, a blocked member) is recorded
  one message at a time with the lock held, so only as many of its messages as the budget
  for those holds (``one_step``, sized by their own holds) are recorded; the rest go back to
  the front of the queue, in order, and the next batch is that size too until a batch is
  planned again.
A lone message is recorded at once; while a batch is written, the next one gathers.

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
from dataclasses import replace
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

#: Thread messages recorded in one transaction at most. Planned on SQLite, 300 plain answers
#: write in 14-28 ms on the shared 2-core machine (up to 48 ms while the gateway's parsing
#: contends for the GIL). In one-run probes of ``make bench``'s answer leg, batches from 64
#: growing by a quarter, sized by plan and writes both, took 975-1,776 answers/s; batches of
#: 300 sized by the writes 1,904-2,430.
BATCH_SIZE: Final = 300
#: The smallest batch of plain answers the budget shrinks to: its 20-odd statements cost about
#: the same for one message or for 64.
LEAST: Final = 64
#: The smallest batch recorded one message at a time (about 25 statements each, all with the
#: lock held) the budget shrinks to, and its first size.
ONE_STEP_LEAST: Final = 4
ONE_STEP_START: Final = 16

Waiting = tuple[ThreadMessage, "asyncio.Future[Recorded]"]


class ThreadIntake(QueueWorker):
    """Records thread messages in batches, each caller awaiting its own message's outcome."""

    name = "thread intake"

    def __init__(self, bot: discord.Client, runner: TransactionRunner) -> None:
        super().__init__(bot, runner)
        #: On SQLite each batch holds the write lock within the writers' time budget, as long
        #: as a vote batch at most: a batch of plain answers (``budget``), a batch recorded one
        #: message at a time (``one_step``); elsewhere always up to ``BATCH_SIZE``.
        budget = HOLD_BUDGET if runner.one_writer else None
        self.budget = BatchBudget(BATCH_SIZE, budget=budget, least=LEAST, start=BATCH_SIZE)
        self.one_step = BatchBudget(
            BATCH_SIZE, budget=budget, least=ONE_STEP_LEAST, start=ONE_STEP_START
        )
        #: Whether the last batch was planned (plain answers): the next is sized as one.
        self._planned = True
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
        count = min(len(self._queue), (self.budget if self._planned else self.one_step).size)
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
        # A batch recorded one message at a time may have recorded only its first messages:
        # the rest go back to the front of the queue, in their order.
        self._queue.extendleft(reversed(batch[len(results) :]))
        for (_, outcome), result in zip(batch, results, strict=False):
            if not outcome.done():
                outcome.set_result(result)

    def _recording(
        self, messages: Sequence[ThreadMessage]
    ) -> Planned[ThreadBatchPlan, list[Recorded]]:
        """The batch's operation, planned apart from its writes (``bot.forum.uow.Planned``: on
        SQLite a batch of plain answers holds the write lock for its writes only), recording
        the messages of its outcome, in order: all of them, or on SQLite the first
        ``one_step.size`` of a batch recorded one message at a time. How long the write lock
        was held (the writing step, with a plan made again inside it) sizes the next batch."""
        plans: list[float] = []

        async def plan(session: AsyncSession) -> ThreadBatchPlan:
            started = time.perf_counter()
            try:
                return await plan_thread_messages(session, messages)
            finally:
                plans.append(time.perf_counter() - started)

        async def write(session: AsyncSession, planned: ThreadBatchPlan) -> list[Recorded]:
            started = time.perf_counter()
            self._planned = planned.answers is not None
            budget = self.budget if self._planned else self.one_step
            if not self._planned and budget.budget is not None:
                planned = replace(planned, messages=planned.messages[: budget.size])
            recorded = await write_thread_messages(session, planned)
            held = sum(plans[1:]) + time.perf_counter() - started
            budget.took(len(planned.messages), held)
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
