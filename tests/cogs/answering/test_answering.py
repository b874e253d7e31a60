"""End to end through the fake Discord: thread messages as answers or comments, /answer, /edit,
/delete and "Accept answer", on both database backends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from bot import question_option
from bot.db.models import Member as MemberRow
from bot.db.models import Post
from bot.forum import lookups, pending_posts, posts, questions
from bot.forum.points import recompute_points
from bot.forum.rights import Actor
from bot.ui import emoji
from cogs.answering import answers, own_posts
from tests.cogs.conftest import (
    AskedQuestion,
    BotEvents,
    add_forum_tag,
    ask_question_directly,
    configure_qa_guild,
    run_domain,
    thread_message_handled,
)
from tests.fakediscord import FakeDiscord, GestureRefused, InteractionHandle, Member, Message
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.fakediscord.recorder import Call
from tests.fakediscord.rest import Reply

LONG = "Breathe in for four counts, hold for four, then breathe out slowly for four."
OTHER_LONG = "Write the worries down on paper before bed, then close the notebook."
MESSAGES = "/channels/{channel_id}/messages"
MESSAGE = "/channels/{channel_id}/messages/{message_id}"


class StatusRequests:
    """Stands in for ``bot.status_lines``: records which questions asked for a refresh."""

    def __init__(self) -> None:
        self.requested: list[int] = []

    def request(self, question_id: int) -> None:
        self.requested.append(question_id)

    async def refresh_now(self, question_id: int) -> None:
        self.requested.append(question_id)


@dataclass
class Scene:
    fake: FakeDiscord
    harness: BotHarness
    events: BotEvents
    statuses: StatusRequests
    solved_tag: int
    alice: Member  # asks
    bob: Member  # answers
    carol: Member  # answers too
    dave: Member  # just a member
    mod: Member  # a moderator
    extra: dict[str, Any] = field(default_factory=dict)


async def _scene(
    db_url: str, fake: FakeDiscord, qa_bot_factory: BotFactory, extensions: list[str]
) -> AsyncIterator[Scene]:
    assert fake.guild is not None and fake.moderator_role is not None
    solved = add_forum_tag(fake, "Solved")
    add_forum_tag(fake, "Sleep")
    members = {n: fake.add_member(fake.guild, n) for n in ("alice", "bob", "carol", "dave")}
    mod = fake.add_member(fake.guild, "mod", roles=[fake.moderator_role])
    harness = await qa_bot_factory(extensions=extensions, database_url=db_url)
    statuses = StatusRequests()
    harness.bot.status_lines = statuses  # type: ignore[assignment]
    await configure_qa_guild(harness, solved_tag_id=solved)
    events = BotEvents(harness, "qa_thread_message", "qa_synced")
    try:
        yield Scene(fake, harness, events, statuses, solved, mod=mod, **members)
    finally:
        events.close()


@pytest.fixture
async def scene(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    async for made in _scene(db_url, fake_discord, qa_bot_factory, ["cogs.answering"]):
        yield made


@pytest.fixture
async def synced_scene(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    """With the lifecycle cog, which applies Discord's own deletes, and /leaderboard."""
    extensions = ["cogs.answering", "cogs.lifecycle", "cogs.profiles"]
    async for made in _scene(db_url, fake_discord, qa_bot_factory, extensions):
        yield made


async def post_of(scene: Scene, message_id: int) -> Any:
    return await run_domain(
        scene.harness, lambda s: lookups.find_post_by_message(s, message_id=message_id)
    )


async def question_now(scene: Scene, asked: AskedQuestion) -> Any:
    return await run_domain(scene.harness, lambda s: lookups.get_post(s, asked.id))


async def rows_of(scene: Scene, asked: AskedQuestion) -> list[Post]:
    async with scene.harness.sessionmaker() as session:
        found = await session.execute(
            select(Post).where(Post.question_id == asked.id).order_by(Post.id)
        )
        return list(found.scalars())


