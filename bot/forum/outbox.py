"""The outbox's reading side: the DM worker claims due notifications and leases them.

``claim_due`` leases due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers never
claim one row; SQLite serialises writers), together with the other due rows of their group
(recipient, question, kind), which ``group_claimed`` gathers into one DM. Each claim counts as an
attempt (``MAX_ATTEMPTS`` at most). ``release_claims`` hands a stopping worker's claims back,
``next_due_at`` tells an idle worker when to look again, and ``outbox_stats`` feeds
``/qa status``. What happened to a send is recorded by ``bot.forum.delivery``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any, Final

from sqlalchemy import Select, bindparam, case, func, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.dialect import dialect_name
from bot.db.models import NOTIFICATION_STATUSES, Notification
from bot.db.packed import pack_values
from bot.db.types import stored_utc
from bot.forum.results import snapshot_of

# Sends a notification gets (each claim is one) before it is ``failed``; see bot.forum.delivery.
MAX_ATTEMPTS: Final = 10

PENDING_STATUSES: Final = ("pending", "sending")

#: How long Discord drops a resent message by its nonce ("a few minutes"), less a margin.
NONCE_WINDOW: Final = timedelta(minutes=4)


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
    #: When this claim took the row over from a worker that died while sending it: the end of
    #: that worker's lease (it may have sent the DM any time before); None otherwise.
    taken_over_from: datetime | None = None

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
    await fail_expired_leases(session, now)
    if dialect_name(session) == "sqlite":
        items = await due_items(session, worker_id=worker_id, now=now, lease=lease, limit=limit)
        await lease_items(session, items)
    else:
        items = await _claim_locked(session, worker_id=worker_id, now=now, lease=lease, limit=limit)
    items.sort(key=lambda item: (item.next_attempt_at, item.id))
    return items


async def fail_expired_leases(session: AsyncSession, now: datetime) -> None:
    """Rows whose lease expired after their last allowed attempt: ``failed``, not claimed."""
    await session.execute(
        update(Notification)
        .where(_failing(now))
        .values(
            status="failed",
            claimed_by=None,
            claimed_until=None,
            next_attempt_at=now,
            last_error=func.coalesce(Notification.last_error, "the worker's lease expired"),
        )
    )


def _failing(now: datetime) -> Any:
    return (
        (Notification.status == "sending")
        & (Notification.claimed_until <= now)
        & (Notification.attempts >= MAX_ATTEMPTS)
    )


async def _claim_locked(
    session: AsyncSession, *, worker_id: str, now: datetime, lease: timedelta, limit: int
) -> list[OutboxItem]:
    """``claim_due``'s leases on PostgreSQL: the due rows and their group mates locked ``FOR
    UPDATE SKIP LOCKED`` (several workers never claim one row), then leased."""
    first_stmt = (
        select(
            Notification.id,
            Notification.recipient_id,
            Notification.question_id,
            Notification.kind,
            Notification.status,
            Notification.claimed_until,
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
    taken_over = {row.id: row.claimed_until for row in first if row.status == "sending"}
    groups = {(row.recipient_id, row.question_id, row.kind) for row in first if row.question_id}
    if groups:
        mates_stmt = (
            select(Notification.id, Notification.status, Notification.claimed_until)
            .where(
                _is_due(now),
                tuple_(Notification.recipient_id, Notification.question_id, Notification.kind).in_(
                    list(groups)
                ),
            )
            .with_for_update(skip_locked=True)
        )
        for mate in await session.execute(mates_stmt):
            ids.add(mate.id)
            if mate.status == "sending":
                taken_over[mate.id] = mate.claimed_until
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
    return [_item(row, taken_over.get(row.id)) for row in claimed.scalars()]


# The columns of a due row the claim reads first, and of a claimed row (``OutboxItem``'s).
_DUE_COLUMNS: Final = (
    Notification.id,
    Notification.status,
    Notification.claimed_until,
    Notification.recipient_id,
    Notification.question_id,
    Notification.kind,
)
_ITEM_COLUMNS: Final = (
    Notification.id,
    Notification.guild_id,
    Notification.recipient_id,
    Notification.kind,
    Notification.question_id,
    Notification.post_id,
    Notification.payload,
    Notification.dedupe_key,
    Notification.attempts,
    Notification.created_at,
    Notification.next_attempt_at,
    Notification.claimed_by,
    Notification.claimed_until,
)


async def _packed_rows(session: AsyncSession, stmt: Select[*tuple[Any, ...]]) -> list[list[Any]]:
    """The rows of ``stmt`` read as one JSON value: one step on SQLite (``bot.db.packed``)."""
    rows = stmt.subquery()
    value = (
        await session.execute(select(func.json_group_array(func.json_array(*rows.c))))
    ).scalar_one()
    return list(json.loads(value)) if value else []


async def due_items(
    session: AsyncSession, *, worker_id: str, now: datetime, lease: timedelta, limit: int
) -> list[OutboxItem]:
    """What ``claim_due`` leases on SQLite, whose ``BEGIN IMMEDIATE`` serialises writers: the
    due rows (none that its first step fails), their group mates and their contents, each read
    as one JSON value, as they read once leased (``lease_items``). Nothing is written: on an
    unchanged database (``bot.forum.uow.run_planned``) the rows read due are the rows leased."""
    due_now = _is_due(now) & ~_failing(now)
    first = await _packed_rows(
        session,
        select(*_DUE_COLUMNS)
        .where(due_now)
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit),
    )
    if not first:
        return []
    due = {row[0]: row for row in first}
    groups = {(row[3], row[4], row[5]) for row in first if row[4] is not None}
    if groups:
        group = tuple_(Notification.recipient_id, Notification.question_id, Notification.kind)
        mates = select(*_DUE_COLUMNS).where(due_now, group.in_(list(groups)))
        due.update((row[0], row) for row in await _packed_rows(session, mates))
    rows = select(*_ITEM_COLUMNS).where(Notification.id.in_(list(due)))
    return [
        OutboxItem(
            id=row[0],
            guild_id=row[1],
            recipient_id=row[2],
            kind=row[3],
            question_id=row[4],
            post_id=row[5],
            payload=json.loads(row[6]),
            dedupe_key=row[7],
            attempts=row[8] + 1,
            created_at=stored_utc(row[9]),
            next_attempt_at=stored_utc(row[10]),
            claimed_by=worker_id,
            claimed_until=now + lease,
            taken_over_from=stored_utc(due[row[0]][2]) if due[row[0]][1] == "sending" else None,
        )
        for row in await _packed_rows(session, rows)
    ]


async def lease_items(session: AsyncSession, items: Sequence[OutboxItem]) -> None:
    """Lease the ``due_items`` read on SQLite: one statement step fed one JSON value, without
    ``RETURNING`` (a step per row, each a wait for the GIL with the write lock held)."""
    if items:
        ids = pack_values(item.id for item in items)
        until = items[0].claimed_until
        await session.execute(_LEASE, {"ids": ids, "worker": items[0].claimed_by, "until": until})


_LEASE: Final = text(
    "UPDATE notifications SET status = 'sending', claimed_by = :worker, claimed_until = :until,"
    " attempts = attempts + 1 WHERE id IN (SELECT value FROM json_each(:ids))"
).bindparams(bindparam("until", type_=Notification.__table__.c.claimed_until.type))


async def next_due_at(
    session: AsyncSession, *, failing_at: datetime | None = None
) -> datetime | None:
    """When the next notification falls due: the earliest waiting row, or the earliest lease
    to end (its worker may have died). None when nothing is waiting. A worker with nothing to
    claim sleeps until then (or until woken), so coalesced follow-ups and retries go out on time.
    ``failing_at``: as after ``claim_due``'s first step at that time (those leases failed).
    """
    waiting = (
        await session.execute(
            select(func.min(Notification.next_attempt_at)).where(Notification.status == "pending")
        )
    ).scalar_one_or_none()
    sending = Notification.status == "sending"
    if failing_at is not None:
        sending &= ~_failing(failing_at)
    leased = (
        await session.execute(select(func.min(Notification.claimed_until)).where(sending))
    ).scalar_one_or_none()
    times = [t for t in (waiting, leased) if t is not None]
    return min(times) if times else None


def _item(row: Notification, taken_over_from: datetime | None = None) -> OutboxItem:
    assert row.claimed_by is not None
    assert row.claimed_until is not None
    return snapshot_of(
        OutboxItem, row, payload=json.loads(row.payload), taken_over_from=taken_over_from
    )


def may_be_sent_unprotected(
    items: Sequence[OutboxItem], *, now: datetime, lease: timedelta
) -> bool:
    """Whether a DM of these items may have reached Discord longer ago than its nonce protects:
    taken over from a worker that died while sending it, whose claim (one ``lease`` before its
    end) began ``NONCE_WINDOW`` or more before ``now``. Look for it before sending again."""
    return any(
        now - (item.taken_over_from - lease) >= NONCE_WINDOW
        for item in items
        if item.taken_over_from is not None
    )


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
    oldest = await _oldest_undelivered(session, scope)
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


async def _oldest_undelivered(session: AsyncSession, scope: Sequence[Any]) -> datetime | None:
    return (
        await session.execute(
            select(func.min(Notification.created_at)).where(
                *scope, Notification.status.in_(PENDING_STATUSES)
            )
        )
    ).scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class OutboxBacklog:
    """What the health check and the metrics read of the outbox: DMs not yet delivered (waiting
    or being sent, every server), and how long the oldest of them has waited."""

    undelivered: int
    oldest_age: timedelta | None


async def outbox_backlog(session: AsyncSession, *, now: datetime | None = None) -> OutboxBacklog:
    """The undelivered notifications of every server and the age of the oldest (two indexed
    queries: ``ix_notifications_due`` leads with the status)."""
    now = now or utc_now()
    undelivered = (
        await session.execute(select(func.count()).where(Notification.status.in_(PENDING_STATUSES)))
    ).scalar_one()
    oldest = await _oldest_undelivered(session, [])
    return OutboxBacklog(
        undelivered=undelivered,
        oldest_age=None if oldest is None else max(timedelta(0), now - oldest),
    )
