"""Exponential backoff for workers waiting out a database outage (``bot.db.health``).

``Backoff.next()`` gives the pause before the next try after its ``policy``
(``bot.backoff.BackoffPolicy``): ``first`` seconds, doubled after each failure up to ``most``,
with up to a quarter of jitter so several workers do not knock on a returning database together;
``reset()`` after a success starts over.
"""

from __future__ import annotations

import random
from typing import Final

from bot.backoff import BackoffPolicy

#: The pauses of a worker holding work the database could not take (votes, thread messages):
#: half a second, doubling up to 30 seconds, until the database is back.
OUTAGE_RETRY: Final = BackoffPolicy(first=0.5, most=30.0)


class Backoff:
    """Counts a worker's failures in a row and gives the pause after each (see the module)."""

    def __init__(self, policy: BackoffPolicy, *, rng: random.Random | None = None) -> None:
        self.policy = policy
        self.failures = 0
        self._rng = rng or random.Random()

    def next(self) -> float:
        """The pause before the next try; counts a failure."""
        self.failures += 1
        return self.policy.pause(self.failures, self._rng)

    def reset(self) -> None:
        self.failures = 0
