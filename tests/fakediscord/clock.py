"""Time for tests against the fake: clocks that move without sleeping, and discord.py's HTTP
sleeps scaled down.

``AdjustableClock`` is the fake's default wall clock (snowflakes, message timestamps, interaction
deadlines): real time plus an offset a test moves with ``advance_clock(fake, 3.1)`` to age an
interaction past Discord's 3 s without waiting.

``ScaledClock`` measures the fake's rate-limit windows. Its ``scale`` matches the factor by which
``scaled_discord_sleep`` shortens discord.py's own sleeps, so a window of 1 fake second lasts as
long as discord.py's (scaled) wait for it, and both sides keep agreeing on when a bucket resets.
``freeze()`` stops it following real time: windows then end only on ``advance`` or when
discord.py has slept through them, so no test outcome depends on how fast the machine is.

``scaled_discord_sleep`` replaces only the ``asyncio`` module that ``discord.http`` sees (the one
discord.py patch allowed besides the REST base and gateway URL) with a proxy whose ``sleep``
multiplies every delay by a factor: the retries after 500/502/504/524 (1, 3, 5, 7, 9 s) and the
waits on a 429 or an exhausted bucket. Given the fake, a sleep of ``d`` seconds also catches the
fake's rate-limit clock up to (its reading when the sleep began) + ``d``: once discord.py has
waited for a window, the fake agrees it has ended, whether its clock runs scaled or frozen.
Everything else is delegated to the real ``asyncio``.
Interaction callbacks and followups go through ``discord.webhook.async_``, whose sleeps are not
scaled: inject slow faults on the bot's own routes, or keep ``retry_after`` small there.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.fakediscord.server import FakeDiscord


class AdjustableClock:
    """Wall time plus an offset: follows real time, and jumps forward on ``advance``."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        self.offset += seconds


class ScaledClock:
    """Monotonic seconds that pass ``1 / scale`` times faster than real ones.

    ``scale`` 0.001 makes a fake second last a real millisecond. Changing the scale keeps the
    current reading (no jump); ``advance`` moves the clock forward at once. A frozen clock
    (``freeze()``) stands still until ``advance`` or ``catch_up`` moves it.
    """

    def __init__(self, scale: float = 1.0) -> None:
        if scale <= 0:
            raise ValueError("the scale must be positive")
        self._scale = scale
        self._real0 = time.monotonic()
        self._fake0 = 0.0
        self._frozen = False

    @property
    def scale(self) -> float:
        return self._scale

    @scale.setter
    def scale(self, value: float) -> None:
        if value <= 0:
            raise ValueError("the scale must be positive")
        self._fake0 = self.time()
        self._real0 = time.monotonic()
        self._scale = value

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> None:
        """Stop following real time (keeps the current reading)."""
        self._fake0 = self.time()
        self._frozen = True

    def unfreeze(self) -> None:
        """Follow real time again from the current reading."""
        self._real0 = time.monotonic()
        self._frozen = False

    def time(self) -> float:
        if self._frozen:
            return self._fake0
        return self._fake0 + (time.monotonic() - self._real0) / self._scale

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._fake0 += seconds

    def catch_up(self, reading: float) -> None:
        """Move forward to ``reading`` if the clock is behind it (never backwards)."""
        behind = reading - self.time()
        if behind > 0:
            self.advance(behind)

    def to_real(self, seconds: float) -> float:
        """How long ``seconds`` of this clock last in real time."""
        return seconds * self._scale


def advance_clock(fake: FakeDiscord, seconds: float) -> None:
    """Move the fake's wall clock forward (age interactions, nonces, tokens) without sleeping."""
    advance = getattr(fake.clock, "advance", None)
    if advance is None:
        raise TypeError(f"the fake's clock {fake.clock!r} cannot be advanced")
    advance(seconds)


@dataclass
class SleepLog:
    """What ``discord.http`` asked to sleep (unscaled seconds) while its sleep was scaled."""

    factor: float
    requested: list[float] = field(default_factory=list)
    #: The fake whose rate-limit clock each sleep catches up (None: no fake).
    fake: FakeDiscord | None = None

    @property
    def waits(self) -> list[float]:
        """The real waits (discord.py also sleeps 0 s to release a bucket it knows nothing of)."""
        return [d for d in self.requested if d > 0]


class _ScaledAsyncio(types.ModuleType):
    """``asyncio`` as ``discord.http`` sees it: ``sleep`` scaled, all else the real module."""

    def __init__(self, log: SleepLog) -> None:
        super().__init__("asyncio", "asyncio for discord.http, with sleep scaled for tests")
        self._log = log

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def sleep(self, delay: float, result: Any = None) -> Any:
        self._log.requested.append(delay)
        fake = self._log.fake
        started = fake.ratelimits.clock.time() if fake is not None else 0.0
        out = await asyncio.sleep(delay * self._log.factor, result)
        if fake is not None:
            fake.ratelimits.clock.catch_up(started + delay)
        return out


@contextlib.contextmanager
def scaled_discord_sleep(
    factor: float = 0.001, *, fake: FakeDiscord | None = None
) -> Iterator[SleepLog]:
    """Within the block discord.http sleeps ``factor`` times as long (and, given ``fake``, the
    fake's rate-limit windows pass as fast and each sleep catches their clock up to its end).
    Yields the log of requested delays."""
    import discord.http

    if factor <= 0:
        raise ValueError("the factor must be positive")
    log = SleepLog(factor, fake=fake)
    original = getattr(discord.http, "asyncio")  # noqa: B009
    previous_scale = fake.ratelimits.clock.scale if fake is not None else None
    setattr(discord.http, "asyncio", _ScaledAsyncio(log))  # noqa: B010
    if fake is not None:
        fake.ratelimits.clock.scale = factor
    try:
        yield log
    finally:
        setattr(discord.http, "asyncio", original)  # noqa: B010
        if fake is not None and previous_scale is not None:
            fake.ratelimits.clock.scale = previous_scale


@pytest.fixture
def discord_sleep(fake_discord: FakeDiscord) -> Iterator[SleepLog]:
    """discord.http's retry and rate-limit sleeps 1000 times shorter (a 9 s retry takes 9 ms),
    the fake's rate-limit windows just as fast; ``.requested`` lists the unscaled delays."""
    with scaled_discord_sleep(0.001, fake=fake_discord) as log:
        yield log


__all__ = [
    "AdjustableClock",
    "ScaledClock",
    "SleepLog",
    "advance_clock",
    "discord_sleep",
    "scaled_discord_sleep",
]
