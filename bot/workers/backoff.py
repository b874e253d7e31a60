"""Exponential backoff for workers waiting out a database outage (``bot.db.health``).

``Backoff.next()`` gives the pause before the next try: ``first`` seconds, doubled after each
failure up to ``most``, with up to a quarter of jitter so several workers do not knock on a
returning database together; ``reset()`` after a success starts over.
"""

from __future__ import annotations

import random


class Backoff:
    """Pauses that double from ``first`` to ``most`` seconds (see the module)."""

    def __init__(self, first: float, most: float, *, rng: random.Random | None = None) -> None:
        self.first = first
        self.most = most
        self.failures = 0
        self._rng = rng or random.Random()

    def next(self) -> float:
        """The pause before the next try; counts a failure."""
        pause = min(self.most, self.first * 2.0 ** min(self.failures, 30))
        self.failures += 1
        return pause * (1 - 0.25 * self._rng.random())

    def reset(self) -> None:
        self.failures = 0
