"""Posting rights end to end: the bot posts for a member only where the member could post
themselves (``bot.posting_rights``). Each refusal beside its positive twin, on SQLite and
PostgreSQL: a role denied Send Messages (Create Posts) or Send Messages in Threads in the Q&A
forum, a timeout, a locked thread, slowmode. A refused member gets one ephemeral sentence and
nothing is written: no row, no Discord message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from bot import posting_rights
from bot.db.models import Post
from tests.cogs.conftest import (
    AskedQuestion,
    BotEvents,
    ask_question_directly,
    configure_qa_guild,
    thread_message_handled,
)
from tests.fakediscord import FakeDiscord, GestureRefused, InteractionHandle, Member, Message
from tests.fakediscord.clock import advance_clock
from tests.fakediscord.fixtures import BotFactory, BotHarness

ANSWER = "Keep the same wake-up time every day, even at weekends."


@dataclass
class Scene:
    fake: FakeDiscord
    harness: BotHarness
    events: BotEvents
    alice: Member  # asks
    bob: Member  # an ordinary member
    muted: Member  # their role is denied Send Messages (and in Threads) in the Q&A forum
    mod: Member  # Manage Threads and Manage Messages
    helper: Member  # moderates by the guild's moderator role only


@pytest.fixture
async def scene(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    fake = fake_discord
    assert fake.guild is not None and fake.forum is not None
    assert fake.moderator_role is not None
    muted_role = fake.add_role(fake.guild, "Muted")
    helper_role = fake.add_role(fake.guild, "Helper")
    deny = fake.overwrite(muted_role, deny=["send_messages", "send_messages_in_threads"])
    fake.edit_channel(fake.forum, permission_overwrites=[deny])
    members = {n: fake.add_member(fake.guild, n) for n in ("alice", "bob")}
    muted = fake.add_member(fake.guild, "muted", roles=[muted_role])
    mod = fake.add_member(fake.guild, "mod", roles=[fake.moderator_role])
    helper = fake.add_member(fake.guild, "helper", roles=[helper_role])
    harness = await qa_bot_factory(
        extensions=["cogs.asking", "cogs.answering"], database_url=db_url
    )
    await configure_qa_guild(harness, moderator_role_id=helper_role.id)
    events = BotEvents(harness, "qa_thread_message")
    try:
        yield Scene(fake, harness, events, muted=muted, mod=mod, helper=helper, **members)
    finally:
        events.close()


async def post_count(scene: Scene) -> int:
    async with scene.harness.sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(Post))).scalar_one()


async def sentence(ix: InteractionHandle) -> str:
    """The bot's one ephemeral sentence (at once, or after deferring a submitted form)."""
    reply = await ix.message()
    assert reply.ephemeral
    return reply.content


def posted_messages(fake: FakeDiscord) -> dict[int, int]:
    """How many messages each thread of the Q&A forum shows."""
    assert fake.forum is not None
    return {t.id: len(fake.messages_in(t)) for t in fake.threads_in(fake.forum)}


async def refused_and_nothing_written(scene: Scene, ix: InteractionHandle, expected: str) -> None:
    """The bot answered ``ix`` with the sentence ``expected`` alone: no form, no row, no post."""
    rows, shown = await post_count(scene), posted_messages(scene.fake)
    assert await sentence(ix) == expected
    assert ix.record.modal is None  # no form to type into for nothing
    assert await post_count(scene) == rows
    assert posted_messages(scene.fake) == shown


async def ask(scene: Scene, who: Member, title: str) -> str:
    """``who`` asks with /ask; the bot's final ephemeral sentence."""
    ix = await who.slash("ask", channel=scene.fake.general)
    submitted = await ix.submit_modal({"title": title, "details": "Details of it."})
    return await sentence(submitted)


async def answer(scene: Scene, who: Member, asked: AskedQuestion) -> str:
    """``who`` answers with /answer in the thread; the bot's final ephemeral sentence."""
    ix = await who.slash("answer", channel=asked.thread)
    submitted = await ix.submit_modal({"answer": ANSWER})
    return await sentence(submitted)


async def reply(scene: Scene, who: Member, asked: AskedQuestion, text: str = "Thanks!") -> str:
    ix = await who.slash("reply", {"text": text}, channel=asked.thread)
    return await sentence(ix)


