"""The garbage collector tuned for a long-running bot process, once it has started.

After start-up (the first READY and the first reconciliation) the heap holds what the process
keeps for its life: modules, SQLAlchemy's compiled statements, discord.py's caches. CPython's
full (generation-2) collections traverse all of it, and in a process holding millions of
objects one took seconds (measured 3-8 s in this codebase's test process), stopping the event
loop meanwhile: a reaction burst's write transactions held SQLite's write lock through such a
pause and ``/profile`` answered late. ``settle`` calls ``gc.freeze()``: every object alive
then moves to the permanent generation (at once, without traversing it), which no later
collection looks at; and it raises the generation-0 threshold (``GEN0_THRESHOLD``), so the
short-lived objects of a burst (events, statements, rows) are collected in fewer, larger young
collections.
"""

from __future__ import annotations

import gc
import logging
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)

#: Allocations (minus deallocations) between two young collections; CPython's default is 700.
#: Measured with ``python -m tests.bench --scenario burst --quick`` (docs/benchmarks.md).
GEN0_THRESHOLD: Final = 10_000


def settle() -> None:
    """Freeze the objects alive now and raise the young generation's threshold. No full
    collection first: it stops the event loop for as long as the pauses this avoids (a test's
    SIGTERM sent as a burst began was handled only after the burst); the start-up's garbage
    the freeze keeps is kept once, for the process's life."""
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
    log.info("heap settled: %d objects frozen", gc.get_freeze_count())


async def settle_after_start(bot: QABot) -> None:
    """Once the bot is ready and its first reconciliation has ended, ``settle`` the heap."""
    await bot.wait_until_ready()
    await bot.reconciler.wait_first_run()
    settle()
