"""``TaskWorker``'s lifecycle: a stop ends the task even when the work swallowed a cancellation;
``QueueWorker`` is idle once the work given is done, and forgets what is left at a stop."""

from __future__ import annotations

import asyncio

import pytest

from bot.workers.base import QueueWorker, TaskWorker, cancelling


class Swallowing(TaskWorker):
    """Work that turns the first cancellation into an error it handles, as a database driver
    cleaning up a cancelled query may, and then sleeps for an hour."""

    name = "swallowing"

    def __init__(self) -> None:
        super().__init__(None, None)  # type: ignore[arg-type]
        self.entered = asyncio.Event()
        self.saw_cancelling: list[bool] = []

    async def run(self) -> None:
        while True:
            try:
                try:
                    self.entered.set()
                    await asyncio.sleep(3600)
                except asyncio.CancelledError as exc:
                    raise RuntimeError("the driver's own error") from exc
            except RuntimeError:
                self.saw_cancelling.append(cancelling())
            await self.sleep_until_woken(3600)

    async def wait_idle(self) -> None:
        await self.entered.wait()


async def test_a_stop_ends_a_task_that_swallowed_its_cancellation() -> None:
    worker = Swallowing()
    worker.start()
    await worker.entered.wait()
    async with asyncio.timeout(10):
        await worker.stop()
    assert not worker.running
    assert worker.saw_cancelling == [True]  # the work can tell a stop from a failure


async def test_cancelling_is_false_outside_a_stop() -> None:
    assert cancelling() is False


@pytest.mark.parametrize("times", [1, 2])
async def test_stop_is_idempotent(times: int) -> None:
    worker = Swallowing()
    worker.start()
    await worker.entered.wait()
    for _ in range(times):
        await worker.stop()
    assert not worker.running


class Doubling(QueueWorker):
    """Doubles the numbers it is given; ``gate`` holds each piece until it is set."""

    name = "doubling"

    def __init__(self) -> None:
        super().__init__(None, None)  # type: ignore[arg-type]
        self.given_numbers: list[int] = []
        self.done: list[int] = []
        self.gate = asyncio.Event()

    def add(self, number: int) -> None:
        self.given_numbers.append(number)
        self.given()

    def has_work(self) -> bool:
        return bool(self.given_numbers)

    async def work_once(self) -> None:
        await self.gate.wait()
        self.done.append(2 * self.given_numbers.pop(0))

    def forget_work(self) -> None:
        self.given_numbers.clear()


async def test_a_queue_worker_is_idle_once_the_work_given_is_done() -> None:
    worker = Doubling()
    worker.start()
    await worker.wait_idle()  # nothing given yet
    worker.add(1)
    worker.add(2)
    idle = asyncio.ensure_future(worker.wait_idle())
    await asyncio.sleep(0)
    assert not idle.done()  # given work is waiting behind the gate
    worker.gate.set()
    async with asyncio.timeout(10):
        await idle
    assert worker.done == [2, 4]
    worker.add(3)
    async with asyncio.timeout(10):
        await worker.wait_idle()
    assert worker.done == [2, 4, 6]
    await worker.stop()


async def test_a_stopped_queue_worker_forgets_its_work_and_is_idle() -> None:
    worker = Doubling()
    worker.start()
    worker.add(1)
    await worker.stop()
    assert worker.given_numbers == []
    assert worker.done == []
    async with asyncio.timeout(10):
        await worker.wait_idle()
