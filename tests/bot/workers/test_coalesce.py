"""The status-line coalescer: leading and trailing runs, per key, with a manual cool-down (no
timing), errors, shutdown. (What a status message shows: tests/bot/ui/test_questions.py.)"""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.workers.coalesce import Coalescer


class ManualSleep:
    """A cool-down that ends when the test says so."""

    def __init__(self) -> None:
        self.waiting: list[tuple[float, asyncio.Future[None]]] = []
        self._changed = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append((seconds, future))
        self._pulse()
        try:
            await future
        finally:
            self.waiting = [w for w in self.waiting if w[1] is not future]
            self._pulse()

    def _pulse(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def until(self, count: int) -> None:
        """Until exactly ``count`` cool-downs are running."""
        async with asyncio.timeout(5):
            while len(self.waiting) != count:
                changed = self._changed
                await changed.wait()

    def end_all(self) -> None:
        ending, self.waiting = self.waiting, []
        for _, future in ending:
            if not future.done():
                future.set_result(None)


class Recorder:
    """The work: records which key ran and the state it saw; can be held mid-run."""

    def __init__(self) -> None:
        self.runs: list[tuple[int, int]] = []
        self.state: dict[int, int] = {}
        self.hold: asyncio.Event | None = None
        self.started = asyncio.Event()
        self.fail_next = False

    async def __call__(self, key: int) -> None:
        self.started.set()
        if self.hold is not None:
            await self.hold.wait()
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("edit failed")
        self.runs.append((key, self.state.get(key, 0)))


@pytest.fixture
def sleep() -> ManualSleep:
    return ManualSleep()


@pytest.fixture
def work() -> Recorder:
    return Recorder()


@pytest.fixture
async def lines(sleep: ManualSleep, work: Recorder) -> Coalescer[int]:
    coalescer: Coalescer[int] = Coalescer(work, interval=5.0, sleep=sleep, name="test")
    yield coalescer
    await coalescer.close()


async def test_a_burst_is_one_leading_and_one_trailing_run_showing_the_final_state(
    lines: Coalescer[int], sleep: ManualSleep, work: Recorder
) -> None:
    work.state[7] = 1
    lines.request(7)
    await sleep.until(1)  # the leading run happened at once, then the cool-down began
    assert work.runs == [(7, 1)]
    assert sleep.waiting[0][0] == 5.0
    for value in range(2, 60):
        work.state[7] = value
        lines.request(7)
        await asyncio.sleep(0)
    assert work.runs == [(7, 1)]  # nothing more during the cool-down
    sleep.end_all()
    await sleep.until(1)  # the trailing run, then its own cool-down
    assert work.runs == [(7, 1), (7, 59)]
    sleep.end_all()
    await lines.wait_idle()
    assert work.runs == [(7, 1), (7, 59)]
    assert not lines.busy


async def test_requests_before_the_first_run_are_one_run(
    lines: Coalescer[int], sleep: ManualSleep, work: Recorder
) -> None:
    for _ in range(20):
        lines.request(1)
    await sleep.until(1)
    sleep.end_all()
    await lines.wait_idle()
    assert work.runs == [(1, 0)]


async def test_a_request_during_a_run_gets_a_trailing_run(
    lines: Coalescer[int], sleep: ManualSleep, work: Recorder
) -> None:
    work.hold = asyncio.Event()
    lines.request(3)
    await asyncio.wait_for(work.started.wait(), 5)
    work.state[3] = 42  # changes after the run read nothing yet, but the request comes later
    lines.request(3)
    work.hold.set()
    await sleep.until(1)
    sleep.end_all()
    await sleep.until(1)
    sleep.end_all()
    await lines.wait_idle()
    assert work.runs == [(3, 42), (3, 42)]


async def test_keys_are_independent(
    lines: Coalescer[int], sleep: ManualSleep, work: Recorder
) -> None:
    lines.request(1)
    lines.request(2)
    await sleep.until(2)
    assert sorted(work.runs) == [(1, 0), (2, 0)]
    sleep.end_all()
    await lines.wait_idle()


async def test_after_a_quiet_cool_down_the_next_request_runs_at_once(
    lines: Coalescer[int], sleep: ManualSleep, work: Recorder
) -> None:
    lines.request(5)
    await sleep.until(1)
    sleep.end_all()
    await lines.wait_idle()
    work.state[5] = 9
    lines.request(5)
    await sleep.until(1)
    assert work.runs == [(5, 0), (5, 9)]
    sleep.end_all()
    await lines.wait_idle()


async def test_a_failing_run_is_logged_and_the_key_keeps_working(
    lines: Coalescer[int], sleep: ManualSleep, work: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    work.fail_next = True
    with caplog.at_level(logging.ERROR, logger="bot.workers.status_lines"):
        lines.request(4)
        await sleep.until(1)
    assert "test failed for 4" in caplog.text
    work.state[4] = 2
    lines.request(4)
    sleep.end_all()
    await sleep.until(1)
    sleep.end_all()
    await lines.wait_idle()
    assert work.runs == [(4, 2)]
    caplog.clear()


async def test_close_cancels_cool_downs_and_runs_and_ignores_later_requests(
    sleep: ManualSleep, work: Recorder
) -> None:
    coalescer: Coalescer[int] = Coalescer(work, interval=5.0, sleep=sleep)
    coalescer.request(1)
    await sleep.until(1)
    coalescer.request(1)  # a trailing run is due
    work.hold = asyncio.Event()
    work.started = asyncio.Event()
    coalescer.request(2)
    await asyncio.wait_for(work.started.wait(), 5)  # key 2 is mid-run
    await coalescer.close()
    assert not coalescer.busy and coalescer.closed
    assert sleep.waiting == []
    coalescer.request(3)
    assert not coalescer.busy
    assert work.runs == [(1, 0)]
