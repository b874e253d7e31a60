"""The DM notification worker: drains the outbox (``bot.forum.notifications``) into DMs.

One ``Notifier`` per bot (``QABot.notifier``), started by the notifications cog and stopped when
it unloads (``Bot.close`` unloads every extension). A pass claims due notifications with a
lease (``claim_due``: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several processes can run a
worker against one database), gathers them into one DM per recipient, question and kind
(``group_claimed``), reads what each DM shows at send time (``notification_content``), sends it
and records the outcome:

- Discord accepted the message: ``mark_sent`` (only then).
- 403 / 50007 (the user's DMs are closed, or they blocked the bot) or an unknown user:
  ``mark_undeliverable``, which also marks the user; nothing is queued for them until their next
  command clears the marker (the cog tells them once).
- Anything else - discord.py gave up on a 5xx, a 429, a timeout (every Discord request is
  bounded by ``notify_send_timeout``), a lost connection: ``mark_group_retry`` (exponential
  backoff with jitter, bounded attempts, then ``failed``).

Every DM carries a stable nonce (the first notification's ``OutboxItem.nonce``) and discord.py
sends ``enforce_nonce`` with it, so a resend after a timeout or a 5xx whose message did arrive
is dropped by Discord. A crash loses nothing: claims of a dead worker are taken over when their
lease ends; a clean stop hands its claims back at once (``release_claims``), after recording the
DMs whose acceptance the worker has already read (so those are never sent again; only a request
still in flight at the stop is, and Discord drops it by its nonce).

Cogs call ``bot.notifier.wake()`` after queueing, so the first DM about an answer goes out
within a second; without a wake-up the worker still looks every ``notify_poll_seconds``, and
when nothing is due it sleeps no longer than until the next notification falls due (a coalesced
follow-up, a retry, an expiring lease).
A DM costs one request: DM channel ids are cached in memory and in ``user_prefs``.

Log lines carry notification, guild and question ids, never message text and never a
recipient (who may be an anonymous asker) next to their question.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

import aiohttp
import discord

from bot.clock import utc_now
from bot.forum import delivery, dm_content, outbox, prefs
from bot.forum.dm_content import NotificationContent, NotifiedPost
from bot.forum.outbox import OutboxItem
from bot.transactions import run_transaction
from bot.ui.dms import render_dm
from bot.ui.mentions import NO_PINGS

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.client import QABot

log = logging.getLogger(__name__)

#: Discord's JSON error codes that mean "this user cannot get a DM from the bot".
DMS_CLOSED: Final = 50007
UNKNOWN_USER: Final = 10013
UNKNOWN_CHANNEL: Final = 10003
#: DMs sent at once; a pass claims at most twice as many, so a pass ends well within a lease.
CONCURRENCY: Final = 4
BATCH_SIZE: Final = 2 * CONCURRENCY
#: The shortest pause between two passes that found nothing to claim (seconds).
MIN_WAIT: Final = 0.02
#: DM channel ids kept in memory (the rest are one database read away).
DM_CHANNEL_CACHE: Final = 50_000

Clock = Callable[[], datetime]


def default_worker_id() -> str:
    """Unique per process and start: host, pid and a random suffix (at most 64 characters)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# --------------------------------------------------------------------------- outcomes


class Undeliverable(Exception):
    """Discord will never deliver this DM (DMs closed, bot blocked, unknown user)."""


def describe(error: BaseException, timeout: float) -> str:
    """``last_error`` for a failed send: status and code, never message text."""
    if isinstance(error, TimeoutError):
        return f"no answer from Discord within {timeout:g} s"
    if isinstance(error, discord.RateLimited):
        return f"rate limited for {error.retry_after:.0f} s"
    if isinstance(error, discord.HTTPException):
        return f"HTTP {error.status} (code {error.code})"
    return f"connection error ({type(error).__name__})"


@dataclass
class WorkerStats:
    """What this worker did since it was made (passes, DMs sent, failed sends retried, DMs
    found undeliverable, notifications cancelled)."""

    passes: int = 0
    sent: int = 0
    retried: int = 0
    undeliverable: int = 0
    cancelled: int = 0