async def say(scene: Scene, who: Member, asked: AskedQuestion, text: str, **kw: Any) -> Any:
    """``who`` writes in the question's thread; returns the domain's change once handled."""
    message = await who.send(asked.thread, text, **kw)
    return message, await thread_message_handled(scene.events, message)


async def answer_with_command(
    scene: Scene, who: Member, asked: AskedQuestion, text: str = LONG
) -> tuple[InteractionHandle, Message]:
    """``who`` answers through /answer; returns the submission and the bot's message."""
    before = scene.fake.messages_in(asked.thread)[-1]
    ix = await who.slash("answer", channel=asked.thread)
    submitted = await ix.submit_modal({"answer": text})
    reply = await submitted.message()
    assert reply.ephemeral and "Your answer is posted" in reply.content, reply.content
    posted = await scene.fake.wait_for_message(
        asked.thread, where=lambda m: bool(m.embeds), after=before
    )
    await thread_message_handled(scene.events, posted)
    return submitted, posted


async def sentence(ix: InteractionHandle) -> str:
    msg = await ix.message()
    assert msg.ephemeral
    return msg.content


def button(message: Message, text: str) -> str:
    for component in message.walk_components():
        if component.get("type") == 2 and component.get("label") == text:
            return str(component["custom_id"])
    raise AssertionError(f"no {text!r} button on message {message.id}")


def assert_no_pings(fake: FakeDiscord, since: int = 0) -> None:
    """Every message the bot sent or edited since ``since`` allowed no pings at all."""
    sent = [
        c
        for c in fake.find_calls(None, None, since=since)
        if c.method in ("POST", "PATCH")
        and isinstance(c.json, dict)
        and ("content" in c.json or "embeds" in c.json)
        and (c.route in (MESSAGES, MESSAGE) or (c.route or "").startswith("/webhooks/"))
    ]
    assert sent
    for call in sent:
        allowed = call.json.get("allowed_mentions")
        assert allowed is not None, call
        assert allowed.get("parse") == [] and not allowed.get("users"), call
        assert not allowed.get("roles") and not allowed.get("replied_user"), call


# --------------------------------------------------------------------------- thread messages


async def test_thread_messages_become_answers_or_comments(scene: Scene) -> None:
    asked = await ask_question_directly(scene.harness, scene.alice, native=True)
    answer_msg, answer = await say(scene, scene.bob, asked, LONG)
    assert answer.created and answer.post.kind == "answer" and not answer.post.via_bot
    assert answer.post.author_id == scene.bob.id and answer.question.answer_count == 1

    _, short = await say(scene, scene.carol, asked, "Same here!")
    assert (short.post.kind, short.post.parent_id) == ("comment", asked.id)

    _, own = await say(
        scene, scene.alice, asked, "Thanks, I will try that tonight and report back."
    )
    assert (own.post.kind, own.post.parent_id) == ("comment", asked.id)

    _, reply = await say(scene, scene.carol, asked, OTHER_LONG, reply_to=answer_msg)
    assert (reply.post.kind, reply.post.parent_id) == ("comment", answer.post.id)

    _, second = await say(scene, scene.carol, asked, OTHER_LONG)
    assert second.post.kind == "answer"
    assert (await question_now(scene, asked)).answer_count == 2
    # Only new answers ask for the status line.
    assert scene.statuses.requested == [asked.id, asked.id]
    # The starter message is the question, not a post of its own.
    assert (await post_of(scene, asked.starter.id)).id == asked.id


