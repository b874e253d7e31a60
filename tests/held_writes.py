"""A domain write held in its middle until the test lets it go, wherever it runs.

On an SQLite file a batch writer's transaction runs in the write runner's thread, in an event
loop of its own (``bot.db.writes``): an ``asyncio.Event`` of the test's loop can be neither set
nor awaited from there. ``HeldWrite.hold`` tells the test it was reached and waits for
``release`` through the test's loop, thread-safely, from either loop.
"""

from __future__ import annotations

import asyncio


class HeldWrite:
    """Made in the test's loop; ``hold`` awaited inside the write, ``reached`` and ``release``
    used by the test."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.reached = asyncio.Event()
        self._released = asyncio.Event()

    async def hold(self) -> None:
        self._loop.call_soon_threadsafe(self.reached.set)
        waiting = asyncio.run_coroutine_threadsafe(self._released.wait(), self._loop)
        await asyncio.wrap_future(waiting)

    def release(self) -> None:
        self._released.set()
