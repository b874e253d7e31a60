"""Votes set from the reactions Discord shows (``bot.forum.reaction_sync``): the tallies that let
an unchanged post be skipped, the posts of the window, and the sync through the live rules."""

from __future__ import annotations

from datetime import timedelta

from bot.forum import reaction_sync
from bot.forum.reaction_sync import VotedMessage
from tests.bot.forum.core_support import ANSWERER, GUILD, NOW, OTHER, VOTER, Forum


async def test_tallies_count_each_flag_of_live_posts_only(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.answer(q)
    gone = await forum.answer(q, OTHER)
    await forum.vote(a, VOTER, "up")
    await forum.vote(a, OTHER, "up")
    await forum.vote(a, OTHER, "down")
    await forum.vote(q, VOTER, "down")
    await forum.delete(gone)
    mids = [m for m in (q.message_id, a.message_id, gone.message_id, 999) if m is not None]
    tallies = await forum.run(lambda s: reaction_sync.vote_tallies(s, message_ids=mids))
    assert set(tallies) == {q.message_id, a.message_id}  # deleted posts and non-posts left out
    assert (tallies[a.message_id].ups, tallies[a.message_id].downs) == (2, 1)
    assert (tallies[q.message_id].ups, tallies[q.message_id].downs) == (0, 1)
    assert tallies[a.message_id].question_id == q.id
    assert (tallies[a.message_id].up_emoji, tallies[a.message_id].down_emoji) == ("👍", "👎")


async def test_sync_sets_the_votes_and_moves_the_points_as_live_votes_do(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.answer(q)
    await forum.vote(a, VOTER, "up")
    synced = await forum.run(
        lambda s: reaction_sync.sync_reactions(
            s, post_id=a.id, up_user_ids=[OTHER], down_user_ids=[VOTER, ANSWERER]
        )
    )
    assert synced is not None and (synced.question.id, synced.changed) == (q.id, 3)
    member = await forum.member(ANSWERER)
    # OTHER's up counts; VOTER's down counts; the author's own down vote counts nothing.
    assert (member.upvotes_received, member.downvotes_received) == (1, 1)
    again = await forum.run(
        lambda s: reaction_sync.sync_reactions(
            s, post_id=a.id, up_user_ids=[OTHER], down_user_ids=[VOTER, ANSWERER]
        )
    )
    assert again is not None and again.changed == 0
    await forum.check()


async def test_the_window_holds_the_posts_of_recently_active_questions(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.answer(q)
    other_guild = await forum.run(
        lambda s: reaction_sync.recent_voted_messages(
            s, guild_ids=[GUILD + 1], since=NOW - timedelta(days=14), limit=10
        )
    )
    assert other_guild == []
    seen = await forum.run(
        lambda s: reaction_sync.recent_voted_messages(
            s, guild_ids=[GUILD], since=NOW - timedelta(days=14), limit=10
        )
    )
    assert q.thread_id is not None and q.message_id is not None and a.message_id is not None
    assert seen == [
        VotedMessage(GUILD, q.thread_id, q.message_id),
        VotedMessage(GUILD, q.thread_id, a.message_id),
    ]
    later = await forum.run(
        lambda s: reaction_sync.recent_voted_messages(
            s, guild_ids=[GUILD], since=NOW + timedelta(seconds=1), limit=10
        )
    )
    assert later == []  # the question was last active before the window
    capped = await forum.run(
        lambda s: reaction_sync.recent_voted_messages(
            s, guild_ids=[GUILD], since=NOW - timedelta(days=14), limit=1
        )
    )
    assert len(capped) == 1
