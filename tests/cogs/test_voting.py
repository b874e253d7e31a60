"""Reaction votes end to end: the real bot against the fake Discord, on SQLite and PostgreSQL.

Questions and answers are made through the fake (members' posts and messages, or messages by the
bot for posts it makes on someone's behalf) and stored through the domain, so these tests need
no asking cog. ``Votes.settle`` is the barrier: it returns once the bot has applied every
reaction event sent so far, and whatever those caused (a removed self-vote) has come back and
been applied too.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import discord
import pytest

from bot.forum import deletion, lookups, points, posts, questions, settings, votes
from bot.forum.results import PostSnapshot
from bot.forum.rights import Actor
from bot.forum.votes import Emoji, emoji_matches, vote_flag
from bot.transactions import run_transaction
from tests.fakediscord import FakeDiscord, Member, Message
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.fakediscord.gateway import Session
from tests.fakediscord.model import Channel
from tests.fakediscord.permissions import MANAGE_MESSAGES

UP, DOWN = "👍", "👎"
EXTENSIONS = ["cogs.voting", "cogs.profiles"]
LONG = "Breathe in for four counts, hold for four, and breathe out slowly for six."


# --------------------------------------------------------------------------- helpers


@dataclass
class Posted:
    """A post stored by the domain and the Discord message it maps to."""

    post: PostSnapshot
    message: Message
    thread: Channel

    @property
    def id(self) -> int:
        return self.post.id


class Votes:
    """Builds questions and answers in the fake and the domain; waits on the bot's votes."""

    def __init__(self, harness: BotHarness) -> None:
        self.h = harness
        self.fake: FakeDiscord = harness.fake
        self.bot = harness.bot
        self.guild_id = self.fake.guild.id
        self._marker: Message | None = None
        self._marker_on = False

    async def run(self, work: Any) -> Any:
        return await run_transaction(self.bot, work)

    async def question(self, asker: Member, title: str = "How do I sleep before exams?") -> Posted:
        """A member's native forum post, adopted as a question."""
        thread = await asker.create_post(self.fake.forum, title, "I lie awake for hours.")
        change = await self.run(
            lambda s: questions.create_question(
                s,
                guild_id=self.guild_id,
                author_id=asker.id,
                asked=questions.AskedQuestion(title=title, details="I lie awake for hours."),
                via_bot=False,
                thread_id=thread.id,
                message_id=thread.id,
            )
        )
        return Posted(change.post, self.fake.message(thread.id), thread)

    async def anonymous_question(self, asker: Member, title: str = "Is this normal?") -> Posted:
        """A question the bot posted for an anonymous asker (the starter is the bot's)."""
        world = self.fake.world
        thread = world.create_thread(self.fake.forum, name=title, owner_id=self.fake.bot_user.id)
        starter = world.post_message(
            thread,
            self.fake.bot_user.id,
            {"content": "", "embeds": [{"title": title, "author": {"name": "Anonymous"}}]},
            message_id=thread.id,
        )
        await self.fake.flush()
        change = await self.run(
            lambda s: questions.create_question(
                s,
                guild_id=self.guild_id,
                author_id=asker.id,
                asked=questions.AskedQuestion(title=title, anonymous=True),
                via_bot=True,
                thread_id=thread.id,
                message_id=starter.id,
            )
        )
        return Posted(change.post, starter, thread)

    async def answer(self, question: Posted, author: Member, body: str = LONG) -> Posted:
        """A member's message in the thread, stored as an answer."""
        message = await author.send(question.thread, body)
        change = await self.run(
            lambda s: posts.record_thread_message(
                s,
                guild_id=self.guild_id,
                thread_id=question.thread.id,
                message_id=message.id,
                author_id=author.id,
                body=body,
            )
        )
        assert change is not None and change.post.kind == "answer"
        return Posted(change.post, message, question.thread)

    async def bot_answer(
        self, question: Posted, author: Member, *, anonymous: bool, body: str = LONG
    ) -> Posted:
        """An answer the bot posted on ``author``'s behalf (/answer): the message is the bot's."""
        label = "Anonymous" if anonymous else author.name
        message = self.fake.world.post_message(
            question.thread,
            self.fake.bot_user.id,
            {"content": "", "embeds": [{"description": body, "author": {"name": label}}]},
        )
        await self.fake.flush()
        change = await self.run(
            lambda s: posts.post_answer(
                s,
                post=posts.MemberPost(
                    self.guild_id,
                    author_id=author.id,
                    body=body,
                    question_id=question.id,
                    anonymous=anonymous,
                ),
                message_id=message.id,
                state="live",
            )
        )
        return Posted(change.post, message, question.thread)

    async def get(self, posted: Posted) -> PostSnapshot:
        return await self.run(lambda s: lookups.get_post(s, posted.id))

    async def stored(self, posted: Posted) -> dict[int, tuple[bool, bool]]:
        return await self.run(lambda s: votes.voters(s, post_id=posted.id))

    async def member(self, who: Member) -> Any:
        return await self.run(
            lambda s: points.get_member_points(s, guild_id=self.guild_id, user_id=who.id)
        )

    async def set(self, key: str, value: Any) -> None:
        await self.run(lambda s: settings.set_setting(s, self.guild_id, key, value))

    async def _roundtrip(self) -> None:
        """Until the bot has dispatched a marker reaction sent now (so every earlier event)."""
        fake = self.fake
        if self._marker is None:
            self._marker = await fake.owner.send(fake.general, "marker")
        marker = self._marker
        self._marker_on = not self._marker_on
        event = "raw_reaction_add" if self._marker_on else "raw_reaction_remove"
        seen = self.bot.wait_for(event, check=lambda p: p.message_id == marker.id, timeout=5)
        if self._marker_on:
            await fake.owner.react(marker, "🔖")
        else:
            await fake.owner.unreact(marker, "🔖")
        await seen

    async def settle(self) -> None:
        """Until every reaction event so far, and every event it caused, is applied."""
        for _ in range(50):
            before = self.fake.event_mark()
            await self._roundtrip()
            await self.bot.vote_writer.wait_idle()
            if self.fake.event_mark() == before + 1:  # only the marker happened meanwhile
                return
        raise AssertionError("the bot's votes never settled")

    async def assert_consistent(self) -> None:
        """Cached scores and points equal a recomputation from posts and votes."""
        fixed = await self.run(lambda s: points.recompute_points(s, self.guild_id))
        assert (fixed.members_fixed, fixed.posts_fixed) == (0, 0)


