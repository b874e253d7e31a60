"""End to end through the fake Discord: /close and /reopen, duplicates, messages in closed
threads, and Discord's own edits, deletes and renames kept in the database, on both backends.

Points are checked against ``recompute_points`` after every change: the members' cached points
before and after a recomputation are equal, and it reports nothing to fix.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.models import Member as MemberRow
from bot.db.models import Post
from bot.forum import acceptance, audit, lookups, questions, votes
from bot.forum.points import recompute_points
from bot.forum.results import PostChange, PostSnapshot
from bot.forum.rights import Actor
from cogs.lifecycle import targets
from tests.cogs.conftest import (
    AskedQuestion,
    BotEvents,
    ask_question_directly,
    configure_qa_guild,
    run_domain,
    thread_message_handled,
)
from tests.fakediscord import FakeDiscord, GestureRefused, InteractionHandle, Member, Message
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.fakediscord.model import Channel

LONG = "Breathe in for four counts, hold for four, then breathe out slowly for four."
OTHER_LONG = "Write the worries down on paper before bed, then close the notebook."
MESSAGES = "/channels/{channel_id}/messages"
MESSAGE = "/channels/{channel_id}/messages/{message_id}"
CHANNEL = "/channels/{channel_id}"

# Default points (DESIGN.md §3), as cached (without the base of 100).
ASK, ANSWER, UP_ON_QUESTION, UP_ON_ANSWER, ACCEPTED, ACCEPTING = 20, 40, 10, 20, 300, 30


@dataclass
class Scene:
    fake: FakeDiscord
    harness: BotHarness
    events: BotEvents
    alice: Member  # asks
    bob: Member  # answers
    carol: Member  # answers too
    dave: Member  # just a member
    mod: Member  # a moderator

    @property
    def guild_id(self) -> int:
        assert self.fake.guild is not None
        return self.fake.guild.id


@pytest.fixture
async def scene(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    fake = fake_discord
    assert fake.guild is not None and fake.moderator_role is not None
    members = {n: fake.add_member(fake.guild, n) for n in ("alice", "bob", "carol", "dave")}
    mod = fake.add_member(fake.guild, "mod", roles=[fake.moderator_role])
    harness = await qa_bot_factory(
        extensions=["cogs.answering", "cogs.lifecycle"], database_url=db_url
    )
    harness.bot.status_lines.coalescer.interval = 0.0  # no cool-down between status edits in tests
    await configure_qa_guild(harness)
    events = BotEvents(harness, "qa_thread_message", "qa_synced")
    try:
        yield Scene(fake, harness, events, mod=mod, **members)
    finally:
        events.close()


# --------------------------------------------------------------------------- helpers


async def question_now(scene: Scene, asked: AskedQuestion | PostSnapshot) -> PostSnapshot:
    return await run_domain(scene.harness, lambda s: lookups.get_post(s, asked.id))


async def say(scene: Scene, who: Member, thread: Channel, text: str, **kw: Any) -> Any:
    """``who`` writes in a thread; returns the message and the domain's change once handled."""
    message = await who.send(thread, text, **kw)
    return message, await thread_message_handled(scene.events, message)


async def synced(scene: Scene, kind: str, check: Any = lambda _p: True) -> list[PostChange]:
    """Until the lifecycle cog has applied a Discord change of ``kind``; its domain changes."""
    _, _, changes = await scene.events.wait_for(
        "qa_synced", lambda k, payload, _c: k == kind and check(payload)
    )
    return list(changes)


async def sentence(ix: InteractionHandle) -> str:
    msg = await ix.message()
    assert msg.ephemeral
    return msg.content


def status_of(message: Message) -> str:
    """The status line an /ask starter shows."""
    (embed,) = message.embeds
    return str(next(f["value"] for f in embed["fields"] if f["name"] == "Status"))


def bot_messages(scene: Scene, thread: Channel) -> list[Message]:
    return [
        m
        for m in scene.fake.messages_in(thread)
        if m.author_id == scene.fake.bot_user.id and m.id != thread.id
    ]


