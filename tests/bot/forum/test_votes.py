"""Votes are state per (post, member): idempotent gestures, what counts, caps, reconciliation."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Vote
from bot.forum import prefs, settings, votes
from bot.forum.results import PostSnapshot
from tests.bot.forum.core_support import (
    ANSWERER,
    ASKER,
    GUILD,
    NOW,
    OTHER,
    VOTER,
    Forum,
    snapshot,
)


async def test_up_vote_on_an_answer_scores_and_earns(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.answer(q)
    result = await forum.vote(a, VOTER)
    assert result is not None
    assert (result.up, result.down, result.value, result.counted, result.changed) == (
        True,
        False,
        1,
        True,
        True,
    )
    assert (result.post.score, result.post.upvotes, result.post.downvotes) == (1, 1, 0)
    member = await forum.member(ANSWERER)
    assert (member.points, member.upvotes_received) == (60, 1)
    assert await forum.points(VOTER) == 0  # casting a vote earns 0 by default
    await forum.check()


async def test_the_same_gesture_twice_changes_nothing(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    q = await forum.ask()
    await forum.vote(q, VOTER, "down")
    before = await snapshot(sessionmaker)
    again = await forum.vote(q, VOTER, "down")
    assert again is not None and not again.changed
    assert await snapshot(sessionmaker) == before
    removed_twice = [await forum.vote(q, OTHER, "up", on=False) for _ in range(2)]
    assert all(r is not None and not r.changed for r in removed_twice)
    assert await snapshot(sessionmaker) == before


async def test_both_flags_make_a_zero_vote_and_clearing_restores(forum: Forum) -> None:
    q = await forum.ask()
    await forum.vote(q, VOTER, "up")
    both = await forum.vote(q, VOTER, "down")
    assert both is not None and (both.up, both.down, both.value) == (True, True, 0)
    assert both.post.score == 0 and await forum.points(ASKER) == 20
    down = await forum.vote(q, VOTER, "up", on=False)
    assert down is not None and down.post.score == -1
    assert (await forum.member(ASKER)).points == 10
    cleared = await forum.vote(q, VOTER, "down", on=False)
    assert cleared is not None and cleared.post.score == 0
    assert await forum.run(lambda s: votes.voters(s, post_id=q.id)) == {}
    await forum.check()


async def test_self_votes_count_nothing(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.answer(q)
    own_q = await forum.vote(q, ASKER)
    own_a = await forum.vote(a, ANSWERER)
    assert own_q is not None and own_a is not None
    assert not own_q.counted and not own_a.counted
    assert own_q.post.score == 0 and own_a.post.score == 0
    assert (await forum.points(ASKER), await forum.points(ANSWERER)) == (20, 40)
    await forum.check()


async def test_on_an_anonymous_post_the_authors_vote_scores_but_earns_nothing(
    forum: Forum,
) -> None:
    q = await forum.ask(anonymous=True)
    a = await forum.answer(q, ANSWERER, anonymous=True)
    own_q = await forum.vote(q, ASKER)
    own_a = await forum.vote(a, ANSWERER)
    assert own_q is not None and own_a is not None and own_q.counted and own_a.counted
    assert own_q.post.score == 1 and own_a.post.score == 1
    asker = await forum.member(ASKER)
    answerer = await forum.member(ANSWERER)
    assert (asker.points, asker.anon_points, asker.upvotes_received) == (0, 20, 0)
    assert (answerer.points, answerer.anon_points, answerer.answers) == (0, 40, 0)
    await forum.vote(a, VOTER)
    assert (await forum.member(ANSWERER)).anon_points == 60
    await forum.check()


async def test_bots_and_erased_members_are_never_stored(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    q = await forum.ask()
    assert await forum.vote(q, 999, is_bot=True) is None
    async with sessionmaker() as s, s.begin():
        await prefs.mark_erased(s, OTHER, NOW)
    assert await forum.vote(q, OTHER) is None
    async with sessionmaker() as s:
        assert (await s.execute(select(Vote))).first() is None
    assert (
        await forum.run(
            lambda s: votes.set_vote(s, message_id=1, user_id=VOTER, flag="up", on=True)
        )
        is None
    )


async def test_votes_on_comments_count_nothing(forum: Forum) -> None:
    q = await forum.ask()
    c = await forum.post_of(q, OTHER, "short")
    result = await forum.vote(c, VOTER)
    assert result is not None and not result.counted and result.post.score == 0
    assert await forum.points(OTHER) == 0
    await forum.check()


async def test_question_caps_apply_per_direction(forum: Forum) -> None:
    q = await forum.ask()
    for voter in range(100, 111):
        await forum.vote(q, voter)
    assert (await forum.get(q.id)).score == 11
    assert await forum.points(ASKER) == 20 + 100  # not 110
    for voter in range(200, 204):
        await forum.vote(q, voter, "down")
    assert await forum.points(ASKER) == 20 + 100 - 30  # not -40
    member = await forum.member(ASKER)
    assert (member.upvotes_received, member.downvotes_received) == (11, 4)
    await forum.check()


async def test_answer_caps_apply_per_direction(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.answer(q)
    for voter in range(100, 111):
        await forum.vote(a, voter)
    assert await forum.points(ANSWERER) == 40 + 200
    for voter in range(200, 203):
        await forum.vote(a, voter, "down")
    assert await forum.points(ANSWERER) == 40 + 200 - 50
    # Removing an up vote below the cap lowers the points again.
    for voter in range(100, 102):
        await forum.vote(a, voter, on=False)
    assert await forum.points(ANSWERER) == 40 + 180 - 50
    await forum.check()


async def test_guild_point_values_and_vote_cast_points(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as s, s.begin():
        await settings.set_setting(s, GUILD, "points_answer_upvote", 5)
        await settings.set_setting(s, GUILD, "points_vote_cast", 1)
    q = await forum.ask()
    a = await forum.answer(q)
    await forum.vote(a, VOTER)
    await forum.vote(a, ANSWERER)  # self-vote: no vote-cast point either
    assert (await forum.points(ANSWERER), await forum.points(VOTER)) == (45, 1)
    await forum.check()


async def test_question_voting_off_counts_no_question_votes(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as s, s.begin():
        await settings.set_setting(s, GUILD, "question_voting", False)
    q = await forum.ask()
    result = await forum.vote(q, VOTER)
    assert result is not None and not result.counted and result.post.score == 0
    await forum.check()


async def test_reconcile_sets_exactly_the_given_voters(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.answer(q)
    await forum.vote(a, VOTER)
    await forum.vote(a, OTHER, "down")
    assert a.message_id is not None
    mid = a.message_id

    result = await forum.run(
        lambda s: votes.reconcile_votes(
            s, message_id=mid, up_user_ids={OTHER, 101, 102}, down_user_ids={103}, now=NOW
        )
    )
    assert result is not None and result.changed == 5
    assert result.post.score == 3 - 1
    assert await forum.run(lambda s: votes.voters(s, post_id=a.id)) == {
        OTHER: (True, False),
        101: (True, False),
        102: (True, False),
        103: (False, True),
    }
    again = await forum.run(
        lambda s: votes.reconcile_votes(
            s, message_id=mid, up_user_ids=[OTHER, 101, 102], down_user_ids=[103]
        )
    )
    assert again is not None and again.changed == 0
    await forum.check()


async def test_reconcile_with_none_leaves_that_flag_alone(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    q = await forum.ask()
    await forum.vote(q, VOTER, "up")
    await forum.vote(q, OTHER, "down")
    async with sessionmaker() as s, s.begin():
        await prefs.mark_erased(s, 105, NOW)
    cleared = await forum.run(
        lambda s: votes.reconcile_votes(
            s, post_id=q.id, up_user_ids=None, down_user_ids=[105], now=NOW
        )
    )
    assert cleared is not None and cleared.changed == 1
    assert await forum.run(lambda s: votes.voters(s, post_id=q.id)) == {VOTER: (True, False)}
    assert (
        await forum.run(
            lambda s: votes.reconcile_votes(s, message_id=1, up_user_ids=[], down_user_ids=[])
        )
        is None
    )
    await forum.check()


# --------------------------------------------------------------------------- reaction gestures

UP = votes.Emoji("👍")


def reaction(
    post: PostSnapshot, user_id: int, emoji: votes.Emoji = UP, *, on: bool = True
) -> votes.Reaction:
    assert post.message_id is not None
    return votes.Reaction(
        guild_id=GUILD,
        channel_id=post.thread_id or 0,
        message_id=post.message_id,
        user_id=user_id,
        emoji=emoji,
        on=on,
        is_bot=False,
        display_name=f"member {user_id}",
    )


async def test_a_batch_of_gestures_is_applied_in_order_and_says_what_discord_shows(
    forum: Forum,
) -> None:
    q = await forum.ask()
    a = await forum.answer(q)
    applied = await forum.run(
        lambda s: votes.apply_gestures(
            s,
            [
                reaction(a, VOTER),
                reaction(a, VOTER, on=False),
                reaction(a, VOTER),  # one message's gestures keep their order: the vote is on
                reaction(q, OTHER, votes.Emoji("😀")),  # no vote emoji: no vote
                reaction(a, ANSWERER),  # a named author's own vote: stored, counts nothing
            ],
        )
    )
    assert applied.questions == (q.id,)
    assert [g.user_id for g in applied.self_votes] == [ANSWERER]
    assert await forum.run(lambda s: votes.voters(s, post_id=a.id)) == {
        VOTER: (True, False),
        ANSWERER: (True, False),
    }
    assert await forum.run(lambda s: votes.voters(s, post_id=q.id)) == {}
    cleared = await forum.run(
        lambda s: votes.apply_gestures(s, [votes.Clear(GUILD, 0, message_id(a), UP)])
    )
    assert cleared == votes.GesturesApplied(questions=(q.id,), self_votes=())
    assert await forum.run(lambda s: votes.voters(s, post_id=a.id)) == {}
    await forum.check()


def message_id(post: PostSnapshot) -> int:
    assert post.message_id is not None
    return post.message_id