@pytest.fixture
async def vote_bot(db_url: str, qa_bot_factory: BotFactory) -> BotHarness:
    return await qa_bot_factory(extensions=EXTENSIONS, database_url=db_url)


@pytest.fixture
async def v(vote_bot: BotHarness) -> AsyncIterator[Votes]:
    yield Votes(vote_bot)


async def connected(fake: FakeDiscord) -> Session:
    """Until shard 0 has a live connection again (after a drop or a reconnect)."""

    def live() -> Session | None:
        session = fake.gateway.current.get(0)
        return session if session is not None and session.conn is not None else None

    return await fake.wait_until(live, what="shard 0 to be connected")


def people(fake: FakeDiscord, *names: str) -> list[Member]:
    return [fake.add_member(fake.guild, name) for name in names]


# --------------------------------------------------------------------------- pure emoji rules


def test_emoji_matching() -> None:
    config = settings.DEFAULTS
    assert vote_flag(Emoji(name="👍"), config) == "up"
    assert vote_flag(Emoji(name="👎"), config) == "down"
    assert vote_flag(Emoji(name="👍\ufe0f"), config) == "up"
    assert vote_flag(Emoji(name="😀"), config) is None
    custom = Emoji(name="plus", id=123)
    assert emoji_matches(custom, "<:plus:123>")
    assert emoji_matches(Emoji(name="renamed", id=123), "<:plus:123>")
    assert not emoji_matches(Emoji(name="plus", id=124), "<:plus:123>")
    assert not emoji_matches(Emoji(name="plus"), "<:plus:123>")
    assert not emoji_matches(custom, "👍")
    assert emoji_matches(Emoji(name="x", id=5), "<a:x:5>")