# --------------------------------------------------------------------------- the worker


class Notifier:
    """The outbox worker of one bot (see the module docstring)."""

    def __init__(
        self,
        bot: QABot,
        *,
        poll_interval: float = 1.0,
        lease: float = 60.0,
        send_timeout: float = 15.0,
        batch_size: int = BATCH_SIZE,
        concurrency: int = CONCURRENCY,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.bot = bot
        self.poll_interval = poll_interval
        self.lease = lease
        self.send_timeout = send_timeout
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.clock = clock
        self.rng = rng or random.Random()
        self.worker_id = worker_id or default_worker_id()
        self.stats = WorkerStats()
        self._dm_channels: OrderedDict[int, int] = OrderedDict()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._passes_done = asyncio.Condition()
        self._last_idle_pass = 0
        self._next_due: datetime | None = None
        #: Records of DMs Discord accepted, still being written (``stop`` waits for them).
        self._recording: set[asyncio.Future[None]] = set()

    # ------------------------------------------------------------------ lifecycle

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start draining (idempotent). Due notifications, retries included, go out at once."""
        if self.running:
            return
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"notifier {self.worker_id}"
        )
        log.info("notification worker %s started", self.worker_id)

    async def stop(self) -> None:
        """Stop at once and hand this worker's unsent claims back (idempotent)."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        # A DM Discord already accepted is recorded as sent, not handed back to be sent again.
        for outcome in await asyncio.gather(*self._recording, return_exceptions=True):
            if isinstance(outcome, Exception):
                log.warning(
                    "notification worker %s could not record a sent DM (%s)",
                    self.worker_id,
                    type(outcome).__name__,
                )
        try:
            released = await run_transaction(
                self.bot, lambda s: outbox.release_claims(s, worker_id=self.worker_id)
            )
        except Exception as exc:  # the database may be gone at shutdown: the lease covers it
            log.warning(
                "notification worker %s could not release its claims (%s)",
                self.worker_id,
                type(exc).__name__,
            )
            return
        log.info("notification worker %s stopped (%d claims released)", self.worker_id, released)

    def wake(self) -> None:
        """Look for due notifications now (call after queueing one)."""
        self._wakeup.set()

    async def drained(self) -> None:
        """Until a pass that started after this call found nothing due (tests; health checks)."""
        if not self.running:
            raise RuntimeError("the notification worker is not running")
        target = self.stats.passes + 1
        self.wake()
        async with self._passes_done:
            await self._passes_done.wait_for(lambda: self._last_idle_pass >= target)

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            try:
                claimed = await self.drain_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("notification worker %s: a pass failed", self.worker_id)
                claimed = 0
            if claimed >= self.batch_size:
                continue  # more may be due
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._idle_wait()):
                    await self._wakeup.wait()

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
        self.stats.passes += 1
        number = self.stats.passes
        now = self.clock()
        lease = timedelta(seconds=self.lease)

        async def claim(session: AsyncSession) -> tuple[list[OutboxItem], datetime | None]:
            claimed = await outbox.claim_due(
                session, worker_id=self.worker_id, now=now, lease=lease, limit=self.batch_size
            )
            return claimed, None if claimed else await outbox.next_due_at(session)

        items, self._next_due = await run_transaction(self.bot, claim)
        groups = outbox.group_claimed(items)
        if groups:
            # One recipient's DMs go out one after another (they share a DM channel); at most
            # ``concurrency`` recipients at a time.
            by_recipient: dict[int, list[list[OutboxItem]]] = {}
            for group in groups:
                by_recipient.setdefault(group[0].recipient_id, []).append(group)
            gate = asyncio.Semaphore(self.concurrency)

            async def deliver_all(queue: list[list[OutboxItem]]) -> None:
                async with gate:
                    for group in queue:
                        await self._deliver(group)

            await asyncio.gather(*(deliver_all(q) for q in by_recipient.values()))
        async with self._passes_done:
            if not items:
                self._last_idle_pass = number
            self._passes_done.notify_all()
        return len(items)

    async def _deliver(self, group: Sequence[OutboxItem]) -> None:
        first = group[0]
        ids = [item.id for item in group]
        try:
            if self.clock() >= min(item.claimed_until for item in group):
                # The lease ran out while earlier DMs were sent: another worker may have taken
                # these over; the next claim decides.
                log.info("notifications %s: lease over before sending", _ids(ids))
                return
            content = await run_transaction(
                self.bot, lambda s: dm_content.notification_content(s, group)
            )
            await self._cancel(content)
            if not content.posts:
                return
            embed, view = render_dm(content, self._cached_name)
            sent = await self._send(first.recipient_id, content.dm_channel_id, embed, view, first)
        except Undeliverable as exc:
            await self._undeliverable(first, ids, str(exc))
        except (
            TimeoutError,
            discord.HTTPException,
            discord.RateLimited,
            aiohttp.ClientError,
            OSError,
        ) as exc:
            await self._retry(first, ids, describe(exc, self.send_timeout))
        except Exception as exc:
            log.exception(
                "DM of notifications %s (guild %s, question %s) failed unexpectedly",
                _ids(ids),
                first.guild_id,
                first.question_id,
            )
            await self._retry(first, ids, f"internal error ({type(exc).__name__})")
        else:
            # Discord accepted the DM: record it even when ``stop`` cancels this pass now (it
            # waits for the record), or the next start would send it again - dropped by its
            # nonce, but a second request.
            record = asyncio.ensure_future(
                self._record_sent(first, content.notification_ids, sent.id)
            )
            self._recording.add(record)
            record.add_done_callback(self._recording.discard)
            await asyncio.shield(record)

    async def _record_sent(
        self, first: OutboxItem, delivered: Sequence[int], message_id: int
    ) -> None:
        now = self.clock()

        async def mark(session: AsyncSession) -> None:
            for notification_id in delivered:
                await delivery.mark_sent(
                    session,
                    notification_id,
                    worker_id=self.worker_id,
                    message_id=message_id,
                    now=now,
                )

        await run_transaction(self.bot, mark)
        self.stats.sent += 1
        log.info(
            "DM %s sent for notifications %s (guild %s, question %s)",
            message_id,
            _ids(delivered),
            first.guild_id,
            first.question_id,
        )

    async def _cancel(self, content: NotificationContent) -> None:
        if not content.cancelled:
            return
        now = self.clock()

        async def cancel(session: AsyncSession) -> None:
            for notification_id, reason in content.cancelled.items():
                await delivery.mark_cancelled(session, notification_id, reason=reason, now=now)

        await run_transaction(self.bot, cancel)
        self.stats.cancelled += len(content.cancelled)
        log.info("notifications %s cancelled", _ids(sorted(content.cancelled)))

    async def _retry(self, first: OutboxItem, ids: list[int], error: str) -> None:
        now = self.clock()
        due = await run_transaction(
            self.bot,
            lambda s: delivery.mark_group_retry(s, ids, error=error, now=now, rng=self.rng),
        )
        self.stats.retried += 1
        log.warning(
            "DM of notifications %s (guild %s, question %s, attempt %s) failed: %s; %s",
            _ids(ids),
            first.guild_id,
            first.question_id,
            first.attempts,
            error,
            "given up" if due is None else f"next try in {(due - now).total_seconds():.1f} s",
        )

    async def _undeliverable(self, first: OutboxItem, ids: list[int], error: str) -> None:
        now = self.clock()

        async def mark(session: AsyncSession) -> None:
            for notification_id in ids:
                await delivery.mark_undeliverable(session, notification_id, error=error, now=now)

        await run_transaction(self.bot, mark)
        self._dm_channels.pop(first.recipient_id, None)
        self.stats.undeliverable += 1
        log.info(
            "DM of notifications %s (guild %s, question %s) undeliverable: %s",
            _ids(ids),
            first.guild_id,
            first.question_id,
            error,
        )

    # ------------------------------------------------------------------ Discord

    def _cached_name(self, post: NotifiedPost) -> str | None:
        """A named author's display name from the client's caches (no request): the post's
        message (its author, or the author line of the bot's embed for them), the guilds'
        members, the users."""
        user_id = post.author_id
        if user_id is None:
            return None
        if post.message_id is not None:
            message = discord.utils.get(self.bot.cached_messages, id=post.message_id)
            if message is not None and message.author.id == user_id:
                return message.author.display_name
            me = self.bot.user
            if message is not None and me is not None and message.author.id == me.id:
                # Posted by the bot for the member (/answer): its embed's author line names them.
                shown = message.embeds[0].author.name if message.embeds else None
                if shown:
                    return shown
        for guild in self.bot.guilds:
            member = guild.get_member(user_id)
            if member is not None:
                return member.display_name
        user = self.bot.get_user(user_id)
        return user.display_name if user is not None else None

    async def _send(
        self,
        user_id: int,
        stored_channel_id: int | None,
        embed: discord.Embed,
        view: discord.ui.View | None,
        first: OutboxItem,
    ) -> discord.Message:
        """Send the DM within ``send_timeout``: one request when the DM channel is known."""
        async with asyncio.timeout(self.send_timeout):
            channel_id = self._dm_channels.get(user_id) or stored_channel_id
            fresh = channel_id is None
            if channel_id is None:
                channel_id = await self._open_dm(user_id)
            else:
                self._remember(user_id, channel_id)
            try:
                return await self._post(channel_id, embed, view, first)
            except discord.NotFound as exc:
                if fresh or exc.code != UNKNOWN_CHANNEL:
                    raise
            # The cached DM channel is gone: open the DM again, once.
            channel_id = await self._open_dm(user_id)
            return await self._post(channel_id, embed, view, first)

    async def _post(
        self,
        channel_id: int,
        embed: discord.Embed,
        view: discord.ui.View | None,
        first: OutboxItem,
    ) -> discord.Message:
        channel = self.bot.get_partial_messageable(channel_id, type=discord.ChannelType.private)
        try:
            return await channel.send(
                embed=embed,
                view=view if view is not None else discord.utils.MISSING,
                nonce=first.nonce,
                allowed_mentions=NO_PINGS,
            )
        except discord.Forbidden as exc:
            if exc.code == DMS_CLOSED:
                raise Undeliverable(f"403 ({DMS_CLOSED}): the recipient's DMs are closed") from None
            raise

    async def _open_dm(self, user_id: int) -> int:
        """Open (or find) the DM channel with the user and remember its id."""
        try:
            data = await self.bot.http.start_private_message(user_id)
        except discord.NotFound as exc:
            if exc.code == UNKNOWN_USER:
                raise Undeliverable(f"404 ({UNKNOWN_USER}): unknown user") from None
            raise
        except discord.Forbidden as exc:
            if exc.code == DMS_CLOSED:
                raise Undeliverable(f"403 ({DMS_CLOSED}): the recipient's DMs are closed") from None
            raise
        channel_id = int(data["id"])
        await run_transaction(self.bot, lambda s: prefs.remember_dm_channel(s, user_id, channel_id))
        self._remember(user_id, channel_id)
        return channel_id

    def _remember(self, user_id: int, channel_id: int) -> None:
        self._dm_channels[user_id] = channel_id
        self._dm_channels.move_to_end(user_id)
        while len(self._dm_channels) > DM_CHANNEL_CACHE:
            self._dm_channels.popitem(last=False)


def _ids(ids: Sequence[int]) -> str:
    return ",".join(str(i) for i in ids)


def from_settings(bot: QABot) -> Notifier:
    """The bot's worker, configured by its settings (``NOTIFY_*``)."""
    settings = bot.settings
    return Notifier(
        bot,
        poll_interval=settings.notify_poll_seconds,
        lease=settings.notify_lease_seconds,
        send_timeout=settings.notify_send_timeout,
    )
