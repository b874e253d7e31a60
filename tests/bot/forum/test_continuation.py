"""Claiming an imported question for its thread (``bot.forum.continuation``) on both backends:
one claim at a time, a claim left by a crash expires, a refused post lets the claim go, and a
question that was not imported (or is gone) is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.imported import ImportedPost
from bot.db.models import Post
from bot.forum import continuation, moderation
from bot.forum.continuation import CLAIM_EXPIRY, Claimed, Continued
from bot.forum.errors import InvalidState, NotFound
from bot.forum.lookups import get_question
from bot.forum.results import PostSnapshot
from bot.forum.rights import Actor
from bot.forum.settings import set_setting
from bot.forum.visibility import VisibleForums
from tests.bot.forum.core_support import ANSWERER, FORUM, GUILD, MODERATOR, OTHER, VOTER, Forum

VISIBLE = VisibleForums.of([FORUM])


async def imported_question(forum: Forum, views: int = 0) -> PostSnapshot:
    """A question as the Q2A import leaves it: no thread, no message, in ``imported_posts``."""
    question = await forum.ask()
    await forum.message(question, ANSWERER)

    async def unthread(session: AsyncSession) -> None:
        await session.execute(
            update(Post)
            .where(Post.id == question.id)
            .values(thread_id=None, message_id=None, forum_id=None)
        )
        session.add(
            ImportedPost(post_id=question.id, guild_id=GUILD, source_id=question.id, views=views)
        )
        # No forum stored: the question counts as being in the configured one.
        await set_setting(session, GUILD, "forum_channel_id", FORUM)

    await forum.run(unthread)
    return question


async def claim(forum: Forum, question_id: int, *, later: timedelta = timedelta()) -> object:
    now = forum.now + later
    return await forum.run(
        lambda s: continuation.claim_continuation(
            s, guild_id=GUILD, visible=VISIBLE, question_id=question_id, now=now
        )
    )


async def test_one_claim_at_a_time_then_the_thread(forum: Forum) -> None:
    question = await imported_question(forum)
    first = await claim(forum, question.id)
    assert isinstance(first, Claimed) and first.question.id == question.id
    assert [a.accepted for a in first.answers] == [False]
    assert await claim(forum, question.id) == Continued(None)
    await forum.run(
        lambda s: continuation.finish_continuation(
            s, question_id=question.id, thread_id=77, message_id=78, forum_id=FORUM
        )
    )
    assert await claim(forum, question.id) == Continued(77)


async def test_the_summary_puts_the_accepted_answer_first_then_by_score(forum: Forum) -> None:
    question = await forum.ask()
    low = await forum.answer(question, ANSWERER, "The accepted one, with no votes.")
    high = await forum.answer(question, VOTER, "The popular one.")
    await forum.vote(high, OTHER)
    await forum.accept(low)
    async with forum.sessionmaker() as session:
        fresh = await get_question(session, question_id=question.id)
        answers = await continuation.imported_answers(session, fresh)
    assert [(a.body, a.score, a.accepted) for a in answers] == [
        ("The accepted one, with no votes.", 0, True),
        ("The popular one.", 1, False),
    ]


async def test_a_claim_left_by_a_crash_expires(forum: Forum) -> None:
    question = await imported_question(forum)
    assert isinstance(await claim(forum, question.id), Claimed)
    assert await claim(forum, question.id, later=CLAIM_EXPIRY / 2) == Continued(None)
    later = CLAIM_EXPIRY + timedelta(seconds=1)
    assert isinstance(await claim(forum, question.id, later=later), Claimed)


async def test_a_refused_post_lets_the_claim_go(forum: Forum) -> None:
    question = await imported_question(forum)
    assert isinstance(await claim(forum, question.id), Claimed)
    await forum.run(lambda s: continuation.release_continuation(s, question_id=question.id))
    assert isinstance(await claim(forum, question.id), Claimed)


async def test_a_question_not_imported_or_gone_is_refused(forum: Forum) -> None:
    native = await forum.ask()
    assert await claim(forum, native.id) == Continued(native.thread_id)
    question = await imported_question(forum)
    native_unthreaded = await forum.ask()

    async def unthread(session: AsyncSession) -> None:
        await session.execute(
            update(Post).where(Post.id == native_unthreaded.id).values(thread_id=None)
        )

    await forum.run(unthread)
    with pytest.raises(InvalidState):
        await claim(forum, native_unthreaded.id)
    await forum.run(
        lambda s: moderation.remove_post(
            s,
            removal=moderation.Removal(question.id),
            moderator=Actor(MODERATOR, is_moderator=True, guild_id=GUILD),
        )
    )
    with pytest.raises(NotFound):
        await claim(forum, question.id)


async def test_publish_takes_the_most_viewed_without_a_thread(forum: Forum) -> None:
    few = await imported_question(forum, views=3)
    many = await imported_question(forum, views=300)
    some = await imported_question(forum, views=30)
    await forum.run(
        lambda s: continuation.finish_continuation(
            s, question_id=some.id, thread_id=90, message_id=91, forum_id=FORUM
        )
    )
    waiting = await forum.run(
        lambda s: continuation.most_viewed_waiting(s, guild_id=GUILD, limit=5)
    )
    assert waiting == [many.id, few.id]
