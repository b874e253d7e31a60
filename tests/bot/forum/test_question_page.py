"""The question page: a live question with its top answers by stored score, as snapshots."""

from __future__ import annotations

import pytest

from bot.forum import lookups
from bot.forum.errors import NotFound
from bot.forum.question_page import question_page
from tests.bot.forum.core_support import ANSWERER, ASKER, OTHER, VOTER, Forum


async def test_the_page_holds_the_question_as_read_and_its_best_answers(forum: Forum) -> None:
    q = await forum.ask()
    low = await forum.answer(q, ANSWERER)
    high = await forum.answer(q, OTHER)
    middle = await forum.answer(q, VOTER)
    await forum.vote(high, VOTER)
    await forum.vote(middle, ANSWERER)
    await forum.vote(high, ASKER)
    page = await forum.read(lambda c: question_page(c, question_id=q.id))
    assert page.question == await forum.run(lambda s: lookups.get_question(s, question_id=q.id))
    assert [a.id for a in page.answers] == [high.id, middle.id, low.id]
    assert page.answers[0] == await forum.get(high.id)
    top = await forum.read(lambda c: question_page(c, question_id=q.id, answers=2))
    assert [a.id for a in top.answers] == [high.id, middle.id]


async def test_deleted_answers_are_left_out_and_a_deleted_question_is_not_found(
    forum: Forum,
) -> None:
    q = await forum.ask()
    kept = await forum.answer(q, ANSWERER)
    dropped = await forum.answer(q, OTHER)
    await forum.delete(dropped)
    page = await forum.read(lambda c: question_page(c, question_id=q.id))
    assert [a.id for a in page.answers] == [kept.id]
    with pytest.raises(NotFound) as not_a_question:
        await forum.read(lambda c: question_page(c, question_id=kept.id))
    assert str(not_a_question.value) == "That question no longer exists."
    await forum.delete(q)
    with pytest.raises(NotFound):
        await forum.read(lambda c: question_page(c, question_id=q.id))


async def test_stored_flags_and_times_read_back_as_booleans_and_aware_times(forum: Forum) -> None:
    """On SQLite the rows come from the driver as stored (0/1, ISO text): the page converts
    them as the columns' types do, read by the bot's runner or from an async session alike."""
    q = await forum.ask(anonymous=True)
    await forum.answer(q, ANSWERER)
    await forum.close(q)
    page = await forum.read(lambda c: question_page(c, question_id=q.id))
    in_session = await forum.run(
        lambda s: s.run_sync(lambda sync: question_page(sync.connection(), question_id=q.id))
    )
    assert page == in_session
    assert page.question == await forum.get(q.id)
    question, answer = page.question, page.answers[0]
    assert (question.anonymous, question.via_bot, answer.anonymous) == (True, True, False)
    assert all(type(flag) is bool for flag in (question.anonymous, answer.closed_by_moderator))
    assert question.closed_at is not None and question.closed_at.utcoffset() is not None
    assert answer.created_at.utcoffset() is not None and answer.deleted_at is None
