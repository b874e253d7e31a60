"""A token bucket that paces requests to Discord before discord.py sends them.

discord.py learns of Discord's global limit (50 requests per second) only from a 429, and of the
undocumented limit on opening DM channels (403, code 40003 "You are opening direct messages too
fast") only from the refusal. A worker that may make many such requests in a row (the notifier's
DMs) takes a token first: ``await bucket.take()`` returns at once while tokens remain and
otherwise waits its turn, callers served in the order they came (each reserves the next token,
so concurrent senders never exceed ``rate`` per second, plus ``burst`` at the start).
``hold(seconds)`` empties the bucket for a while (Discord refused anyway: back off).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up."""

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.sleep = sleep
        #: Requests that had to wait for their token (health counts and tests).
        self.waited = 0
        self._tokens = burst
        self._at = clock()

    def _refill(self) -> None:
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    async def take(self) -> None:
        """One token: at once when one is saved up, else after the callers before this one."""
        self._refill()
        self._tokens -= 1  # reserved: a negative balance is the queue of callers waiting
        if self._tokens >= 0:
            return
        self.waited += 1
        await self.sleep(-self._tokens / self.rate)

    def hold(self, seconds: float) -> None:
        """No token for ``seconds`` from now (callers already waiting wait that much longer)."""
        self._refill()
        self._tokens = min(self._tokens, 0.0) - seconds * self.rate
