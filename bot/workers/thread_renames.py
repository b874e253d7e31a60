"""Question threads renamed to their titles within Discord's limit: two renames of a channel in
ten minutes.

``ThreadRenames.rename(question_id, thread_id)`` renames the thread at once when the bot renamed
it fewer than ``RENAMES`` times in the last ``WINDOW`` seconds; otherwise it schedules the rename
for when the oldest of those leaves the window and says how long that is (Discord would answer a
third rename with a 429 lasting minutes, and discord.py would hold the request that long). A
scheduled rename reads the question's title when it runs, so edits made meanwhile end in one
rename to the latest title. The history and the schedule live in memory: a restart forgets them
(a rename past the limit then waits in discord.py, and a rename not yet made is made by the
next title edit). A deleted question's thread is renamed ``[removed]`` (``bot.forum.purge``): its
title was the question's. ``sleep`` and ``clock`` are injectable so tests end the wait themselves.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import discord

from bot.bounded import BoundedMap
from bot.db import health
from bot.forum import purge
from bot.forum.shards import ALL_SERVERS, ServerScope
from bot.threads import discord_step, fetch_thread_or_none
from bot.workers.base import Worker

if TYPE_CHECKING:
    from bot.transactions import TransactionRunner

log = logging.getLogger(__name__)

#: Discord's limit: this many renames of one channel ...
RENAMES: Final = 2
#: ... within this many seconds.
WINDOW: Final = 600.0
#: Threads whose recent renames are remembered (the oldest are forgotten).
HISTORY: Final = 10_000


@dataclass(frozen=True, slots=True)
class Renaming:
    """What became of a rename: made now (``later`` 0; ``shown`` False when Discord refused), or
    scheduled ``later`` seconds from now."""

    later: float = 0.0
    shown: bool = True

    @property
    def deferred(self) -> bool:
        return self.later > 0


class ThreadRenames(Worker):
    """One per bot (``bot.thread_renames``): renames question threads, two per ten minutes."""

    name = "thread renames"

    def __init__(
        self, bot: discord.Client, runner: TransactionRunner, *, scope: ServerScope = ALL_SERVERS
    ) -> None:
        super().__init__(bot, runner)
        #: The servers of this process's shards; another shard process's are renamed by id.
        self.scope = scope
        self.clock: Callable[[], float] = time.monotonic
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self._history: BoundedMap[int, tuple[float, ...]] = BoundedMap(HISTORY)
        self._scheduled: dict[int, tuple[float, asyncio.Task[None]]] = {}
        self._started = False

    @property
    def running(self) -> bool:
        return self._started

    def start(self) -> None:
        if not self._started:
            self._started = True
            log.info("%s started", self.name)

    async def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        tasks = [task for _, task in self._scheduled.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._scheduled.clear()
        log.info("%s stopped (%d renames not made)", self.name, len(tasks))

    async def wait_idle(self) -> None:
        """Until no rename is scheduled."""
        while self._scheduled:
            await asyncio.wait([task for _, task in self._scheduled.values()])

    def _recent(self, thread_id: int, now: float) -> tuple[float, ...]:
        return tuple(t for t in self._history.get(thread_id) or () if now - t < WINDOW)

    async def rename(self, question_id: int, thread_id: int) -> Renaming:
        """Give the question's thread its current title: now if Discord's limit allows, else
        as soon as it does (one scheduled rename per thread, which takes the latest title)."""
        now = self.clock()
        scheduled = self._scheduled.get(thread_id)
        if scheduled is not None:
            return Renaming(later=max(scheduled[0] - now, 0.001))
        recent = self._recent(thread_id, now)
        if len(recent) >= RENAMES and self._started:
            due = recent[-RENAMES] + WINDOW
            task = asyncio.get_running_loop().create_task(
                self._later(question_id, thread_id, due - now), name=f"rename {thread_id}"
            )
            self._scheduled[thread_id] = (due, task)
            log.info("rename of thread %s waits %.0f s", thread_id, due - now)
            return Renaming(later=due - now)
        self._history.put(thread_id, (*recent, now))  # before the await: a rename racing it waits
        return Renaming(shown=await self._apply(question_id, thread_id))

    async def _later(self, question_id: int, thread_id: int, wait: float) -> None:
        try:
            await self.sleep(wait)
            now = self.clock()
            self._history.put(thread_id, (*self._recent(thread_id, now), now))
            await self._apply(question_id, thread_id)
        except Exception as exc:
            health.log_failure(log, exc, "the scheduled rename of thread %s failed", thread_id)
        finally:
            self._scheduled.pop(thread_id, None)

    async def _apply(self, question_id: int, thread_id: int) -> bool:
        named = await self.runner.run(lambda s: purge.thread_name(s, question_id=question_id))
        if named is None:
            return True  # no such question (or no title)
        guild_id, name = named
        thread = await self._thread(guild_id, thread_id)
        if thread is None or thread.name == name:
            return True
        return await discord_step(
            "rename the thread", thread.edit(name=name), post_id=question_id, post_kind="question"
        )

    async def _thread(self, guild_id: int, thread_id: int) -> discord.Thread | None:
        """The thread, through this process's guild; a server of another shard process (a
        ``/mydata erase`` in DMs, on shard 0, reaches every server) has it fetched by id. None
        when it is gone, Discord refuses, or the bot left the server."""
        guild = self.bot.get_guild(guild_id)
        if guild is not None:
            return await fetch_thread_or_none(guild, thread_id)
        if self.scope.owns(guild_id):
            return None  # the bot left the server
        try:
            channel = await self.bot.fetch_channel(thread_id)
        except discord.HTTPException as exc:
            log.warning("could not fetch thread %s (status %s)", thread_id, exc.status)
            return None
        return channel if isinstance(channel, discord.Thread) else None