# --------------------------------------------------------------------------- the rules


async def test_up_and_down_reactions_set_and_clear_votes(v: Votes) -> None:
    asker, answerer, voter = people(v.fake, "asker", "answerer", "voter")
    q = await v.question(asker)
    a = await v.answer(q, answerer)
    await voter.react(a.message, UP)
    await v.settle()
    assert await v.stored(a) == {voter.id: (True, False)}
    assert (await v.get(a)).score == 1
    assert (await v.member(answerer)).points == 40 + 20
    await voter.react(a.message, DOWN)
    await voter.unreact(a.message, UP)
    await v.settle()
    assert await v.stored(a) == {voter.id: (False, True)}
    assert (await v.get(a)).score == -1
    assert (await v.member(answerer)).points == 40 - 20
    await voter.unreact(a.message, DOWN)
    await voter.react(q.message, UP)
    await v.settle()
    assert await v.stored(a) == {}
    assert (await v.get(a)).score == 0 and (await v.get(q)).score == 1
    assert (await v.member(asker)).points == 20 + 10
    await v.assert_consistent()


async def test_other_emoji_are_ignored_and_the_vote_emoji_are_per_guild(v: Votes) -> None:
    asker, answerer, voter = people(v.fake, "asker", "answerer", "voter")
    q = await v.question(asker)
    a = await v.answer(q, answerer)
    await voter.react(a.message, "😀")
    await voter.react(a.message, "<:heart:777>")
    await v.settle()
    assert await v.stored(a) == {}
    await v.set("vote_up_emoji", "<:plus:4242>")
    await v.set("vote_down_emoji", "⬇️")
    await voter.react(a.message, UP)  # no longer a vote emoji
    await voter.react(a.message, "plus:4242")
    await v.settle()
    assert await v.stored(a) == {voter.id: (True, False)}
    await voter.react(a.message, "⬇️")
    await v.settle()
    assert await v.stored(a) == {voter.id: (True, True)}
    assert (await v.get(a)).score == 0
    await v.assert_consistent()


async def test_question_votes_count_only_while_question_voting_is_on(v: Votes) -> None:
    asker, voter = people(v.fake, "asker", "voter")
    await v.set("question_voting", False)
    q = await v.question(asker)
    await voter.react(q.message, UP)
    await v.settle()
    # Stored as Discord shows it, counted nothing.
    assert await v.stored(q) == {voter.id: (True, False)}
    assert (await v.get(q)).score == 0 and (await v.member(asker)).points == 20
    await v.set("question_voting", True)
    await v.run(lambda s: points.recompute_points(s, v.guild_id))
    assert (await v.get(q)).score == 1 and (await v.member(asker)).points == 30


async def test_a_self_vote_on_a_named_post_is_removed(v: Votes) -> None:
    asker, answerer, helper = people(v.fake, "asker", "answerer", "helper")
    q = await v.question(asker)
    a = await v.answer(q, answerer)
    b = await v.bot_answer(q, helper, anonymous=False)  # named, posted by the bot
    since = v.fake.mark()
    await answerer.react(a.message, UP)
    await helper.react(b.message, DOWN)
    await asker.react(q.message, UP)
    await v.settle()
    removals = v.fake.find_calls(
        "DELETE",
        "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{user_id}",
        since=since,
    )
    assert sorted((c.id("message_id"), c.id("user_id")) for c in removals) == sorted(
        [(a.message.id, answerer.id), (b.message.id, helper.id), (q.message.id, asker.id)]
    )
    for posted in (a, b, q):
        assert posted.message.reactions == {}
        assert await v.stored(posted) == {}
        assert (await v.get(posted)).score == 0
    assert [(await v.member(m)).points for m in (asker, answerer, helper)] == [20, 40, 40]
    await v.assert_consistent()


