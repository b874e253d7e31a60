"""Notifications queued with their event: recipients, deduplication, coalescing slots."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Post
from bot.forum import delivery, notifications, prefs, settings
from tests.bot.forum.outbox_support import (
    ANSWERER,
    ASKER,
    FOLLOWER,
    GUILD,
    MODERATOR,
    NOW,
    add_question,
    add_reply,
    claim,
    outbox_rows,
    recipients,
    unique_ids,
)

# --------------------------------------------------------------------------- queueing


async def test_new_answer_notifies_asker_and_followers_not_the_answerer(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await add_question(session)
        for user in (FOLLOWER, ANSWERER):  # the answerer follows too: still not notified
            await prefs.follow(session, guild_id=GUILD, question_id=question.id, user_id=user)
        answer = await add_reply(session, question)
        assert (
            await notifications.notify_new_answer(
                session, question=question, answer=answer, now=NOW
            )
            == 2
        )
    async with sessionmaker() as session:
        rows = await outbox_rows(session)
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
        question = await add_question(session)
        answer = await add_reply(session, question, anonymous=True)
        comment = await add_reply(
            session, question, author_id=FOLLOWER, kind="comment", parent=answer
        )
        await notifications.notify_new_answer(session, question=question, answer=answer)
        await notifications.notify_accepted(
            session, question=question, answer=answer, actor_id=ASKER
        )
        await notifications.notify_comment(
            session, question=question, comment=comment, parent=answer
        )
        rows = await outbox_rows(session)
    assert {r.kind for r in rows} == {"new_answer", "accepted", "comment"}
    for row in rows:
        payload = row.payload
        # Compared as values, not substrings: an id such as 70120 holds "20" by chance.
        assert not {ANSWERER, FOLLOWER} & set(json.loads(payload).values())
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
        question = await add_question(session)
        answer = await add_reply(session, question)
        assert await notifications.notify_new_answer(session, question=question, answer=answer) == 1
        assert await notifications.notify_new_answer(session, question=question, answer=answer) == 0
    # A follower who joins later is queued on a replay; nobody else twice.
    async with sessionmaker.begin() as session:
        await prefs.follow(session, guild_id=GUILD, question_id=question.id, user_id=FOLLOWER)
        assert await notifications.notify_new_answer(session, question=question, answer=answer) == 1
        assert await notifications.notify_new_answer(session, question=question, answer=answer) == 0
        assert await recipients(session) == [ASKER, FOLLOWER]


async def test_concurrent_repeats_queue_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await add_question(session)
        answer = await add_reply(session, question)

    async def replay() -> int:
        async with sessionmaker.begin() as session:
            return await notifications.notify_new_answer(session, question=question, answer=answer)

    assert sorted(await asyncio.gather(*(replay() for _ in range(5)))) == [0, 0, 0, 0, 1]


async def test_outbox_row_rolls_back_with_its_event(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await add_question(session)
    with pytest.raises(RuntimeError):
        async with sessionmaker.begin() as session:
            answer = await add_reply(session, question)
            assert (
                await notifications.notify_new_answer(session, question=question, answer=answer)
                == 1
            )
            raise RuntimeError("the rest of the event failed")
    async with sessionmaker() as session:
        assert await outbox_rows(session) == []
        assert await session.scalar(select(func.count()).where(Post.kind == "answer")) == 0


async def test_asker_answering_own_question_is_not_notified(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await add_question(session)
        await prefs.follow(session, guild_id=GUILD, question_id=question.id, user_id=FOLLOWER)
        answer = await add_reply(session, question, author_id=ASKER)
        assert await notifications.notify_new_answer(session, question=question, answer=answer) == 1
        assert await recipients(session) == [FOLLOWER]


async def test_notifications_off_dms_closed_and_erased_queue_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await add_question(session)
        for user in (FOLLOWER, MODERATOR, 50):
            await prefs.follow(session, guild_id=GUILD, question_id=question.id, user_id=user)
        await prefs.set_notifications(session, ASKER, False)
        await prefs.mark_dms_closed(session, FOLLOWER, NOW)
        await prefs.mark_erased(session, MODERATOR, NOW)
        answer = await add_reply(session, question)
        assert await notifications.notify_new_answer(session, question=question, answer=answer) == 1
        assert await recipients(session) == [50]
    # Turning notifications back on (or the DMs-closed notice being consumed) queues again.
    async with sessionmaker.begin() as session:
        await prefs.set_notifications(session, ASKER, True)
        assert await prefs.consume_dms_closed_notice(session, FOLLOWER)
        second = await add_reply(session, question, author_id=60)
        assert await notifications.notify_new_answer(session, question=question, answer=second) == 3


async def test_deleted_posts_queue_nothing(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        question = await add_question(session)
        answer = await add_reply(session, question)
        answer.deleted_at = NOW
        await session.flush()
        assert await notifications.notify_new_answer(session, question=question, answer=answer) == 0
        assert (
            await notifications.notify_accepted(
                session, question=question, answer=answer, actor_id=ASKER
            )
            == 0
        )
        live = await add_reply(session, question)
        question.deleted_at = NOW
        await session.flush()
        assert await notifications.notify_new_answer(session, question=question, answer=live) == 0
        assert await outbox_rows(session) == []


async def test_accepted_notifies_the_answer_author_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await add_question(session)
        answer = await add_reply(session, question)
        other = await add_reply(session, question, author_id=FOLLOWER)
        assert (
            await notifications.notify_accepted(
                session, question=question, answer=answer, actor_id=ASKER
            )
            == 1
        )
        # The acceptance moves away and back: no second DM about the same answer.
        assert (
            await notifications.notify_accepted(
                session, question=question, answer=other, actor_id=ASKER
            )
            == 1
        )
        assert (
            await notifications.notify_accepted(
                session, question=question, answer=answer, actor_id=ASKER
            )
            == 0
        )
        rows = await outbox_rows(session)
    assert [(r.recipient_id, r.kind, r.dedupe_key) for r in rows] == [
        (ANSWERER, "accepted", f"accepted:{answer.id}:{ANSWERER}"),
        (FOLLOWER, "accepted", f"accepted:{other.id}:{FOLLOWER}"),
    ]


async def test_accepting_own_answer_notifies_nobody_but_a_moderator_accept_does(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await add_question(session)
        own = await add_reply(session, question, author_id=ASKER)
        assert (
            await notifications.notify_accepted(
                session, question=question, answer=own, actor_id=ASKER
            )
            == 0
        )
        assert (
            await notifications.notify_accepted(
                session, question=question, answer=own, actor_id=MODERATOR
            )
            == 1
        )
        assert await recipients(session) == [ASKER]


async def test_comment_on_an_answer_notifies_its_author(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await add_question(session)
        notify = partial(notifications.notify_comment, session, question=question)
        answer = await add_reply(session, question)
        comment = await add_reply(session, question, author_id=ASKER, kind="comment", parent=answer)
        assert await notify(comment=comment, parent=answer) == 1
        assert await notify(comment=comment, parent=answer) == 0
        # The answerer commenting on their own answer, and comments on the question: nobody.
        own = await add_reply(session, question, kind="comment", parent=answer)
        assert await notify(comment=own, parent=answer) == 0
        on_question = await add_reply(session, question, author_id=FOLLOWER, kind="comment")
        assert await notify(comment=on_question, parent=question) == 0
        rows = await outbox_rows(session)
    assert [(r.recipient_id, r.kind, r.post_id, r.question_id) for r in rows] == [
        (ANSWERER, "comment", comment.id, question.id)
    ]
    assert rows[0].dedupe_key == f"comment:{comment.id}:{ANSWERER}"


# --------------------------------------------------------------------------- coalescing


async def test_burst_is_scheduled_as_one_immediate_and_one_follow_up(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await add_question(session)
        for i in range(5):
            answer = await add_reply(session, question, author_id=100 + i)
            await notifications.notify_new_answer(
                session, question=question, answer=answer, now=NOW + timedelta(seconds=i)
            )
        due = [r.next_attempt_at for r in await outbox_rows(session)]
    window = timedelta(seconds=settings.DEFAULTS.notify_coalesce_seconds)
    assert due == [NOW] + [NOW + window] * 4

    async with sessionmaker.begin() as session:
        first = await claim(session, NOW + timedelta(seconds=5))
        assert [item.next_attempt_at for item in first] == [NOW]
        await delivery.mark_sent(session, first[0].id, worker_id="w1", message_id=1, now=NOW)
        assert await claim(session, NOW + timedelta(seconds=30)) == []
        follow_up = await claim(session, NOW + window, limit=1)
        # The whole group comes together, beyond the limit: one DM "4 new answers".
        assert len(follow_up) == 4
        assert {item.group for item in follow_up} == {(ASKER, question.id, "new_answer")}


async def test_coalescing_slots(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    window = timedelta(seconds=60)
    async with sessionmaker.begin() as session:
        question = await add_question(session)

        async def answer_at(offset: float) -> datetime:
            answer = await add_reply(session, question, author_id=next(unique_ids))
            at = NOW + timedelta(seconds=offset)
            await notifications.notify_new_answer(session, question=question, answer=answer, now=at)
            row = (await outbox_rows(session))[-1]
            return row.next_attempt_at

        assert await answer_at(0) == NOW
        assert await answer_at(2) == NOW + window
        assert await answer_at(59) == NOW + window
        # After the follow-up slot passed, the next one opens a window later.
        assert await answer_at(61) == NOW + 2 * window
        # Long after everything: immediate again.
        assert await answer_at(1000) == NOW + timedelta(seconds=1000)
        # Another kind (an accept) has its own slots.
        answer = await add_reply(session, question)
        await notifications.notify_accepted(
            session,
            question=question,
            answer=answer,
            actor_id=ASKER,
            now=NOW + timedelta(seconds=1001),
        )
        assert (await outbox_rows(session))[-1].next_attempt_at == NOW + timedelta(seconds=1001)


async def test_zero_window_never_delays(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        await settings.set_setting(session, GUILD, "notify_coalesce_seconds", 0)
        question = await add_question(session)
        for i in range(3):
            answer = await add_reply(session, question, author_id=100 + i)
            at = NOW + timedelta(seconds=i)
            await notifications.notify_new_answer(session, question=question, answer=answer, now=at)
        due = [r.next_attempt_at for r in await outbox_rows(session)]
    assert due == [NOW + timedelta(seconds=i) for i in range(3)]


async def test_a_failed_notification_does_not_hold_back_the_next(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        question = await add_question(session)
        first = await add_reply(session, question)
        await notifications.notify_new_answer(session, question=question, answer=first, now=NOW)
        [item] = await claim(session, NOW)
        await delivery.mark_undeliverable(session, item.id, error="403 (50007)", now=NOW)
        assert await prefs.consume_dms_closed_notice(session, ASKER)
        second = await add_reply(session, question, author_id=FOLLOWER)
        later = NOW + timedelta(seconds=5)
        await notifications.notify_new_answer(session, question=question, answer=second, now=later)
        assert (await outbox_rows(session))[-1].next_attempt_at == later
