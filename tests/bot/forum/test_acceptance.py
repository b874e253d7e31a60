"""Accepting answers: who may, moving and removing it, points, the status, notifications."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Notification
from bot.forum import acceptance
from bot.forum.errors import InvalidState, NotFound, PermissionDenied
from bot.forum.rights import Actor
from tests.bot.forum.core_support import (
    ANSWERER,
    ASKER,
    MODERATOR,
    NOW,
    OTHER,
    Forum,
    snapshot,
)


async def _accepted_rows(sessionmaker: async_sessionmaker[AsyncSession]) -> list[int]:
    async with sessionmaker() as s:
        rows = await s.execute(
            select(Notification.recipient_id).where(Notification.kind == "accepted")
        )
        return list(rows.scalars())


async def test_asker_accepts_an_answer(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    q = await forum.ask()
    a = await forum.answer(q)
    result = await forum.accept(a)
    assert result.changed and result.previous_answer_id is None
    assert result.answer is not None and result.answer.id == a.id
    assert (result.question.status, result.question.accepted_answer_id) == ("solved", a.id)
    answerer = await forum.member(ANSWERER)
    assert (answerer.points, answerer.accepted_answers) == (340, 1)
    assert await forum.points(ASKER) == 50
    assert await _accepted_rows(sessionmaker) == [ANSWERER]
    await forum.check()


async def test_accepting_again_changes_nothing(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    q = await forum.ask()
    a = await forum.answer(q)
    await forum.accept(a)
    before = await snapshot(sessionmaker)
    again = await forum.accept(a)
    assert not again.changed and again.previous_answer_id == a.id
    assert await snapshot(sessionmaker) == before


async def test_a_moderator_accepts_and_earns_nothing(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.answer(q)
    await forum.accept(a, actor=MODERATOR, is_moderator=True)
    assert (await forum.points(ANSWERER), await forum.points(ASKER)) == (340, 50)
    assert await forum.points(MODERATOR) == 0
    await forum.check()


async def test_others_may_not_accept(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.answer(q)
    with pytest.raises(PermissionDenied) as err:
        await forum.accept(a, actor=OTHER)
    assert str(err.value) == "Only the asker or a moderator can accept an answer."
    with pytest.raises(PermissionDenied) as self_accept:
        await forum.accept(a, actor=ANSWERER)
    assert str(self_accept.value) == "Only the asker or a moderator can accept an answer."
    assert (await forum.get(q.id)).accepted_answer_id is None


async def test_accepting_another_answer_moves_the_acceptance(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    q = await forum.ask()
    first = await forum.answer(q, ANSWERER)
    second = await forum.answer(q, OTHER)
    await forum.accept(first)
    moved = await forum.accept(second)
    assert moved.previous_answer_id == first.id
    assert moved.question.accepted_answer_id == second.id
    assert (await forum.member(ANSWERER)).accepted_answers == 0
    assert (await forum.points(ANSWERER), await forum.points(OTHER)) == (40, 340)
    assert await forum.points(ASKER) == 50
    # Moving it back does not notify the first author twice.
    await forum.accept(first)
    assert sorted(await _accepted_rows(sessionmaker)) == [ANSWERER, OTHER]
    await forum.check()


async def test_unaccept_returns_to_answered(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.answer(q)
    await forum.accept(a)
    assert a.message_id is not None
    mid = a.message_id
    result = await forum.run(
        lambda s: acceptance.unaccept_answer(
            s, question_ref=acceptance.PostRef(message_id=mid), actor=Actor(ASKER), now=NOW
        )
    )
    assert result.changed and result.answer is None and result.previous_answer_id == a.id
    assert result.question.status == "answered"
    assert (await forum.points(ANSWERER), await forum.points(ASKER)) == (40, 20)
    again = await forum.run(
        lambda s: acceptance.unaccept_answer(
            s, question_ref=acceptance.PostRef(q.id), actor=Actor(ASKER)
        )
    )
    assert not again.changed
    with pytest.raises(PermissionDenied) as err:
        await forum.run(
            lambda s: acceptance.unaccept_answer(
                s, question_ref=acceptance.PostRef(q.id), actor=Actor(OTHER)
            )
        )
    assert str(err.value) == "Only the asker or a moderator can unaccept an answer."
    await forum.check()


async def test_accepting_your_own_answer_is_refused_and_changes_nothing(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    q = await forum.ask()
    own = await forum.answer(q, ASKER)
    before = await snapshot(sessionmaker)
    with pytest.raises(PermissionDenied) as err:
        await forum.accept(own)
    assert str(err.value) == acceptance.SELF_ACCEPT
    assert await snapshot(sessionmaker) == before
    member = await forum.member(ASKER)
    assert (member.points, member.accepted_answers) == (20 + 40, 0)
    await forum.check()


async def test_anonymous_acceptance_points_stay_anonymous(forum: Forum) -> None:
    q = await forum.ask(anonymous=True)
    a = await forum.answer(q, ANSWERER, anonymous=True)
    await forum.accept(a, actor=ASKER)
    asker = await forum.member(ASKER)
    answerer = await forum.member(ANSWERER)
    assert (asker.points, asker.anon_points) == (0, 50)
    assert (answerer.points, answerer.anon_points, answerer.accepted_answers) == (0, 340, 0)
    await forum.check()


async def test_what_cannot_be_accepted(forum: Forum) -> None:
    q = await forum.ask()
    comment = await forum.post_of(q, OTHER, "short")
    with pytest.raises(InvalidState) as not_answer:
        await forum.accept(comment)
    assert str(not_answer.value) == "Only answers can be accepted."
    with pytest.raises(InvalidState):
        await forum.accept(q)
    with pytest.raises(InvalidState):
        await forum.run(
            lambda s: acceptance.accept_answer(
                s, answer_ref=acceptance.PostRef(message_id=123_456), actor=Actor(ASKER)
            )
        )

    gone = await forum.answer(q)
    await forum.delete(gone)
    with pytest.raises(NotFound) as deleted:
        await forum.accept(gone)
    assert str(deleted.value) == "That answer no longer exists."

    a = await forum.answer(q, OTHER)
    await forum.close(q)
    with pytest.raises(InvalidState) as closed:
        await forum.accept(a)
    assert str(closed.value) == "This question is closed; reopen it to change its accepted answer."