async def test_without_manage_messages_a_self_vote_stays_and_counts_nothing(v: Votes) -> None:
    asker, answerer = people(v.fake, "asker", "answerer")
    bot_role = next(r for r in v.fake.guild.roles.values() if r.bot_id == v.fake.bot_user.id)
    v.fake.world.update_role(bot_role, permissions=bot_role.permissions & ~MANAGE_MESSAGES)
    q = await v.question(asker)
    a = await v.answer(q, answerer)
    since = v.fake.mark()
    await answerer.react(a.message, UP)
    await v.settle()
    assert not v.fake.find_calls("DELETE", "/channels/*/reactions/*", since=since)
    assert a.message.reaction_users(UP) == [answerer.id]
    assert await v.stored(a) == {answerer.id: (True, False)}
    assert (await v.get(a)).score == 0 and (await v.member(answerer)).points == 40
    await v.assert_consistent()


async def test_an_anonymous_authors_reaction_is_left_alone_and_scores_without_points(
    v: Votes,
) -> None:
    asker, helper, voter = people(v.fake, "asker", "helper", "voter")
    q = await v.anonymous_question(asker)
    a = await v.bot_answer(q, helper, anonymous=True)
    since = v.fake.mark()
    await helper.react(a.message, UP)
    await asker.react(q.message, UP)
    await voter.react(a.message, UP)
    await v.settle()
    assert not v.fake.find_calls("DELETE", "/channels/*", since=since)
    assert sorted(a.message.reaction_users(UP)) == sorted([helper.id, voter.id])
    assert (await v.get(a)).score == 2 and (await v.get(q)).score == 1
    helper_points, asker_points = await v.member(helper), await v.member(asker)
    # Public points untouched; the anonymous answer earned 40 + 20 (the voter's, not its own).
    assert (helper_points.points, helper_points.anon_points) == (0, 60)
    assert (asker_points.points, asker_points.anon_points) == (0, 20)
    await v.assert_consistent()


async def test_bots_reactions_count_nothing(v: Votes) -> None:
    asker, answerer = people(v.fake, "asker", "answerer")
    other_bot = v.fake.add_member(v.fake.guild, "helperbot", bot=True)
    q = await v.question(asker)
    a = await v.answer(q, answerer)
    await other_bot.react(a.message, UP)
    v.fake.world.add_reaction(a.message, UP, v.fake.bot_user.id)  # the bot's own reaction
    await v.fake.flush()
    await other_bot.unreact(a.message, UP)
    await other_bot.react(a.message, DOWN)
    await v.settle()
    assert await v.stored(a) == {}
    assert (await v.get(a)).score == 0
    await v.assert_consistent()


async def test_votes_on_a_closed_question_count_nothing_until_it_reopens(v: Votes) -> None:
    asker, answerer, voter, other = people(v.fake, "asker", "answerer", "voter", "other")
    q = await v.question(asker)
    a = await v.answer(q, answerer)
    await voter.react(a.message, UP)
    await v.settle()
    assert (await v.member(answerer)).points == 60
    await v.run(
        lambda s: questions.close_question(
            s, closing=questions.Closing(q.id), actor=Actor(asker.id)
        )
    )
    await other.react(a.message, UP)
    await other.react(q.message, UP)
    await v.settle()
    assert await v.stored(a) == {voter.id: (True, False), other.id: (True, False)}
    assert (await v.get(a)).score == 0 and (await v.get(q)).score == 0
    assert (await v.member(answerer)).points == 40
    assert (await v.member(asker)).points == 20
    await v.assert_consistent()
    await v.run(lambda s: questions.reopen_question(s, actor=Actor(asker.id), question_id=q.id))
    assert (await v.get(a)).score == 2 and (await v.member(answerer)).points == 80
    await v.assert_consistent()


async def test_votes_on_a_deleted_post_count_nothing(v: Votes) -> None:
    asker, answerer, voter = people(v.fake, "asker", "answerer", "voter")
    q = await v.question(asker)
    a = await v.answer(q, answerer)
    await v.run(lambda s: deletion.delete_message(s, message_id=a.message.id))
    await voter.react(a.message, UP)
    await v.settle()
    assert (await v.get(a)).score == 0 and (await v.member(answerer)).points == 0
    await v.assert_consistent()


