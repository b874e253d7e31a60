"""A shutdown under load: stop listening, apply what was heard, then close.

A SIGTERM in the middle of a reaction burst must not lose the gestures the bot already took in.
``drain`` runs before ``QABot.close`` (``bot.runtime``):

1. Every shard's gateway connection is closed (close code 1000), so no further event is read.
   The events already read were dispatched: their listeners' tasks are scheduled and run on the
   next turns of the event loop, and the voting listener hands its gesture to the vote writer
   before its first ``await``, so by the time the sockets are closed every gesture received is
   queued. Events Discord sent that were not read are not lost for good: the reactions stay on
   Discord and the next start's reconciliation reads them back.
2. The vote writer applies its queue (and removes uncounted self-votes), and the thread intake
   records the thread messages received (the answering listener hands each in before its first
   real wait), for at most ``DRAIN_SECONDS``, well inside the 10 s a process manager such as
   systemd or Docker waits after SIGTERM; what is left then is logged as unapplied.
3. One line says what was taken in and how long the drain took; another gives the transaction
   counts and the longest SQLite write-lock hold (``bot.db.engine.write_holds``).

Then ``QABot.close`` stops the workers and waits for the transactions in flight.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Final

from bot.db.engine import HOLD_BUDGET, write_holds

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)

#: Seconds the vote writer is given to apply its queue at a shutdown.
DRAIN_SECONDS: Final = 7.0


async def drain(bot: QABot, *, seconds: float = DRAIN_SECONDS) -> bool:
    """Stop reading the gateway, then let the vote writer apply what it received (at most
    ``seconds``); True when everything received was applied."""
    started = time.perf_counter()
    for shard in bot.shards.values():
        await shard.disconnect()
    writer = bot.vote_writer
    drained = True
    # The thread messages received are recorded too (``bot.workers.thread_intake``).
    taking_in = [w for w in (writer, bot.thread_intake) if w.running]
    if taking_in:
        try:
            await asyncio.wait_for(
                asyncio.gather(*(w.wait_idle() for w in taking_in)), timeout=seconds
            )
        except TimeoutError:
            drained = False
    log.info(
        "shutdown: gateway closed, %d vote gestures received, %s in %.2f s",
        writer.received,
        "all applied" if drained else "drain cut short",
        time.perf_counter() - started,
    )
    return drained


def log_transaction_stats(bot: QABot) -> None:
    """The transactions run, and the longest SQLite write-lock hold seen (ms)."""
    runner = bot.transaction_runner
    holds = write_holds(bot.engine)
    if holds is None:
        log.info("transactions: %d writes, %d reads", runner.writes, runner.reads)
        return
    log.info(
        "transactions: %d writes, %d reads; longest SQLite write-lock hold %.1f ms (%d holds)",
        runner.writes,
        runner.reads,
        holds.longest * 1000,
        holds.count,
    )
    log.info(
        "longest SQLite write-lock holds by unit: %s; %d over %.0f ms",
        ", ".join(f"{-held * 1000:.0f} ms {unit}" for held, unit in holds.longest_units),
        holds.over_budget,
        HOLD_BUDGET * 1000,
    )