async def answered(scene: Scene, who: Member, asked: AskedQuestion) -> Message:
    """``who`` answers with /answer; the bot's message in the thread, once handled."""
    before = scene.fake.messages_in(asked.thread)[-1]
    assert (await answer(scene, who, asked)).startswith("✅ Your answer is posted")
    posted = await scene.fake.wait_for_message(
        asked.thread, where=lambda m: bool(m.embeds), after=before
    )
    await thread_message_handled(scene.events, posted)
    return posted


# --------------------------------------------------------------------------- permissions


async def test_ask_needs_create_posts_in_the_forum(scene: Scene) -> None:
    fake = scene.fake
    ix = await scene.muted.slash("ask", channel=fake.general)
    await refused_and_nothing_written(scene, ix, posting_rights.CANNOT_ASK)
    assert (await ask(scene, scene.bob, "How do I sleep better?")).startswith("✅")
    assert fake.forum is not None
    assert [t.name for t in fake.threads_in(fake.forum)] == ["How do I sleep better?"]
    # Checked again on submit: the role was denied while the member typed.
    ix = await scene.alice.slash("ask", channel=fake.general)
    await ix.modal()
    fake.set_roles(scene.alice, scene.muted.roles)
    submitted = await ix.submit_modal({"title": "Is this allowed?"})
    await refused_and_nothing_written(scene, submitted, posting_rights.CANNOT_ASK)


async def test_answer_and_reply_need_send_messages_in_threads(scene: Scene) -> None:
    asked = await ask_question_directly(scene.harness, scene.alice)
    for ix in (
        await scene.muted.slash("answer", channel=asked.thread),
        await scene.muted.slash("reply", {"text": "Me too"}, channel=asked.thread),
    ):
        await refused_and_nothing_written(scene, ix, posting_rights.CANNOT_POST_THERE)
    await answered(scene, scene.bob, asked)
    assert (await reply(scene, scene.bob, asked)).startswith("✅ Your reply is posted")
    assert await post_count(scene) == 3


# --------------------------------------------------------------------------- timeouts


def timed_out(until: float) -> str:
    return f"You're timed out on this server until <t:{int(until)}:f>."


async def test_a_timed_out_member_is_refused(scene: Scene) -> None:
    fake = scene.fake
    asked = await ask_question_directly(scene.harness, scene.alice)
    # Timed out while the forms were open: refused on submit.
    answering = await scene.bob.slash("answer", channel=asked.thread)
    asking = await scene.bob.slash("ask", channel=fake.general)
    until = fake.time_out(scene.bob, 600)
    assert until is not None
    submitted = await answering.submit_modal({"answer": ANSWER})
    await refused_and_nothing_written(scene, submitted, timed_out(until))
    submitted = await asking.submit_modal({"title": "Can I still ask?"})
    await refused_and_nothing_written(scene, submitted, timed_out(until))
    # Discord's client offers a timed-out member no commands; one that still shows them is
    # refused before any form opens.
    with pytest.raises(GestureRefused):
        await scene.bob.slash("answer", channel=asked.thread)
    for ix in (
        await scene.bob.slash("answer", channel=asked.thread, bypass_permissions=True),
        await scene.bob.slash(
            "reply", {"text": "hi"}, channel=asked.thread, bypass_permissions=True
        ),
    ):
        await refused_and_nothing_written(scene, ix, timed_out(until))
    # Not timed out (any more): everything goes through.
    bobs = await answered(scene, scene.mod, asked)
    fake.time_out(scene.bob, None)
    await answered(scene, scene.bob, asked)
    # Accepting is a gesture the bot performs: not for a timed-out asker either.
    until = fake.time_out(scene.alice, 60)
    assert until is not None
    ix = await scene.alice.context_menu("Accept answer", bobs, bypass_permissions=True)
    await refused_and_nothing_written(scene, ix, timed_out(until))
    advance_clock(fake, 61)  # the timeout ends
    ix = await scene.alice.context_menu("Accept answer", bobs)
    assert (await sentence(ix)).startswith("✅ You accepted")


# --------------------------------------------------------------------------- locked threads


