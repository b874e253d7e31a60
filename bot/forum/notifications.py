"""The DM notification outbox: queued with the event, drained by a worker.

Writing side (called by the domain inside the event's transaction): ``notify_new_answer``,
``notify_accepted`` and ``notify_comment`` insert one ``notifications`` row per recipient with a
unique ``dedupe_key`` (``INSERT ... ON CONFLICT DO NOTHING``), so a repeated event never queues
twice and an event that rolls back leaves no row. Nobody is notified of their own action, and
users with notifications off, DMs known to be closed, or erased data get nothing.

The payload holds ids only (guild, question, post, thread, message, kind): the worker renders the
text at send time from ``posts``, so edits and deletes are honoured and an anonymous author's
identity is never copied anywhere.

Coalescing is decided when a row is queued: the first notification for a (recipient, question,
kind) is due at once; one queued within the guild's ``notify_coalesce_seconds`` after the previous
one is due when that window ends, and every row queued for the same slot shares its due time, so
the worker sends them together as one follow-up DM. ``claim_due`` claims a group's due rows
together.

Reading side (the worker): ``claim_due`` leases due rows (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so several workers never claim one row; SQLite serialises writers), then
``notification_content`` (what a group's DM shows, read at send time), then ``mark_sent``,
``mark_retry`` / ``mark_group_retry`` (exponential backoff with jitter, bounded attempts, then
``failed``; the group's rows keep one due time), ``mark_undeliverable`` (DMs closed: the
recipient is marked too), ``mark_cancelled`` (the post is gone) or ``release_claims`` (clean
shutdown). ``next_due_at`` tells an idle worker when to look again; ``outbox_stats`` feeds
``/qa status``.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any, Final, Literal

from sqlalchemy import case, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.dialect import insert
from bot.db.models import NOTIFICATION_STATUSES, Member, Notification, Post
from bot.forum import prefs
from bot.forum.settings import load_config

log = logging.getLogger(__name__)

NotificationKind = Literal["new_answer", "accepted", "comment"]

# Backoff of failed sends: the n-th retry waits min(CAP, BASE * FACTOR ** (n - 1)) seconds, less
# up to JITTER of it at random (so retries of many rows spread out). After MAX_ATTEMPTS sends
# the row is ``failed``. With these values the first retry comes after 1-2 s, the delay is capped
# at 5 minutes and a row is given up after 10 sends, some 7 to 14 minutes of failures.
BACKOFF_BASE_SECONDS: Final = 2.0
BACKOFF_FACTOR: Final = 2.0
BACKOFF_CAP_SECONDS: Final = 300.0
BACKOFF_JITTER: Final = 0.5
MAX_ATTEMPTS: Final = 10

# Longest error text kept in ``last_error`` (it is shown in /qa status).
MAX_ERROR_LENGTH: Final = 500

PENDING_STATUSES: Final = ("pending", "sending")


# --------------------------------------------------------------------------- the writing side


@dataclass(frozen=True, slots=True)
class _Planned:
    recipient_id: int
    dedupe_key: str


async def notify_new_answer(
    session: AsyncSession, *, question: Post, answer: Post, now: datetime | None = None
) -> int:
    """Queue "your question got an answer" for the asker and the question's followers.

    The answer's author is never notified (also when they asked or follow). Returns rows queued.
    """
    if _gone(question) or _gone(answer):
        return 0
    recipients = await prefs.followers(session, question.id)
    planned = [
        _Planned(user_id, f"answer:{answer.id}:{user_id}")
        for user_id in recipients
        if user_id != answer.author_id
    ]
    return await _queue(
        session, "new_answer", question=question, post=answer, planned=planned, now=now
    )


async def notify_accepted(
    session: AsyncSession,
    *,
    question: Post,
    answer: Post,
    actor_id: int,
    now: datetime | None = None,
) -> int:
    """Queue "your answer was accepted" for the answer's author, unless they accepted it.

    Accepting the same answer again (after moving the acceptance away and back) queues nothing.
    """
    if _gone(question) or _gone(answer) or answer.author_id == actor_id:
        return 0
    planned = [_Planned(answer.author_id, f"accepted:{answer.id}:{answer.author_id}")]
    return await _queue(
        session, "accepted", question=question, post=answer, planned=planned, now=now
    )


async def notify_comment(
    session: AsyncSession, *, comment: Post, parent: Post, now: datetime | None = None
) -> int:
    """Queue "someone commented on your answer" for the answer's author.

    Only comments on answers notify (issue 3); a comment by the answer's author notifies nobody.
    """
    if parent.kind != "answer" or _gone(comment) or _gone(parent):
        return 0
    if comment.author_id == parent.author_id:
        return 0
    question_id = parent.question_id if parent.question_id is not None else parent.parent_id
    question = await session.get(Post, question_id) if question_id is not None else None
    if question is None or _gone(question):
        return 0
    planned = [_Planned(parent.author_id, f"comment:{comment.id}:{parent.author_id}")]
    return await _queue(
        session, "comment", question=question, post=comment, planned=planned, now=now
    )


def _gone(post: Post) -> bool:
    return post.deleted_at is not None


def _payload(kind: NotificationKind, *, question: Post, post: Post) -> str:
    """Ids to render the DM later; never message text, never an author's identity."""
    return json.dumps(
        {
            "kind": kind,
            "guild_id": question.guild_id,
            "question_id": question.id,
            "post_id": post.id,
            "thread_id": post.thread_id if post.thread_id is not None else question.thread_id,
            "message_id": post.message_id,
        },
        sort_keys=True,
    )


