"""``TaskWorker``'s lifecycle: a stop ends the task even when the work swallowed a cancellation."""

from __future__ import annotations

import asyncio

import pytest

from bot.workers.base import TaskWorker, cancelling


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
