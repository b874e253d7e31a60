"""The outbox's reading side: due rows claimed and leased, groups, release, stats."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.forum import delivery, notifications, outbox, prefs, settings
from tests.bot.forum.outbox_support import (
    ASKER,
    FOLLOWER,
    GUILD,
    LEASE,
    NOW,
    add_question,
    add_reply,
    claim,
    outbox_rows,
    queue_answers,
)
from tests.db_support import statements_run


async def test_a_claim_runs_as_many_statements_whatever_its_size(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """On SQLite a claim's reads are one JSON value each and its lease has no ``RETURNING``
    (``bot.db.packed``: no wait for the GIL per row with the write lock held): as many
    statements for 60 rows as for 2, and the same items as PostgreSQL's locked claim."""
    await queue_answers(sessionmaker, 2)
    await queue_answers(sessionmaker, 60)
    async with sessionmaker.begin() as session:
        assert await claim(session, NOW - timedelta(seconds=1)) == []  # the transaction begun
        with statements_run(sessionmaker) as small_run:
            small = await claim(session, NOW, limit=2)
        with statements_run(sessionmaker) as large_run:
            large = await claim(session, NOW, worker="w2", limit=60)
    assert [len(items) for items in (small, large)] == [2, 60]
    assert {item.claimed_by for item in large} == {"w2"}
    assert all(item.attempts == 1 and item.claimed_until == NOW + LEASE for item in large)
    if sessionmaker.kw["bind"].dialect.name == "sqlite":
        assert len(large_run) == len(small_run)
        assert not any("RETURNING" in statement for statement, _ in large_run)