async def cached_points(scene: Scene) -> dict[int, tuple[int, ...]]:
    async with scene.harness.sessionmaker() as session:
        rows = await session.execute(select(MemberRow).where(MemberRow.guild_id == scene.guild_id))
        return {
            r.user_id: (r.points, r.questions, r.answers, r.accepted_answers)
            for r in rows.scalars()
        }


async def points_of(scene: Scene, who: Member) -> int:
    return (await cached_points(scene)).get(who.id, (0,))[0]


async def assert_points_recompute_clean(scene: Scene) -> dict[int, tuple[int, ...]]:
    """The cached points equal a recomputation from posts and votes (nothing to fix)."""
    before = await cached_points(scene)
    result = await run_domain(scene.harness, lambda s: recompute_points(s, scene.guild_id))
    assert (result.members_fixed, result.posts_fixed) == (0, 0)
    assert await cached_points(scene) == before
    return before


async def rows_of(scene: Scene, asked: AskedQuestion) -> list[Post]:
    async with scene.harness.sessionmaker() as session:
        found = await session.execute(
            select(Post).where(Post.question_id == asked.id).order_by(Post.id)
        )
        return list(found.scalars())


async def vote(scene: Scene, voter: Member, post_id: int) -> None:
    await run_domain(
        scene.harness,
        lambda s: votes.set_vote(s, user_id=voter.id, flag="up", on=True, post_id=post_id),
    )


async def closed_by(scene: Scene, who: Member, asked: AskedQuestion, **options: Any) -> str:
    """``who`` runs /close in the question's thread; the ephemeral answer once all is done."""
    ix = await who.slash("close", options, channel=asked.thread)
    assert await ix.deferred()
    return await sentence(ix)


# --------------------------------------------------------------------------- /close


async def test_the_asker_closes_their_question(scene: Scene) -> None:
    fake = scene.fake
    asked = await ask_question_directly(scene.harness, scene.alice)
    _, answer = await say(scene, scene.bob, asked.thread, LONG)
    assert answer.post.kind == "answer"
    await scene.harness.bot.status_lines.wait_idle()
    # The asker's new-answer DM goes out before the mark, not among the close's own calls.
    await scene.harness.bot.notifier.wait_idle()
    mark = fake.mark()
    reply = await closed_by(scene, scene.alice, asked, reason="Solved it myself, *thanks*")
    assert reply.startswith("✅ The question is closed:") and str(asked.thread.id) in reply

    thread = asked.thread
    assert thread.archived and not thread.locked
    (closing,) = bot_messages(scene, thread)
    assert closing.content.splitlines()[0] == "🔒 **This question is closed** (by the asker)."
    assert "Reason: Solved it myself, \\*thanks\\*" in closing.content
    assert "The asker or a moderator can reopen it with /reopen." in closing.content
    assert closing.allowed_mentions == {"parse": []}
    # The status line shows it, edited before the thread was archived.
    assert status_of(fake.message(asked.starter.id)) == "▲ 0 · 1 answer · 🔒 Closed"
    calls = [
        (c.method, c.route)
        for c in fake.find_calls(None, None, since=mark)
        if c.route in (MESSAGES, MESSAGE, CHANNEL)
    ]
    assert calls.index(("POST", MESSAGES)) < calls.index(("PATCH", MESSAGE))
    assert calls.index(("PATCH", MESSAGE)) < calls.index(("PATCH", CHANNEL))
    (archive,) = fake.find_calls("PATCH", CHANNEL, since=mark)
    assert archive.json == {"archived": True}

    question = await question_now(scene, asked)
    assert question.closed and not question.closed_by_moderator
    assert question.closed_reason == "Solved it myself, *thanks*"
    # The asker's own close is no moderator action: the audit trail stays empty.
    assert (await run_domain(scene.harness, lambda s: audit.page(s, scene.guild_id))).total == 0
    await assert_points_recompute_clean(scene)

    # Closing it again (from elsewhere, by its id) changes nothing.
    mark = fake.mark()
    ix = await scene.alice.slash("close", {"question": str(asked.id)}, channel=fake.general)
    assert (await sentence(ix)).startswith("That question is already closed")
    assert fake.find_calls("POST", MESSAGES, since=mark) == []
    assert fake.find_calls("PATCH", CHANNEL, since=mark) == []


