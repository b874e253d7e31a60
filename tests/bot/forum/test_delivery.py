"""What happened to a send: sent, retried with backoff, undeliverable, cancelled."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.forum import delivery, notifications, outbox, prefs, settings
from tests.bot.forum.outbox_support import (
    ASKER,
    FOLLOWER,
    GUILD,
    LEASE,
    MODERATOR,
    NOW,
    add_question,
    add_reply,
    claim,
    outbox_rows,
    queue_answers,
)


async def test_mark_sent(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    await queue_answers(sessionmaker, 1)
    async with sessionmaker.begin() as session:
        [item] = await claim(session, NOW)
        assert await delivery.mark_sent(session, item.id, worker_id="w1", message_id=555, now=NOW)
        assert not await delivery.mark_sent(
            session, item.id, worker_id="w1", message_id=555, now=NOW
        )
        [row] = await outbox_rows(session)
        assert (row.status, row.sent_message_id, row.sent_at) == ("sent", 555, NOW)
        assert row.claimed_until is None
        # A sent row is never claimed again.
        assert await claim(session, NOW + timedelta(days=1)) == []


async def test_mark_many_sent_records_each_dm_in_one_update(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await queue_answers(sessionmaker, 4)
    async with sessionmaker.begin() as session:
        items = await claim(session, NOW)
        first, second, third, closed = (item.id for item in items)
        assert await delivery.mark_cancelled(session, closed, reason="answer deleted", now=NOW)
        messages = {first: 501, second: 502, third: 503, closed: 504}
        recorded = await delivery.mark_many_sent(session, messages, worker_id="w1", now=NOW)
        assert recorded == {first, second, third}
        # Recording again changes nothing (a DM is recorded once).
        again = await delivery.mark_many_sent(session, messages, worker_id="w1", now=NOW)
        assert again == set()
        assert await delivery.mark_many_sent(session, {}, worker_id="w1", now=NOW) == set()
        rows = {row.id: row for row in await outbox_rows(session)}
    assert [(rows[i].status, rows[i].sent_message_id) for i in (first, second, third)] == [
        ("sent", 501),
        ("sent", 502),
        ("sent", 503),
    ]
    assert {rows[i].sent_at for i in (first, second, third)} == {NOW}
    assert (rows[closed].status, rows[closed].sent_message_id) == ("cancelled", None)


async def test_a_batch_of_dms_without_message_ids_is_recorded(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await queue_answers(sessionmaker, 2)
    async with sessionmaker.begin() as session:
        ids = [item.id for item in await claim(session, NOW)]
        messages: dict[int, int | None] = dict.fromkeys(ids)
        recorded = await delivery.mark_many_sent(session, messages, worker_id="w1", now=NOW)
        assert recorded == set(ids)
        rows = await outbox_rows(session)
    assert {(row.status, row.sent_message_id) for row in rows} == {("sent", None)}


async def test_a_taken_over_worker_still_records_its_delivery(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await queue_answers(sessionmaker, 1)
    async with sessionmaker.begin() as session:
        [item] = await claim(session, NOW, worker="slow")
        await claim(session, NOW + LEASE, worker="fast")
        assert await delivery.mark_sent(session, item.id, worker_id="slow", message_id=1, now=NOW)
        # The new holder's own mark is then a no-op.
        assert not await delivery.mark_sent(
            session, item.id, worker_id="fast", message_id=1, now=NOW
        )


async def test_mark_cancelled(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    await queue_answers(sessionmaker, 1)
    async with sessionmaker.begin() as session:
        [item] = await claim(session, NOW)
        assert await delivery.mark_cancelled(session, item.id, reason="answer deleted", now=NOW)
        assert not await delivery.mark_cancelled(session, item.id, reason="again", now=NOW)
        [row] = await outbox_rows(session)
        assert (row.status, row.last_error) == ("cancelled", "answer deleted")
        assert await claim(session, NOW + timedelta(days=1)) == []


def test_backoff_schedule_properties() -> None:
    delays = [delivery.backoff_delay(n) for n in range(1, outbox.MAX_ATTEMPTS + 20)]
    assert delays[0] <= timedelta(seconds=5)  # the first retry comes within a few seconds
    assert all(a <= b for a, b in itertools.pairwise(delays))  # monotone
    assert max(delays) == timedelta(seconds=delivery.RETRY_BACKOFF.most)  # capped
    assert timedelta(minutes=1) <= max(delays) <= timedelta(minutes=10)
    assert delivery.backoff_delay(10_000) == max(delays)  # no overflow far out
    rng = random.Random(7)
    for n in range(1, 40):
        ceiling = delivery.backoff_delay(n)
        for _ in range(20):
            jittered = delivery.backoff_delay(n, rng)
            assert ceiling * (1 - delivery.RETRY_BACKOFF.jitter) <= jittered <= ceiling
    # Jitter really spreads retries.
    assert len({delivery.backoff_delay(5, rng) for _ in range(10)}) > 1


async def test_retries_back_off_then_fail(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    await queue_answers(sessionmaker, 1)
    rng = random.Random(1)
    now = NOW
    waits: list[timedelta] = []
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        async with sessionmaker.begin() as session:
            assert await claim(session, now - timedelta(milliseconds=1)) == []
            [item] = await claim(session, now)
            assert item.attempts == attempt
            due = await delivery.mark_retry(
                session, item.id, error=f"HTTP 503 (attempt {attempt})", now=now, rng=rng
            )
        if attempt < outbox.MAX_ATTEMPTS:
            assert due is not None
            waits.append(due - now)
            now = due
        else:
            assert due is None
    async with sessionmaker() as session:
        [row] = await outbox_rows(session)
    assert row.status == "failed"
    assert row.attempts == outbox.MAX_ATTEMPTS
    assert row.last_error == f"HTTP 503 (attempt {outbox.MAX_ATTEMPTS})"
    assert waits[0] <= timedelta(seconds=5)
    assert max(waits) <= timedelta(seconds=delivery.RETRY_BACKOFF.most)
    for n, wait in enumerate(waits, start=1):
        ceiling = delivery.backoff_delay(n)
        assert ceiling * (1 - delivery.RETRY_BACKOFF.jitter) <= wait <= ceiling
    async with sessionmaker.begin() as session:
        assert await claim(session, now + timedelta(days=1)) == []  # failed stays failed


async def test_retry_of_a_finished_row_is_ignored(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await queue_answers(sessionmaker, 1)
    async with sessionmaker.begin() as session:
        [item] = await claim(session, NOW)
        await delivery.mark_sent(session, item.id, worker_id="w1", message_id=1, now=NOW)
        assert await delivery.mark_retry(session, item.id, error="late timeout", now=NOW) is None
        assert await delivery.mark_retry(session, 999_999, error="unknown", now=NOW) is None
        [row] = await outbox_rows(session)
        assert row.status == "sent"


async def test_long_errors_are_clipped(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    await queue_answers(sessionmaker, 1)
    async with sessionmaker.begin() as session:
        [item] = await claim(session, NOW)
        await delivery.mark_retry(session, item.id, error="x\n" * 2000, now=NOW)
        [row] = await outbox_rows(session)
    assert row.last_error is not None
    assert len(row.last_error) == delivery.MAX_ERROR_LENGTH
    assert "\n" not in row.last_error


async def test_undeliverable_marks_the_user_and_stops(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await add_question(session)
        first = await add_reply(session, question)
        await notifications.notify_new_answer(session, question=question, answer=first, now=NOW)
        second = await add_reply(session, question, author_id=FOLLOWER)
        await notifications.notify_new_answer(session, question=question, answer=second, now=NOW)
    async with sessionmaker.begin() as session:
        [item] = await claim(session, NOW)
        assert await delivery.mark_undeliverable(
            session, item.id, error="403 Forbidden (50007)", now=NOW
        )
        rows = await outbox_rows(session)
        # Both the refused DM and the one waiting behind it for the same user stop.
        assert {(r.status, r.last_error) for r in rows} == {
            ("undeliverable", "403 Forbidden (50007)")
        }
        assert (await prefs.get_prefs(session, ASKER)).dms_closed_at == NOW
        # Later events queue nothing for them ...
        third = await add_reply(session, question, author_id=MODERATOR)
        assert await notifications.notify_new_answer(session, question=question, answer=third) == 0
        assert await claim(session, NOW + timedelta(days=1)) == []
    # ... until their next command tells them once and clears the marker.
    async with sessionmaker.begin() as session:
        assert await prefs.consume_dms_closed_notice(session, ASKER)
        assert await notifications.notify_new_answer(session, question=question, answer=third) == 1


async def test_undeliverable_unknown_id(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        assert not await delivery.mark_undeliverable(session, 123, error="403", now=NOW)


async def test_group_retry_keeps_one_due_time_then_fails_together(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        await settings.set_setting(session, GUILD, "notify_coalesce_seconds", 0)
        question = await add_question(session)
        for i in range(3):
            answer = await add_reply(session, question, author_id=100 + i)
            await notifications.notify_new_answer(
                session, question=question, answer=answer, now=NOW
            )
    now = NOW
    rng = random.Random(3)
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        async with sessionmaker.begin() as session:
            items = await claim(session, now)
            assert len(items) == 3 and {i.attempts for i in items} == {attempt}
            due = await delivery.mark_group_retry(
                session, [i.id for i in items], error="HTTP 503", now=now, rng=rng
            )
            rows = await outbox_rows(session)
        if attempt < outbox.MAX_ATTEMPTS:
            assert due is not None
            assert due - now <= delivery.backoff_delay(attempt)
            assert {(r.status, r.next_attempt_at) for r in rows} == {("pending", due)}
            now = due
        else:
            assert due is None
            assert {(r.status, r.last_error) for r in rows} == {("failed", "HTTP 503")}
    async with sessionmaker.begin() as session:
        assert await delivery.mark_group_retry(session, [], error="x", now=now) is None
        assert (
            await delivery.mark_group_retry(session, [r.id for r in rows], error="x", now=now)
            is None
        )


async def test_group_retry_follows_the_most_attempted_row(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        await settings.set_setting(session, GUILD, "notify_coalesce_seconds", 0)
        question = await add_question(session)
        first = await add_reply(session, question)
        await notifications.notify_new_answer(session, question=question, answer=first, now=NOW)
        [old] = await claim(session, NOW)
        await delivery.mark_retry(session, old.id, error="timeout", now=NOW)
        # A later answer joins the slot of the retry: claimed together, fewer attempts.
        later = await add_reply(session, question, author_id=FOLLOWER)
        await notifications.notify_new_answer(session, question=question, answer=later, now=NOW)
        rows = await outbox_rows(session)
        due = max(r.next_attempt_at for r in rows)
        items = await claim(session, due)
        assert sorted(i.attempts for i in items) == [1, 2]
        next_due = await delivery.mark_group_retry(
            session, [i.id for i in items], error="HTTP 500", now=due
        )
        assert next_due is not None
        ceiling = delivery.backoff_delay(2)  # the most attempted row's backoff
        assert ceiling * (1 - delivery.RETRY_BACKOFF.jitter) <= next_due - due <= ceiling
        assert {r.next_attempt_at for r in await outbox_rows(session)} == {next_due}


async def test_recorded_sends_look_each_packed_row_up_by_its_id_on_sqlite(
    engine: AsyncEngine,
) -> None:
    # A plan driven by the open rows' status index read the packed JSON again for each row:
    # quadratic in the DMs recorded at once. Each packed row must find its row by id instead.
    if engine.dialect.name != "sqlite":
        assert engine.dialect.name == "postgresql"  # there the update takes a list of ids
        return
    plan_of = "EXPLAIN QUERY PLAN " + delivery._MARK_SENT.text
    async with engine.connect() as connection:
        plan = (
            await connection.exec_driver_sql(plan_of, {"sent": "[]", "now": None, "worker": "w"})
        ).all()
    steps = [str(row[-1]) for row in plan]
    assert steps[0].startswith("SCAN json_each")
    assert any("notifications USING INTEGER PRIMARY KEY" in step for step in steps)
