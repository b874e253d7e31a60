"""Pending posts: stored before the bot posts them, counted once confirmed, or discarded."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.forum import (
    leaderboard,
    pending_posts,
    posts,
    questions,
)
from bot.forum.errors import (
    InvalidState,
    NotFound,
)
from bot.forum.results import PostChange
from tests.bot.forum.core_support import (
    ANSWERER,
    ASKER,
    GUILD,
    LONG,
    NOW,
    OTHER,
    Forum,
    queued_notifications,
)


async def test_pending_question_counts_only_once_posted(forum: Forum) -> None:
    pending = await forum.run(
        lambda s: questions.create_question(
            s,
            guild_id=GUILD,
            author_id=ASKER,
            asked=questions.AskedQuestion(title="Why?"),
            state="pending",
            now=NOW,
        )
    )
    assert pending.post.state == "pending" and pending.post.thread_id is None
    assert (await forum.member(ASKER)).points == 0
    await forum.check()

    live = await forum.run(
        lambda s: pending_posts.confirm_post(
            s, post_id=pending.post.id, message_id=900, thread_id=900, now=NOW
        )
    )
    assert (live.post.state, live.post.thread_id, live.post.message_id) == ("live", 900, 900)
    assert (await forum.member(ASKER)).points == 20
    repeat = await forum.run(
        lambda s: pending_posts.confirm_post(
            s, post_id=pending.post.id, message_id=900, thread_id=900, now=NOW
        )
    )
    assert not repeat.changed
    assert (await forum.member(ASKER)).points == 20
    await forum.check()


async def test_pending_question_can_be_discarded(forum: Forum) -> None:
    pending = await forum.run(
        lambda s: questions.create_question(
            s,
            guild_id=GUILD,
            author_id=ASKER,
            asked=questions.AskedQuestion(title="Why?"),
            state="pending",
            now=NOW,
        )
    )
    assert await forum.run(lambda s: pending_posts.discard_pending_post(s, post_id=pending.post.id))
    assert not await forum.run(
        lambda s: pending_posts.discard_pending_post(s, post_id=pending.post.id)
    )
    with pytest.raises(NotFound):
        await forum.get(pending.post.id)


async def test_pending_answer_counts_and_notifies_once_posted(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    q = await forum.ask()
    pending = await forum.run(
        lambda s: posts.post_answer(
            s,
            post=posts.MemberPost(GUILD, author_id=ANSWERER, body=LONG, question_id=q.id),
            now=NOW,
        )
    )
    assert pending.post.state == "pending" and pending.question.answer_count == 0
    assert await forum.points(ANSWERER) == 0
    assert await queued_notifications(sessionmaker) == []
    live = await forum.run(
        lambda s: pending_posts.confirm_post(s, post_id=pending.post.id, message_id=6000, now=NOW)
    )
    assert live.post.state == "live" and live.question.answer_count == 1
    assert await forum.points(ANSWERER) == 40
    assert await queued_notifications(sessionmaker) == [("new_answer", ASKER)]
    with pytest.raises(InvalidState) as err:
        await forum.run(
            lambda s: pending_posts.confirm_post(
                s, post_id=pending.post.id, message_id=6001, now=NOW
            )
        )
    assert str(err.value) == "That post is already on Discord."
    await forum.check()


async def test_a_confirmed_answer_stores_its_authors_name_unless_anonymous(forum: Forum) -> None:
    q = await forum.ask()

    async def confirmed(author: int, *, anonymous: bool, message_id: int) -> PostChange:
        pending = await forum.run(
            lambda s: posts.post_answer(
                s,
                post=posts.MemberPost(
                    GUILD, author_id=author, body=LONG, question_id=q.id, anonymous=anonymous
                ),
                state="pending",
                now=NOW,
            )
        )
        return await forum.run(
            lambda s: pending_posts.confirm_post(
                s, post_id=pending.post.id, message_id=message_id, display_name="Name", now=NOW
            )
        )

    named = await confirmed(ANSWERER, anonymous=False, message_id=7001)
    anonymous = await confirmed(OTHER, anonymous=True, message_id=7002)
    assert named.author_named and not anonymous.author_named
    names = await forum.run(
        lambda s: leaderboard.display_names(s, guild_id=GUILD, user_ids=[ANSWERER, OTHER])
    )
    assert names == {ANSWERER: "Name"}
    # Confirming again with the same message changes nothing and names nobody.
    again = await forum.run(
        lambda s: pending_posts.confirm_post(
            s, post_id=named.post.id, message_id=7001, display_name="Other", now=NOW
        )
    )
    assert not again.changed and not again.author_named