async def _queue(
    session: AsyncSession,
    kind: NotificationKind,
    *,
    question: Post,
    post: Post,
    planned: Sequence[_Planned],
    now: datetime | None,
) -> int:
    if not planned:
        return 0
    now = now or utc_now()
    unreachable = await prefs.unreachable_among(session, (p.recipient_id for p in planned))
    planned = [p for p in planned if p.recipient_id not in unreachable]
    if not planned:
        return 0
    config = await load_config(session, question.guild_id)
    window = timedelta(seconds=config.notify_coalesce_seconds)
    due = await _due_times(
        session,
        kind=kind,
        question_id=question.id,
        recipients=[p.recipient_id for p in planned],
        now=now,
        window=window,
    )
    payload = _payload(kind, question=question, post=post)
    rows = [
        {
            "guild_id": question.guild_id,
            "recipient_id": p.recipient_id,
            "kind": kind,
            "question_id": question.id,
            "post_id": post.id,
            "payload": payload,
            "dedupe_key": p.dedupe_key,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": due[p.recipient_id],
            "created_at": now,
        }
        for p in planned
    ]
    stmt = (
        insert(session, Notification)
        .values(rows)
        .on_conflict_do_nothing(index_elements=[Notification.dedupe_key])
        .returning(Notification.id)
    )
    return len((await session.execute(stmt)).all())


async def _due_times(
    session: AsyncSession,
    *,
    kind: NotificationKind,
    question_id: int,
    recipients: Sequence[int],
    now: datetime,
    window: timedelta,
) -> dict[int, datetime]:
    """When each recipient's new row is due, so bursts coalesce (see the module docstring).

    ``last`` is the latest due time of the recipient's earlier rows for this question and kind:
    a slot still in the future is joined; one within ``window`` in the past opens the next slot
    at ``last + window``; otherwise the row is due now.
    """
    due = dict.fromkeys(recipients, now)
    if window <= timedelta(0):
        return due
    stmt = (
        select(Notification.recipient_id, func.max(Notification.next_attempt_at))
        .where(
            Notification.question_id == question_id,
            Notification.kind == kind,
            Notification.recipient_id.in_(recipients),
            # Rows that reached (or may yet reach) the recipient; failed ones delivered nothing.
            Notification.status.in_(("pending", "sending", "sent")),
        )
        .group_by(Notification.recipient_id)
    )
    for recipient_id, last in await session.execute(stmt):
        if last is None:
            continue
        if last > now:
            due[recipient_id] = last
        elif last + window > now:
            due[recipient_id] = last + window
    return due