async def test_a_locked_thread_refuses_members_but_not_moderators(scene: Scene) -> None:
    asked = await ask_question_directly(scene.harness, scene.alice)
    bobs = await answered(scene, scene.bob, asked)
    await scene.mod.edit_thread(asked.thread, locked=True)
    for ix in (
        await scene.bob.slash("answer", channel=asked.thread),
        await scene.bob.slash("reply", {"text": "Let me add"}, channel=asked.thread),
        await scene.bob.slash("edit", channel=asked.thread),
        await scene.alice.context_menu("Accept answer", bobs),
    ):
        await refused_and_nothing_written(scene, ix, posting_rights.LOCKED)
    # Moderators: Manage Threads in the forum, or the guild's moderator role.
    assert (await reply(scene, scene.mod, asked, "Locked: see the rules.")).startswith("✅")
    await answered(scene, scene.helper, asked)
    ix = await scene.mod.context_menu("Accept answer", bobs)
    assert (await sentence(ix)).startswith("✅ You accepted")
    # Deleting one's own post stays allowed (data rights).
    ix = await scene.bob.slash("delete", channel=asked.thread)
    prompt = await ix.message()
    delete = next(c for c in prompt.walk_components() if c.get("label") == "Delete")
    await scene.bob.click(prompt, delete["custom_id"])
    await scene.fake.wait_until(
        lambda: prompt.content == "✅ Your answer is deleted.", what="the deletion"
    )
    assert scene.fake.message(bobs.id).deleted


# --------------------------------------------------------------------------- slowmode


def slowmode(text: str) -> bool:
    return text.startswith("Slowmode: you can post here again <t:") and text.endswith(":R>.")


async def test_slowmode_holds_in_the_thread_from_what_is_stored(scene: Scene) -> None:
    fake = scene.fake
    asked = await ask_question_directly(scene.harness, scene.alice)
    fake.edit_channel(asked.thread, rate_limit_per_user=60)
    await answered(scene, scene.bob, asked)
    ix = await scene.bob.slash("answer", channel=asked.thread)
    rows = await post_count(scene)
    assert slowmode(await sentence(ix)) and ix.record.modal is None
    ix = await scene.bob.slash("reply", {"text": "One more thing"}, channel=asked.thread)
    assert slowmode(await sentence(ix))
    assert await post_count(scene) == rows
    # Manage Messages is exempt, as on Discord.
    await answered(scene, scene.mod, asked)
    assert (await reply(scene, scene.mod, asked, "And a reply.")).startswith("✅")
    advance_clock(fake, 61)  # the slowmode has passed
    await answered(scene, scene.bob, asked)
    # A message the member typed in the thread counts too.
    advance_clock(fake, 61)
    typed = await scene.bob.send(asked.thread, "A typed answer: try reading something dull.")
    await thread_message_handled(scene.events, typed)
    ix = await scene.bob.slash("reply", {"text": "And through the bot"}, channel=asked.thread)
    assert slowmode(await sentence(ix))


async def test_slowmode_holds_in_the_forum(scene: Scene) -> None:
    fake = scene.fake
    assert fake.forum is not None
    fake.edit_channel(fake.forum, rate_limit_per_user=600)
    assert (await ask(scene, scene.bob, "How do I sleep better at night?")).startswith("✅")
    ix = await scene.bob.slash("ask", channel=fake.general)
    assert slowmode(await sentence(ix)) and ix.record.modal is None
    assert (await ask(scene, scene.alice, "What helps with exam nerves?")).startswith("✅")
    advance_clock(fake, 601)
    assert (await ask(scene, scene.bob, "Is journaling useful for worry?")).startswith("✅")
    assert len(fake.threads_in(fake.forum)) == 3


async def test_post_anyway_checks_again(scene: Scene) -> None:
    """A question the similar-questions gate held is posted later, by a button: checked again."""
    fake = scene.fake
    await ask_question_directly(scene.harness, scene.alice, "Panic attacks on the bus", "Help.")
    ix = await scene.bob.slash("ask", channel=fake.general)
    submitted = await ix.submit_modal({"title": "Panic attacks on buses", "details": "Tight."})
    prompt = await submitted.message()
    post_anyway = next(
        c for c in prompt.walk_components() if c.get("label") == "Post my question anyway"
    )
    fake.set_roles(scene.bob, scene.muted.roles)
    rows, shown = await post_count(scene), posted_messages(fake)
    pressed = await scene.bob.click(prompt, post_anyway["custom_id"])
    (refusal,) = await pressed.followups(1)
    assert refusal.ephemeral and refusal.content == posting_rights.CANNOT_ASK
    assert await post_count(scene) == rows and posted_messages(fake) == shown
    # The role lifted, the same button posts it.
    fake.set_roles(scene.bob, [])
    pressed = await scene.bob.click(prompt, post_anyway["custom_id"])
    (confirmation,) = await pressed.followups(1)
    assert confirmation.content.startswith("✅"), confirmation.content
    assert fake.forum is not None
    assert "Panic attacks on buses" in [t.name for t in fake.threads_in(fake.forum)]