async def test_bot_messages_echoes_and_reactions_are_no_posts(scene: Scene) -> None:
    fake, harness = scene.fake, scene.harness
    asked = await ask_question_directly(harness, scene.alice)
    channel = harness.bot.get_partial_messageable(asked.thread.id, guild_id=asked.question.guild_id)
    sent = await channel.send(LONG)
    assert await thread_message_handled(scene.events, fake.message(sent.id)) is None
    assert fake.guild is not None
    helper = fake.add_member(fake.guild, "helper-bot", bot=True)
    _, by_bot = await say(scene, helper, asked, OTHER_LONG)
    assert by_bot is None
    await sent.add_reaction("👍")
    await scene.bob.react(fake.message(sent.id), "👍")
    await scene.bob.react(asked.starter, "👍")
    # A later member message is handled after everything above: still only the question.
    _, comment = await say(scene, scene.alice, asked, "ok")
    assert comment.post.kind == "comment"
    assert [(r.kind, r.author_id) for r in await rows_of(scene, asked)] == [
        ("comment", scene.alice.id)
    ]
    assert (await question_now(scene, asked)).answer_count == 0
    assert scene.statuses.requested == []


# --------------------------------------------------------------------------- /answer


async def test_answer_command_posts_for_the_author(scene: Scene) -> None:
    fake = scene.fake
    asked = await ask_question_directly(scene.harness, scene.alice)
    mark = fake.mark()

    # Deliver the echo of the bot's message before its REST reply, as Discord may.
    async def echo_first(call: Call) -> Reply | None:
        if call.method != "POST" or call.route != MESSAGES:
            return None
        thread = fake.world.channel(call.id("channel_id"))
        message = fake.world.post_message(thread, fake.bot_user.id, call.json)
        change = await thread_message_handled(scene.events, message)
        assert change is None  # the pending row has no message yet: the echo is no post
        return Reply(200, fake.world.message_payload(message))

    fake.rest.interceptors.append(echo_first)
    ix = await scene.bob.slash("answer", channel=asked.thread)
    modal = await ix.modal()
    field_ = modal.field("answer")
    assert (field_.style, field_.max_length, field_.required) == (2, 4000, True)
    submitted = await ix.submit_modal({"answer": f"  {LONG}  "})
    assert await submitted.deferred()
    reply = await submitted.message()
    fake.rest.interceptors.remove(echo_first)

    (posted,) = [m for m in fake.messages_in(asked.thread) if m.id != asked.starter.id]
    assert posted.author_id == fake.bot_user.id
    assert posted.allowed_mentions == {"parse": []} and posted.mentions == []
    (embed,) = posted.embeds
    assert embed["author"]["name"] == "bob"
    assert embed["description"] == LONG
    post = await post_of(scene, posted.id)
    assert (post.kind, post.author_id, post.via_bot, post.state) == (
        "answer",
        scene.bob.id,
        True,
        "live",
    )
    assert embed["footer"]["text"] == f"qa:post:{post.id}"
    assert reply.ephemeral and reply.visible_to == scene.bob.id
    assert f"/{asked.thread.id}/{posted.id}" in reply.content
    assert [(r.kind, r.message_id) for r in await rows_of(scene, asked)] == [("answer", posted.id)]
    assert scene.statuses.requested == [asked.id]
    assert_no_pings(fake, mark)

    # A reply to the bot's message is a comment on the author's answer.
    _, comment = await say(scene, scene.carol, asked, OTHER_LONG, reply_to=posted)
    assert (comment.post.kind, comment.post.parent_id) == ("comment", post.id)


