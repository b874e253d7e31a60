"""The notification outbox: queued with its event, deduplicated, claimed, retried, counted."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Member, Notification, Post
from bot.forum import notifications as outbox
from bot.forum import prefs, settings
from bot.forum.notifications import OutboxItem

GUILD = 1
ASKER = 10
ANSWERER = 20
FOLLOWER = 30
MODERATOR = 40
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
_ids = itertools.count(70_000)


# --------------------------------------------------------------------------- helpers


async def _question(
    session: AsyncSession, *, author_id: int = ASKER, guild_id: int = GUILD
) -> Post:
    thread_id = next(_ids)
    question = Post(
        guild_id=guild_id,
        kind="question",
        author_id=author_id,
        thread_id=thread_id,
        message_id=thread_id,
        title="How do I sleep before an exam?",
        body="I lie awake for hours.",
    )
    session.add(question)
    await session.flush()
    return question


async def _reply(
    session: AsyncSession,
    question: Post,
    *,
    author_id: int = ANSWERER,
    kind: str = "answer",
    parent: Post | None = None,
    anonymous: bool = False,
) -> Post:
    post = Post(
        guild_id=question.guild_id,
        kind=kind,
        author_id=author_id,
        question_id=question.id,
        parent_id=(parent or question).id,
        thread_id=question.thread_id,
        message_id=next(_ids),
        body="Try a fixed wind-down routine.",
        anonymous=anonymous,
    )
    session.add(post)
    await session.flush()
    return post


async def _rows(session: AsyncSession) -> list[Notification]:
    result = await session.execute(
        select(Notification).order_by(Notification.id).execution_options(populate_existing=True)
    )
    return list(result.scalars())


async def _recipients(session: AsyncSession) -> list[int]:
    return sorted(row.recipient_id for row in await _rows(session))


async def _claim(
    session: AsyncSession, now: datetime, *, worker: str = "w1", limit: int = 100
) -> list[OutboxItem]:
    return await outbox.claim_due(session, worker_id=worker, now=now, lease=LEASE, limit=limit)


# --------------------------------------------------------------------------- queueing


async def test_new_answer_notifies_asker_and_followers_not_the_answerer(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await _question(session)
        for user in (FOLLOWER, ANSWERER):  # the answerer follows too: still not notified
            await prefs.follow(session, guild_id=GUILD, question_id=question.id, user_id=user)
        answer = await _reply(session, question)
        assert (
            await outbox.notify_new_answer(session, question=question, answer=answer, now=NOW) == 2
        )
    async with sessionmaker() as session:
        rows = await _rows(session)
    assert sorted(r.recipient_id for r in rows) == [ASKER, FOLLOWER]
    for row in rows:
        assert row.kind == "new_answer"
        assert row.status == "pending"
        assert row.attempts == 0
        assert row.guild_id == GUILD
        assert (row.question_id, row.post_id) == (question.id, answer.id)
        assert row.dedupe_key == f"answer:{answer.id}:{row.recipient_id}"
        assert row.next_attempt_at == NOW  # the first one goes out at once
        assert json.loads(row.payload) == {
            "kind": "new_answer",
            "guild_id": GUILD,
            "question_id": question.id,
            "post_id": answer.id,
            "thread_id": question.thread_id,
            "message_id": answer.message_id,
        }


async def test_payload_holds_no_text_and_no_identity(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await _question(session)
        answer = await _reply(session, question, anonymous=True)
        comment = await _reply(session, question, author_id=FOLLOWER, kind="comment", parent=answer)
        await outbox.notify_new_answer(session, question=question, answer=answer)
        await outbox.notify_accepted(session, question=question, answer=answer, actor_id=ASKER)
        await outbox.notify_comment(session, comment=comment, parent=answer)
        rows = await _rows(session)
    assert {r.kind for r in rows} == {"new_answer", "accepted", "comment"}
    for row in rows:
        payload = row.payload
        assert str(ANSWERER) not in payload and str(FOLLOWER) not in payload
        assert question.body not in payload and answer.body not in payload
        assert "exam" not in payload
        assert set(json.loads(payload)) == {
            "kind",
            "guild_id",
            "question_id",
            "post_id",
            "thread_id",
            "message_id",
        }


async def test_repeated_event_queues_once(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        question = await _question(session)
        answer = await _reply(session, question)
        assert await outbox.notify_new_answer(session, question=question, answer=answer) == 1
        assert await outbox.notify_new_answer(session, question=question, answer=answer) == 0
    # A follower who joins later is queued on a replay; nobody else twice.
    async with sessionmaker.begin() as session:
        await prefs.follow(session, guild_id=GUILD, question_id=question.id, user_id=FOLLOWER)
        assert await outbox.notify_new_answer(session, question=question, answer=answer) == 1
        assert await outbox.notify_new_answer(session, question=question, answer=answer) == 0
        assert await _recipients(session) == [ASKER, FOLLOWER]


async def test_concurrent_repeats_queue_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await _question(session)
        answer = await _reply(session, question)

    async def replay() -> int:
        async with sessionmaker.begin() as session:
            return await outbox.notify_new_answer(session, question=question, answer=answer)

    assert sorted(await asyncio.gather(*(replay() for _ in range(5)))) == [0, 0, 0, 0, 1]


async def test_outbox_row_rolls_back_with_its_event(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await _question(session)
    with pytest.raises(RuntimeError):
        async with sessionmaker.begin() as session:
            answer = await _reply(session, question)
            assert await outbox.notify_new_answer(session, question=question, answer=answer) == 1
            raise RuntimeError("the rest of the event failed")
    async with sessionmaker() as session:
        assert await _rows(session) == []
        assert await session.scalar(select(func.count()).where(Post.kind == "answer")) == 0


async def test_asker_answering_own_question_is_not_notified(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await _question(session)
        await prefs.follow(session, guild_id=GUILD, question_id=question.id, user_id=FOLLOWER)
        answer = await _reply(session, question, author_id=ASKER)
        assert await outbox.notify_new_answer(session, question=question, answer=answer) == 1
        assert await _recipients(session) == [FOLLOWER]


async def test_notifications_off_dms_closed_and_erased_queue_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await _question(session)
        for user in (FOLLOWER, MODERATOR, 50):
            await prefs.follow(session, guild_id=GUILD, question_id=question.id, user_id=user)
        await prefs.set_notifications(session, ASKER, False)
        await prefs.mark_dms_closed(session, FOLLOWER, NOW)
        await prefs.mark_erased(session, MODERATOR, NOW)
        answer = await _reply(session, question)
        assert await outbox.notify_new_answer(session, question=question, answer=answer) == 1
        assert await _recipients(session) == [50]
    # Turning notifications back on (or the DMs-closed notice being consumed) queues again.
    async with sessionmaker.begin() as session:
        await prefs.set_notifications(session, ASKER, True)
        assert await prefs.consume_dms_closed_notice(session, FOLLOWER)
        second = await _reply(session, question, author_id=60)
        assert await outbox.notify_new_answer(session, question=question, answer=second) == 3


async def test_deleted_posts_queue_nothing(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        question = await _question(session)
        answer = await _reply(session, question)
        answer.deleted_at = NOW
        await session.flush()
        assert await outbox.notify_new_answer(session, question=question, answer=answer) == 0
        assert (
            await outbox.notify_accepted(session, question=question, answer=answer, actor_id=ASKER)
            == 0
        )
        live = await _reply(session, question)
        question.deleted_at = NOW
        await session.flush()
        assert await outbox.notify_new_answer(session, question=question, answer=live) == 0
        assert await _rows(session) == []


async def test_accepted_notifies_the_answer_author_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await _question(session)
        answer = await _reply(session, question)
        other = await _reply(session, question, author_id=FOLLOWER)
        assert (
            await outbox.notify_accepted(session, question=question, answer=answer, actor_id=ASKER)
            == 1
        )
        # The acceptance moves away and back: no second DM about the same answer.
        assert (
            await outbox.notify_accepted(session, question=question, answer=other, actor_id=ASKER)
            == 1
        )
        assert (
            await outbox.notify_accepted(session, question=question, answer=answer, actor_id=ASKER)
            == 0
        )
        rows = await _rows(session)
    assert [(r.recipient_id, r.kind, r.dedupe_key) for r in rows] == [
        (ANSWERER, "accepted", f"accepted:{answer.id}:{ANSWERER}"),
        (FOLLOWER, "accepted", f"accepted:{other.id}:{FOLLOWER}"),
    ]


async def test_accepting_own_answer_notifies_nobody_but_a_moderator_accept_does(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await _question(session)
        own = await _reply(session, question, author_id=ASKER)
        assert (
            await outbox.notify_accepted(session, question=question, answer=own, actor_id=ASKER)
            == 0
        )
        assert (
            await outbox.notify_accepted(session, question=question, answer=own, actor_id=MODERATOR)
            == 1
        )
        assert await _recipients(session) == [ASKER]


async def test_comment_on_an_answer_notifies_its_author(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await _question(session)
        answer = await _reply(session, question)
        comment = await _reply(session, question, author_id=ASKER, kind="comment", parent=answer)
        assert await outbox.notify_comment(session, comment=comment, parent=answer) == 1
        assert await outbox.notify_comment(session, comment=comment, parent=answer) == 0
        # The answerer commenting on their own answer, and comments on the question: nobody.
        own = await _reply(session, question, kind="comment", parent=answer)
        assert await outbox.notify_comment(session, comment=own, parent=answer) == 0
        on_question = await _reply(session, question, author_id=FOLLOWER, kind="comment")
        assert await outbox.notify_comment(session, comment=on_question, parent=question) == 0
        rows = await _rows(session)
    assert [(r.recipient_id, r.kind, r.post_id, r.question_id) for r in rows] == [
        (ANSWERER, "comment", comment.id, question.id)
    ]
    assert rows[0].dedupe_key == f"comment:{comment.id}:{ANSWERER}"


# --------------------------------------------------------------------------- coalescing


async def test_burst_is_scheduled_as_one_immediate_and_one_follow_up(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await _question(session)
        for i in range(5):
            answer = await _reply(session, question, author_id=100 + i)
            await outbox.notify_new_answer(
                session, question=question, answer=answer, now=NOW + timedelta(seconds=i)
            )
        due = [r.next_attempt_at for r in await _rows(session)]
    window = timedelta(seconds=settings.DEFAULTS.notify_coalesce_seconds)
    assert due == [NOW] + [NOW + window] * 4

    async with sessionmaker.begin() as session:
        first = await _claim(session, NOW + timedelta(seconds=5))
        assert [item.next_attempt_at for item in first] == [NOW]
        await outbox.mark_sent(session, first[0].id, worker_id="w1", message_id=1, now=NOW)
        assert await _claim(session, NOW + timedelta(seconds=30)) == []
        follow_up = await _claim(session, NOW + window, limit=1)
        # The whole group comes together, beyond the limit: one DM "4 new answers".
        assert len(follow_up) == 4
        assert {item.group for item in follow_up} == {(ASKER, question.id, "new_answer")}


async def test_coalescing_slots(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    window = timedelta(seconds=60)
    async with sessionmaker.begin() as session:
        question = await _question(session)

        async def answer_at(offset: float) -> datetime:
            answer = await _reply(session, question, author_id=next(_ids))
            at = NOW + timedelta(seconds=offset)
            await outbox.notify_new_answer(session, question=question, answer=answer, now=at)
            row = (await _rows(session))[-1]
            return row.next_attempt_at

        assert await answer_at(0) == NOW
        assert await answer_at(2) == NOW + window
        assert await answer_at(59) == NOW + window
        # After the follow-up slot passed, the next one opens a window later.
        assert await answer_at(61) == NOW + 2 * window
        # Long after everything: immediate again.
        assert await answer_at(1000) == NOW + timedelta(seconds=1000)
        # Another kind (an accept) has its own slots.
        answer = await _reply(session, question)
        await outbox.notify_accepted(
            session,
            question=question,
            answer=answer,
            actor_id=ASKER,
            now=NOW + timedelta(seconds=1001),
        )
        assert (await _rows(session))[-1].next_attempt_at == NOW + timedelta(seconds=1001)


async def test_zero_window_never_delays(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        await settings.set_setting(session, GUILD, "notify_coalesce_seconds", 0)
        question = await _question(session)
        for i in range(3):
            answer = await _reply(session, question, author_id=100 + i)
            at = NOW + timedelta(seconds=i)
            await outbox.notify_new_answer(session, question=question, answer=answer, now=at)
        due = [r.next_attempt_at for r in await _rows(session)]
    assert due == [NOW + timedelta(seconds=i) for i in range(3)]


async def test_a_failed_notification_does_not_hold_back_the_next(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await _question(session)
        first = await _reply(session, question)
        await outbox.notify_new_answer(session, question=question, answer=first, now=NOW)
        [item] = await _claim(session, NOW)
        await outbox.mark_undeliverable(session, item.id, error="403 (50007)", now=NOW)
        assert await prefs.consume_dms_closed_notice(session, ASKER)
        second = await _reply(session, question, author_id=FOLLOWER)
        later = NOW + timedelta(seconds=5)
        await outbox.notify_new_answer(session, question=question, answer=second, now=later)
        assert (await _rows(session))[-1].next_attempt_at == later


# --------------------------------------------------------------------------- claiming


async def _queue_answers(
    sessionmaker: async_sessionmaker[AsyncSession], recipients: int, *, now: datetime = NOW
) -> Post:
    """One question with ``recipients`` followers (asker included) and one answer queued."""
    async with sessionmaker.begin() as session:
        question = await _question(session)
        for user in range(1000, 1000 + recipients - 1):
            await prefs.follow(session, guild_id=GUILD, question_id=question.id, user_id=user)
        answer = await _reply(session, question)
        assert (
            await outbox.notify_new_answer(session, question=question, answer=answer, now=now)
            == recipients
        )
    return question


async def test_claim_leases_due_rows_once(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    await _queue_answers(sessionmaker, 3)
    async with sessionmaker.begin() as session:
        assert await _claim(session, NOW - timedelta(seconds=1)) == []  # not due yet
        items = await _claim(session, NOW, limit=2)
        assert len(items) == 2
        for item in items:
            assert item.attempts == 1
            assert item.claimed_by == "w1"
            assert item.claimed_until == NOW + LEASE
            assert item.payload["kind"] == "new_answer"
            assert item.nonce == f"qa-n{item.id}"
            assert len(item.nonce) <= 25  # Discord's nonce limit
        rest = await _claim(session, NOW, worker="w2")
        assert len(rest) == 1
        assert await _claim(session, NOW + LEASE - timedelta(seconds=1), worker="w3") == []
        statuses = {r.status for r in await _rows(session)}
    assert statuses == {"sending"}


async def test_expired_lease_is_taken_over(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _queue_answers(sessionmaker, 1)
    async with sessionmaker.begin() as session:
        [item] = await _claim(session, NOW, worker="dead-worker")
    async with sessionmaker.begin() as session:
        assert await _claim(session, NOW + LEASE - timedelta(microseconds=1), worker="w2") == []
        [taken] = await _claim(session, NOW + LEASE, worker="w2")
    assert taken.id == item.id
    assert taken.claimed_by == "w2"
    assert taken.attempts == 2
    assert taken.claimed_until == NOW + 2 * LEASE


async def test_lease_expiring_after_the_last_attempt_fails_the_row(
    sessionmaker: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "MAX_ATTEMPTS", 2)
    await _queue_answers(sessionmaker, 1)
    now = NOW
    for _ in range(2):
        async with sessionmaker.begin() as session:
            assert len(await _claim(session, now)) == 1
        now += LEASE
    async with sessionmaker.begin() as session:
        assert await _claim(session, now) == []
        [row] = await _rows(session)
    assert row.status == "failed"
    assert row.last_error == "the worker's lease expired"


async def test_mark_sent(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    await _queue_answers(sessionmaker, 1)
    async with sessionmaker.begin() as session:
        [item] = await _claim(session, NOW)
        assert await outbox.mark_sent(session, item.id, worker_id="w1", message_id=555, now=NOW)
        assert not await outbox.mark_sent(session, item.id, worker_id="w1", message_id=555, now=NOW)
        [row] = await _rows(session)
        assert (row.status, row.sent_message_id, row.sent_at) == ("sent", 555, NOW)
        assert row.claimed_until is None
        # A sent row is never claimed again.
        assert await _claim(session, NOW + timedelta(days=1)) == []


async def test_a_taken_over_worker_still_records_its_delivery(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _queue_answers(sessionmaker, 1)
    async with sessionmaker.begin() as session:
        [item] = await _claim(session, NOW, worker="slow")
        await _claim(session, NOW + LEASE, worker="fast")
        assert await outbox.mark_sent(session, item.id, worker_id="slow", message_id=1, now=NOW)
        # The new holder's own mark is then a no-op.
        assert not await outbox.mark_sent(session, item.id, worker_id="fast", message_id=1, now=NOW)


async def test_release_claims_returns_rows_without_counting_the_attempt(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _queue_answers(sessionmaker, 2)
    async with sessionmaker.begin() as session:
        await _claim(session, NOW, worker="stopping")
        assert await outbox.release_claims(session, worker_id="other") == 0
        assert await outbox.release_claims(session, worker_id="stopping") == 2
        rows = await _rows(session)
        assert {(r.status, r.attempts, r.claimed_until) for r in rows} == {("pending", 0, None)}
        assert len(await _claim(session, NOW, worker="next")) == 2


async def test_mark_cancelled(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    await _queue_answers(sessionmaker, 1)
    async with sessionmaker.begin() as session:
        [item] = await _claim(session, NOW)
        assert await outbox.mark_cancelled(session, item.id, reason="answer deleted", now=NOW)
        assert not await outbox.mark_cancelled(session, item.id, reason="again", now=NOW)
        [row] = await _rows(session)
        assert (row.status, row.last_error) == ("cancelled", "answer deleted")
        assert await _claim(session, NOW + timedelta(days=1)) == []


async def test_two_claimers_never_share_a_row(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Two workers with their own sessions drain a few hundred rows: each row exactly once."""
    total = 300
    await _queue_answers(sessionmaker, total)
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    turns = {"a": 0, "b": 0}

    started = {"a": asyncio.Event(), "b": asyncio.Event()}

    async def worker(name: str, other: str) -> None:
        while True:
            async with sessionmaker.begin() as session:
                items = await _claim(session, NOW, worker=name, limit=7)
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
                    assert await outbox.mark_sent(
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
    await _queue_answers(sessionmaker, 10)
    async with sessionmaker.begin() as first:
        mine = await _claim(first, NOW, worker="a", limit=4)
        async with sessionmaker.begin() as second:
            theirs = await asyncio.wait_for(_claim(second, NOW, worker="b"), timeout=30)
    assert len(mine) == 4
    assert len(theirs) == 6
    assert not {i.id for i in mine} & {i.id for i in theirs}


async def test_group_claimed_gathers_one_dm_per_recipient_question_and_kind(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        await settings.set_setting(session, GUILD, "notify_coalesce_seconds", 0)
        question = await _question(session)
        await prefs.follow(session, guild_id=GUILD, question_id=question.id, user_id=FOLLOWER)
        answers = [await _reply(session, question, author_id=100 + i) for i in range(3)]
        for answer in answers:
            await outbox.notify_new_answer(session, question=question, answer=answer, now=NOW)
        await outbox.notify_accepted(
            session, question=question, answer=answers[0], actor_id=ASKER, now=NOW
        )
        groups = outbox.group_claimed(await _claim(session, NOW))
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
        question = await _question(session, author_id=anonymous_asker)
        answer = await _reply(session, question)
        await outbox.notify_new_answer(session, question=question, answer=answer, now=NOW)
        [item] = await _claim(session, NOW)
    assert item.recipient_id == anonymous_asker
    assert str(anonymous_asker) not in repr(item)
    assert "recipient" not in repr(item)


# --------------------------------------------------------------------------- retries


def test_backoff_schedule_properties() -> None:
    delays = [outbox.backoff_delay(n) for n in range(1, outbox.MAX_ATTEMPTS + 20)]
    assert delays[0] <= timedelta(seconds=5)  # the first retry comes within a few seconds
    assert all(a <= b for a, b in itertools.pairwise(delays))  # monotone
    assert max(delays) == timedelta(seconds=outbox.BACKOFF_CAP_SECONDS)  # capped
    assert timedelta(minutes=1) <= max(delays) <= timedelta(minutes=10)
    assert outbox.backoff_delay(10_000) == max(delays)  # no overflow far out
    rng = random.Random(7)
    for n in range(1, 40):
        ceiling = outbox.backoff_delay(n)
        for _ in range(20):
            jittered = outbox.backoff_delay(n, rng)
            assert ceiling * (1 - outbox.BACKOFF_JITTER) <= jittered <= ceiling
    # Jitter really spreads retries.
    assert len({outbox.backoff_delay(5, rng) for _ in range(10)}) > 1


async def test_retries_back_off_then_fail(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    await _queue_answers(sessionmaker, 1)
    rng = random.Random(1)
    now = NOW
    waits: list[timedelta] = []
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        async with sessionmaker.begin() as session:
            assert await _claim(session, now - timedelta(milliseconds=1)) == []
            [item] = await _claim(session, now)
            assert item.attempts == attempt
            due = await outbox.mark_retry(
                session, item.id, error=f"HTTP 503 (attempt {attempt})", now=now, rng=rng
            )
        if attempt < outbox.MAX_ATTEMPTS:
            assert due is not None
            waits.append(due - now)
            now = due
        else:
            assert due is None
    async with sessionmaker() as session:
        [row] = await _rows(session)
    assert row.status == "failed"
    assert row.attempts == outbox.MAX_ATTEMPTS
    assert row.last_error == f"HTTP 503 (attempt {outbox.MAX_ATTEMPTS})"
    assert waits[0] <= timedelta(seconds=5)
    assert max(waits) <= timedelta(seconds=outbox.BACKOFF_CAP_SECONDS)
    for n, wait in enumerate(waits, start=1):
        ceiling = outbox.backoff_delay(n)
        assert ceiling * (1 - outbox.BACKOFF_JITTER) <= wait <= ceiling
    async with sessionmaker.begin() as session:
        assert await _claim(session, now + timedelta(days=1)) == []  # failed stays failed


async def test_retry_of_a_finished_row_is_ignored(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _queue_answers(sessionmaker, 1)
    async with sessionmaker.begin() as session:
        [item] = await _claim(session, NOW)
        await outbox.mark_sent(session, item.id, worker_id="w1", message_id=1, now=NOW)
        assert await outbox.mark_retry(session, item.id, error="late timeout", now=NOW) is None
        assert await outbox.mark_retry(session, 999_999, error="unknown", now=NOW) is None
        [row] = await _rows(session)
        assert row.status == "sent"


async def test_long_errors_are_clipped(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    await _queue_answers(sessionmaker, 1)
    async with sessionmaker.begin() as session:
        [item] = await _claim(session, NOW)
        await outbox.mark_retry(session, item.id, error="x\n" * 2000, now=NOW)
        [row] = await _rows(session)
    assert row.last_error is not None
    assert len(row.last_error) == outbox.MAX_ERROR_LENGTH
    assert "\n" not in row.last_error


# --------------------------------------------------------------------------- DMs closed


async def test_undeliverable_marks_the_user_and_stops(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await _question(session)
        first = await _reply(session, question)
        await outbox.notify_new_answer(session, question=question, answer=first, now=NOW)
        second = await _reply(session, question, author_id=FOLLOWER)
        await outbox.notify_new_answer(session, question=question, answer=second, now=NOW)
    async with sessionmaker.begin() as session:
        [item] = await _claim(session, NOW)
        assert await outbox.mark_undeliverable(
            session, item.id, error="403 Forbidden (50007)", now=NOW
        )
        rows = await _rows(session)
        # Both the refused DM and the one waiting behind it for the same user stop.
        assert {(r.status, r.last_error) for r in rows} == {
            ("undeliverable", "403 Forbidden (50007)")
        }
        assert (await prefs.get_prefs(session, ASKER)).dms_closed_at == NOW
        # Later events queue nothing for them ...
        third = await _reply(session, question, author_id=MODERATOR)
        assert await outbox.notify_new_answer(session, question=question, answer=third) == 0
        assert await _claim(session, NOW + timedelta(days=1)) == []
    # ... until their next command tells them once and clears the marker.
    async with sessionmaker.begin() as session:
        assert await prefs.consume_dms_closed_notice(session, ASKER)
        assert await outbox.notify_new_answer(session, question=question, answer=third) == 1


async def test_undeliverable_unknown_id(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        assert not await outbox.mark_undeliverable(session, 123, error="403", now=NOW)


# --------------------------------------------------------------------------- stats


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
        question = await _question(session)
        elsewhere = await _question(session, guild_id=GUILD + 1)
        for user in (1, 2, 3, 4):
            await prefs.follow(session, guild_id=GUILD, question_id=question.id, user_id=user)
        answer = await _reply(session, question)
        await outbox.notify_new_answer(session, question=question, answer=answer, now=NOW)
        other = await _reply(session, elsewhere)
        await outbox.notify_new_answer(
            session, question=elsewhere, answer=other, now=NOW - timedelta(hours=2)
        )
    async with sessionmaker.begin() as session:
        items = [i for i in await _claim(session, NOW) if i.guild_id == GUILD]
        by_recipient = {item.recipient_id: item for item in items}
        await outbox.mark_sent(session, by_recipient[1].id, worker_id="w1", message_id=1, now=NOW)
        await outbox.mark_sent(session, by_recipient[2].id, worker_id="w1", message_id=2, now=NOW)
        await outbox.mark_undeliverable(session, by_recipient[3].id, error="403 (50007)", now=NOW)
        await outbox.mark_retry(
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


# --------------------------------------------------------------------------- sending a group


async def test_group_retry_keeps_one_due_time_then_fails_together(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        await settings.set_setting(session, GUILD, "notify_coalesce_seconds", 0)
        question = await _question(session)
        for i in range(3):
            answer = await _reply(session, question, author_id=100 + i)
            await outbox.notify_new_answer(session, question=question, answer=answer, now=NOW)
    now = NOW
    rng = random.Random(3)
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        async with sessionmaker.begin() as session:
            items = await _claim(session, now)
            assert len(items) == 3 and {i.attempts for i in items} == {attempt}
            due = await outbox.mark_group_retry(
                session, [i.id for i in items], error="HTTP 503", now=now, rng=rng
            )
            rows = await _rows(session)
        if attempt < outbox.MAX_ATTEMPTS:
            assert due is not None
            assert due - now <= outbox.backoff_delay(attempt)
            assert {(r.status, r.next_attempt_at) for r in rows} == {("pending", due)}
            now = due
        else:
            assert due is None
            assert {(r.status, r.last_error) for r in rows} == {("failed", "HTTP 503")}
    async with sessionmaker.begin() as session:
        assert await outbox.mark_group_retry(session, [], error="x", now=now) is None
        assert (
            await outbox.mark_group_retry(session, [r.id for r in rows], error="x", now=now) is None
        )


async def test_group_retry_follows_the_most_attempted_row(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        await settings.set_setting(session, GUILD, "notify_coalesce_seconds", 0)
        question = await _question(session)
        first = await _reply(session, question)
        await outbox.notify_new_answer(session, question=question, answer=first, now=NOW)
        [old] = await _claim(session, NOW)
        await outbox.mark_retry(session, old.id, error="timeout", now=NOW)
        # A later answer joins the slot of the retry: claimed together, fewer attempts.
        later = await _reply(session, question, author_id=FOLLOWER)
        await outbox.notify_new_answer(session, question=question, answer=later, now=NOW)
        rows = await _rows(session)
        due = max(r.next_attempt_at for r in rows)
        items = await _claim(session, due)
        assert sorted(i.attempts for i in items) == [1, 2]
        next_due = await outbox.mark_group_retry(
            session, [i.id for i in items], error="HTTP 500", now=due
        )
        assert next_due is not None
        ceiling = outbox.backoff_delay(2)  # the most attempted row's backoff
        assert ceiling * (1 - outbox.BACKOFF_JITTER) <= next_due - due <= ceiling
        assert {r.next_attempt_at for r in await _rows(session)} == {next_due}


async def test_content_reads_live_posts_at_send_time(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        await settings.set_setting(session, GUILD, "notify_coalesce_seconds", 0)
        question = await _question(session)
        named = await _reply(session, question, author_id=ANSWERER)
        hidden = await _reply(session, question, author_id=987_654_321, anonymous=True)
        hidden.display_name = "Night owl"
        faceless = await _reply(session, question, author_id=987_654_322, anonymous=True)
        for answer in (named, hidden, faceless):
            await outbox.notify_new_answer(session, question=question, answer=answer, now=NOW)
        session.add(Member(guild_id=GUILD, user_id=ANSWERER, display_name="Bea"))
        named.body = "Edited after queueing."
        await session.flush()
        [group] = outbox.group_claimed(await _claim(session, NOW))
        await prefs.remember_dm_channel(session, ASKER, 4242)
        content = await outbox.notification_content(session, group)
    assert content.kind == "new_answer"
    assert (content.guild_id, content.question_id) == (GUILD, question.id)
    assert content.question_title == question.title
    assert content.question_thread_id == question.thread_id
    assert content.dm_channel_id == 4242
    assert content.cancelled == {}
    assert content.notification_ids == [i.id for i in group]
    assert [(p.post_id, p.anonymous, p.display_name) for p in content.posts] == [
        (named.id, False, "Bea"),
        (hidden.id, True, "Night owl"),
        (faceless.id, True, None),
    ]
    assert content.posts[0].body == "Edited after queueing."
    assert content.posts[0].author_id == ANSWERER
    assert content.posts[0].message_id == named.message_id
    assert content.latest == content.posts[-1]
    # The identity behind an anonymous answer is not in the result, nor in its repr.
    for post in content.posts[1:]:
        assert post.author_id is None
    assert "987654321" not in repr(content) and "987654322" not in repr(content)


async def test_content_cancels_what_should_no_longer_be_sent(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        await settings.set_setting(session, GUILD, "notify_coalesce_seconds", 0)
        question = await _question(session)
        kept = await _reply(session, question, author_id=100)
        deleted = await _reply(session, question, author_id=101)
        for answer in (kept, deleted):
            await outbox.notify_new_answer(session, question=question, answer=answer, now=NOW)
        await outbox.notify_accepted(
            session, question=question, answer=kept, actor_id=ASKER, now=NOW
        )
        deleted.deleted_at = NOW
        await session.flush()
        groups = outbox.group_claimed(await _claim(session, NOW))
        by_kind = {g[0].kind: g for g in groups}
        answers = await outbox.notification_content(session, by_kind["new_answer"])
        assert [p.post_id for p in answers.posts] == [kept.id]
        assert list(answers.cancelled.values()) == ["the post was deleted"]
        # The acceptance is not on the answer (it was never stored as accepted here).
        accepted = await outbox.notification_content(session, by_kind["accepted"])
        assert accepted.posts == ()
        assert list(accepted.cancelled.values()) == ["the answer is no longer accepted"]
        # Notifications turned off after queueing: nothing is sent.
        await prefs.set_notifications(session, ASKER, False)
        muted = await outbox.notification_content(session, by_kind["new_answer"])
        assert muted.posts == ()
        assert set(muted.cancelled.values()) == {"the recipient turned notifications off"}
        question.deleted_at = NOW
        await session.flush()
        await prefs.set_notifications(session, ASKER, True)
        gone = await outbox.notification_content(session, by_kind["new_answer"])
        assert set(gone.cancelled.values()) == {"the question was deleted"}
        with pytest.raises(ValueError):
            await outbox.notification_content(session, [])
        with pytest.raises(ValueError):
            await outbox.notification_content(
                session, [*by_kind["new_answer"], *by_kind["accepted"]]
            )


async def test_next_due_at(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        assert await outbox.next_due_at(session) is None
    async with sessionmaker.begin() as session:
        question = await _question(session)
        answers = [await _reply(session, question, author_id=100 + i) for i in range(2)]
        await outbox.notify_new_answer(session, question=question, answer=answers[0], now=NOW)
        later = NOW + timedelta(seconds=5)
        await outbox.notify_new_answer(session, question=question, answer=answers[1], now=later)
        assert await outbox.next_due_at(session) == NOW
        # Claimed: the lease's end counts; the follow-up's slot is a window later.
        [item] = await _claim(session, NOW)
        window = timedelta(seconds=settings.DEFAULTS.notify_coalesce_seconds)
        assert await outbox.next_due_at(session) == min(NOW + LEASE, NOW + window)
        await outbox.mark_sent(session, item.id, worker_id="w1", message_id=1, now=NOW)
        assert await outbox.next_due_at(session) == NOW + window
        [follow_up] = await _claim(session, NOW + window)
        await outbox.mark_sent(session, follow_up.id, worker_id="w1", message_id=2, now=NOW)
        assert await outbox.next_due_at(session) is None
