"""One exponential backoff schedule, for every retry that waits longer after each failure.

``BackoffPolicy(first, most, factor, jitter)``: the pause after ``n`` failures is
``min(most, first * factor ** (n - 1))`` seconds, less up to ``jitter`` of it at random so that
many retries (DM rows, workers waiting out a database outage) do not come back together. The DM
outbox (``bot.forum.delivery``) and the workers (``bot.workers.backoff``) both follow one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

#: Failures past which the pause no longer grows (the power cannot overflow; ``most`` is reached
#: long before).
_LONGEST_GROWTH = 64


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Pauses growing by ``factor`` from ``first`` up to ``most`` seconds (see the module)."""

    first: float
    most: float
    factor: float = 2.0
    jitter: float = 0.25

    def ceiling(self, failures: int) -> float:
        """The longest pause after ``failures`` failures (1, 2, ...; 0 counts as 1)."""
        exponent = min(max(0, failures - 1), _LONGEST_GROWTH)
        return min(self.most, self.first * self.factor**exponent)

    def pause(self, failures: int, rng: random.Random) -> float:
        """The pause after ``failures`` failures, between ``1 - jitter`` and 1 of the ceiling."""
        return self.ceiling(failures) * (1.0 - self.jitter * rng.random())
