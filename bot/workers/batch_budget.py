"""Batches sized by a time budget: each transaction of a batch writer holds SQLite's single write
lock (and, anywhere, a connection) for about ``HOLD_BUDGET`` seconds at most, whatever a gesture
costs on this machine, in this burst.

The first batch is the smallest (``LEAST``): its statements are compiled for the first time
and the machine's pace is unknown. A writer whose work hardly grows with the batch (the thread
intake's planned answers: packed statements) may start larger (``start``). After each batch
the writer reports its size and how long its work took (``took``): a batch over the budget
shrinks the next one in proportion; a full batch within it lets the next grow by a quarter, up
to the writer's largest. A small batch (the queue ran dry) says nothing about the size, so it
changes nothing.

Without a budget (``budget=None``) every batch may be as large as the writer's largest: on
PostgreSQL, where writers do not take turns, budgeted batches halved the vote writer's
throughput (``--quick``, two runs each: 661 against 1,362 events/s).
"""

from __future__ import annotations

from typing import Final

# How long one batch's work may take (seconds): an interaction's own write waits at most this.
from bot.db.engine import HOLD_BUDGET

__all__ = ["GROWTH", "HOLD_BUDGET", "LEAST", "BatchBudget"]

#: The smallest batch the budget shrinks to (a batch's statements cost the same for one gesture).
LEAST: Final = 16
#: How much a full batch within the budget lets the next grow.
GROWTH: Final = 1.25


class BatchBudget:
    """The size of the next batch (``size``), kept within ``least``..``most``."""

    def __init__(
        self,
        most: int,
        *,
        budget: float | None = HOLD_BUDGET,
        least: int = LEAST,
        start: int | None = None,
    ) -> None:
        self.most = most
        self.least = min(least, most)
        self.budget = budget
        first = self.least if start is None else max(self.least, min(start, most))
        self.size = most if budget is None else first

    def took(self, size: int, seconds: float) -> None:
        """A batch of ``size`` took ``seconds`` of work: size the next one."""
        if self.budget is None:
            return
        if seconds > self.budget:
            shrunk = int(size * self.budget / seconds)
            self.size = max(self.least, min(self.size, shrunk))
        elif size >= self.size:
            self.size = min(self.most, max(self.size + 1, int(self.size * GROWTH)))
