"""Votes re-read from Discord's reactions (``bot.reaction_sync``), on SQLite and PostgreSQL.

Reactions made while the bot is stopped are lost to it; a restarted bot on the same database
re-reads them and the stored votes (and points) equal what members see.
"""

from __future__ import annotations

import asyncio
from urllib.parse import unquote

import pytest

from bot.forum import points, votes
from bot.reaction_sync import ReactionTarget, reread_reactions
from tests.cogs.test_voting import EXTENSIONS, Posted, Votes
from tests.fakediscord import Member
from tests.fakediscord.fixtures import BotFactory, BotHarness

UP, DOWN = "👍", "👎"
REACTIONS_ROUTE = "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}"


def target(v: Votes, posted: Posted) -> ReactionTarget:
    return ReactionTarget(v.guild_id, posted.thread.id, posted.message.id)


def reaction_gets(v: Votes, since: int) -> list[int]:
    """The message ids whose reactions the bot listed since ``since``."""
    calls = v.fake.find_calls("GET", REACTIONS_ROUTE, since=since)
    for call in calls:
        assert call.query.get("type") == "0", "only normal reactions are listed"
    return [call.id("message_id") for call in calls]


async def started(harness: BotHarness) -> Votes:
    """A bot whose start-up reconciliation (which re-reads reactions too) has ended, so a
    test's own re-read never races it."""
    await harness.bot.reconciler.wait_idle()
    return Votes(harness)


async def voted_answer(v: Votes, members: dict[str, Member]) -> tuple[Posted, Posted]:
    """The asker's question and the helper's answer to it, b voting it up (applied)."""
    question = await v.question(members["asker"])
    answer = await v.answer(question, members["helper"])
    await members["b"].react(answer.message, UP)
    return question, answer


async def recomputed(v: Votes) -> None:
    await v.assert_consistent()


@pytest.fixture
async def members(fake_discord) -> dict[str, Member]:  # type: ignore[no-untyped-def]
    fake = fake_discord
    return {name: fake.add_member(fake.guild, name) for name in ("asker", "helper", "b", "c", "d")}


async def test_votes_made_while_the_bot_was_stopped_are_back_filled(
    db_url: str, qa_bot_factory: BotFactory, members: dict[str, Member]
) -> None:
    first = await started(await qa_bot_factory(extensions=EXTENSIONS, database_url=db_url))
    question, answer = await voted_answer(first, members)
    await members["c"].react(answer.message, UP)
    await first.settle()
    assert set(await first.stored(answer)) == {members["b"].id, members["c"].id}
    await first.h.close()

    # While the bot is down: c takes the vote back, d votes down, b votes the question down.
    await members["c"].unreact(answer.message, UP)
    await members["d"].react(answer.message, DOWN)
    await members["b"].react(question.message, DOWN)

    mark = first.fake.mark()
    # A new session: the bot re-reads the reactions of the window's posts in the background.
    v = await started(await qa_bot_factory(extensions=EXTENSIONS, database_url=db_url))
    await v.fake.wait_until(lambda: len(reaction_gets(v, mark)) >= 3, what="the re-read")
    await v.bot.reconciler.wait_idle()
    assert await v.stored(answer) == {
        members["b"].id: (True, False),
        members["d"].id: (False, True),
    }
    assert await v.stored(question) == {members["b"].id: (False, True)}
    listed = reaction_gets(v, mark)  # the answer's two emoji, the question's down emoji
    assert sorted(listed) == sorted([answer.message.id, answer.message.id, question.message.id])

    # Nothing changed since: a second re-read lists no reactions.
    mark = v.fake.mark()
    done = await reread_reactions(v.bot, [target(v, question), target(v, answer)], budget=50)
    assert (done.skipped, done.votes_backfilled, done.requests_used) == (2, 0, 2)
    assert reaction_gets(v, mark) == []
    helper = await v.run(
        lambda s: points.get_member_points(s, guild_id=v.guild_id, user_id=members["helper"].id)
    )
    assert (helper.upvotes_received, helper.downvotes_received) == (1, 1)
    await recomputed(v)


async def test_out_of_order_votes_are_repaired_and_super_reactions_ignored(
    db_url: str, qa_bot_factory: BotFactory, members: dict[str, Member]
) -> None:
    v = await started(await qa_bot_factory(extensions=EXTENSIONS, database_url=db_url))
    question = await v.question(members["asker"])
    answer = await v.answer(question, members["helper"])
    # A remove that overtook its add: the vote is stored, Discord shows no reaction.
    await v.run(
        lambda s: votes.set_vote(s, user_id=members["b"].id, flag="up", on=True, post_id=answer.id)
    )
    await members["c"].super_react(answer.message, UP)
    await members["d"].react(answer.message, UP)
    await v.settle()
    assert set(await v.stored(answer)) == {members["b"].id, members["d"].id}

    done = await reread_reactions(v.bot, [target(v, answer)], budget=10)
    assert await v.stored(answer) == {members["d"].id: (True, False)}
    assert done.votes_backfilled == 1
    await recomputed(v)


