"""Pacing requests to Discord before discord.py sends them: a sliding window and a token bucket.

discord.py learns of Discord's global limit only from a 429, and of the undocumented limit on
opening DM channels (403, code 40003 "You are opening direct messages too fast") only from the
refusal. A worker that may make many such requests in a row (the notifier's DMs) takes a turn
first: ``await pace.take()`` returns at once while the limit allows and otherwise waits its turn,
callers served in the order they came (each reserves the next free turn, so concurrent senders
never exceed the limit).

Discord's global limit (its "Rate Limits" page): a bot makes at most 50 requests per second,
whatever the routes (interaction responses and webhooks apart); Discord does not say how it
places its one-second windows, and a request over the limit is answered 429 with
``X-RateLimit-Global`` (``tests/fakediscord/ratelimits.py`` counts fixed one-second windows, each
starting at the first request after the previous one ended). ``SlidingWindow`` keeps within it
whatever the windows: at most ``limit`` requests in any ``window`` seconds, where ``window`` is
a little over one second, the margin absorbing the jitter between a turn here and the request's
arrival at Discord, so no one-second window Discord could count holds more than ``limit``. Unlike
a token bucket of the same mean rate, it lets a sender that lost time (a pause of the process
on a busy machine) catch up at once with the turns it did not use, never bunching more than
``limit`` into one window, where a bucket with a burst big enough to catch up would let
``burst + rate`` requests into one second.

``TokenBucket`` (``rate`` per second after a ``burst``) paces what has no window to keep, such as
new DM channels (Discord publishes no rate for them: the notifier stays well below the refusals);
its ``hold(seconds)`` stops the tokens for a while (Discord refused anyway: back off).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class Pace(Protocol):
    """What a paced sender uses: a turn before each request."""

    async def take(self) -> None: ...


class Limiter:
    """What both limiters share: their clock and sleep (tests pass fakes) and the count of
    requests that waited."""

    def __init__(self, clock: Clock, sleep: Sleep) -> None:
        self.clock = clock
        self.sleep = sleep
        #: Requests that had to wait for their turn (health counts and tests).
        self.waited = 0

    async def _wait(self, seconds: float) -> None:
        """Waits ``seconds`` for a turn, counting the request among those that waited."""
        self.waited += 1
        await self.sleep(seconds)


class SlidingWindow(Limiter):
    """At most ``limit`` turns in any ``window`` seconds (see the module's docstring)."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a sliding window needs limit >= 1 and window > 0")
        super().__init__(clock, sleep)
        self.limit = limit
        self.window = window
        #: The times of the last ``limit`` turns given (a reserved one may be in the future).
        self._turns: deque[float] = deque(maxlen=limit)

    async def take(self) -> None:
        """A turn: at once while fewer than ``limit`` were given in the last ``window``
        seconds, else when the oldest of them leaves it (after the callers before this one)."""
        now = self.clock()
        turn = now
        if len(self._turns) == self.limit:
            turn = max(turn, self._turns[0] + self.window)
        self._turns.append(turn)  # reserved: the deque drops the oldest turn
        if turn > now:
            await self._wait(turn - now)


class TokenBucket(Limiter):
    """``rate`` tokens per second, at most ``burst`` saved up."""

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")
        super().__init__(clock, sleep)
        self.rate = rate
        self.burst = burst
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
        if self._tokens < 0:
            await self._wait(-self._tokens / self.rate)

    def hold(self, seconds: float) -> None:
        """No token for ``seconds`` from now (callers already waiting wait that much longer)."""
        self._refill()
        self._tokens = min(self._tokens, 0.0) - seconds * self.rate
