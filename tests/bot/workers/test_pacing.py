"""The sliding window and the token bucket that pace the notifier's requests (on a fake clock:
no real waiting)."""

from __future__ import annotations

import asyncio
import random

import pytest

from bot.workers.pacing import SlidingWindow, TokenBucket


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


async def test_a_window_gives_its_limit_at_once_then_turns_as_the_oldest_leave() -> None:
    t = FakeTime()
    window = SlidingWindow(3, 1.0, clock=t.clock, sleep=t.sleep)
    await asyncio.gather(*(window.take() for _ in range(7)))
    # Three at once; the next three when those leave the window, the 7th a window later.
    assert t.sleeps == [1.0, 1.0, 1.0, 2.0]
    assert window.waited == 4


async def test_after_a_pause_a_window_catches_up_where_a_bucket_loses_the_time() -> None:
    t = FakeTime()
    window = SlidingWindow(4, 1.0, clock=t.clock, sleep=t.sleep)
    bucket = TokenBucket(4.0, burst=2, clock=t.clock, sleep=t.sleep)
    for pace in (window, bucket):
        t.now, t.sleeps = 0.0, []
        await pace.take()  # one request, then the sender is paused for a second and a half
        t.now = 1.5
        for _ in range(4):
            await pace.take()
        if pace is window:
            assert t.sleeps == []  # the four turns the pause left unused, at once
        else:
            assert t.sleeps == [0.25, 0.5]  # two saved up, then a quarter second each


async def test_no_window_of_its_length_ever_holds_more_than_the_limit() -> None:
    """Senders arriving at random moments, some in crowds, some after long pauses: the turns
    given (a waiting caller's turn is when its sleep ends) never put more than ``limit`` in any
    window of ``window`` seconds, so none in any fixed one-second window Discord counts."""
    t = FakeTime()
    turns: list[float] = []

    async def sleep(seconds: float) -> None:
        turns[-1] += seconds

    window = SlidingWindow(5, 1.02, clock=t.clock, sleep=sleep)
    rng = random.Random(21)
    for _ in range(400):
        t.now += rng.choice([0.0, 0.0, 0.01, 0.05, 0.3, 2.0])
        turns.append(t.now)
        await window.take()
    assert turns == sorted(turns)  # in the order they came
    assert window.waited > 100  # the crowds did wait
    for i, start in enumerate(turns):
        inside = [x for x in turns[i:] if x < start + 1.02 - 1e-9]
        assert len(inside) <= 5


def test_a_window_needs_room_for_one_turn_and_a_length() -> None:
    with pytest.raises(ValueError):
        SlidingWindow(0, 1.0)
    with pytest.raises(ValueError):
        SlidingWindow(5, 0.0)
