"""The DM notification worker: drains the outbox (``bot.forum.notifications``) into DMs.

One ``Notifier`` per bot (``QABot.notifier``), started by the bot in ``setup_hook`` and stopped
when it closes (``bot.workers.base``). A pass claims due notifications with a lease
(``claim_due``: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several processes can run a worker
against one database), gathers them into one DM per recipient, question and kind
(``group_claimed``), confirms the recipient is still a member of the question's server
(``bot.workers.memberships``: a look-up by id, its answer remembered for ten minutes), reads what
each DM shows just before it is sent (``bot.workers.contents``: 16 DMs' contents in one
read-only transaction), sends it (``bot.workers.direct_messages``) and records the outcome:

- Discord accepted the message: ``mark_sent`` (only then; ``bot.workers.sent_log`` records the
  DMs of a moment, up to a tenth of a second, in one transaction).
- The recipient left the server or was banned from it (the look-up answered 404 Unknown
  Member): nothing is sent, their waiting notifications about it are cancelled and their
  follows there end (``departures.end_membership``).
- 403 / 50007 (the user's DMs are closed, or they blocked the bot) or an unknown user:
  ``mark_undeliverable``, which also marks the user; nothing is queued for them until their next
  command clears the marker (the cog tells them once).
- Anything else - discord.py gave up on a 5xx, a 429, a timeout (every Discord request is
  bounded by ``notify_send_timeout``), a lost connection, of the send or of the member
  look-up: ``mark_group_retry`` (exponential backoff with jitter, bounded attempts, then
  ``failed``).

Every DM carries a stable nonce (the first notification's ``OutboxItem.nonce``) and discord.py
sends ``enforce_nonce`` with it, so a resend after a timeout or a 5xx whose message did arrive
is dropped by Discord - within a few minutes only. The nonce is also the DM's key in its footer:
a DM taken over from a worker that died while sending it, longer ago than the nonce protects
(``outbox.may_be_sent_unprotected``), is first looked for in the recent messages of the DM
channel (one request) and, when found, recorded as sent instead of sent again.
A crash loses nothing: claims of a dead worker are taken over when their lease ends (a DM sent
and not yet recorded is resent with its nonce, or found, as above); a clean stop hands its
claims back at once (``release_claims``), after recording the DMs whose acceptance the worker
has already read (so those are never sent again; only a request still in flight at the stop is,
and Discord drops it by its nonce).

A pass that claimed all it may (``batch_size``: more is due) begins the next pass's claim once
half its DMs are under way, so a backlog drains without a pause between passes; what that
claim took waits for the pass to end, each recipient's DMs still going out in order.

Cogs call ``bot.notifier.wake()`` after queueing, so the first DM about an answer goes out
within a second; without a wake-up the worker still looks every ``notify_poll_seconds``, and
when nothing is due it sleeps no longer than until the next notification falls due (a coalesced
follow-up, a retry, an expiring lease).
A DM costs one request: DM channel ids are cached in memory and in ``user_prefs``
(``DirectMessages``), and the member look-up is made once per recipient and server in ten
minutes (``Memberships``). The worker's requests are paced (``bot.workers.pacing``): at most
``notify_dms_per_second`` in any ``PACE_WINDOW`` seconds (below Discord's global 50 per second,
so a backlog drains without global 429s and leaves room for the rest of the bot; after a pause
of the process the worker catches up), and new DM channels opened at most
``notify_dm_opens_per_second`` (after a burst of ``DM_OPENS_BURST``), below the rate at which
Discord refuses them (403 / 40003).

A pass that fails (the database gone: ``bot.db.health``) is followed by a pause that doubles
from ``poll_interval`` up to ``OUTAGE_MOST`` seconds, wake-ups ignored, until a pass succeeds.

Log lines carry notification, guild and question ids, never message text and never a
recipient (who may be an anonymous asker) next to their question.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

import aiohttp
import discord

from bot.backoff import BackoffPolicy
from bot.clock import utc_now
from bot.db import health
from bot.forum import claims, outbox
from bot.forum.outbox import OutboxItem
from bot.forum.uow import Planned
from bot.metrics import Metrics
from bot.transactions import TransactionRunner
from bot.ui.dms import render_dm, with_dm_key
from bot.workers.backoff import Backoff
from bot.workers.base import TaskWorker, cancelling
from bot.workers.contents import Contents
from bot.workers.direct_messages import DirectMessages, Undeliverable, describe
from bot.workers.memberships import Memberships
from bot.workers.outcomes import Accepted, Outcomes, WorkerStats, ids_text
from bot.workers.pacing import SlidingWindow, TokenBucket
from bot.workers.sent_log import SentLog

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.settings import Settings

log = logging.getLogger(__name__)

#: DMs sent at once; a pass claims at most ``BATCH_SIZE`` notifications, under two seconds of
#: sending at the pace, so its claim, content reads and records cost little per DM. A pass
#: ends well within a lease unless Discord stops answering; a DM whose lease ran out meanwhile
#: is not sent but claimed again (``_deliver``).
CONCURRENCY: Final = 8
BATCH_SIZE: Final = 64
#: The shortest pause between two passes that found nothing to claim (seconds).
MIN_WAIT: Final = 0.02
#: The longest pause between two passes that failed (seconds).
OUTAGE_MOST: Final = 60.0
#: Requests the worker makes at most (DMs, DM-channel opens, member look-ups) in any
#: ``PACE_WINDOW`` seconds (one second and a margin for the jitter between a turn and the
#: request's arrival: ``bot.workers.pacing``), and new DM channels opened per second after a
#: burst of at most ``DM_OPENS_BURST`` (defaults of ``notify_dms_per_second`` /
#: ``notify_dm_opens_per_second``).
DMS_PER_SECOND: Final = 48.0
PACE_WINDOW: Final = 1.02
DM_OPENS_PER_SECOND: Final = 0.5
DM_OPENS_BURST: Final = 5.0

Clock = Callable[[], datetime]
#: A pass's claim: the notifications, when the next falls due (none claimed), their DMs.
Claimed = tuple[list[OutboxItem], datetime | None, Contents]


def default_worker_id() -> str:
    """Unique per process and start: host, pid and a random suffix (at most 64 characters)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def claim_pass(
    runner: TransactionRunner, worker_id: str, clock: Clock, *, lease: timedelta, limit: int
) -> Claimed:
    """Claim due notifications for a pass (``outbox.claim_due``; none: when the next falls due)
    and begin reading what its first DMs show. The claim is a write (``TransactionRunner.
    write``): on an SQLite file one hand-off to the writing thread, as the records are
    (``bot.workers.outcomes``), planned apart from its writes (``bot.forum.claims``)."""

    async def plan(session: AsyncSession) -> claims.ClaimPlan:
        return await claims.plan_claim(
            session, worker_id=worker_id, now=clock(), lease=lease, limit=limit
        )

    claim = Planned("Notifier.claim", plan, claims.write_claim)
    items, next_due = await runner.write(claim)
    contents = Contents(runner, outbox.group_claimed(items))
    contents.start()
    return items, next_due, contents


