"""A moderator's removal and restore, and member blocks made through a post (the domain)."""

from __future__ import annotations

from dataclasses import astuple
from datetime import timedelta

import pytest

from bot.forum import audit, blocks, lookups, moderation, search
from bot.forum.errors import InvalidState, NotFound
from bot.forum.rights import Actor
from tests.bot.forum.core_support import (
    ANSWERER,
    ASKER,
    GUILD,
    MODERATOR,
    NOW,
    SEEN,
    VOTER,
    Forum,
    queued_notifications,
)

MOD = Actor(MODERATOR, is_moderator=True)


async def _remove(forum: Forum, post_id: int, reason: str = "") -> None:
    await forum.run(
        lambda s: moderation.remove_post(
            s, removal=moderation.Removal(post_id, reason=reason), moderator=MOD, now=NOW
        )
    )


async def _restore(forum: Forum, post_id: int, *, days: int = 1) -> moderation.Restored:
    later = NOW + timedelta(days=days)
    return await forum.run(
        lambda s: moderation.restore_post(s, post_id=post_id, moderator=MOD, now=later)
    )


async def _actions(forum: Forum) -> list[tuple[str, int | None, str]]:
    shown = await forum.run(lambda s: audit.page(s, GUILD, per_page=50))
    return [(e.action, e.post_id, e.detail) for e in reversed(shown.entries)]


async def test_removing_an_accepted_answer_undoes_its_points_and_restoring_brings_them_back(
    forum: Forum,
) -> None:
    q = await forum.ask()
    a = await forum.answer(q, ANSWERER)
    await forum.vote(a, VOTER)
    await forum.accept(a)
    before = (await forum.points(ASKER), await forum.points(ANSWERER))
    await _remove(forum, a.id, "Off topic")
    removed = await forum.get(a.id)
    assert removed.removed and not removed.live
    assert (await forum.get(q.id)).answer_count == 0
    assert await forum.points(ANSWERER) == before[1] - 40 - 20 - 300
    assert await forum.points(ASKER) == before[0] - 30
    await forum.check()
    assert ("removed", ANSWERER) in await queued_notifications(forum.sessionmaker)
    with pytest.raises(InvalidState):
        await _remove(forum, a.id)

    restored = await _restore(forum, a.id)
    assert restored.change.post.live and restored.author_name is None  # no name stored yet
    assert (await forum.points(ASKER), await forum.points(ANSWERER)) == before
    await forum.check()
    with pytest.raises(InvalidState):
        await _restore(forum, a.id)
    assert await _actions(forum) == [("remove", a.id, "Off topic"), ("restore", a.id, "")]


async def test_a_removed_question_takes_its_thread_out_of_points_and_search(forum: Forum) -> None:
    q = await forum.ask(title="Sleeping before an exam")
    a = await forum.answer(q, ANSWERER)
    await forum.vote(q, VOTER)
    await _remove(forum, q.id)
    assert await forum.points(ASKER) == 0 and await forum.points(ANSWERER) == 0
    await forum.check()
    with pytest.raises(NotFound):
        await forum.run(lambda s: lookups.get_question(s, question_id=q.id))
    found = await forum.run(
        lambda s: search.search_questions(s, guild_id=GUILD, query="exam", visible=SEEN)
    )
    assert found == []
    with pytest.raises(InvalidState):  # its answer goes with it
        await _remove(forum, a.id)
    with pytest.raises(InvalidState):
        await _restore(forum, a.id)
    await _restore(forum, q.id)
    assert await forum.points(ANSWERER) == 40
    assert [
        r.question_id
        for r in await forum.run(
            lambda s: search.search_questions(s, guild_id=GUILD, query="exam", visible=SEEN)
        )
    ] == [q.id]
    await forum.check()


async def test_restoring_after_the_window_is_refused(forum: Forum) -> None:
    q = await forum.ask()
    await _remove(forum, q.id)
    with pytest.raises(InvalidState, match="more than 30 days ago"):
        await _restore(forum, q.id, days=31)
    assert (await _restore(forum, q.id, days=30)).change.post.live


async def test_blocks_made_through_a_post_name_nobody_and_end(forum: Forum) -> None:
    q = await forum.ask(anonymous=True)

    async def active(*, anonymous: bool, days: int = 0) -> blocks.BlockInForce | None:
        at = NOW + timedelta(days=days)
        return await forum.run(
            lambda s: blocks.active_block(s, GUILD, ASKER, anonymous=anonymous, now=at)
        )

    made = await forum.run(
        lambda s: blocks.block_member_through_post(
            s, post_id=q.id, moderator_id=MODERATOR, scope="anonymous", days=7, reason="", now=NOW
        )
    )
    assert not hasattr(made, "user_id") and ASKER not in astuple(made)
    assert made.post_id == q.id and made.ends_at == NOW + timedelta(days=7)
    found = await active(anonymous=True)
    assert found is not None and (found.id, found.scope, found.ends_at) == (
        made.id,
        "anonymous",
        made.ends_at,
    )
    assert await active(anonymous=False) is None
    assert await active(anonymous=True, days=8) is None
    with pytest.raises(blocks.MemberBlocked, match="post anonymously here until <t:"):
        await forum.run(
            lambda s: blocks.check_not_blocked(
                s, guild_id=GUILD, user_id=ASKER, anonymous=True, now=NOW
            )
        )
    with pytest.raises(InvalidState):  # a moderator blocking themselves through their post
        await forum.run(
            lambda s: blocks.block_member_through_post(
                s, post_id=q.id, moderator_id=ASKER, scope="all", days=None, now=NOW
            )
        )
    shown, total = await forum.run(lambda s: blocks.blocks_in_force(s, GUILD, limit=5, now=NOW))
    assert (shown, total) == ([made], 1)
    await forum.run(
        lambda s: blocks.lift_block(s, block_id=made.id, moderator_id=MODERATOR, guild_id=GUILD)
    )
    assert await active(anonymous=True) is None
    with pytest.raises(InvalidState):
        await forum.run(
            lambda s: blocks.lift_block(s, block_id=made.id, moderator_id=MODERATOR, guild_id=GUILD)
        )
    assert await _actions(forum) == [
        ("block", q.id, "anonymous, 7 days"),
        ("unblock", q.id, ""),
    ]


async def test_a_member_blocked_from_everything_types_nothing_that_counts(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.answer(q, ANSWERER)
    await forum.run(
        lambda s: blocks.block_member_through_post(
            s, post_id=a.id, moderator_id=MODERATOR, scope="all", days=None, now=NOW
        )
    )
    with pytest.raises(blocks.MemberBlocked, match="until a moderator lifts your block"):
        await forum.message(q, ANSWERER, "Another long enough answer to count as one.")
    assert (await forum.get(q.id)).answer_count == 1
    await forum.check()
