"""Soft deletes of questions and posts that undo everything they earned or gave."""

from __future__ import annotations

import pytest

from bot.forum import (
    deletion,
    lookups,
)
from bot.forum.errors import (
    NotFound,
    PermissionDenied,
)
from bot.forum.results import MemberPoints
from bot.forum.rights import Actor
from tests.bot.forum.core_support import (
    ANSWERER,
    ASKER,
    GUILD,
    LONG,
    MODERATOR,
    NOW,
    OTHER,
    VOTER,
    Forum,
)


async def test_deleting_a_question_undoes_everything_in_its_thread(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.answer(q, ANSWERER)
    await forum.vote(q, VOTER)
    await forum.vote(a, VOTER)
    await forum.accept(a)
    assert (await forum.points(ANSWERER)) == 40 + 20 + 300
    result = await forum.run(
        lambda s: deletion.delete_question(s, actor=Actor(ASKER), question_id=q.id, now=NOW)
    )
    assert result.changed and result.post.deleted
    assert result.post.answer_count == 0
    assert (await forum.get(a.id)).deleted
    for user in (ASKER, ANSWERER, VOTER):
        assert await forum.member(user) == type(await forum.member(user))(GUILD, user)
    again = await forum.run(
        lambda s: deletion.delete_question(s, actor=Actor(ASKER), question_id=q.id, now=NOW)
    )
    assert not again.changed
    await forum.check()


async def test_only_the_asker_or_a_moderator_deletes_a_question(forum: Forum) -> None:
    q = await forum.ask()
    with pytest.raises(PermissionDenied) as err:
        await forum.run(lambda s: deletion.delete_question(s, actor=Actor(OTHER), question_id=q.id))
    assert str(err.value) == "Only the asker or a moderator can delete this question."
    removed = await forum.run(
        lambda s: deletion.delete_question(
            s, actor=Actor(MODERATOR, is_moderator=True), question_id=q.id
        )
    )
    assert removed.post.deleted
    with pytest.raises(NotFound) as gone:
        await forum.run(lambda s: lookups.get_question(s, question_id=q.id))
    assert str(gone.value) == "That question no longer exists."


async def test_deleting_an_answer_undoes_its_points_votes_and_acceptance(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.post_of(q, ANSWERER)
    await forum.vote(a, VOTER)
    await forum.vote(a, OTHER, "down")
    await forum.accept(a)
    assert await forum.points(ANSWERER) == 40 + 20 - 20 + 300
    assert await forum.points(ASKER) == 20 + 30
    deleted = await forum.delete(a)
    assert deleted is not None and deleted.post.deleted and deleted.post.score == 0
    assert deleted.question.accepted_answer_id is None
    assert (deleted.question.status, deleted.question.answer_count) == ("open", 0)
    assert await forum.member(ANSWERER) == MemberPoints(GUILD, ANSWERER)
    assert await forum.points(ASKER) == 20
    again = await forum.delete(a)
    assert again is not None and not again.changed
    await forum.check()


async def test_votes_on_a_deleted_post_count_nothing(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.post_of(q, ANSWERER)
    await forum.delete(a)
    result = await forum.vote(a, VOTER)
    assert result is not None and not result.counted and result.post.score == 0
    assert await forum.points(ANSWERER) == 0
    await forum.check()


async def test_delete_post_permissions(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.answer(q, ANSWERER)
    with pytest.raises(PermissionDenied) as err:
        await forum.run(lambda s: deletion.delete_post(s, actor=Actor(OTHER), post_id=a.id))
    assert str(err.value) == "Only its author or a moderator can delete this."
    by_mod = await forum.run(
        lambda s: deletion.delete_post(s, actor=Actor(MODERATOR, is_moderator=True), post_id=a.id)
    )
    assert by_mod.post.deleted
    by_author = await forum.run(lambda s: deletion.delete_post(s, actor=Actor(ASKER), post_id=q.id))
    assert by_author.post.deleted


async def test_deleting_the_thread_deletes_the_question_and_its_posts(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.post_of(q, ANSWERER)
    c = await forum.post_of(q, ASKER, "thanks")
    assert q.thread_id is not None
    thread = q.thread_id
    gone = await forum.run(lambda s: deletion.delete_thread(s, thread_id=thread, now=NOW))
    assert gone is not None and gone.post.deleted
    assert (await forum.get(a.id)).deleted and (await forum.get(c.id)).deleted
    assert await forum.message(q, OTHER, LONG) is None
    assert await forum.run(lambda s: deletion.delete_thread(s, thread_id=1)) is None
    await forum.check()