async def test_a_moderator_closes_and_locks_and_only_a_moderator_reopens(scene: Scene) -> None:
    fake = scene.fake
    asked = await ask_question_directly(scene.harness, scene.alice, native=True)
    reply = await closed_by(scene, scene.mod, asked, reason="Off topic here")
    assert reply.startswith("✅ The question is closed")
    thread = asked.thread
    assert thread.archived and thread.locked
    (closing,) = bot_messages(scene, thread)
    assert "(by a moderator)" in closing.content
    assert "A moderator can reopen it with /reopen." in closing.content
    assert (await question_now(scene, asked)).closed_by_moderator
    shown = await run_domain(scene.harness, lambda s: audit.page(s, scene.guild_id))
    assert [(e.action, e.moderator_id, e.post_id, e.detail) for e in shown.entries] == [
        ("close", scene.mod.id, asked.id, "Off topic here")
    ]
    # A locked thread refuses members.
    with pytest.raises(GestureRefused):
        await scene.bob.send(thread, LONG)

    # Commands are refused in an archived thread: /reopen names the question instead.
    with pytest.raises(GestureRefused):
        await scene.alice.slash("reopen", channel=thread)
    ix = await scene.alice.slash("reopen", {"question": str(asked.id)}, channel=fake.general)
    assert await sentence(ix) == (
        "A moderator closed this question, so only a moderator can reopen it."
    )
    assert thread.archived and thread.locked

    ix = await scene.mod.slash("reopen", {"question": str(asked.id)}, channel=fake.general)
    assert (await sentence(ix)).startswith("✅ The question is open again:")
    assert not thread.archived and not thread.locked
    reopening = bot_messages(scene, thread)[-1]
    assert reopening.content.startswith(
        "🔓 **This question is open again** (reopened by a moderator)"
    )
    question = await question_now(scene, asked)
    assert not question.closed and question.status == "open"
    # Members answer again.
    _, answer = await say(scene, scene.bob, thread, LONG)
    assert answer.post.kind == "answer"
    await assert_points_recompute_clean(scene)


async def test_someone_who_may_not_close_is_refused_and_nothing_changes(scene: Scene) -> None:
    fake = scene.fake
    asked = await ask_question_directly(scene.harness, scene.alice)
    mark = fake.mark()
    reply = await closed_by(scene, scene.dave, asked, reason="I do not like it")
    assert reply == "Only the asker or a moderator can close this question."
    assert not asked.thread.archived and not asked.thread.locked
    assert bot_messages(scene, asked.thread) == []
    assert fake.find_calls("PATCH", CHANNEL, since=mark) == []
    assert fake.find_calls("PATCH", MESSAGE, since=mark) == []
    question = await question_now(scene, asked)
    assert not question.closed and question.status == "open"

    # Outside a question's thread, without a question: a sentence.
    ix = await scene.alice.slash("close", channel=fake.general)
    assert await sentence(ix) == targets.NO_QUESTION_HERE
    # A title typed instead of picking from the list.
    ix = await scene.alice.slash("close", {"question": "my question"}, channel=fake.general)
    assert await sentence(ix) == targets.PICK_A_QUESTION
    ix = await scene.alice.slash("close", {"duplicate_of": "that one"}, channel=asked.thread)
    assert await sentence(ix) == targets.PICK_THE_ORIGINAL
    assert not (await question_now(scene, asked)).closed