async def test_clearing_one_emoji_or_every_reaction_clears_those_votes(v: Votes) -> None:
    asker, answerer, *voters = people(v.fake, "asker", "answerer", "v1", "v2", "v3")
    moderator = v.fake.add_member(v.fake.guild, "mod", roles=[v.fake.moderator_role])
    q = await v.question(asker)
    a = await v.answer(q, answerer)
    for voter in voters[:2]:
        await voter.react(a.message, UP)
    await voters[2].react(a.message, DOWN)
    await voters[0].react(a.message, DOWN)
    await voters[1].react(a.message, "😀")
    await v.settle()
    assert (await v.get(a)).score == 1 + 1 - 1 - 1
    await moderator.clear_reactions(a.message, DOWN)
    await v.settle()
    assert await v.stored(a) == {voters[0].id: (True, False), voters[1].id: (True, False)}
    assert (await v.get(a)).score == 2
    await moderator.clear_reactions(a.message, "😀")  # not a vote emoji: nothing changes
    await v.settle()
    assert (await v.get(a)).score == 2
    await moderator.clear_reactions(a.message)
    await v.settle()
    assert await v.stored(a) == {} and (await v.get(a)).score == 0
    assert (await v.member(answerer)).points == 40
    await v.assert_consistent()


async def test_a_message_the_bot_never_saw_counts(
    db_url: str, qa_bot_factory: BotFactory, fake_discord: FakeDiscord
) -> None:
    fake = fake_discord
    asker, answerer, voter = people(fake, "asker", "answerer", "voter")
    thread = await asker.create_post(fake.forum, "Old question", "Asked before the bot came.")
    old = await answerer.send(thread, LONG)
    harness = await qa_bot_factory(extensions=EXTENSIONS, database_url=db_url)
    assert harness.bot.get_partial_messageable(thread.id).id == thread.id
    assert discord.utils.get(harness.bot.cached_messages, id=old.id) is None
    v = Votes(harness)
    q_change = await v.run(
        lambda s: questions.create_question(
            s,
            guild_id=v.guild_id,
            author_id=asker.id,
            asked=questions.AskedQuestion(title="Old question"),
            via_bot=False,
            thread_id=thread.id,
            message_id=thread.id,
        )
    )
    a_change = await v.run(
        lambda s: posts.record_thread_message(
            s,
            guild_id=v.guild_id,
            thread_id=thread.id,
            message_id=old.id,
            author_id=answerer.id,
            body=LONG,
        )
    )
    assert a_change is not None and q_change.created
    await voter.react(old, UP)
    await v.settle()
    assert (await v.run(lambda s: lookups.get_post(s, a_change.post.id))).score == 1


async def test_duplicates_replays_and_a_remove_never_seen_change_nothing(v: Votes) -> None:
    asker, answerer, voter, other = people(v.fake, "asker", "answerer", "voter", "other")
    q = await v.question(asker)
    a = await v.answer(q, answerer)
    gateway = v.fake.gateway
    await voter.react(a.message, UP)
    (add,) = v.fake.find_events(
        "MESSAGE_REACTION_ADD", where=lambda e: e.data["user_id"] == str(voter.id)
    )
    # The same event twice more, as a replay after a lost acknowledgement would deliver it.
    for _ in range(2):
        gateway.send_dispatch(gateway.session_for(0), "MESSAGE_REACTION_ADD", add.data)
    # A remove of a reaction that was never there.
    never = {
        "user_id": str(other.id),
        "channel_id": str(a.message.channel_id),
        "message_id": str(a.message.id),
        "guild_id": str(v.guild_id),
        "emoji": {"id": None, "name": DOWN},
        "burst": False,
        "type": 0,
    }
    gateway.send_dispatch(gateway.session_for(0), "MESSAGE_REACTION_REMOVE", never)
    await v.fake.flush()
    await v.settle()
    assert await v.stored(a) == {voter.id: (True, False)}
    assert (await v.get(a)).score == 1 and (await v.member(answerer)).points == 60
    # Events sent while the connection is down are replayed on RESUME, exactly once.
    await v.fake.drop(0)
    await other.react(a.message, DOWN)
    await voter.unreact(a.message, UP)
    session = await connected(v.fake)
    await v.settle()
    assert session.resumes == 1
    assert session.replayed
    assert await v.stored(a) == {other.id: (False, True)}
    assert (await v.get(a)).score == -1 and (await v.member(answerer)).points == 20
    await v.assert_consistent()