async def test_answer_refusals_leave_nothing(scene: Scene) -> None:
    fake, harness = scene.fake, scene.harness
    asked = await ask_question_directly(harness, scene.alice)
    assert fake.general is not None

    elsewhere = await scene.bob.slash("answer", channel=fake.general)
    assert await sentence(elsewhere) == question_option.NO_QUESTION_HERE

    empty = await scene.bob.slash("answer", channel=asked.thread)
    assert await sentence(await empty.submit_modal({"answer": " \n "})) == (
        "The answer cannot be empty."
    )
    too_long = await scene.bob.slash("answer", channel=asked.thread)
    with pytest.raises(GestureRefused, match="longer than 4000"):
        await too_long.submit_modal({"answer": "x" * 4001})

    # Discord refuses the bot's message: the pending row is discarded.
    def refuse(call: Call) -> Reply | None:
        if call.method == "POST" and call.route == MESSAGES:
            return Reply(403, {"message": "Missing Permissions", "code": 50013})
        return None

    fake.rest.interceptors.append(refuse)
    refused = await scene.bob.slash("answer", channel=asked.thread)
    text = await sentence(await refused.submit_modal({"answer": LONG}))
    fake.rest.interceptors.remove(refuse)
    assert "missing a permission" in text
    assert await rows_of(scene, asked) == []

    # Over the hourly limit.
    await configure_qa_guild(harness, answers_per_hour=1)
    await answer_with_command(scene, scene.bob, asked)
    limited = await scene.bob.slash("answer", channel=asked.thread)
    text = await sentence(await limited.submit_modal({"answer": OTHER_LONG}))
    assert "answer" in text.lower() and "hour" in text.lower(), text

    # A closed question takes no answers.
    await run_domain(
        harness,
        lambda s: questions.close_question(
            s, closing=questions.Closing(asked.id), actor=Actor(scene.alice.id)
        ),
    )
    closed = await scene.carol.slash("answer", channel=asked.thread)
    assert await sentence(await closed.submit_modal({"answer": OTHER_LONG})) == (
        "This question is closed, so it takes no new answers."
    )
    assert [r.author_id for r in await rows_of(scene, asked)] == [scene.bob.id]
    bot_messages = [m for m in fake.messages_in(asked.thread) if m.author_id == fake.bot_user.id]
    assert len(bot_messages) == 2  # the starter and bob's one answer


# --------------------------------------------------------------------------- /edit


async def test_edit_an_answer_the_bot_posted(scene: Scene) -> None:
    fake = scene.fake
    asked = await ask_question_directly(scene.harness, scene.alice)
    _, first = await answer_with_command(scene, scene.bob, asked, LONG)
    first_post = await post_of(scene, first.id)

    # Without `post`, the latest of bob's posts here.
    ix = await scene.bob.slash("edit", channel=asked.thread)
    modal = await ix.modal()
    assert modal.title == "Edit your answer"
    assert modal.field("answer").value == LONG
    mark = fake.mark()
    done = await ix.submit_modal({"answer": OTHER_LONG})
    assert await done.deferred()
    assert "Your answer is updated" in (await done.message()).content
    call = await fake.wait_for_call("PATCH", MESSAGE, since=mark)
    assert call.id("message_id") == first.id
    assert first.embeds[0]["description"] == OTHER_LONG
    assert first.embeds[0]["footer"]["text"] == f"qa:post:{first_post.id}"
    assert (await post_of(scene, first.id)).body == OTHER_LONG
    assert_no_pings(fake, mark)

    # Nothing changed: the message is left alone.
    again = await scene.bob.slash("edit", channel=asked.thread)
    same = await again.submit_modal({"answer": OTHER_LONG})
    assert (await same.message()).content == "Your answer already says that."


async def test_edit_picks_a_post_and_lists_them(scene: Scene) -> None:
    asked = await ask_question_directly(scene.harness, scene.alice)
    _, first = await answer_with_command(scene, scene.bob, asked, LONG)
    _, second = await answer_with_command(scene, scene.bob, asked, OTHER_LONG)
    first_post, second_post = await post_of(scene, first.id), await post_of(scene, second.id)

    choices = await scene.bob.autocomplete("edit", {}, focused="post", channel=asked.thread)
    assert [c["value"] for c in choices] == [str(second_post.id), str(first_post.id)]
    assert choices[0]["name"].startswith("Answer: Write the worries")
    narrowed = await scene.bob.autocomplete(
        "delete", {"post": "breathe"}, focused="post", channel=asked.thread
    )
    assert [c["value"] for c in narrowed] == [str(first_post.id)]

    by_id = await scene.bob.slash("edit", {"post": str(first_post.id)}, channel=asked.thread)
    assert (await by_id.modal()).field("answer").value == LONG
    link = f"https://discord.com/channels/{asked.question.guild_id}/{asked.thread.id}/{second.id}"
    by_link = await scene.bob.slash("edit", {"post": link}, channel=asked.thread)
    assert (await by_link.modal()).field("answer").value == OTHER_LONG