async def test_the_asker_reopens_from_another_channel(scene: Scene) -> None:
    fake = scene.fake
    asked = await ask_question_directly(scene.harness, scene.alice)
    await closed_by(scene, scene.alice, asked)
    assert asked.thread.archived
    assert status_of(fake.message(asked.starter.id)).endswith("🔒 Closed")

    # A thread link works as well as an id.
    link = f"https://discord.com/channels/{scene.guild_id}/{asked.thread.id}"
    ix = await scene.alice.slash("reopen", {"question": link}, channel=fake.general)
    assert (await sentence(ix)).startswith("✅ The question is open again")
    assert not asked.thread.archived and not asked.thread.locked
    assert bot_messages(scene, asked.thread)[-1].content.startswith(
        "🔓 **This question is open again** (reopened by the asker)"
    )
    await fake.wait_until(
        lambda: status_of(fake.message(asked.starter.id)) == "▲ 0 · 0 answers",
        what="the status line without the closed mark",
    )
    # Reopening an open question says so.
    ix = await scene.alice.slash("reopen", channel=asked.thread)
    assert (await sentence(ix)).startswith("That question is not closed")
    await assert_points_recompute_clean(scene)


# --------------------------------------------------------------------------- duplicates


async def test_a_duplicate_is_linked_both_ways(scene: Scene) -> None:
    original = await ask_question_directly(scene.harness, scene.alice, "How to sleep [better]?")
    dup = await ask_question_directly(scene.harness, scene.carol, "Sleeping *tips*?")
    reply = await closed_by(scene, scene.carol, dup, duplicate_of=str(original.id))
    assert reply.startswith("✅ The question is closed")

    (closing,) = bot_messages(scene, dup.thread)
    original_link = f"https://discord.com/channels/{scene.guild_id}/{original.thread.id}"
    assert f"Closed as a duplicate of “How to sleep \\[better]?”: {original_link}" in (
        closing.content
    )
    (backlink,) = bot_messages(scene, original.thread)
    dup_link = f"https://discord.com/channels/{scene.guild_id}/{dup.thread.id}"
    assert backlink.content == (
        f"🔗 “Sleeping \\*tips\\*?” was closed as a duplicate of this question: {dup_link}"
    )
    assert backlink.allowed_mentions == {"parse": []}
    assert (await question_now(scene, dup)).duplicate_of_id == original.id
    assert not original.thread.archived and dup.thread.archived

    # The original closed too: only the closing message links it.
    await closed_by(scene, scene.alice, original)
    third = await ask_question_directly(scene.harness, scene.dave, "Sleep again")
    await closed_by(scene, scene.mod, third, duplicate_of=str(original.id))
    assert original_link in bot_messages(scene, third.thread)[0].content
    assert len(bot_messages(scene, original.thread)) == 2  # the backlink, its own closing
    # A question cannot duplicate itself.
    fourth = await ask_question_directly(scene.harness, scene.dave, "Fourth")
    reply = await closed_by(scene, scene.dave, fourth, duplicate_of=str(fourth.id))
    assert reply == "A question cannot be a duplicate of itself."
    assert not fourth.thread.archived


# --------------------------------------------------------------------------- closed threads


async def test_a_member_writing_in_a_closed_thread_is_told_once(scene: Scene) -> None:
    fake = scene.fake
    asked = await ask_question_directly(scene.harness, scene.alice)
    await closed_by(scene, scene.alice, asked)
    thread = asked.thread
    assert thread.archived and not thread.locked

    message, change = await say(scene, scene.bob, thread, LONG)
    assert change.post.kind == "comment"  # long enough for an answer, but the question is closed
    await fake.wait_until(lambda: thread.archived, what="the thread archived again")
    notices = [m for m in bot_messages(scene, thread) if "This question is closed, so" in m.content]
    (notice,) = notices
    assert notice.reference is not None and int(notice.reference["message_id"]) == message.id
    assert notice.allowed_mentions is not None and not notice.allowed_mentions.get("replied_user")
    assert scene.bob.id not in fake.rules.pings(notice)

    # Told once per member and question; the thread is archived again each time.
    _, again = await say(scene, scene.bob, thread, OTHER_LONG)
    assert again.post.kind == "comment"
    await fake.wait_until(lambda: thread.archived, what="the thread archived again")
    await say(scene, scene.carol, thread, "Me too")
    await fake.wait_until(lambda: thread.archived, what="the thread archived again")
    notices = [m for m in bot_messages(scene, thread) if "This question is closed, so" in m.content]
    assert len(notices) == 2
    assert [r.kind for r in await rows_of(scene, asked)] == ["comment", "comment", "comment"]
    assert (await question_now(scene, asked)).answer_count == 0
    await assert_points_recompute_clean(scene)