async def test_posts_whose_counts_did_not_change_are_skipped(
    db_url: str, qa_bot_factory: BotFactory, members: dict[str, Member]
) -> None:
    v = await started(await qa_bot_factory(extensions=EXTENSIONS, database_url=db_url))
    question = await v.question(members["asker"])
    answer = await v.answer(question, members["helper"])
    await members["b"].react(answer.message, UP)
    await members["c"].react(question.message, DOWN)
    # The bot's own reaction under a question is no vote and does not make a count differ.
    v.fake.world.add_reaction(question.message, UP, v.fake.bot_user.id)
    await v.settle()

    mark = v.fake.mark()
    done = await reread_reactions(v.bot, [target(v, question), target(v, answer)], budget=10)
    assert reaction_gets(v, mark) == []
    assert (done.skipped, done.votes_backfilled, done.requests_used) == (2, 0, 2)

    # Given the messages it already holds, it makes no request at all.
    held = [
        ReactionTarget(v.guild_id, p.thread.id, p.message.id, await _fetched(v, p))
        for p in (question, answer)
    ]
    mark = v.fake.mark()
    done = await reread_reactions(v.bot, held, budget=10)
    assert reaction_gets(v, mark) == []
    assert (done.skipped, done.requests_used) == (2, 0)


async def test_the_budget_leaves_the_rest_for_the_next_run(
    db_url: str, qa_bot_factory: BotFactory, members: dict[str, Member]
) -> None:
    v = Votes(await qa_bot_factory(extensions=["cogs.profiles"], database_url=db_url))
    question = await v.question(members["asker"])
    answers = [await v.answer(question, members["helper"]) for _ in range(3)]
    for answer in answers:  # the voting cog is not loaded: as if the bot were away
        await members["b"].react(answer.message, UP)

    done = await reread_reactions(v.bot, [target(v, a) for a in answers], budget=4)
    # Each changed post costs a GET of the message and one page of reactions.
    assert done.requests_used == 4 and done.votes_backfilled == 2
    assert [t.message_id for t in done.remaining] == [answers[2].message.id]
    rest = await reread_reactions(v.bot, done.remaining, budget=4)
    assert rest.votes_backfilled == 1 and rest.remaining == []
    for answer in answers:
        assert await v.stored(answer) == {members["b"].id: (True, False)}
    await recomputed(v)


async def _fetched(v: Votes, posted: Posted):  # type: ignore[no-untyped-def]
    channel = v.bot.get_partial_messageable(posted.thread.id, guild_id=v.guild_id)
    return await channel.fetch_message(posted.message.id)


async def test_reactions_are_paged_and_a_first_post_is_finished_beyond_the_budget(
    db_url: str, qa_bot_factory: BotFactory, members: dict[str, Member]
) -> None:
    v = Votes(await qa_bot_factory(extensions=["cogs.profiles"], database_url=db_url))
    question = await v.question(members["asker"])
    answers = [await v.answer(question, members["helper"]) for _ in range(2)]
    crowd = [v.fake.add_member(v.fake.guild, f"member{n}") for n in range(101)]
    for member in crowd:  # the voting cog is not loaded: as if the bot were away
        v.fake.world.add_reaction(answers[0].message, UP, member.id)
    await members["b"].react(answers[1].message, UP)

    mark = v.fake.mark()
    done = await reread_reactions(v.bot, [target(v, a) for a in answers], budget=2)
    # A GET of the message and two pages of 100: over the budget, but the run's first post.
    assert reaction_gets(v, mark) == [answers[0].message.id] * 2
    assert (done.requests_used, done.votes_backfilled) == (3, 101)
    assert [t.message_id for t in done.remaining] == [answers[1].message.id]
    assert set(await v.stored(answers[0])) == {m.id for m in crowd}
    await recomputed(v)


async def test_a_live_gesture_during_the_re_read_keeps_its_effect(
    db_url: str, qa_bot_factory: BotFactory, members: dict[str, Member]
) -> None:
    v = await started(await qa_bot_factory(extensions=EXTENSIONS, database_url=db_url))
    _, answer = await voted_answer(v, members)
    await members["d"].react(answer.message, DOWN)
    # A remove that overtook its add: c's vote is stored, Discord shows no reaction of c's.
    await v.run(
        lambda s: votes.set_vote(s, user_id=members["c"].id, flag="up", on=True, post_id=answer.id)
    )
    await v.settle()
    downs = v.fake.faults.hold(
        "GET", REACTIONS_ROUTE, where=lambda call: unquote(call.params["emoji"]) == DOWN
    )
    reread = asyncio.create_task(reread_reactions(v.bot, [target(v, answer)], budget=10))
    await downs.arrived()
    # The up-voters are listed (b among them); now b takes the vote back, live.
    await members["b"].unreact(answer.message, UP)
    await v.settle()
    downs.release()
    done = await reread
    # The listing predates b's gesture: the live path has the last word on b.
    assert await v.stored(answer) == {members["d"].id: (False, True)}
    assert done.votes_backfilled == 1  # c's
    await recomputed(v)