async def test_edit_the_question_renames_the_thread(scene: Scene) -> None:
    fake = scene.fake
    asked = await ask_question_directly(scene.harness, scene.alice, tags=["Anxiety"])
    ix = await scene.alice.slash("edit", channel=asked.thread)
    modal = await ix.modal()
    assert modal.title == "Edit your question"
    assert modal.field("title").value == asked.question.title
    assert modal.field("details").value == asked.question.body
    mark = fake.mark()
    done = await ix.submit_modal({"title": "How do I sleep before an exam?", "details": LONG})
    assert "Your question is updated" in (await done.message()).content
    assert asked.thread.name == "How do I sleep before an exam?"
    assert asked.thread.applied_tags == [fake.forum.tag("Anxiety").id]  # type: ignore[union-attr]
    (embed,) = asked.starter.embeds
    assert embed["title"] == "How do I sleep before an exam?"
    assert embed["description"] == LONG
    assert embed["author"]["name"] == "alice"
    assert asked.starter.content == f"Asked by <@{scene.alice.id}>"
    question = await question_now(scene, asked)
    assert (question.title, question.body) == ("How do I sleep before an exam?", LONG)
    assert_no_pings(fake, mark)


async def test_edit_and_delete_are_refused_to_others(scene: Scene) -> None:
    fake = scene.fake
    asked = await ask_question_directly(scene.harness, scene.alice)
    _, bobs = await answer_with_command(scene, scene.bob, asked)
    bobs_post = await post_of(scene, bobs.id)
    await say(scene, scene.carol, asked, OTHER_LONG)  # carol's own message, not the bot's
    assert fake.general is not None

    for command in ("edit", "delete"):
        nothing = await scene.carol.slash(command, channel=asked.thread)
        assert await sentence(nothing) == own_posts.NOTHING_OF_YOURS
        hers = await scene.carol.slash(command, {"post": str(bobs_post.id)}, channel=asked.thread)
        assert await sentence(hers) == own_posts.NOTHING_OF_YOURS
        not_bobs = await scene.bob.slash(command, {"post": str(asked.id)}, channel=asked.thread)
        assert await sentence(not_bobs) == own_posts.NOT_ONE_OF_YOURS
        outside = await scene.bob.slash(command, channel=fake.general)
        assert await sentence(outside) == answers.NOT_A_QUESTION_THREAD
    assert await scene.carol.autocomplete("edit", {}, focused="post", channel=asked.thread) == []
    assert not bobs.deleted and (await post_of(scene, bobs.id)).body == LONG


# --------------------------------------------------------------------------- /delete


async def test_delete_an_answer_after_confirmation(scene: Scene) -> None:
    fake = scene.fake
    asked = await ask_question_directly(scene.harness, scene.alice)
    _, posted = await answer_with_command(scene, scene.bob, asked)

    ix = await scene.bob.slash("delete", channel=asked.thread)
    prompt = await ix.message()
    assert prompt.ephemeral and prompt.content.startswith("Delete your answer?")
    await scene.bob.click(prompt, button(prompt, "Cancel"))
    await fake.wait_until(lambda: prompt.content == "Nothing was deleted.", what="the result")
    assert prompt.components == []  # the buttons are gone
    assert not posted.deleted and not (await post_of(scene, posted.id)).deleted

    ix = await scene.bob.slash("delete", channel=asked.thread)
    prompt = await ix.message()
    with pytest.raises(GestureRefused, match="someone else"):
        await scene.carol.click(prompt, button(prompt, "Delete"))
    confirmed = await scene.bob.click(prompt, button(prompt, "Delete"))
    await fake.wait_until(lambda: prompt.content == "✅ Your answer is deleted.", what="the result")
    assert (await confirmed.response()).type == 7
    assert posted.deleted
    assert (await post_of(scene, posted.id)).deleted
    assert (await question_now(scene, asked)).answer_count == 0