async def test_a_moderator_writing_in_a_locked_closed_thread_is_not_told(scene: Scene) -> None:
    fake = scene.fake
    asked = await ask_question_directly(scene.harness, scene.alice)
    await closed_by(scene, scene.mod, asked)
    thread = asked.thread
    _, change = await say(scene, scene.mod, thread, "Closed because it repeats an older one.")
    assert change.post.kind == "comment"
    await fake.wait_until(lambda: thread.archived, what="the thread archived again")
    assert thread.locked
    assert [m for m in bot_messages(scene, thread) if "so replies" in m.content] == []


# --------------------------------------------------------------------------- deletes and edits


async def answered(scene: Scene) -> tuple[AskedQuestion, Message, Message, Message]:
    """Alice's question (a native post) with Bob's and Carol's answers and Dave's comment,
    votes on each, and Bob's answer accepted."""
    asked = await ask_question_directly(scene.harness, scene.alice, native=True)
    bob_msg, bob_answer = await say(scene, scene.bob, asked.thread, LONG)
    carol_msg, carol_answer = await say(scene, scene.carol, asked.thread, OTHER_LONG)
    dave_msg, dave_comment = await say(scene, scene.dave, asked.thread, "Thanks all")
    assert (bob_answer.post.kind, carol_answer.post.kind) == ("answer", "answer")
    assert dave_comment.post.kind == "comment"
    await vote(scene, scene.dave, asked.id)
    await vote(scene, scene.dave, bob_answer.post.id)
    await vote(scene, scene.alice, carol_answer.post.id)
    await run_domain(
        scene.harness,
        lambda s: acceptance.accept_answer(
            s, answer_ref=acceptance.PostRef(bob_answer.post.id), actor=Actor(scene.alice.id)
        ),
    )
    return asked, bob_msg, carol_msg, dave_msg


async def test_a_deleted_message_deletes_its_post_and_points_follow(scene: Scene) -> None:
    asked, bob_msg, carol_msg, _ = await answered(scene)
    before = await assert_points_recompute_clean(scene)
    assert before[scene.bob.id][0] == ANSWER + UP_ON_ANSWER + ACCEPTED
    assert before[scene.alice.id][0] == ASK + UP_ON_QUESTION + ACCEPTING

    await scene.bob.delete(bob_msg)
    (change,) = await synced(scene, "delete", lambda p: p.message_id == bob_msg.id)
    assert change.post.deleted and change.post.kind == "answer"
    question = await question_now(scene, asked)
    assert question.answer_count == 1 and question.accepted_answer_id is None
    after = await assert_points_recompute_clean(scene)
    assert after[scene.bob.id][0] == 0
    assert after[scene.alice.id][0] == ASK + UP_ON_QUESTION  # accepting undone too
    assert after[scene.carol.id][0] == ANSWER + UP_ON_ANSWER

    # A moderator deletes Carol's answer; a repeat of the event changes nothing.
    await scene.mod.delete(carol_msg)
    (change,) = await synced(scene, "delete", lambda p: p.message_id == carol_msg.id)
    assert change.changed and (await question_now(scene, asked)).answer_count == 0
    assert (await points_of(scene, scene.carol)) == 0
    await assert_points_recompute_clean(scene)


