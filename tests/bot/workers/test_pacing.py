"""The token bucket that paces the notifier's requests (on a fake clock: no real waiting)."""

from __future__ import annotations

import asyncio

import pytest

from bot.workers.pacing import TokenBucket


class FakeTime:
    """A clock that moves only when a caller sleeps (each sleep is recorded)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))


async def test_a_burst_is_free_then_callers_wait_their_turn_in_order() -> None:
    t = FakeTime()
    bucket = TokenBucket(2.0, burst=2, clock=t.clock, sleep=t.sleep)
    await asyncio.gather(*(bucket.take() for _ in range(5)))
    # Two saved up; then the 3rd, 4th and 5th each wait half a second more than the one before.
    assert t.sleeps == [0.5, 1.0, 1.5]
    assert bucket.waited == 3
    t.now = 1.5 + 10.0  # long idle: no more than ``burst`` tokens saved up
    await bucket.take()
    await bucket.take()
    await bucket.take()
    assert t.sleeps[3:] == [0.5]


async def test_hold_stops_the_tokens_for_a_while() -> None:
    t = FakeTime()
    bucket = TokenBucket(1.0, burst=5, clock=t.clock, sleep=t.sleep)
    bucket.hold(10.0)
    await bucket.take()
    assert t.sleeps == [11.0]  # ten seconds held, then the next token one second later


def test_a_bucket_needs_a_rate_and_room_for_one_token() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0.0)
    with pytest.raises(ValueError):
        TokenBucket(1.0, burst=0.5)