async def test_claim_leases_due_rows_once(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    await queue_answers(sessionmaker, 3)
    async with sessionmaker.begin() as session:
        assert await claim(session, NOW - timedelta(seconds=1)) == []  # not due yet
        items = await claim(session, NOW, limit=2)
        assert len(items) == 2
        for item in items:
            assert item.attempts == 1
            assert item.claimed_by == "w1"
            assert item.claimed_until == NOW + LEASE
            assert item.payload["kind"] == "new_answer"
            assert item.nonce == f"qa-n{item.id}"
            assert len(item.nonce) <= 25  # Discord's nonce limit
        rest = await claim(session, NOW, worker="w2")
        assert len(rest) == 1
        assert await claim(session, NOW + LEASE - timedelta(seconds=1), worker="w3") == []
        statuses = {r.status for r in await outbox_rows(session)}
    assert statuses == {"sending"}


async def test_expired_lease_is_taken_over(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await queue_answers(sessionmaker, 1)
    async with sessionmaker.begin() as session:
        [item] = await claim(session, NOW, worker="dead-worker")
    async with sessionmaker.begin() as session:
        assert await claim(session, NOW + LEASE - timedelta(microseconds=1), worker="w2") == []
        [taken] = await claim(session, NOW + LEASE, worker="w2")
    assert taken.id == item.id
    assert taken.claimed_by == "w2"
    assert taken.attempts == 2
    assert taken.claimed_until == NOW + 2 * LEASE
    # The dead worker may have sent it: the end of its lease is kept with the new claim.
    assert (item.taken_over_from, taken.taken_over_from) == (None, NOW + LEASE)


async def test_a_taken_over_dm_is_looked_for_only_past_the_nonce_window(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await queue_answers(sessionmaker, 1)
    async with sessionmaker.begin() as session:
        [fresh] = await claim(session, NOW, worker="dead-worker")
    assert not outbox.may_be_sent_unprotected([fresh], now=NOW + LEASE, lease=LEASE)
    async with sessionmaker.begin() as session:
        [taken] = await claim(session, NOW + LEASE, worker="w2")
    # Its first send may have been as early as the dead worker's claim, at NOW.
    window = outbox.NONCE_WINDOW
    unprotected = outbox.may_be_sent_unprotected
    assert not unprotected([taken], now=NOW + window - timedelta(seconds=1), lease=LEASE)
    assert unprotected([taken], now=NOW + window, lease=LEASE)
    assert unprotected([fresh, taken], now=NOW + window, lease=LEASE)


async def test_lease_expiring_after_the_last_attempt_fails_the_row(
    sessionmaker: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "MAX_ATTEMPTS", 2)
    await queue_answers(sessionmaker, 1)
    now = NOW
    for _ in range(2):
        async with sessionmaker.begin() as session:
            assert len(await claim(session, now)) == 1
        now += LEASE
    async with sessionmaker.begin() as session:
        assert await claim(session, now) == []
        [row] = await outbox_rows(session)
    assert row.status == "failed"
    assert row.last_error == "the worker's lease expired"


async def test_release_claims_returns_rows_without_counting_the_attempt(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await queue_answers(sessionmaker, 2)
    async with sessionmaker.begin() as session:
        await claim(session, NOW, worker="stopping")
        assert await outbox.release_claims(session, worker_id="other") == 0
        assert await outbox.release_claims(session, worker_id="stopping") == 2
        rows = await outbox_rows(session)
        assert {(r.status, r.attempts, r.claimed_until) for r in rows} == {("pending", 0, None)}
        assert len(await claim(session, NOW, worker="next")) == 2


async def test_two_claimers_never_share_a_row(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Two workers with their own sessions drain a few hundred rows: each row exactly once."""
    total = 300
    await queue_answers(sessionmaker, total)
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    turns = {"a": 0, "b": 0}

    started = {"a": asyncio.Event(), "b": asyncio.Event()}

    async def worker(name: str, other: str) -> None:
        while True:
            async with sessionmaker.begin() as session:
                items = await claim(session, NOW, worker=name, limit=7)
                await asyncio.sleep(0)  # hold the locks across a scheduling point
            # Both take a first turn before either goes on (SQLite could otherwise let one
            # worker take every turn), so the two really drain the outbox side by side.
            started[name].set()
            await started[other].wait()
            if not items:
                return
            turns[name] += 1
            claimed[name].extend(item.id for item in items)
            async with sessionmaker.begin() as session:
                for item in items:
                    assert await delivery.mark_sent(
                        session, item.id, worker_id=name, message_id=item.id, now=NOW
                    )

    await asyncio.gather(worker("a", "b"), worker("b", "a"))
    both = claimed["a"] + claimed["b"]
    assert len(both) == total
    assert len(set(both)) == total
    assert not set(claimed["a"]) & set(claimed["b"])
    assert turns["a"] > 0 and turns["b"] > 0
    async with sessionmaker() as session:
        stats = await outbox.outbox_stats(session, now=NOW)
    assert stats.sent == total and stats.pending == 0


async def test_claim_skips_rows_locked_by_an_open_claim_on_postgresql(
    db_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """While one claim's transaction is still open, another claims other rows without waiting."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers: a second claimer waits for the first to commit")
    await queue_answers(sessionmaker, 10)
    async with sessionmaker.begin() as first:
        mine = await claim(first, NOW, worker="a", limit=4)
        async with sessionmaker.begin() as second:
            theirs = await asyncio.wait_for(claim(second, NOW, worker="b"), timeout=30)
    assert len(mine) == 4
    assert len(theirs) == 6
    assert not {i.id for i in mine} & {i.id for i in theirs}


async def test_group_claimed_gathers_one_dm_per_recipient_question_and_kind(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        await settings.set_setting(session, GUILD, "notify_coalesce_seconds", 0)
        question = await add_question(session)
        await prefs.follow(session, guild_id=GUILD, question_id=question.id, user_id=FOLLOWER)
        answers = [await add_reply(session, question, author_id=100 + i) for i in range(3)]
        for answer in answers:
            await notifications.notify_new_answer(
                session, question=question, answer=answer, now=NOW
            )
        await notifications.notify_accepted(
            session, question=question, answer=answers[0], actor_id=ASKER, now=NOW
        )
        groups = outbox.group_claimed(await claim(session, NOW))
    shapes = sorted((g[0].recipient_id, g[0].kind, len(g)) for g in groups)
    assert shapes == [(ASKER, "new_answer", 3), (FOLLOWER, "new_answer", 3), (100, "accepted", 1)]
    for group in groups:
        assert [i.id for i in group] == sorted(i.id for i in group)
        assert len({i.group for i in group}) == 1
    assert outbox.group_claimed([]) == []


async def test_item_repr_never_names_the_recipient(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    anonymous_asker = 987_654_321_012
    async with sessionmaker.begin() as session:
        question = await add_question(session, author_id=anonymous_asker)
        answer = await add_reply(session, question)
        await notifications.notify_new_answer(session, question=question, answer=answer, now=NOW)
        [item] = await claim(session, NOW)
    assert item.recipient_id == anonymous_asker
    assert str(anonymous_asker) not in repr(item)
    assert "recipient" not in repr(item)


async def test_outbox_stats(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        empty = await outbox.outbox_stats(session, now=NOW)
    assert empty.pending == 0 and empty.sent == 0 and empty.failed == 0
    assert empty.oldest_pending_age is None and empty.last_failure is None
    assert set(empty.counts) == {
        "pending",
        "sending",
        "sent",
        "failed",
        "undeliverable",
        "cancelled",
    }

    async with sessionmaker.begin() as session:
        question = await add_question(session)
        elsewhere = await add_question(session, guild_id=GUILD + 1)
        for user in (1, 2, 3, 4):
            await prefs.follow(session, guild_id=GUILD, question_id=question.id, user_id=user)
        answer = await add_reply(session, question)
        await notifications.notify_new_answer(session, question=question, answer=answer, now=NOW)
        other = await add_reply(session, elsewhere)
        await notifications.notify_new_answer(
            session, question=elsewhere, answer=other, now=NOW - timedelta(hours=2)
        )
    async with sessionmaker.begin() as session:
        items = [i for i in await claim(session, NOW) if i.guild_id == GUILD]
        by_recipient = {item.recipient_id: item for item in items}
        await delivery.mark_sent(session, by_recipient[1].id, worker_id="w1", message_id=1, now=NOW)
        await delivery.mark_sent(session, by_recipient[2].id, worker_id="w1", message_id=2, now=NOW)
        await delivery.mark_undeliverable(session, by_recipient[3].id, error="403 (50007)", now=NOW)
        await delivery.mark_retry(
            session, by_recipient[4].id, error="timeout after 15 s", now=NOW + timedelta(seconds=1)
        )
        # The asker's row stays claimed ("sending").

    async with sessionmaker() as session:
        stats = await outbox.outbox_stats(session, GUILD, now=NOW + timedelta(minutes=5))
        everywhere = await outbox.outbox_stats(session, now=NOW + timedelta(minutes=5))
    assert stats.counts["sent"] == 2
    assert stats.counts["undeliverable"] == 1
    assert stats.counts["pending"] == 1
    assert stats.counts["sending"] == 1
    assert stats.pending == 2
    assert stats.sent == 2 and stats.failed == 0 and stats.undeliverable == 1
    assert stats.oldest_pending_age == timedelta(minutes=5)
    assert stats.last_failure == "timeout after 15 s"
    # Without a guild: the other guild's older claimed row counts too.
    assert everywhere.pending == 3
    assert everywhere.oldest_pending_age == timedelta(hours=2, minutes=5)


async def test_next_due_at(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        assert await outbox.next_due_at(session) is None
    async with sessionmaker.begin() as session:
        question = await add_question(session)
        answers = [await add_reply(session, question, author_id=100 + i) for i in range(2)]
        await notifications.notify_new_answer(
            session, question=question, answer=answers[0], now=NOW
        )
        later = NOW + timedelta(seconds=5)
        await notifications.notify_new_answer(
            session, question=question, answer=answers[1], now=later
        )
        assert await outbox.next_due_at(session) == NOW
        # Claimed: the lease's end counts; the follow-up's slot is a window later.
        [item] = await claim(session, NOW)
        window = timedelta(seconds=settings.DEFAULTS.notify_coalesce_seconds)
        assert await outbox.next_due_at(session) == min(NOW + LEASE, NOW + window)
        await delivery.mark_sent(session, item.id, worker_id="w1", message_id=1, now=NOW)
        assert await outbox.next_due_at(session) == NOW + window
        [follow_up] = await claim(session, NOW + window)
        await delivery.mark_sent(session, follow_up.id, worker_id="w1", message_id=2, now=NOW)
        assert await outbox.next_due_at(session) is None