async def test_a_bulk_delete_deletes_every_post_in_it(scene: Scene) -> None:
    fake = scene.fake
    asked, bob_msg, carol_msg, dave_msg = await answered(scene)
    other = await ask_question_directly(scene.harness, scene.bob, "Another one", native=True)
    unrelated = await scene.dave.send(fake.general, "hello")
    await fake.bulk_delete(asked.thread, [bob_msg, dave_msg])
    changes = await synced(scene, "bulk_delete")
    assert sorted(c.post.id for c in changes if c.changed) == sorted(
        r.id for r in await rows_of(scene, asked) if r.message_id in (bob_msg.id, dave_msg.id)
    )
    kinds = {r.message_id: (r.kind, r.deleted_at is not None) for r in await rows_of(scene, asked)}
    assert kinds == {
        bob_msg.id: ("answer", True),
        carol_msg.id: ("answer", False),
        dave_msg.id: ("comment", True),
    }
    await fake.bulk_delete(fake.general, [unrelated])
    assert await synced(scene, "bulk_delete", lambda p: p.channel_id == fake.general.id) == []
    after = await assert_points_recompute_clean(scene)
    assert after[scene.bob.id][0] == ASK  # his answer gone, his own question stays
    assert not (await question_now(scene, other)).deleted


async def test_a_deleted_starter_or_thread_deletes_the_question(scene: Scene) -> None:
    fake = scene.fake
    asked, _, _, _ = await answered(scene)
    # A moderator deletes the starter message of the native post: the question is deleted,
    # with everything in its thread.
    await scene.mod.delete(asked.starter)
    (change,) = await synced(scene, "delete", lambda p: p.message_id == asked.starter.id)
    assert change.post.kind == "question" and change.post.deleted
    assert all(r.deleted_at is not None for r in await rows_of(scene, asked))
    after = await assert_points_recompute_clean(scene)
    assert all(points == 0 for points, *_ in after.values())
    assert not fake.channel(asked.thread.id).deleted  # the thread itself is left to moderators

    second = await ask_question_directly(scene.harness, scene.carol, "Second", native=True)
    _, answer = await say(scene, scene.dave, second.thread, LONG)
    await vote(scene, scene.bob, answer.post.id)
    assert (await points_of(scene, scene.dave)) == ANSWER + UP_ON_ANSWER
    await scene.mod.delete_thread(second.thread)
    (change,) = await synced(scene, "thread_delete", lambda p: p.thread_id == second.thread.id)
    assert change.post.deleted and (await question_now(scene, second)).deleted
    after = await assert_points_recompute_clean(scene)
    assert after[scene.dave.id][0] == 0 and after[scene.carol.id][0] == 0


async def test_the_bots_own_deletes_are_not_counted_twice(scene: Scene) -> None:
    fake = scene.fake
    asked = await ask_question_directly(scene.harness, scene.alice)
    ix = await scene.bob.slash("answer", channel=asked.thread)
    submitted = await ix.submit_modal({"answer": LONG})
    await submitted.message()
    posted = bot_messages(scene, asked.thread)[-1]
    await thread_message_handled(scene.events, posted)
    # /delete deletes in the domain, then the message: the echo changes nothing more.
    ix = await scene.bob.slash("delete", channel=asked.thread)
    prompt = await ix.message()
    confirm = next(
        c["custom_id"]
        for c in prompt.walk_components()
        if c.get("type") == 2 and c.get("label") == "Delete"
    )
    await (await scene.bob.click(prompt, confirm)).message()
    (change,) = await synced(scene, "delete", lambda p: p.message_id == posted.id)
    assert not change.changed
    await assert_points_recompute_clean(scene)
    assert (await points_of(scene, scene.bob)) == 0
    # A moderator deleting a bot-posted answer in Discord deletes the answer.
    ix = await scene.carol.slash("answer", channel=asked.thread)
    await (await ix.submit_modal({"answer": OTHER_LONG})).message()
    carols = bot_messages(scene, asked.thread)[-1]
    await thread_message_handled(scene.events, carols)
    await scene.mod.delete(carols)
    (change,) = await synced(scene, "delete", lambda p: p.message_id == carols.id)
    assert change.changed and change.post.deleted and change.post.via_bot
    await fake.wait_until(
        lambda: status_of(fake.message(asked.starter.id)) == "▲ 0 · 0 answers",
        what="the status line after the delete",
    )
    await assert_points_recompute_clean(scene)