async def test_delete_the_question_removes_its_thread(scene: Scene) -> None:
    fake = scene.fake
    asked = await ask_question_directly(scene.harness, scene.alice)
    await say(scene, scene.bob, asked, LONG)
    ix = await scene.alice.slash("delete", channel=asked.thread)
    prompt = await ix.message()
    assert "Its thread and every answer in it will be removed" in prompt.content
    await scene.alice.click(prompt, button(prompt, "Delete"))
    await fake.wait_until(lambda: asked.thread.deleted, what="the thread to be deleted")
    assert "Your question is deleted" in prompt.content
    question = await run_domain(scene.harness, lambda s: lookups.get_post(s, asked.id))
    assert question.deleted
    assert all(r.deleted_at is not None for r in await rows_of(scene, asked))


# --------------------------------------------------------------------------- Accept answer


async def accept(scene: Scene, who: Member, target: Message) -> str:
    ix = await who.context_menu("Accept answer", target)
    assert await ix.deferred()
    return await sentence(ix)


def notices(fake: FakeDiscord, asked: AskedQuestion) -> list[Message]:
    return [
        m
        for m in fake.messages_in(asked.thread)
        if m.author_id == fake.bot_user.id
        and m.embeds
        and "was accepted" in (m.embeds[0].get("description") or "")
    ]


async def test_accept_by_the_asker_then_a_moderator_moves_the_mark(scene: Scene) -> None:
    fake = scene.fake
    assert fake.forum is not None
    asked = await ask_question_directly(scene.harness, scene.alice, tags=["Anxiety"])
    bobs, _ = await say(scene, scene.bob, asked, LONG)
    _, carols = await answer_with_command(scene, scene.carol, asked, OTHER_LONG)
    bobs_post, carols_post = await post_of(scene, bobs.id), await post_of(scene, carols.id)
    scene.statuses.requested.clear()
    mark = fake.mark()

    text = await accept(scene, scene.alice, bobs)
    assert text.startswith(f"{emoji.SUCCESS} You accepted [this answer](")
    assert f"/{asked.thread.id}/{bobs.id}" in text
    assert (await question_now(scene, asked)).accepted_answer_id == bobs_post.id
    assert asked.thread.applied_tags == [fake.forum.tag("Anxiety").id, scene.solved_tag]
    assert bobs.reaction_users(emoji.ACCEPTED) == [fake.bot_user.id]
    (notice,) = notices(fake, asked)
    assert notice.pinned
    assert notice.allowed_mentions == {"parse": []} and notice.mentions == []
    description = notice.embeds[0]["description"]
    assert f"/{asked.thread.id}/{bobs.id})" in description and "**bob**" in description
    assert scene.statuses.requested == [asked.id]

    # A moderator moves the acceptance to carol's answer (posted by the bot for her).
    text = await accept(scene, scene.mod, carols)
    assert text.startswith(f"{emoji.SUCCESS} You accepted")
    assert (await question_now(scene, asked)).accepted_answer_id == carols_post.id
    assert bobs.reaction_users(emoji.ACCEPTED) == []
    assert carols.reaction_users(emoji.ACCEPTED) == [fake.bot_user.id]
    assert notices(fake, asked) == [notice]  # the same notice, edited
    description = notice.embeds[0]["description"]
    assert f"/{asked.thread.id}/{carols.id})" in description and "**carol**" in description
    assert asked.thread.applied_tags == [fake.forum.tag("Anxiety").id, scene.solved_tag]

    # Accepting it again changes nothing.
    assert "already the accepted one" in await accept(scene, scene.alice, carols)
    assert len(notices(fake, asked)) == 1
    assert_no_pings(fake, mark)
    # None of the bot's messages or reactions became a post.
    kinds = [(r.kind, r.author_id) for r in await rows_of(scene, asked)]
    assert kinds == [("answer", scene.bob.id), ("answer", scene.carol.id)]


