"""``/notifications preview:`` end to end through the fake Discord, on both backends: ``no-text``
DMs say what happened and in which server with the link, ``minimal`` DMs say only what happened
with the link, for every kind of DM (a new answer, an accept, a comment, a moderator's
removal); the choice is made in
a server or in the DM with the bot, and ``/notifications`` with neither option is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.forum import prefs
from cogs import notifications as cog
from tests.bot.workers.test_notifier import wait_for_dms
from tests.cogs.conftest import (
    AskedQuestion,
    BotEvents,
    ask_question_directly,
    configure_qa_guild,
    thread_message_handled,
)
from tests.cogs.test_moderation_actions import panel, press
from tests.cogs.test_notifications import LONG, Scene, make_scene, reply_of
from tests.fakediscord import FakeDiscord, Member, Message
from tests.fakediscord.fixtures import BotFactory

TITLE = "How do I calm down before an exam?"
DETAILS = "My heart races and I cannot focus."
COMMENT = "Does it help every night?"


@pytest.fixture
async def scene(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    made = await make_scene(fake_discord, qa_bot_factory, db_url)
    try:
        yield made
    finally:
        made.events.close()


def shown_text(dm: Message) -> str:
    """Everything a DM shows: its content, embeds and buttons."""
    labels = [c.get("label", "") for row in dm.components for c in row["components"]]
    return "\n".join([dm.content or "", dm.embed_text(), *labels])


def link_of(dm: Message) -> str:
    [[button]] = [row["components"] for row in dm.components]
    return str(button["url"])


def assert_private(dm: Message, headline: str, *, server_named: bool) -> None:
    [embed] = dm.embeds
    assert embed["title"] == headline
    assert "description" not in embed and "fields" not in embed and "author" not in embed
    text = shown_text(dm)
    for secret in (TITLE, DETAILS, LONG, COMMENT, "bob", "carol"):
        assert secret not in text
    assert ("Test Guild" in text) is server_named


async def choose(member: Member, preview: str, channel: object = None) -> str:
    return await reply_of(
        await member.slash("notifications", {"preview": preview}, channel=channel)
    )


async def answered_and_accepted(scene: Scene) -> tuple[AskedQuestion, Message, Message]:
    """Alice asks, Bob answers, Alice accepts, Carol comments on the answer; returns the
    question, the answer and the comment once Alice and Bob have their three DMs."""
    fake = scene.fake
    asked = await scene.ask(TITLE)
    answer = await scene.say(scene.bob, asked)
    await wait_for_dms(fake, scene.alice, 1)
    ix = await scene.alice.context_menu("Accept answer", answer)
    await ix.message()
    await wait_for_dms(fake, scene.bob, 1)
    comment = await scene.carol.send(asked.thread, COMMENT, reply_to=answer)
    await thread_message_handled(scene.events, comment)
    await wait_for_dms(fake, scene.bob, 2)
    return asked, answer, comment


async def test_no_text_dms_name_the_server_and_link_but_show_no_text(scene: Scene) -> None:
    fake = scene.fake
    for member in (scene.alice, scene.bob):
        assert await choose(member, "no-text") == cog.PREVIEWS["no-text"]
        assert (await scene.prefs_of(member)).dm_preview == "no-text"
    asked, answer, comment = await answered_and_accepted(scene)
    [to_alice] = fake.dms_to(scene.alice)
    assert_private(to_alice, "New answer to your question in Test Guild", server_named=True)
    assert link_of(to_alice).endswith(f"/{asked.thread.id}/{answer.id}")
    accepted, commented = fake.dms_to(scene.bob)
    assert_private(accepted, "Your answer was accepted in Test Guild", server_named=True)
    assert link_of(accepted).endswith(f"/{answer.id}")
    assert_private(commented, "New comment on your answer in Test Guild", server_named=True)
    assert link_of(commented).endswith(f"/{comment.id}")


async def test_minimal_dms_show_neither_text_nor_server_and_are_chosen_in_the_dm(
    scene: Scene,
) -> None:
    fake = scene.fake
    for member in (scene.alice, scene.bob):  # chosen in the DM with the bot
        assert await choose(member, "minimal", fake.dm_channel(member)) == cog.PREVIEWS["minimal"]
    asked, answer, comment = await answered_and_accepted(scene)
    [to_alice] = fake.dms_to(scene.alice)
    assert_private(to_alice, "You have a new answer", server_named=False)
    assert link_of(to_alice).endswith(f"/{asked.thread.id}/{answer.id}")
    accepted, commented = fake.dms_to(scene.bob)
    assert_private(accepted, "Your answer was accepted", server_named=False)
    assert_private(commented, "You have a new comment", server_named=False)
    assert link_of(commented).endswith(f"/{comment.id}")


async def test_full_is_todays_dm_and_mode_and_preview_go_together(scene: Scene) -> None:
    fake = scene.fake
    await choose(scene.alice, "minimal")
    text = await reply_of(
        await scene.alice.slash("notifications", {"mode": "on", "preview": "full"})
    )
    assert "DM notifications are on" in text.replace("*", "")
    assert cog.PREVIEWS["full"] in text
    asked = await scene.ask(TITLE)
    await scene.say(scene.bob, asked)
    [dm] = await wait_for_dms(fake, scene.alice, 1)
    [embed] = dm.embeds
    assert embed["title"] == f"New answer to “{TITLE}”"
    assert LONG in embed["description"]
    # The mode alone leaves the preview as it was.
    await reply_of(await scene.alice.slash("notifications", {"mode": "off"}))
    now = await scene.prefs_of(scene.alice)
    assert (now.notifications, now.dm_preview) == (False, "full")


async def test_notifications_with_neither_option_is_refused_and_changes_nothing(
    scene: Scene,
) -> None:
    await choose(scene.alice, "no-text")  # the positive twin: one option is enough
    before = await scene.prefs_of(scene.alice)
    text = await reply_of(await scene.alice.slash("notifications", {}))
    assert text == prefs.NOTHING_TO_SET
    assert await scene.prefs_of(scene.alice) == before


async def test_a_moderators_removal_dm_follows_the_preview_too(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory, db_url: str
) -> None:
    fake = fake_discord
    assert fake.guild and fake.moderator_role
    mia = fake.add_member(fake.guild, "mia", roles=[fake.moderator_role])
    alice, bob = (fake.add_member(fake.guild, n) for n in ("alice", "bob"))
    harness = await qa_bot_factory(database_url=db_url)
    await configure_qa_guild(harness, notify_coalesce_seconds=0)
    events = BotEvents(harness, "qa_thread_message")
    try:
        asked = await ask_question_directly(harness, alice, TITLE)
        await choose(bob, "minimal")
        answer = await bob.send(asked.thread, LONG)
        await thread_message_handled(events, answer)
        shown = await panel(mia, answer)
        await press(mia, shown, "qa:act:remove:", {"reason": "Medical advice from a stranger"})
        [dm] = await wait_for_dms(fake, bob, 1)
    finally:
        events.close()
    assert_private(dm, "A moderator removed your post", server_named=False)
    assert "Medical advice" not in shown_text(dm)
    assert dm.components == []  # the removed post has nothing to open