async def test_an_edited_message_updates_its_post_and_keeps_its_kind(scene: Scene) -> None:
    fake = scene.fake
    asked, bob_msg, _, dave_msg = await answered(scene)
    await scene.bob.edit(bob_msg, "ok")  # too short for an answer now: still an answer
    (change,) = await synced(scene, "edit", lambda p: p.message_id == bob_msg.id)
    assert (change.post.kind, change.post.body) == ("answer", "ok")
    await scene.dave.edit(dave_msg, OTHER_LONG)  # long now: still a comment
    (change,) = await synced(scene, "edit", lambda p: p.message_id == dave_msg.id)
    assert (change.post.kind, change.post.body) == ("comment", OTHER_LONG)
    await scene.alice.edit(asked.starter, "New details")  # a native starter: the question
    (change,) = await synced(scene, "edit", lambda p: p.message_id == asked.starter.id)
    assert (change.post.kind, change.post.body) == ("question", "New details")
    unrelated = await scene.dave.send(fake.general, "hi")
    await scene.dave.edit(unrelated, "hello")
    assert await synced(scene, "edit", lambda p: p.message_id == unrelated.id) == []
    question = await question_now(scene, asked)
    assert question.answer_count == 2 and question.accepted_answer_id is not None
    await assert_points_recompute_clean(scene)


async def test_the_bots_own_edits_are_ignored(scene: Scene) -> None:
    fake = scene.fake
    asked = await ask_question_directly(scene.harness, scene.alice)
    # The bot's own edit of its /ask starter (the status line) leaves the question's details.
    fake.world.edit_message(asked.starter, {"content": "Asked", "embeds": []})
    message, _ = await say(scene, scene.bob, asked.thread, LONG)
    await scene.bob.edit(message, OTHER_LONG)
    (change,) = await synced(scene, "edit", lambda p: p.message_id == message.id)
    assert change.post.body == OTHER_LONG
    assert (await question_now(scene, asked)).body == asked.question.body
    assert len(scene.events.of("qa_synced")) == 1


# --------------------------------------------------------------------------- renames


async def test_a_thread_renamed_in_discord_renames_its_question(scene: Scene) -> None:
    fake = scene.fake
    asked = await ask_question_directly(scene.harness, scene.alice, "Old title")
    mark = fake.mark()
    await scene.mod.edit_thread(asked.thread, name="A clearer title")
    (change,) = await synced(scene, "rename")
    assert change.changed and change.post.title == "A clearer title"
    await fake.wait_until(
        lambda: fake.message(asked.starter.id).embeds[0]["title"] == "A clearer title",
        what="the starter's embed renamed",
    )
    # The bot renamed nothing itself (no loop).
    assert fake.find_calls("PATCH", CHANNEL, since=mark) == []

    # /edit renames the thread from the stored title: its event changes nothing more.
    ix = await scene.alice.slash("edit", channel=asked.thread)
    await ix.modal()
    done = await ix.submit_modal({"title": "Edited title", "details": "Details"})
    await done.message()
    assert asked.thread.name == "Edited title"
    (change,) = await synced(scene, "rename", lambda p: p.name == "Edited title")
    assert not change.changed
    assert len(fake.find_calls("PATCH", CHANNEL, since=mark)) == 1

    # A name with nothing visible is no title: the question keeps its own.
    await scene.mod.edit_thread(asked.thread, name="\u3164")
    assert await synced(scene, "rename", lambda p: p.name == "\u3164") == []
    assert (await question_now(scene, asked)).title == "Edited title"


async def test_a_member_leaving_changes_nothing_stored(scene: Scene) -> None:
    fake = scene.fake
    asked, _, _, _ = await answered(scene)
    before = await assert_points_recompute_clean(scene)
    posts_before = [(r.id, r.deleted_at, r.score) for r in await rows_of(scene, asked)]
    fake.remove_member(scene.bob)
    await fake.flush()
    # Something the bot handles after the departure, so the departure was seen first.
    _, later = await say(scene, scene.carol, asked.thread, "Still here")
    assert later.post.kind == "comment"
    assert [(r.id, r.deleted_at, r.score) for r in await rows_of(scene, asked)][:3] == (
        posts_before
    )
    after = await assert_points_recompute_clean(scene)
    assert after[scene.bob.id] == before[scene.bob.id]