async def test_accept_refusals(scene: Scene) -> None:
    fake = scene.fake
    asked = await ask_question_directly(scene.harness, scene.alice)
    bobs, _ = await say(scene, scene.bob, asked, LONG)
    comment, _ = await say(scene, scene.carol, asked, "Same here!")
    assert fake.general is not None
    elsewhere = await scene.dave.send(fake.general, OTHER_LONG)
    mark = fake.mark()

    assert await accept(scene, scene.dave, bobs) == (
        "Only the asker or a moderator can accept an answer."
    )
    assert await accept(scene, scene.bob, bobs) == (
        "Only the asker or a moderator can accept an answer."
    )
    for target in (comment, asked.starter, elsewhere):
        assert await accept(scene, scene.alice, target) == "Only answers can be accepted."
    assert (await question_now(scene, asked)).accepted_answer_id is None
    assert bobs.reaction_users(emoji.ACCEPTED) == []
    assert scene.solved_tag not in asked.thread.applied_tags
    assert notices(fake, asked) == []
    assert not fake.find_calls("PUT", None, since=mark)
    assert not fake.find_calls("PATCH", "/channels/{channel_id}", since=mark)


async def test_solved_tag_keeps_at_most_five_tags(scene: Scene) -> None:
    fake = scene.fake
    assert fake.forum is not None
    five = ["General", "Anxiety", "Depression", "Relationships", "Sleep"]
    asked = await ask_question_directly(scene.harness, scene.alice, tags=five)
    bobs, _ = await say(scene, scene.bob, asked, LONG)
    await accept(scene, scene.alice, bobs)
    assert asked.thread.applied_tags == [fake.forum.tag(t).id for t in five[:4]] + [
        scene.solved_tag
    ]


async def test_deleting_the_accepted_answer_unmarks_the_thread(scene: Scene) -> None:
    fake = scene.fake
    asked = await ask_question_directly(scene.harness, scene.alice)
    _, bobs = await answer_with_command(scene, scene.bob, asked)
    await accept(scene, scene.alice, bobs)
    assert scene.solved_tag in asked.thread.applied_tags and len(notices(fake, asked)) == 1

    ix = await scene.bob.slash("delete", channel=asked.thread)
    prompt = await ix.message()
    await scene.bob.click(prompt, button(prompt, "Delete"))
    await fake.wait_until(lambda: "deleted" in prompt.content, what="the result")
    assert bobs.deleted
    assert scene.solved_tag not in asked.thread.applied_tags
    assert notices(fake, asked) == []
    assert (await question_now(scene, asked)).accepted_answer_id is None


async def test_an_accepted_answer_deleted_in_discord_unmarks_the_thread(
    synced_scene: Scene,
) -> None:
    scene, fake = synced_scene, synced_scene.fake
    asked = await ask_question_directly(scene.harness, scene.alice, tags=["Anxiety"])
    bobs, _ = await say(scene, scene.bob, asked, LONG)
    carols, _ = await say(scene, scene.carol, asked, OTHER_LONG)
    await accept(scene, scene.alice, bobs)
    assert fake.forum is not None
    assert asked.thread.applied_tags == [fake.forum.tag("Anxiety").id, scene.solved_tag]
    assert len(notices(fake, asked)) == 1

    # A moderator deletes an answer that is not the accepted one: the thread stays solved.
    await scene.mod.delete(carols)
    await scene.events.wait_for(
        "qa_synced", lambda kind, payload, _c: kind == "delete" and payload.message_id == carols.id
    )
    # Bob deletes his accepted answer in Discord (no /delete): the lifecycle cog applies it.
    await scene.bob.delete(bobs)
    _, _, changes = await scene.events.wait_for(
        "qa_synced", lambda kind, payload, _c: kind == "delete" and payload.message_id == bobs.id
    )
    (change,) = changes
    assert change.post.deleted and not change.question.solved
    await fake.wait_until(
        lambda: scene.solved_tag not in asked.thread.applied_tags and not notices(fake, asked),
        what="the Solved tag and the notice removed",
    )
    assert asked.thread.applied_tags == [fake.forum.tag("Anxiety").id]
    question = await question_now(scene, asked)
    assert question.accepted_answer_id is None and question.status != "solved"
    result = await run_domain(scene.harness, lambda s: recompute_points(s, asked.question.guild_id))
    assert (result.members_fixed, result.posts_fixed) == (0, 0)