class Notifier(TaskWorker):
    """The outbox worker of one bot (see the module docstring): claims due notifications with a
    lease, sends each group through ``DirectMessages`` and records the outcome."""

    def __init__(
        self,
        bot: discord.Client,
        runner: TransactionRunner,
        *,
        metrics: Metrics,
        poll_interval: float = 1.0,
        lease: float = 60.0,
        send_timeout: float = 15.0,
        batch_size: int = BATCH_SIZE,
        concurrency: int = CONCURRENCY,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
        worker_id: str | None = None,
        dms_per_second: float = DMS_PER_SECOND,
        dm_opens_per_second: float = DM_OPENS_PER_SECOND,
    ) -> None:
        super().__init__(bot, runner)
        self.poll_interval = poll_interval
        self.lease = lease
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.clock = clock
        self.rng = rng or random.Random()
        self.worker_id = worker_id or default_worker_id()
        self.name = f"notifier {self.worker_id}"
        self.pace = SlidingWindow(max(1, int(dms_per_second)), PACE_WINDOW)
        opens = TokenBucket(dm_opens_per_second, DM_OPENS_BURST)
        self.dms = DirectMessages(
            bot, runner, timeout=send_timeout, requests=self.pace, opens=opens
        )
        #: Whether recipients are still members (bans tell it at once: ``gone``).
        self.members = Memberships(bot, timeout=send_timeout, pace=self.pace)
        self.stats = WorkerStats()
        self.backoff = Backoff(BackoffPolicy(poll_interval, OUTAGE_MOST))
        self.outcomes = Outcomes(runner, self.worker_id, self.stats, metrics)
        #: DMs Discord accepted, recorded together (``stop`` waits for them).
        self.sent_log = SentLog(self.outcomes, lambda: self.clock())
        self._passes_done = asyncio.Condition()
        self._last_idle_pass = 0
        self._next_due: datetime | None = None
        #: The next pass's claim, begun while a full pass sends its last DMs.
        self._ahead: asyncio.Future[Claimed] | None = None

    @property
    def send_timeout(self) -> float:
        """Seconds one DM may take, every Discord request of it included."""
        return self.dms.timeout

    @send_timeout.setter
    def send_timeout(self, seconds: float) -> None:
        self.dms.timeout = seconds
        self.members.timeout = seconds

    # ------------------------------------------------------------------ lifecycle

    async def wait_idle(self) -> None:
        """Until a pass that started after this call found nothing due (tests; health checks)."""
        if not self.running:
            raise RuntimeError("the notification worker is not running")
        target = self.stats.passes + 1
        self.wake()
        async with self._passes_done:
            await self._passes_done.wait_for(lambda: self._last_idle_pass >= target)

    async def run(self) -> None:
        """Pass after pass; due notifications, retries included, go out at once on start."""
        while True:
            try:
                claimed = await self.drain_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if cancelling():
                    raise asyncio.CancelledError from exc  # a stop, seen through the driver
                pause = self.backoff.next()
                message = "notification worker %s: a pass failed, next in %.2f s"
                health.log_failure(log, exc, message, self.worker_id, pause)
                await asyncio.sleep(pause)
                continue
            self.backoff.reset()
            if claimed >= self.batch_size:
                continue  # more may be due
            await self.sleep_until_woken(self._idle_wait())

    async def after_stop(self) -> None:
        """Hand this worker's unsent claims back, once what it has sent is recorded."""
        # A DM Discord already accepted is recorded as sent, not handed back to be sent again.
        try:
            await self.sent_log.settle()
        except Exception as exc:
            log.warning(
                "notification worker %s could not record sent DMs (%s)",
                self.worker_id,
                type(exc).__name__,
            )
        # A claim whose transaction was still running when the stop came is handed back too, as
        # is one made ahead for the next pass.
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead.cancel()
            await asyncio.wait({ahead})
        await self.runner.wait_running()
        try:
            released = await self.runner.run(
                lambda s: outbox.release_claims(s, worker_id=self.worker_id)
            )
        except Exception as exc:  # the database may be gone at shutdown: the lease covers it
            log.warning(
                "notification worker %s could not release its claims (%s)",
                self.worker_id,
                type(exc).__name__,
            )
            return
        log.info("notification worker %s: %d claims released", self.worker_id, released)

    def _idle_wait(self) -> float:
        """Seconds until the next look: the poll interval, or less when something falls due
        sooner (a coalesced follow-up, a retry, a lease ending)."""
        due = self._next_due
        if due is None:
            return self.poll_interval
        until = (due - self.clock()).total_seconds()
        # A row due but not claimed is locked by another worker's claim: do not spin on it.
        return min(self.poll_interval, max(MIN_WAIT, until))

    # ------------------------------------------------------------------ one pass

    async def drain_once(self) -> int:
        """Claim due notifications and send them; returns how many notifications were claimed."""
        self.sent_log.check()  # a record of sent DMs failed: this pass fails and backs off
        self.stats.passes += 1
        number = self.stats.passes
        ahead, self._ahead = self._ahead, None
        items, self._next_due, contents = await (ahead or self._claim())
        groups = contents.groups
        full, started = len(items) >= self.batch_size, 0
        if groups:
            # One recipient's DMs go out one after another (they share a DM channel); at most
            # ``concurrency`` recipients at a time. Their contents are read a chunk at a time,
            # what Discord accepted is recorded a moment's worth at a time (``sent_log``).
            by_recipient: dict[int, list[int]] = {}
            for index, group in enumerate(groups):
                by_recipient.setdefault(group[0].recipient_id, []).append(index)
            gate = asyncio.Semaphore(self.concurrency)

            async def deliver_all(queue: list[int]) -> None:
                nonlocal started
                async with gate:
                    for index in queue:
                        started += 1
                        if full and 2 * started >= len(groups):
                            self._claim_ahead()
                        await self._deliver(contents, index)

            await asyncio.gather(*(deliver_all(q) for q in by_recipient.values()))
        if full:
            self.sent_log.flush()  # more may be due: recorded while the next pass claims
        else:
            await self.sent_log.settle()  # all recorded before the worker waits for more
        async with self._passes_done:
            if not items:
                self._last_idle_pass = number
            self._passes_done.notify_all()
        return len(items)

    def _claim(self) -> Awaitable[Claimed]:
        lease, limit = timedelta(seconds=self.lease), self.batch_size
        return claim_pass(self.runner, self.worker_id, self.clock, lease=lease, limit=limit)

    def _claim_ahead(self) -> None:
        """Begin the next pass's claim while this pass sends its last DMs (once a pass)."""
        if self._ahead is None:
            self._ahead = asyncio.ensure_future(self._claim())
            self._ahead.add_done_callback(lambda done: done.cancelled() or done.exception())

    async def _deliver(self, contents: Contents, index: int) -> None:
        group = contents.groups[index]
        first = group[0]
        ids = [item.id for item in group]
        try:
            if self.clock() >= min(item.claimed_until for item in group):
                # The lease ran out while earlier DMs were sent: another worker may have taken
                # these over; the next claim decides.
                log.info("notifications %s: lease over before sending", ids_text(ids))
                return
            if not await self.members.is_member(first.guild_id, first.recipient_id):
                await self.outcomes.departed(first, ids, self.clock())
                return
            content = await contents.of(index)
            await self.outcomes.cancelled(content.cancelled, self.clock())
            if not content.posts:
                return
            server = await self.members.server_name(first.guild_id)
            embed, view = render_dm(content, self.dms.cached_name, server)
            lease = timedelta(seconds=self.lease)
            sent = await self.dms.find_unrecorded(group, content.dm_channel_id, self.clock(), lease)
            if sent is None:
                sent = await self.dms.send(
                    first.recipient_id,
                    content.dm_channel_id,
                    with_dm_key(embed, first.nonce),
                    view,
                    first.nonce,
                )
        except Undeliverable as exc:
            await self.outcomes.undeliverable(first, ids, str(exc), self.clock())
            self.dms.forget(first.recipient_id)
        except (
            TimeoutError,
            discord.HTTPException,
            discord.RateLimited,
            aiohttp.ClientError,
            OSError,
        ) as exc:
            await self.outcomes.retry(
                first, ids, describe(exc, self.send_timeout), self.clock(), self.rng
            )
        except Exception as exc:
            if health.sentence_for(exc) is not None:
                raise  # the database is gone: the pass fails and backs off, the lease covers it
            log.exception(
                "DM of notifications %s (guild %s, question %s) failed unexpectedly",
                ids_text(ids),
                first.guild_id,
                first.question_id,
            )
            error = f"internal error ({type(exc).__name__})"
            await self.outcomes.retry(first, ids, error, self.clock(), self.rng)
        else:
            # Discord accepted the DM: recorded soon, also when ``stop`` cancels this pass now
            # (it records what waits), or the next start would send it again - dropped by its
            # nonce, but a second request.
            ids = content.notification_ids
            accepted = Accepted(first.guild_id, first.question_id, tuple(ids), sent.id)
            self.sent_log.add(accepted)


def from_settings(
    bot: discord.Client, runner: TransactionRunner, settings: Settings, metrics: Metrics
) -> Notifier:
    """The bot's worker, configured by its settings (``NOTIFY_*``), counting into ``metrics``."""
    return Notifier(
        bot,
        runner,
        poll_interval=settings.notify_poll_seconds,
        lease=settings.notify_lease_seconds,
        send_timeout=settings.notify_send_timeout,
        metrics=metrics,
        dms_per_second=settings.notify_dms_per_second,
        dm_opens_per_second=settings.notify_dm_opens_per_second,
    )
