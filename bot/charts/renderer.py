"""``ChartRenderer``: the helper process that draws charts.

A ``ProcessPoolExecutor`` of one process, started with ``spawn`` (never ``fork``: the bot's
process holds threads and sockets) on the first ``render``, so a bot that draws no chart starts
none. The helper imports matplotlib; the bot process never does. A chart that takes longer than
``timeout`` seconds is given up (``TimeoutError``) and the helper replaced. ``close`` ends it.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Final

from bot.charts.health import ChartData, RenderedChart, draw

log = logging.getLogger(__name__)

#: Seconds a chart may take (the first includes starting Python and importing matplotlib).
RENDER_TIMEOUT: Final = 60.0


class ChartRenderer:
    def __init__(self, *, timeout: float = RENDER_TIMEOUT) -> None:
        self.timeout = timeout
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False

    @property
    def started(self) -> bool:
        return self._pool is not None

    def _executor(self) -> ProcessPoolExecutor:
        if self._closed:
            raise RuntimeError("the chart renderer is closed")
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
            log.info("chart helper process started")
        return self._pool

    async def render(self, data: ChartData) -> RenderedChart:
        """The chart of ``data``, drawn in the helper process."""
        future = asyncio.get_running_loop().run_in_executor(self._executor(), draw, data)
        try:
            return await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            log.warning("a chart took over %.0f s: its helper process is replaced", self.timeout)
            await self._shut_down()
            raise

    async def _shut_down(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
            await asyncio.to_thread(pool.shutdown, True, cancel_futures=True)

    async def close(self) -> None:
        """End the helper process (idempotent)."""
        self._closed = True
        await self._shut_down()