async def test_a_deleted_answer_of_an_unsolved_question_touches_no_tag(
    synced_scene: Scene,
) -> None:
    scene, fake = synced_scene, synced_scene.fake
    asked = await ask_question_directly(scene.harness, scene.alice, tags=["Anxiety"])
    bobs, _ = await say(scene, scene.bob, asked, LONG)
    mark = fake.mark()
    await scene.bob.delete(bobs)
    await scene.events.wait_for(
        "qa_synced", lambda kind, payload, _c: kind == "delete" and payload.message_id == bobs.id
    )
    # Handled after the delete: a later message in the thread.
    await say(scene, scene.dave, asked, "ok")
    assert not fake.find_calls("PATCH", "/channels/{channel_id}", since=mark)
    assert not fake.find_calls("DELETE", MESSAGE, since=mark)


# --------------------------------------------------------------------------- names


async def names_stored(scene: Scene) -> dict[int, str | None]:
    async with scene.harness.sessionmaker() as session:
        rows = await session.execute(select(MemberRow.user_id, MemberRow.display_name))
        return {r.user_id: r.display_name for r in rows}


async def test_answerers_are_named_on_the_leaderboard(synced_scene: Scene) -> None:
    scene, fake = synced_scene, synced_scene.fake
    assert fake.guild is not None
    fake.world.member(fake.guild.id, scene.bob.id).nick = "Bob Nick"
    asked = await ask_question_directly(scene.harness, scene.alice)
    await say(scene, scene.bob, asked, LONG)  # a thread message that becomes an answer
    await answer_with_command(scene, scene.carol, asked, OTHER_LONG)  # /answer
    names = await names_stored(scene)
    assert names[scene.bob.id] == "Bob Nick" and names[scene.carol.id] == "carol"
    # Without the members intent the bot caches no member: the names come from the database.
    guild = scene.harness.bot.get_guild(fake.guild.id)
    assert guild is not None and guild.get_member(scene.bob.id) is None

    # The same name again is not written again (remembered in memory).
    cog = scene.harness.cog("Answering")
    seen_as = SimpleNamespace(id=scene.bob.id, display_name="Bob Nick")
    assert cog.names.unstored(fake.guild.id, seen_as) is None
    assert cog.names.unstored(fake.guild.id, SimpleNamespace(id=scene.bob.id, display_name="B"))

    ix = await scene.dave.slash("leaderboard", channel=fake.general)
    board = await ix.message()
    description = board.embeds[0]["description"]
    assert "Bob Nick" in description and "carol" in description
    assert f"<@{scene.bob.id}>" not in description and f"<@{scene.carol.id}>" not in description


async def test_an_anonymous_post_stores_no_name(scene: Scene) -> None:
    asked = await ask_question_directly(scene.harness, scene.alice)
    anonymous = await run_domain(
        scene.harness,
        lambda s: posts.post_answer(
            s,
            post=posts.MemberPost(
                asked.question.guild_id,
                author_id=scene.dave.id,
                body=LONG,
                question_id=asked.id,
                anonymous=True,
            ),
            display_name="Someone",
            state="pending",
        ),
    )
    assert anonymous.post.anonymous
    confirmed = await run_domain(
        scene.harness,
        lambda s: pending_posts.confirm_post(
            s, post_id=anonymous.post.id, message_id=900_000_000_000_000_001, display_name="dave"
        ),
    )
    assert confirmed.changed and not confirmed.author_named
    # Confirmed, the answer counts for dave (a members row, anonymous points), under no name.
    assert (await names_stored(scene)).get(scene.dave.id) is None
