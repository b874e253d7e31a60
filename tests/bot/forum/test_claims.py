"""The DM worker's claim in two steps (``bot.forum.claims``): it leases what ``outbox.claim_due``
leases (a lease expired after its last attempt failed, not claimed), its write step runs as many
statements (no read, no ``RETURNING``) for 60 rows as for 2, and through the transaction runner
on an SQLite file it plans without the write lock and plans again when another connection
committed meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db.engine import create_sessionmaker, is_sqlite
from bot.forum import outbox
from bot.forum.claims import ClaimPlan, plan_claim, write_claim
from bot.forum.outbox import OutboxItem
from bot.forum.uow import Planned
from bot.transactions import TransactionRunner
from tests.bot.forum.outbox_support import LEASE, NOW, claim, outbox_rows, queue_answers
from tests.db_support import commit_elsewhere, statements_run

Claimed = tuple[list[OutboxItem], datetime | None]


def _planned(
    now: datetime, plans: list[ClaimPlan], meanwhile: Callable[[], None] | None = None
) -> Planned[ClaimPlan, Claimed]:
    """The claim as the DM worker runs it; its first plan runs ``meanwhile`` afterwards."""

    async def plan(session: AsyncSession) -> ClaimPlan:
        plans.append(await plan_claim(session, worker_id="w1", now=now, lease=LEASE, limit=100))
        if meanwhile is not None and len(plans) == 1:
            meanwhile()
        return plans[-1]

    return Planned("claim", plan, write_claim)


async def test_a_planned_claim_leases_what_claim_due_leases(
    sessionmaker: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "MAX_ATTEMPTS", 1)
    await queue_answers(sessionmaker, 1)
    async with sessionmaker.begin() as session:
        assert len(await claim(session, NOW)) == 1  # its last attempt: it fails at its lease's end
    await queue_answers(sessionmaker, 3)
    later = NOW + LEASE
    plans: list[ClaimPlan] = []
    async with sessionmaker() as session:  # its own transaction, rolled back
        items, next_due = await _planned(later, plans)(session)
        stored = [(r.id, r.status, r.attempts, r.claimed_by) for r in await outbox_rows(session)]
        await session.rollback()
    async with sessionmaker.begin() as session:
        direct = await claim(session, later)
        expected = [(r.id, r.status, r.attempts, r.claimed_by) for r in await outbox_rows(session)]
        assert (await _planned(later, [])(session)) == ([], await outbox.next_due_at(session))
    assert (plans[0].items is not None) is (sessionmaker.kw["bind"].dialect.name == "sqlite")
    assert (items, next_due) == (direct, None)
    assert [item.attempts for item in items] == [1, 1, 1]
    assert stored == expected
    assert [status for _, status, _, _ in stored] == ["failed", "sending", "sending", "sending"]


async def test_the_write_step_runs_as_many_statements_for_60_rows_as_for_2(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """On SQLite the write step fails expired leases and leases the rows planned: no read, no
    ``RETURNING``, the same statements for 60 rows as for 2."""
    await queue_answers(sessionmaker, 2)
    await queue_answers(sessionmaker, 60)
    runs = []
    for limit in (2, 60):
        async with sessionmaker.begin() as session:
            plan = await plan_claim(session, worker_id="w", now=NOW, lease=LEASE, limit=limit)
            with statements_run(sessionmaker) as seen:
                items, _ = await write_claim(session, plan)
        assert len(items) == limit
        runs.append(seen)
    small, large = runs
    if sessionmaker.kw["bind"].dialect.name != "sqlite":
        return
    assert len(large) == len(small) == 2
    assert not any(many or "RETURNING" in sql.upper() for sql, many in large)
    assert [sql.lstrip().split()[0].upper() for sql, _ in large] == ["UPDATE", "UPDATE"]


async def test_a_planned_claim_plans_without_the_write_lock_and_again_when_the_data_moved(
    db_url: str, engine: AsyncEngine, runner: TransactionRunner
) -> None:
    """On an SQLite file the claim plans before its writing transaction: meanwhile another
    connection takes the write lock at once and marks a due row sent; the write plans again
    and leaves that row alone. Elsewhere both steps are one transaction."""
    sessionmaker = create_sessionmaker(engine)
    await queue_answers(sessionmaker, 3)
    async with sessionmaker() as session:
        first = (await outbox_rows(session))[0].id
    sent_elsewhere = commit_elsewhere(
        db_url, "UPDATE notifications SET status = 'sent' WHERE id = ?", (first,)
    )
    plans: list[ClaimPlan] = []
    in_thread = is_sqlite(db_url)  # an SQLite file: the write runner's thread
    items, _ = await runner.write(_planned(NOW, plans, sent_elsewhere if in_thread else None))
    async with sessionmaker() as session:
        statuses = {row.id: row.status for row in await outbox_rows(session)}
    if in_thread:
        assert len(plans) == 2
        assert first not in {item.id for item in items} and len(items) == 2
        assert statuses[first] == "sent"
    else:
        assert len(plans) == 1 and len(items) == 3
    assert sorted(statuses.values()) == sorted(["sent"] * in_thread + ["sending"] * len(items))
