"""What became of each DM the notifier tried, written down in the outbox.

``Outcomes`` (one per ``Notifier``) records a group of notifications as sent (only once Discord
accepted the DM; the DMs of a moment together, ``bot.workers.sent_log``), cancelled (what it was
about is gone), to retry (exponential backoff with jitter, bounded attempts, then ``failed``:
``mark_group_retry``), undeliverable (the member's DMs are closed) or dropped because the
recipient left the server (``departed``); each in one transaction (``TransactionRunner.write``:
on an SQLite file one hand-off to the writing thread, so the write lock is held for the
statements alone, not for turns of a busy event loop between them), with a counter in the
worker's ``WorkerStats`` and a log line of ids (never message text, never a recipient next to
their question).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.forum import delivery, departures
from bot.forum.outbox import OutboxItem
from bot.metrics import DM_RETRY, DM_UNDELIVERABLE, Metrics
from bot.transactions import TransactionRunner

log = logging.getLogger(__name__)


@dataclass
class WorkerStats:
    """What this worker did since it was made (passes, DMs sent, failed sends retried, DMs
    found undeliverable, notifications cancelled, DMs dropped as their recipient left)."""

    passes: int = 0
    sent: int = 0
    retried: int = 0
    undeliverable: int = 0
    cancelled: int = 0
    departed: int = 0


@dataclass(frozen=True, slots=True)
class Accepted:
    """A DM Discord accepted (``message_id``), delivering ``notification_ids`` about a question
    of a server (no recipient: the line logged for it never names one)."""

    guild_id: int
    question_id: int | None
    notification_ids: tuple[int, ...]
    message_id: int


class Outcomes:
    """Records what became of a group of notifications claimed by ``worker_id``."""

    def __init__(
        self, runner: TransactionRunner, worker_id: str, stats: WorkerStats, metrics: Metrics
    ) -> None:
        self.runner = runner
        self.worker_id = worker_id
        self.stats = stats
        self.metrics = metrics

    async def sent(self, accepted: Sequence[Accepted], now: datetime) -> None:
        """DMs Discord accepted, recorded together in one transaction."""
        messages = {i: dm.message_id for dm in accepted for i in dm.notification_ids}
        await self.runner.write(
            lambda s: delivery.mark_many_sent(s, messages, worker_id=self.worker_id, now=now)
        )
        for dm in accepted:
            self.stats.sent += 1
            self.metrics.dms_sent.inc()
            log.info(
                "DM %s sent for notifications %s (guild %s, question %s)",
                dm.message_id,
                ids_text(dm.notification_ids),
                dm.guild_id,
                dm.question_id,
            )

    async def cancelled(self, reasons: Mapping[int, str], now: datetime) -> None:
        if not reasons:
            return

        async def cancel(session: AsyncSession) -> None:
            for notification_id, reason in reasons.items():
                await delivery.mark_cancelled(session, notification_id, reason=reason, now=now)

        await self.runner.write(cancel)
        self.stats.cancelled += len(reasons)
        log.info("notifications %s cancelled", ids_text(sorted(reasons)))

    async def retry(
        self, first: OutboxItem, ids: list[int], error: str, now: datetime, rng: random.Random
    ) -> None:
        due = await self.runner.write(
            lambda s: delivery.mark_group_retry(s, ids, error=error, now=now, rng=rng)
        )
        self.stats.retried += 1
        then = "given up" if due is None else f"next try in {(due - now).total_seconds():.1f} s"
        self._failed(
            DM_RETRY,
            first,
            ids,
            f"failed: {error} (attempt {first.attempts}); {then}",
            logging.WARNING,
        )

    async def undeliverable(
        self, first: OutboxItem, ids: list[int], error: str, now: datetime
    ) -> None:
        async def mark(session: AsyncSession) -> None:
            for notification_id in ids:
                await delivery.mark_undeliverable(session, notification_id, error=error, now=now)

        await self.runner.write(mark)
        self.stats.undeliverable += 1
        self._failed(DM_UNDELIVERABLE, first, ids, f"undeliverable: {error}", logging.INFO)

    def _failed(
        self, reason: str, first: OutboxItem, ids: list[int], outcome: str, level: int
    ) -> None:
        """A DM that failed, counted by ``reason`` and logged: its notifications, server and
        question (never its recipient), then ``outcome`` (the error and what comes next)."""
        self.metrics.dms_failed.labels(reason).inc()
        log.log(
            level,
            "DM of notifications %s (guild %s, question %s) %s",
            ids_text(ids),
            first.guild_id,
            first.question_id,
            outcome,
        )

    async def departed(self, first: OutboxItem, ids: list[int], now: datetime) -> None:
        """The recipient is no longer a member of the server: this DM and their other waiting
        ones about it are cancelled, their follows there end (the recipient is not logged)."""
        ended = await self.runner.write(
            lambda s: departures.end_membership(
                s,
                guild_id=first.guild_id,
                user_id=first.recipient_id,
                reason=departures.LEFT,
                now=now,
            )
        )
        self.stats.departed += 1
        log.info(
            "DM of notifications %s (guild %s) dropped: the recipient is no longer a member "
            "(%d notifications cancelled, %d follows ended)",
            ids_text(ids),
            first.guild_id,
            ended.notifications_dropped,
            ended.follows_ended,
        )


def ids_text(ids: Sequence[int]) -> str:
    return ",".join(str(i) for i in ids)
