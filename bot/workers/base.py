"""The one shape of long-lived background work: ``start``, ``stop``, ``wake``, ``wait_idle``.

Every worker is built by the bot (``QABot.__init__``), started in ``setup_hook`` and stopped in
``close`` in the reverse order, so nothing it holds (a task, a database session) outlives the
bot. ``TaskWorker`` is the common case: one task running ``run()`` that sleeps until it is woken
or a timeout passes; a ``QueueWorker`` is one fed pieces of work, idle once none is left. Per-key
work coalesced in time is a ``CoalescedService`` (``bot.workers.coalesce``); a periodic job runs
a ``discord.ext.tasks`` loop (``Retention``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import discord

    from bot.transactions import TransactionRunner

log = logging.getLogger(__name__)

#: Seconds a stopping worker's task has to end before it is cancelled again.
RECANCEL_AFTER = 0.5


class Worker(ABC):
    """A long-lived background task owned by the bot, which it reaches Discord through
    (``bot``) and runs domain operations with (``runner``)."""

    #: Names the worker's task and its log lines.
    name: str = "worker"

    def __init__(self, bot: discord.Client, runner: TransactionRunner) -> None:
        self.bot = bot
        self.runner = runner

    @property
    @abstractmethod
    def running(self) -> bool:
        """Whether ``start`` was called and ``stop`` was not."""

    @abstractmethod
    def start(self) -> None:
        """Begin working (idempotent; needs a running event loop)."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop at once and let go of everything held (idempotent)."""

    def wake(self) -> None:  # noqa: B027 - optional: not every worker waits for anything
        """There may be work now: look for it without waiting for the next timeout."""

    @abstractmethod
    async def wait_idle(self) -> None:
        """Until the work asked for before this call is done (tests, a draining shutdown)."""


class TaskWorker(Worker):
    """A worker whose work is one task running ``run()``, which sleeps in ``sleep_until_woken``."""

    def __init__(self, bot: discord.Client, runner: TransactionRunner) -> None:
        super().__init__(bot, runner)
        self._task: asyncio.Task[None] | None = None
        self._wakeup = asyncio.Event()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self.running:
            return
        self._task = asyncio.get_running_loop().create_task(self._main(), name=self.name)
        log.info("%s started", self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        # A cancellation can be swallowed on its way through a library (a database driver
        # that turns it into its own error, which the work then handles): cancel again until
        # the task has ended, so a stop never waits for the work's next timeout.
        while not (await asyncio.wait({task}, timeout=RECANCEL_AFTER))[0]:
            task.cancel()
        if not task.cancelled():
            task.exception()  # retrieved: ``_main`` logged any error already
        await self.after_stop()
        log.info("%s stopped", self.name)

    def wake(self) -> None:
        self._wakeup.set()

    async def sleep_until_woken(self, seconds: float | None) -> None:
        """Until ``wake`` is called (or was, since the last sleep) or ``seconds`` pass."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wakeup.wait()
        self._wakeup.clear()

    async def _main(self) -> None:
        try:
            await self.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s stopped on an error", self.name)

    @abstractmethod
    async def run(self) -> None:
        """The work, until cancelled."""

    async def after_stop(self) -> None:
        """Runs once the task has ended: hand back what was claimed, close what was opened."""


class QueueWorker(TaskWorker):
    """A ``TaskWorker`` given work by the bot's adapters (``given``), which it does one piece at
    a time (``work_once``) until none is left; then it is idle and sleeps until given more."""

    def __init__(self, bot: discord.Client, runner: TransactionRunner) -> None:
        super().__init__(bot, runner)
        self._idle = asyncio.Event()
        self._idle.set()

    def given(self) -> None:
        """Work was added: not idle until it is done; start on it now."""
        self._idle.clear()
        self.wake()

    async def wait_idle(self) -> None:
        await self._idle.wait()

    async def run(self) -> None:
        while True:
            if not self.has_work():
                self._idle.set()
                await self.sleep_until_woken(None)
                continue
            await self.work_once()

    @abstractmethod
    def has_work(self) -> bool:
        """Whether any work given is left."""

    @abstractmethod
    async def work_once(self) -> None:
        """Do the next piece of work (a piece that must be tried again stays given)."""

    async def after_stop(self) -> None:
        """Forget the work left (``forget_work``): nothing waits for it any more."""
        self.forget_work()
        self._idle.set()

    @abstractmethod
    def forget_work(self) -> None:
        """Drop the work left, at a stop."""


def cancelling() -> bool:
    """Whether the running task is being cancelled (a stop), also when the cancellation came
    out of an awaited library as another error."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
