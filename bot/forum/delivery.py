"""What happened to a DM: sent, to be retried after a backoff, undeliverable, or cancelled.

The DM worker records each send's outcome: ``mark_sent`` (``mark_many_sent``: many DMs in one
statement); ``mark_retry`` / ``mark_group_retry`` (exponential backoff with jitter, bounded
attempts, then ``failed``; the rows of one DM keep one due time); ``mark_undeliverable`` (DMs
closed: the recipient is marked too); ``mark_cancelled`` (the post is gone). ``last_error`` keeps
ids and codes, never message text.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import bindparam, case, cast, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.backoff import BackoffPolicy
from bot.db.dialect import dialect_name
from bot.db.models import Notification
from bot.db.packed import fetch_packed, field, pack, packed_select
from bot.forum import prefs
from bot.forum.outbox import MAX_ATTEMPTS, PENDING_STATUSES

log = logging.getLogger(__name__)

#: Backoff of failed sends: the n-th retry waits min(300, 2 * 2 ** (n - 1)) seconds, less up to
#: half of it at random (so retries of many rows spread out). After MAX_ATTEMPTS sends the row is
#: ``failed``. So the first retry comes after 1-2 s, the delay is capped at 5 minutes and a row is
#: given up after 10 sends, some 7 to 14 minutes of failures.
RETRY_BACKOFF: Final = BackoffPolicy(first=2.0, most=300.0, factor=2.0, jitter=0.5)

# Longest error text kept in ``last_error`` (it is shown in /qa status).
MAX_ERROR_LENGTH: Final = 500


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
    recorded = await mark_many_sent(
        session, {notification_id: message_id}, worker_id=worker_id, now=now
    )
    return notification_id in recorded


async def mark_many_sent(
    session: AsyncSession,
    messages: Mapping[int, int | None],
    *,
    worker_id: str,
    now: datetime,
) -> set[int]:
    """``mark_sent`` of many notifications in one update: ``messages`` maps each to the id
    of the DM that delivered it. Returns those recorded now (not already sent or closed)."""
    if not messages:
        return set()
    if dialect_name(session) == "sqlite":
        return await _mark_many_sent_packed(session, messages, worker_id=worker_id, now=now)
    open_rows = (
        Notification.id.in_(list(messages)),
        Notification.status.in_(SENDABLE),
    )
    stmt = (
        update(Notification)
        .where(*open_rows)
        .values(
            status="sent",
            sent_at=now,
            # Typed as the column: a batch whose DMs all lack an id is an all-NULL CASE,
            # which PostgreSQL would otherwise type as text.
            sent_message_id=cast(
                case(messages, value=Notification.id), Notification.sent_message_id.type
            ),
            claimed_by=worker_id,
            claimed_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    return set((await session.execute(stmt.returning(Notification.id))).scalars())


#: The statuses a recorded send closes.
SENDABLE: Final = ("pending", "sending", "failed")
# The open rows among the (notification, message) pairs of ``:sent`` (``bot.db.packed``).
_SENDABLE_SQL: Final = ", ".join(repr(s) for s in SENDABLE)
_LIST_SENT: Final = packed_select(
    ["id"],
    f"FROM notifications WHERE id IN (SELECT {field(0)} FROM json_each(:sent)) "
    f"AND status IN ({_SENDABLE_SQL})",
)
# Joined, not a subquery per row, and each packed row looked up by its id: a subquery per row,
# or a plan scanning the open rows by their status index (the ``+`` keeps it from that index),
# read the whole JSON value again for every row (500 DMs: 490 ms).
_MARK_SENT: Final = text(
    "UPDATE notifications SET status = 'sent', sent_at = :now, claimed_by = :worker, "
    "claimed_until = NULL, sent_message_id = j.message_id "
    f"FROM (SELECT {field(0)} AS id, {field(1)} AS message_id FROM json_each(:sent)) AS j "
    f"WHERE notifications.id = j.id AND +notifications.status IN ({_SENDABLE_SQL})"
).bindparams(bindparam("now", type_=Notification.__table__.c.sent_at.type))


async def _mark_many_sent_packed(
    session: AsyncSession, messages: Mapping[int, int | None], *, worker_id: str, now: datetime
) -> set[int]:
    """``mark_many_sent`` on SQLite: two statements of one step each whatever the number of
    DMs (``bot.db.packed``), both compiled once (a ``CASE`` of one branch per DM was a new
    statement for every count, compiled with the write lock held). No ``RETURNING`` (a step per
    row): the transaction holds the write lock, so the rows listed are the rows updated."""
    sent = pack(messages.items())
    recorded = {row[0] for row in await fetch_packed(session, _LIST_SENT, {"sent": sent})}
    if recorded:
        await session.execute(_MARK_SENT, {"sent": sent, "now": now, "worker": worker_id})
    return recorded


def backoff_delay(attempts: int, rng: random.Random | None = None) -> timedelta:
    """The wait before the next send after ``attempts`` failed sends (1, 2, ...).

    Without ``rng`` the upper bound of the schedule (``RETRY_BACKOFF``); with it, uniformly
    jittered between ``(1 - RETRY_BACKOFF.jitter)`` and 1 times that bound.
    """
    if rng is None:
        return timedelta(seconds=RETRY_BACKOFF.ceiling(attempts))
    return timedelta(seconds=RETRY_BACKOFF.pause(attempts, rng))


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
    return await _retry(session, [notification_id], error=error, now=now, rng=rng, group=False)


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
    return await _retry(session, notification_ids, error=error, now=now, rng=rng, group=True)


async def _retry(
    session: AsyncSession,
    notification_ids: Sequence[int],
    *,
    error: str,
    now: datetime,
    rng: random.Random | None,
    group: bool,
) -> datetime | None:
    """Due again after the backoff of the most attempted notification still being sent, or all
    ``failed`` once it reached MAX_ATTEMPTS; None then, or when none is being sent any more."""
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
        which = ",".join(map(str, sorted(ids)))
        log.warning(
            "%s %s failed after %s attempts",
            "notifications" if group else "notification",
            which,
            attempts,
        )
        due, status = now, "failed"
    else:
        due, status = now + backoff_delay(attempts, rng or random.Random()), "pending"
    await session.execute(
        update(Notification)
        .where(Notification.id.in_(ids))
        .values(status=status, last_error=_clip(error), next_attempt_at=due, claimed_until=None)
    )
    return None if status == "failed" else due