# --------------------------------------------------------------------------- status lines


async def test_a_change_in_a_closed_thread_edits_its_status_line_and_keeps_it_archived(
    scene: Scene,
) -> None:
    fake = scene.fake
    asked = await ask_question_directly(scene.harness, scene.alice)
    message, _ = await say(scene, scene.bob, asked.thread, LONG)
    await closed_by(scene, scene.mod, asked)
    thread = asked.thread
    assert thread.archived and thread.locked
    assert status_of(fake.message(asked.starter.id)) == "▲ 0 · 1 answer · 🔒 Closed"
    mark = fake.mark()
    await scene.mod.delete(message)
    await synced(scene, "delete", lambda p: p.message_id == message.id)
    await fake.wait_until(
        lambda: (
            status_of(fake.message(asked.starter.id)) == "▲ 0 · 0 answers · 🔒 Closed"
            and thread.archived
        ),
        what="the status line edited and the thread archived again",
    )
    assert thread.locked
    patches = [c.json for c in fake.find_calls("PATCH", CHANNEL, since=mark)]
    assert patches == [{"archived": False}, {"archived": True}]
    await assert_points_recompute_clean(scene)


# --------------------------------------------------------------------------- autocomplete


async def test_autocomplete_offers_question_ids(scene: Scene) -> None:
    fake = scene.fake
    guild_id = scene.guild_id
    made: list[PostSnapshot] = []
    for n in range(30):
        change = await run_domain(
            scene.harness,
            lambda s, n=n: questions.create_question(
                s,
                guild_id=guild_id,
                author_id=scene.alice.id,
                asked=questions.AskedQuestion(title=f"Panic question {n}"),
                via_bot=False,
                thread_id=900_000 + n,
                message_id=900_000 + n,
            ),
        )
        made.append(change.post)
    closed = made[3]
    await run_domain(
        scene.harness,
        lambda s: questions.close_question(
            s, closing=questions.Closing(closed.id), actor=Actor(scene.alice.id)
        ),
    )

    choices = await scene.alice.autocomplete(
        "close", {"question": ""}, focused="question", channel=fake.general
    )
    assert len(choices) == 25
    ids = {q.id for q in made}
    assert all(int(c["value"]) in ids for c in choices)
    assert str(closed.id) not in [c["value"] for c in choices]
    first = choices[0]
    assert first["name"].endswith(f"(#{first['value']})") and len(first["name"]) <= 100

    typed = await scene.alice.autocomplete(
        "close", {"question": "panic question 1"}, focused="question", channel=fake.general
    )
    assert 0 < len(typed) <= 25

    reopen = await scene.alice.autocomplete(
        "reopen", {"question": ""}, focused="question", channel=fake.general
    )
    assert [c["value"] for c in reopen] == [str(closed.id)]
    # /reply may name a closed question (by its number here); /close may not.
    for command, offered in (("reply", True), ("close", False)):
        by_number = await scene.alice.autocomplete(
            command, {"question": str(closed.id)}, focused="question", channel=fake.general
        )
        assert (str(closed.id) in [c["value"] for c in by_number]) is offered

    asked = await ask_question_directly(scene.harness, scene.bob, "Panic at the exam")
    dup = await scene.bob.autocomplete(
        "close", {"duplicate_of": "panic"}, focused="duplicate_of", channel=asked.thread
    )
    assert 0 < len(dup) <= 25
    assert str(asked.id) not in [c["value"] for c in dup]  # not a duplicate of itself
    assert str(closed.id) in [c["value"] for c in dup] or len(dup) == 25
    by_id = await scene.bob.autocomplete(
        "close",
        {"question": str(made[0].id), "duplicate_of": str(made[5].id)},
        focused="duplicate_of",
        channel=fake.general,
    )
    assert by_id[0]["value"] == str(made[5].id)