# --------------------------------------------------------------------------- the reading side


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A claimed notification; ``payload`` holds ids only (see ``_payload``).

    The recipient (who may be an anonymous asker) is left out of ``repr`` so that logging an
    item can never tie a person to a question.
    """

    id: int
    guild_id: int
    recipient_id: int = field(repr=False)
    kind: str
    question_id: int | None
    post_id: int | None
    payload: Mapping[str, Any]
    dedupe_key: str = field(repr=False)
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    claimed_by: str
    claimed_until: datetime

    @property
    def nonce(self) -> str:
        """A stable nonce for the DM (Discord drops a resent message with the same nonce)."""
        return f"qa-n{self.id}"

    @property
    def group(self) -> tuple[int, int | None, str]:
        """Items of one group (recipient, question, kind) claimed together make one DM."""
        return (self.recipient_id, self.question_id, self.kind)


def group_claimed(items: Sequence[OutboxItem]) -> list[list[OutboxItem]]:
    """Claimed items gathered into DMs: one list per (recipient, question, kind), oldest first.

    A list of one is an ordinary DM; a longer one is a coalesced follow-up ("4 new answers").
    """

    def key(item: OutboxItem) -> tuple[int, int, str, int]:
        question = item.question_id if item.question_id is not None else -1
        return (item.recipient_id, question, item.kind, item.id)

    ordered = sorted(items, key=key)
    groups = [list(members) for _, members in groupby(ordered, key=lambda item: item.group)]
    groups.sort(key=lambda members: (min(m.next_attempt_at for m in members), members[0].id))
    return groups


@dataclass(frozen=True, slots=True)
class OutboxStats:
    """Outbox health for /qa status."""

    counts: Mapping[str, int] = field(default_factory=dict)
    oldest_pending_age: timedelta | None = None
    last_failure: str | None = None

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)

    @property
    def pending(self) -> int:
        """Not yet delivered: waiting or being sent."""
        return self.count("pending") + self.count("sending")

    @property
    def sent(self) -> int:
        return self.count("sent")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def undeliverable(self) -> int:
        return self.count("undeliverable")


def _is_due(now: datetime) -> Any:
    return ((Notification.status == "pending") & (Notification.next_attempt_at <= now)) | (
        (Notification.status == "sending") & (Notification.claimed_until <= now)
    )


async def claim_due(
    session: AsyncSession,
    *,
    worker_id: str,
    now: datetime,
    lease: timedelta,
    limit: int,
) -> list[OutboxItem]:
    """Lease up to ``limit`` due notifications (plus their group's other due rows) to a worker.

    Due: ``pending`` with ``next_attempt_at <= now``, or ``sending`` whose lease expired (its
    worker died). Each claim counts as an attempt; a row whose lease expired after its last
    allowed attempt is marked ``failed`` instead of being claimed again. Call it in its own
    short transaction and commit at once: committed claims hide the rows from other workers
    until ``now + lease``.
    """
    await session.execute(
        update(Notification)
        .where(
            Notification.status == "sending",
            Notification.claimed_until <= now,
            Notification.attempts >= MAX_ATTEMPTS,
        )
        .values(
            status="failed",
            claimed_by=None,
            claimed_until=None,
            next_attempt_at=now,
            last_error=func.coalesce(Notification.last_error, "the worker's lease expired"),
        )
    )
    # FOR UPDATE SKIP LOCKED on PostgreSQL; ignored on SQLite, whose BEGIN IMMEDIATE already
    # serialises writers.
    first_stmt = (
        select(
            Notification.id,
            Notification.recipient_id,
            Notification.question_id,
            Notification.kind,
        )
        .where(_is_due(now))
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    first = (await session.execute(first_stmt)).all()
    if not first:
        return []
    ids = {row.id for row in first}
    groups = {(row.recipient_id, row.question_id, row.kind) for row in first if row.question_id}
    if groups:
        mates_stmt = (
            select(Notification.id)
            .where(
                _is_due(now),
                tuple_(Notification.recipient_id, Notification.question_id, Notification.kind).in_(
                    list(groups)
                ),
            )
            .with_for_update(skip_locked=True)
        )
        mates = await session.execute(mates_stmt)
        ids.update(mates.scalars())
    claimed = await session.execute(
        update(Notification)
        .where(Notification.id.in_(ids), _is_due(now))
        .values(
            status="sending",
            claimed_by=worker_id,
            claimed_until=now + lease,
            attempts=Notification.attempts + 1,
        )
        .returning(Notification)
        .execution_options(populate_existing=True)
    )
    items = [_item(row) for row in claimed.scalars()]
    items.sort(key=lambda item: (item.next_attempt_at, item.id))
    return items


async def next_due_at(session: AsyncSession) -> datetime | None:
    """When the next notification falls due: the earliest waiting row, or the earliest lease
    to end (its worker may have died). None when nothing is waiting. A worker with nothing to
    claim sleeps until then (or until woken), so coalesced follow-ups and retries go out on time.
    """
    waiting = (
        await session.execute(
            select(func.min(Notification.next_attempt_at)).where(Notification.status == "pending")
        )
    ).scalar_one_or_none()
    leased = (
        await session.execute(
            select(func.min(Notification.claimed_until)).where(Notification.status == "sending")
        )
    ).scalar_one_or_none()
    times = [t for t in (waiting, leased) if t is not None]
    return min(times) if times else None


def _item(row: Notification) -> OutboxItem:
    assert row.claimed_by is not None and row.claimed_until is not None
    return OutboxItem(
        id=row.id,
        guild_id=row.guild_id,
        recipient_id=row.recipient_id,
        kind=row.kind,
        question_id=row.question_id,
        post_id=row.post_id,
        payload=json.loads(row.payload),
        dedupe_key=row.dedupe_key,
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        claimed_by=row.claimed_by,
        claimed_until=row.claimed_until,
    )


async def mark_sent(
    session: AsyncSession,
    notification_id: int,
    *,
    worker_id: str,
    message_id: int | None,
    now: datetime,
) -> bool:
    """Record that Discord accepted the DM. False if it was already sent or closed.

    A delivery is a fact whoever holds the lease: a worker whose lease was taken over still
    records it, which keeps the new holder (whose resend Discord drops by nonce) from sending
    a third time after its own attempt fails.
    """
    stmt = (
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.status.in_(("pending", "sending", "failed")),
        )
        .values(
            status="sent",
            sent_at=now,
            sent_message_id=message_id,
            claimed_by=worker_id,
            claimed_until=None,
        )
        .returning(Notification.id)
    )
    return (await session.execute(stmt)).first() is not None


def backoff_delay(attempts: int, rng: random.Random | None = None) -> timedelta:
    """The wait before the next send after ``attempts`` failed sends (1, 2, ...).

    Without ``rng`` the upper bound of the schedule; with it, uniformly jittered between
    ``(1 - BACKOFF_JITTER)`` and 1 times that bound.
    """
    exponent = max(0, attempts - 1)
    # The exponent is bounded so the power cannot overflow; the cap is reached long before.
    seconds = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * BACKOFF_FACTOR ** min(exponent, 64))
    if rng is not None:
        seconds *= 1.0 - BACKOFF_JITTER * rng.random()
    return timedelta(seconds=seconds)


def _clip(error: str) -> str:
    error = " ".join(error.split())
    if len(error) <= MAX_ERROR_LENGTH:
        return error
    return error[: MAX_ERROR_LENGTH - 1] + "…"


async def mark_retry(
    session: AsyncSession,
    notification_id: int,
    *,
    error: str,
    now: datetime,
    rng: random.Random | None = None,
) -> datetime | None:
    """Record a failed send: due again after a backoff, or ``failed`` after MAX_ATTEMPTS.

    Returns when the next attempt is due, or None when the notification is given up (or it was
    no longer being sent). ``error`` is kept as ``last_error``: ids and codes, no message text.
    """
    row = (
        await session.execute(
            select(Notification.attempts, Notification.status).where(
                Notification.id == notification_id
            )
        )
    ).one_or_none()
    if row is None or row.status not in PENDING_STATUSES:
        return None
    attempts = max(1, row.attempts)
    if attempts >= MAX_ATTEMPTS:
        log.warning("notification %s failed after %s attempts", notification_id, attempts)
        await session.execute(
            update(Notification)
            .where(Notification.id == notification_id)
            .values(
                status="failed",
                last_error=_clip(error),
                next_attempt_at=now,
                claimed_until=None,
            )
        )
        return None
    due = now + backoff_delay(attempts, rng or random.Random())
    await session.execute(
        update(Notification)
        .where(Notification.id == notification_id)
        .values(status="pending", last_error=_clip(error), next_attempt_at=due, claimed_until=None)
    )
    return due


async def mark_undeliverable(
    session: AsyncSession, notification_id: int, *, error: str, now: datetime
) -> bool:
    """DMs closed (403 / 50007): stop at once and mark the recipient.

    The recipient's other waiting notifications become undeliverable too, and nothing more is
    queued for them until ``prefs.consume_dms_closed_notice`` clears the marker. Returns whether
    the notification was still open.
    """
    recipient = (
        await session.execute(
            select(Notification.recipient_id).where(Notification.id == notification_id)
        )
    ).scalar_one_or_none()
    if recipient is None:
        return False
    changed = await session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.status.in_(("pending", "sending", "failed")),
        )
        .values(
            status="undeliverable", last_error=_clip(error), next_attempt_at=now, claimed_until=None
        )
        .returning(Notification.id)
    )
    still_open = changed.first() is not None
    log.info("notification %s undeliverable: the recipient's DMs are closed", notification_id)
    await session.execute(
        update(Notification)
        .where(Notification.recipient_id == recipient, Notification.status == "pending")
        .values(status="undeliverable", last_error=_clip(error), next_attempt_at=now)
    )
    await prefs.mark_dms_closed(session, recipient, now)
    return still_open


async def mark_cancelled(
    session: AsyncSession, notification_id: int, *, reason: str, now: datetime
) -> bool:
    """Drop a notification that should not be sent any more (its post or question is gone)."""
    stmt = (
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.status.in_(PENDING_STATUSES),
        )
        .values(
            status="cancelled", last_error=_clip(reason), next_attempt_at=now, claimed_until=None
        )
        .returning(Notification.id)
    )
    return (await session.execute(stmt)).first() is not None


async def release_claims(session: AsyncSession, *, worker_id: str) -> int:
    """Hand a stopping worker's unsent claims back at once (the attempt is not counted)."""
    stmt = (
        update(Notification)
        .where(Notification.status == "sending", Notification.claimed_by == worker_id)
        .values(
            status="pending",
            claimed_by=None,
            claimed_until=None,
            attempts=case((Notification.attempts > 0, Notification.attempts - 1), else_=0),
        )
        .returning(Notification.id)
    )
    return len((await session.execute(stmt)).all())


async def outbox_stats(
    session: AsyncSession, guild_id: int | None = None, *, now: datetime | None = None
) -> OutboxStats:
    """Counts per status, the age of the oldest undelivered row, and the last failure."""
    now = now or utc_now()
    scope = [] if guild_id is None else [Notification.guild_id == guild_id]
    counts = dict.fromkeys(NOTIFICATION_STATUSES, 0)
    rows = await session.execute(
        select(Notification.status, func.count()).where(*scope).group_by(Notification.status)
    )
    for status, count in rows:
        counts[status] = count
    oldest = (
        await session.execute(
            select(func.min(Notification.created_at)).where(
                *scope, Notification.status.in_(PENDING_STATUSES)
            )
        )
    ).scalar_one_or_none()
    last_failure = (
        await session.execute(
            select(Notification.last_error)
            .where(
                *scope,
                Notification.last_error.is_not(None),
                Notification.status != "cancelled",
            )
            .order_by(Notification.next_attempt_at.desc(), Notification.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return OutboxStats(
        counts=counts,
        oldest_pending_age=None if oldest is None else max(timedelta(0), now - oldest),
        last_failure=last_failure,
    )


async def mark_group_retry(
    session: AsyncSession,
    notification_ids: Sequence[int],
    *,
    error: str,
    now: datetime,
    rng: random.Random | None = None,
) -> datetime | None:
    """``mark_retry`` for the notifications of one DM: they stay together.

    One due time for all of them (the backoff of the most attempted one, jittered once), so the
    retry is again one DM; when the most attempted one reached MAX_ATTEMPTS they all fail.
    Returns the next due time, or None when they were given up (or none was being sent).
    """
    if not notification_ids:
        return None
    rows = (
        await session.execute(
            select(Notification.id, Notification.attempts).where(
                Notification.id.in_(list(notification_ids)),
                Notification.status.in_(PENDING_STATUSES),
            )
        )
    ).all()
    if not rows:
        return None
    ids = [row.id for row in rows]
    attempts = max(1, max(row.attempts for row in rows))
    if attempts >= MAX_ATTEMPTS:
        log.warning(
            "notifications %s failed after %s attempts", ",".join(map(str, sorted(ids))), attempts
        )
        await session.execute(
            update(Notification)
            .where(Notification.id.in_(ids))
            .values(
                status="failed", last_error=_clip(error), next_attempt_at=now, claimed_until=None
            )
        )
        return None
    due = now + backoff_delay(attempts, rng or random.Random())
    await session.execute(
        update(Notification)
        .where(Notification.id.in_(ids))
        .values(status="pending", last_error=_clip(error), next_attempt_at=due, claimed_until=None)
    )
    return due


# --------------------------------------------------------------------------- what a DM shows


@dataclass(frozen=True, slots=True)
class NotifiedPost:
    """A post a notification is about, as its DM shows it (read at send time).

    ``display_name`` is the chosen name of an anonymous post (None: "Anonymous"), or the name a
    named author was last seen with (None: not known). ``author_id`` is set for named posts only,
    so the identity behind an anonymous post never leaves the domain.
    """

    notification_id: int
    post_id: int
    kind: str
    thread_id: int | None
    message_id: int | None
    body: str
    anonymous: bool
    display_name: str | None
    author_id: int | None = field(repr=False)


@dataclass(frozen=True, slots=True)
class NotificationContent:
    """What one DM (a group from ``group_claimed``) says, and what is no longer to be sent.

    ``posts`` are the live posts, oldest first; ``cancelled`` maps the ids of notifications
    that should not be sent any more (post or question deleted, acceptance moved away,
    recipient's notifications off or data erased) to the reason. ``dm_channel_id`` is the
    recipient's cached DM channel.
    """

    kind: str
    guild_id: int
    question_id: int | None
    question_title: str | None
    question_thread_id: int | None
    posts: tuple[NotifiedPost, ...]
    cancelled: Mapping[int, str]
    dm_channel_id: int | None

    @property
    def latest(self) -> NotifiedPost | None:
        return self.posts[-1] if self.posts else None

    @property
    def notification_ids(self) -> list[int]:
        """The notifications the DM delivers."""
        return [post.notification_id for post in self.posts]


def _cancel_reason(
    item: OutboxItem, question: Post | None, post: Post | None, recipient: prefs.Prefs
) -> str | None:
    if recipient.erased:
        return "the recipient erased their data"
    if not recipient.notifications:
        return "the recipient turned notifications off"
    if question is None or question.deleted_at is not None:
        return "the question was deleted"
    if post is None or post.deleted_at is not None or post.state != "live":
        return "the post was deleted"
    if item.kind == "accepted" and question.accepted_answer_id != post.id:
        return "the answer is no longer accepted"
    return None


async def notification_content(
    session: AsyncSession, items: Sequence[OutboxItem]
) -> NotificationContent:
    """Read what the DM for ``items`` (one group: recipient, question, kind) shows now.

    Edits are honoured and deleted posts left out; an anonymous author's identity is never
    loaded into the result.
    """
    if not items:
        raise ValueError("a DM needs at least one notification")
    first = items[0]
    if any(item.group != first.group for item in items):
        raise ValueError("the notifications of one DM share recipient, question and kind")
    question = (
        await session.get(Post, first.question_id, populate_existing=True)
        if first.question_id is not None
        else None
    )
    post_ids = sorted({item.post_id for item in items if item.post_id is not None})
    loaded = (
        await session.execute(
            select(Post).where(Post.id.in_(post_ids)).execution_options(populate_existing=True)
        )
        if post_ids
        else None
    )
    by_id = {post.id: post for post in loaded.scalars()} if loaded is not None else {}
    recipient = await prefs.get_prefs(session, first.recipient_id)
    cancelled: dict[int, str] = {}
    live: list[tuple[OutboxItem, Post]] = []
    for item in sorted(items, key=lambda i: i.id):
        post = by_id.get(item.post_id) if item.post_id is not None else None
        reason = _cancel_reason(item, question, post, recipient)
        if reason is not None:
            cancelled[item.id] = reason
        else:
            assert post is not None
            live.append((item, post))
    named = sorted({post.author_id for _, post in live if not post.anonymous})
    names: dict[int, str] = {}
    if named:
        rows = await session.execute(
            select(Member.user_id, Member.display_name).where(
                Member.guild_id == first.guild_id,
                Member.user_id.in_(named),
                Member.display_name.is_not(None),
            )
        )
        names = {row.user_id: row.display_name for row in rows}
    posts = tuple(
        NotifiedPost(
            notification_id=item.id,
            post_id=post.id,
            kind=post.kind,
            thread_id=post.thread_id,
            message_id=post.message_id,
            body=post.body,
            anonymous=post.anonymous,
            display_name=(
                post.display_name
                if post.anonymous
                else post.display_name or names.get(post.author_id)
            ),
            author_id=None if post.anonymous else post.author_id,
        )
        for item, post in sorted(live, key=lambda pair: (pair[1].id, pair[0].id))
    )
    return NotificationContent(
        kind=first.kind,
        guild_id=first.guild_id,
        question_id=first.question_id,
        question_title=question.title if question is not None else None,
        question_thread_id=question.thread_id if question is not None else None,
        posts=posts,
        cancelled=cancelled,
        dm_channel_id=recipient.dm_channel_id,
    )
