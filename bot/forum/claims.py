"""The DM worker's claim in two steps (``bot.forum.uow.Planned``): on SQLite the write lock is
held for its writes only.

``plan_claim`` reads what ``outbox.claim_due`` would lease (``outbox.due_items``: the due rows,
their group mates, their contents as they read once leased) and, when nothing is due, when the
next falls due; nothing is written. ``write_claim`` then fails the leases that expired after
their last attempt and leases the rows planned, two statements whatever the number of rows. On
PostgreSQL the claim locks its rows (``FOR UPDATE SKIP LOCKED``, several workers) and runs whole
in the writing step, as ``claim_due`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.dialect import dialect_name
from bot.forum import outbox
from bot.forum.outbox import OutboxItem


@dataclass(frozen=True, slots=True)
class ClaimPlan:
    """A claim as ``plan_claim`` planned it."""

    worker_id: str
    now: datetime
    lease: timedelta
    limit: int
    #: The rows leased, as they read once leased (SQLite); None: claimed in the writing step.
    items: Sequence[OutboxItem] | None = None
    #: When nothing is claimed: when the next notification falls due (SQLite).
    next_due: datetime | None = None


async def plan_claim(
    session: AsyncSession, *, worker_id: str, now: datetime, lease: timedelta, limit: int
) -> ClaimPlan:
    """``claim_due``'s reads on SQLite (see the module's docstring); nothing is written."""
    if dialect_name(session) != "sqlite":
        return ClaimPlan(worker_id, now, lease, limit)
    items = await outbox.due_items(session, worker_id=worker_id, now=now, lease=lease, limit=limit)
    items.sort(key=lambda item: (item.next_attempt_at, item.id))
    next_due = None if items else await outbox.next_due_at(session, failing_at=now)
    return ClaimPlan(worker_id, now, lease, limit, items, next_due)


async def write_claim(
    session: AsyncSession, plan: ClaimPlan
) -> tuple[list[OutboxItem], datetime | None]:
    """The rows ``plan`` leases, leased (oldest due first); when none, when the next falls due."""
    if plan.items is None:
        claimed = await outbox.claim_due(
            session, worker_id=plan.worker_id, now=plan.now, lease=plan.lease, limit=plan.limit
        )
        return claimed, None if claimed else await outbox.next_due_at(session)
    await outbox.fail_expired_leases(session, plan.now)
    await outbox.lease_items(session, plan.items)
    return list(plan.items), plan.next_due