class StatusLinesSpy:
    def __init__(self) -> None:
        self.requested: list[int] = []

    def request(self, question_id: int) -> None:
        self.requested.append(question_id)


async def test_a_vote_refreshes_the_questions_status_line(
    v: Votes, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = StatusLinesSpy()
    monkeypatch.setattr(v.bot.status_lines, "request", spy.request)
    asker, answerer, voter = people(v.fake, "asker", "answerer", "voter")
    q = await v.question(asker)
    a = await v.answer(q, answerer)
    await voter.react(a.message, UP)
    await voter.react(q.message, DOWN)
    await voter.react(a.message, "😀")
    await v.settle()
    assert set(spy.requested) == {q.id}
    spy.requested.clear()
    await voter.react(a.message, UP)  # nothing changes: no refresh
    await v.settle()
    assert spy.requested == []


async def test_public_point_changes_are_announced_for_point_roles(v: Votes) -> None:
    asker, answerer, helper, voter = people(v.fake, "asker", "answerer", "helper", "voter")
    q = await v.question(asker)
    a = await v.answer(q, answerer)
    anon = await v.bot_answer(q, helper, anonymous=True)
    announced: list[tuple[int, frozenset[int]]] = []

    async def record(guild_id: int, user_ids: frozenset[int]) -> None:
        announced.append((guild_id, user_ids))

    v.bot.add_listener(record, "on_qa_points_changed")
    await voter.react(a.message, UP)
    await voter.react(anon.message, UP)  # anonymous: its author is never announced
    await v.settle()
    await v.fake.wait_until(lambda: announced)
    users = set().union(*(ids for _, ids in announced))
    assert users == {answerer.id}
    assert {g for g, _ in announced} == {v.guild_id}


# --------------------------------------------------------------------------- exactness


@pytest.mark.slow
async def test_hundreds_of_random_reaction_events_end_exact(v: Votes) -> None:
    rng = random.Random(8)
    fake = v.fake
    since = fake.mark()
    duplicated = 0
    members = people(fake, *(f"m{i}" for i in range(6)))
    a_bot = fake.add_member(fake.guild, "otherbot", bot=True)
    q1 = await v.question(members[0], "First question here")
    q2 = await v.question(members[1], "Second question here")
    q3 = await v.anonymous_question(members[2], "Third question here")
    closed = await v.question(members[3], "A question that gets closed")
    targets = [
        q1,
        q2,
        q3,
        closed,
        await v.answer(q1, members[1]),
        await v.answer(q1, members[2]),
        await v.bot_answer(q1, members[3], anonymous=False),
        await v.bot_answer(q2, members[4], anonymous=True),
        await v.answer(q2, members[5]),
        await v.answer(closed, members[0]),
    ]
    await v.run(
        lambda s: questions.close_question(
            s, closing=questions.Closing(closed.id), actor=Actor(members[3].id)
        )
    )
    reactors = [*members, a_bot]
    emoji = [UP, UP, DOWN, DOWN, "😀"]
    gateway = fake.gateway
    for step in range(480):
        who = rng.choice(reactors)
        target = rng.choice(targets).message
        which = rng.choice(emoji)
        roll = rng.random()
        if roll < 0.55:
            fake.world.add_reaction(target, which, who.id)
        elif roll < 0.93:
            fake.world.remove_reaction(target, which, who.id)
        elif roll < 0.97:
            fake.world.clear_emoji(target, rng.choice([UP, DOWN]))
        else:
            fake.world.clear_reactions(target)
        if rng.random() < 0.15 and gateway.current.get(0) is not None:
            # Deliver the latest event again (a replay of something already handled).
            session = gateway.session_for(0)
            last = fake.events[-1]
            if last.name.startswith("MESSAGE_REACTION") and last.session_id == session.id:
                gateway.send_dispatch(session, last.name, last.data)
                duplicated += 1
        if step % 90 in (45, 80):
            session = await connected(fake)
            if step % 90 == 45:
                fake.reconnect(0)  # op 7: the client resumes; what it missed is replayed
            else:
                await fake.drop(0)  # a network drop: the client resumes as well
        if step % 10 == 0:
            await fake.flush()
    session = await connected(fake)
    await v.settle()
    assert session.resumes >= 2 and session.replayed
    assert duplicated > 20
    reaction_events = fake.find_events(where=lambda e: e.name.startswith("MESSAGE_REACTION"))
    assert len(reaction_events) > 300
    self_votes_removed = fake.find_calls("DELETE", "/channels/*/reactions/*", since=since)
    assert self_votes_removed
    total_votes = 0

    config = settings.DEFAULTS
    for posted in targets:
        post = await v.get(posted)
        shown: dict[int, tuple[bool, bool]] = {}
        for user in {*posted.message.reaction_users(UP), *posted.message.reaction_users(DOWN)}:
            if user in (a_bot.id, fake.bot_user.id):
                continue
            shown[user] = (
                user in posted.message.reaction_users(UP),
                user in posted.message.reaction_users(DOWN),
            )
        # Stored votes are exactly the members' reactions Discord shows.
        assert await v.stored(posted) == shown, post.id
        total_votes += len(shown)
        # No self-vote is left on a named post: the bot took it off.
        if not post.anonymous:
            assert post.author_id not in shown
        counted = post.id != closed.id and post.question_id != closed.id
        expected = sum(int(up) - int(down) for up, down in shown.values()) if counted else 0
        assert post.score == expected, post.id
        assert config.question_voting
    assert total_votes > 10
    await v.assert_consistent()


async def test_inline_handlers_see_reactions_in_order_and_a_failing_one_stops_nothing(
    v: Votes, caplog: pytest.LogCaptureFixture
) -> None:
    asker, answerer, voter = people(v.fake, "asker", "answerer", "voter")
    q = await v.question(asker)
    a = await v.answer(q, answerer)
    seen: list[tuple[str, int]] = []

    def failing(payload: discord.RawReactionActionEvent) -> None:
        raise RuntimeError("an inline handler's bug")

    def recording(payload: discord.RawReactionActionEvent) -> None:
        if payload.message_id in (a.message.id, q.message.id):  # not ``settle``'s marker
            seen.append((payload.event_type, payload.message_id))

    v.h.allow_errors()
    v.bot.add_inline_handler("raw_reaction_add", failing)
    v.bot.add_inline_handler("raw_reaction_add", recording)
    v.bot.add_inline_handler("raw_reaction_remove", recording)
    await voter.react(a.message, UP)
    await voter.unreact(a.message, UP)
    await voter.react(q.message, UP)
    await v.settle()
    # In the gateway's order; a failing handler changes nothing for the others (the votes).
    assert seen == [
        ("REACTION_ADD", a.message.id),
        ("REACTION_REMOVE", a.message.id),
        ("REACTION_ADD", q.message.id),
    ]
    assert await v.stored(q) == {voter.id: (True, False)}
    assert "an inline handler of raw_reaction_add failed" in caplog.text
    v.bot.remove_inline_handler("raw_reaction_add", recording)
    v.bot.remove_inline_handler("raw_reaction_remove", recording)
    v.bot.remove_inline_handler("raw_reaction_remove", recording)  # absent: nothing
    await voter.unreact(q.message, UP)
    await v.settle()
    assert len(seen) == 3
    assert await v.stored(q) == {}
