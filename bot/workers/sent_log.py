"""DMs Discord accepted, written down together: one transaction for the DMs of a moment.

Recording each DM in a transaction of its own cost the notifier more than sending it (issue 21).
The notifier hands each DM Discord accepted to ``SentLog.add`` and goes on sending; what was
handed in is recorded (``Outcomes.sent``: one ``UPDATE`` of all its notifications) once
``FLUSH_SIZE`` DMs wait or ``FLUSH_SECONDS`` after the first of them, and at the end of every
pass (``flush``; before the worker waits for more, ``settle`` also waits for the records). A
record that failed fails the next pass (``check``), which backs off.

A DM accepted and not yet recorded when the process dies is what a DM was between its send and
its record before: its rows stay ``sending`` until the lease ends, and the worker that takes
them over resends it with the same nonce (Discord drops it) or finds it in the DM channel
(``Notifier._find_unrecorded``). A clean stop records what waits before it hands claims back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Final

from bot.workers.outcomes import Accepted, Outcomes

#: Accepted DMs recorded at once at most, and the longest they wait for their record (seconds).
FLUSH_SIZE: Final = 16
FLUSH_SECONDS: Final = 0.1


class SentLog:
    """Accepted DMs waiting for their record, and the records being written."""

    def __init__(
        self,
        outcomes: Outcomes,
        clock: Callable[[], datetime],
        *,
        flush_size: int = FLUSH_SIZE,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self.outcomes = outcomes
        self.clock = clock
        self.flush_size = flush_size
        self.flush_seconds = flush_seconds
        self._waiting: list[Accepted] = []
        self._timer: asyncio.TimerHandle | None = None
        self._writing: set[asyncio.Task[None]] = set()
        self._failures: list[Exception] = []

    @property
    def unrecorded(self) -> int:
        """Accepted DMs not yet recorded (waiting, or in a record being written)."""
        return len(self._waiting) + len(self._writing)

    def add(self, accepted: Accepted) -> None:
        """Discord accepted this DM: record it soon (with the others of the moment)."""
        self._waiting.append(accepted)
        if len(self._waiting) >= self.flush_size:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.flush_seconds, self.flush)

    def flush(self) -> None:
        """Start recording every DM waiting (in a task of its own: a stop does not cut it)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._waiting:
            return
        batch, self._waiting = self._waiting, []
        task = asyncio.get_running_loop().create_task(
            self.outcomes.sent(batch, self.clock()), name="record sent DMs"
        )
        self._writing.add(task)
        task.add_done_callback(self._written)

    def _written(self, task: asyncio.Task[None]) -> None:
        self._writing.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            self._failures.append(error if isinstance(error, Exception) else RuntimeError(error))

    def check(self) -> None:
        """Raise the first record that failed since the last ``check`` or ``settle``."""
        failures, self._failures = self._failures, []
        if failures:
            raise failures[0]

    async def settle(self) -> None:
        """Record every DM waiting and wait for every record, then ``check``."""
        self.flush()
        if self._writing:
            await asyncio.wait(set(self._writing))
        self.check()
