"""Coalesced per-key work: the first request runs at once, later ones are gathered.

``Coalescer`` runs ``work(key)`` at most once per ``interval`` per key (status-line edits,
point-role edits). ``CoalescedService`` is the base of a worker whose ``_work`` runs through one:
it builds the coalescer (``coalescer``, whose ``interval`` and ``sleep`` tests set) and gives the
worker's lifecycle.
"""

from __future__ import annotations

import asyncio
import logging
from abc import abstractmethod
from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from bot.db import health
from bot.workers.base import Worker

if TYPE_CHECKING:
    import discord

    from bot.transactions import TransactionRunner

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
Sleep = Callable[[float], Awaitable[None]]


class Coalescer(Generic[K]):
    """Runs ``work(key)`` for requested keys, at most once per ``interval`` per key.

    A request for an idle key runs the work at once (the leading run), then the key cools down
    for ``interval``; requests meanwhile (or while the work runs) are gathered into one more run
    when the cool-down ends (the trailing run), which is followed by its own cool-down. So every
    request is followed by a run that starts after it, and runs of one key are ``interval``
    apart. ``sleep`` is injectable so tests control the cool-down instead of waiting for it.
    A failing run is logged (on ``logger``) and the key keeps working.
    """

    def __init__(
        self,
        work: Callable[[K], Awaitable[None]],
        *,
        interval: float,
        sleep: Sleep = asyncio.sleep,
        name: str = "coalesced work",
        logger: logging.Logger = log,
    ) -> None:
        self._work = work
        self.interval = interval
        self.sleep = sleep
        self.name = name
        self._log = logger
        self._dirty: set[K] = set()
        self._tasks: dict[K, asyncio.Task[None]] = {}
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def busy(self) -> bool:
        """Whether some key is running or cooling down."""
        return bool(self._tasks)

    def open(self) -> None:
        """Take requests again after ``close``."""
        self._closed = False

    def request(self, key: K) -> None:
        """Ask for a run for ``key`` (needs a running event loop; ignored once closed)."""
        if self._closed:
            return
        self._dirty.add(key)
        if key not in self._tasks:
            self._tasks[key] = asyncio.get_running_loop().create_task(
                self._run(key), name=f"{self.name} {key}"
            )

    async def _run(self, key: K) -> None:
        try:
            while key in self._dirty:
                self._dirty.discard(key)
                try:
                    await self._work(key)
                except Exception as exc:
                    health.log_failure(self._log, exc, "%s failed for %s", self.name, key)
                await self.sleep(self.interval)
        finally:
            self._tasks.pop(key, None)

    async def wait_idle(self) -> None:
        """Until no key is running or cooling down (tests; a shutdown that drains)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks.values()))

    async def close(self) -> None:
        """Stop: pending runs and cool-downs are cancelled; later requests are ignored."""
        self._closed = True
        self._dirty.clear()
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()


class CoalescedService(Worker, Generic[K]):
    """A worker of the bot whose per-key ``_work`` runs through a ``Coalescer``.

    Subclasses name their ``work_name`` (task names and failure logs, on the subclass's module
    logger) and ``default_interval``, define ``_work`` and add their own ``request``, which goes
    through ``_request``: requests count only while the worker runs. This base gives the
    lifecycle; its ``coalescer`` holds the cool-down settings (``interval``, ``sleep``: tests
    change them).
    """

    work_name: ClassVar[str]
    default_interval: ClassVar[float]
    _started: bool = False

    def __init__(self, bot: discord.Client, runner: TransactionRunner) -> None:
        super().__init__(bot, runner)
        self.coalescer: Coalescer[K] = Coalescer(
            self._work,
            interval=self.default_interval,
            name=self.work_name,
            logger=logging.getLogger(type(self).__module__),
        )

    @abstractmethod
    async def _work(self, key: K) -> None:
        """The work for one key (a status line to render, a member's roles to sync)."""

    @property
    def running(self) -> bool:
        return self._started

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.coalescer.open()
        log.info("%s started", self.name)

    async def stop(self) -> None:
        """Stop: pending work and cool-downs are cancelled; later requests are ignored."""
        if not self._started:
            return
        self._started = False
        await self.coalescer.close()
        log.info("%s stopped", self.name)

    async def wait_idle(self) -> None:
        """Until no key is running or cooling down."""
        await self.coalescer.wait_idle()

    def _request(self, key: K) -> None:
        if self._started:
            self.coalescer.request(key)
