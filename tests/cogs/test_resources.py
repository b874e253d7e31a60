"""Safety resources end to end through the fake Discord, on SQLite and PostgreSQL: /resources
(the default and a server's own text, ephemeral or public and mention-inert), the line in the
/ask form, /resources dm:on|off, and the private reply after a question matching the server's
keywords: a DM only to an asker who opted in, an ephemeral follow-up to any other asker, and
never a DM to a member who did not opt in.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.forum import prefs
from bot.ui.resources import ASK_FORM_LINE, DM_OFF, DM_ON, DM_ON_BUT_DMS_OFF, KEYWORD_TITLE
from cogs.asking.gate import GATE_TEXT
from tests.cogs.conftest import BotEvents, configure_qa_guild, run_domain
from tests.fakediscord import Channel, FakeDiscord, InteractionHandle, Member, Message
from tests.fakediscord.fixtures import BotFactory, BotHarness

EXTENSIONS = ["cogs.admin", "cogs.asking", "cogs.resources"]
DM_OPEN = "/users/@me/channels"
KEYWORDS = "panic attack, hopeless, self-harm"


@dataclass
class Scene:
    fake: FakeDiscord
    harness: BotHarness
    rules: Channel
    owner: Member
    alice: Member
    bob: Member

    @property
    def general(self) -> Channel:
        assert self.fake.general is not None
        return self.fake.general


@pytest.fixture
async def scene(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    fake = fake_discord
    assert fake.guild is not None and fake.owner is not None
    rules = fake.add_text_channel(fake.guild, "rules")
    fake.guild.rules_channel_id = rules.id  # in the bot's GUILD_CREATE
    alice = fake.add_member(fake.guild, "alice")
    bob = fake.add_member(fake.guild, "bob")
    harness = await qa_bot_factory(extensions=EXTENSIONS, database_url=db_url)
    await configure_qa_guild(harness, questions_per_hour=10_000)
    yield Scene(fake, harness, rules, fake.owner, alice, bob)


async def reply_to(ix: InteractionHandle) -> Message:
    msg = await ix.message()
    assert msg.ephemeral
    return msg


async def set_setting(scene: Scene, key: str, value: str) -> Message:
    ix = await scene.owner.slash("qa settings set", {"key": key, "value": value})
    return await reply_to(ix)


async def turn_keyword_reply_on(scene: Scene) -> None:
    await set_setting(scene, "resources_keywords", KEYWORDS)
    confirmed = await set_setting(scene, "resources_keyword_reply", "on")
    assert "is now **on**" in confirmed.embed_text()


async def ask(scene: Scene, who: Member, title: str, details: str = "", **options: Any) -> Any:
    """/ask submitted; returns once the keyword reply's handler has run (whatever it did)."""
    events = BotEvents(scene.harness, "qa_question_posted")
    try:
        ix = await who.slash("ask", options, channel=scene.general)
        submitted = await ix.submit_modal({"title": title, "details": details})
        posted = await submitted.message()
        assert "posted" in posted.content
        await events.wait_for("qa_question_posted")
    finally:
        events.close()
    while handlers := [
        t
        for t in asyncio.all_tasks()
        if t.get_name() == "discord.py: on_qa_question_posted" and not t.done()
    ]:
        await asyncio.wait(handlers, timeout=5)
    return submitted


def resources_followups(submitted: InteractionHandle) -> list[Message]:
    """The ephemeral follow-ups of an /ask submission that carry the resources."""
    return [
        m
        for m in submitted.followup_messages
        if m.embeds and m.embeds[0].get("title") == KEYWORD_TITLE
    ]


def dmed(fake: FakeDiscord, who: Member) -> bool:
    """Whether the bot ever opened a DM with ``who`` or wrote in one: every recorded call."""
    opened = [
        c for c in fake.find_calls("POST", DM_OPEN) if c.json.get("recipient_id") == str(who.id)
    ]
    return bool(opened) or bool(fake.dms_to(who))


# --------------------------------------------------------------------------- /resources


async def test_resources_default_points_to_the_rules_channel_and_says_not_a_crisis_service(
    scene: Scene,
) -> None:
    msg = await reply_to(await scene.alice.slash("resources", channel=scene.general))
    text = msg.embed_text()
    assert "peer support, not a crisis service" in text
    assert "local emergency services" in text
    assert f"<#{scene.rules.id}>" in text
    assert "moderators" in text
    assert msg not in scene.fake.messages_in(scene.general)
    # In the DM with the bot: the general default, naming no server's channels.
    in_dm = await scene.alice.slash("resources", channel=scene.fake.dm_channel(scene.alice))
    dm_text = (await in_dm.message()).embed_text()
    assert "not a crisis service" in dm_text and "<#" not in dm_text


async def test_resources_shows_the_configured_text_ephemeral_or_public_without_pings(
    scene: Scene,
) -> None:
    own = r"Call the **Helpline** on 0800 123.\nAsk <@&{role}> or @everyone here."
    role = scene.fake.moderator_role
    assert role is not None
    confirmed = await set_setting(scene, "resources_text", own.format(role=role.id))
    assert "resources_text" in confirmed.embed_text()
    expected = f"Call the **Helpline** on 0800 123.\nAsk <@&{role.id}> or @everyone here."

    private = await reply_to(await scene.alice.slash("resources", channel=scene.general))
    assert private.embeds[0]["description"] == expected
    assert "not a crisis service" not in private.embed_text()

    ix = await scene.alice.slash("resources", {"public": True}, channel=scene.general)
    public = await ix.message()
    assert not public.ephemeral
    assert public in scene.fake.messages_in(scene.general)
    assert public.embeds[0]["description"] == expected
    assert public.allowed_mentions == {"parse": []}
    pings = scene.fake.rules.pings(public)
    assert not pings.everyone and not pings.roles and not pings.notified


async def test_a_keyword_list_too_long_is_refused_and_a_good_one_stored(scene: Scene) -> None:
    refused = await set_setting(scene, "resources_keywords", "x" * 61)
    assert "at most 60" in refused.content
    msg = await reply_to(await scene.owner.slash("qa settings show"))
    assert "resources_keywords`: **not set**" in msg.embed_text()
    stored = await set_setting(scene, "resources_keywords", " Panic  Attack,hopeless,hopeless ")
    assert "panic attack, hopeless" in stored.embed_text()


async def test_the_ask_form_shows_the_resources_line(scene: Scene) -> None:
    for options in ({}, {"anonymous": True}):
        ix = await scene.alice.slash("ask", options, channel=scene.general)
        modal = await ix.modal()
        assert modal.texts == [ASK_FORM_LINE]
        assert "/resources" in modal.texts[0]
        assert all(f.label != ASK_FORM_LINE for f in modal.fields)


async def test_resources_dm_is_the_members_own_choice(scene: Scene) -> None:
    on = await reply_to(await scene.alice.slash("resources", {"dm": "on"}))
    assert DM_ON.split("**")[0] in on.embed_text()
    stored = await run_domain(scene.harness, lambda s: prefs.get_prefs(s, scene.alice.id))
    assert stored.resources_dm
    off = await reply_to(await scene.alice.slash("resources", {"dm": "off"}))
    assert DM_OFF.split("**")[0] in off.embed_text()
    stored = await run_domain(scene.harness, lambda s: prefs.get_prefs(s, scene.alice.id))
    assert not stored.resources_dm
    await run_domain(scene.harness, lambda s: prefs.set_notifications(s, scene.bob.id, False))
    muted = await reply_to(await scene.bob.slash("resources", {"dm": "on"}))
    assert "/notifications mode:on" in muted.embed_text()
    assert DM_ON_BUT_DMS_OFF.endswith("lets the DM through.")


# --------------------------------------------------------------------------- keyword reply


async def test_an_opted_in_asker_gets_the_resources_by_dm_and_no_follow_up(scene: Scene) -> None:
    await turn_keyword_reply_on(scene)
    await reply_to(await scene.alice.slash("resources", {"dm": "on"}))
    submitted = await ask(scene, scene.alice, "I had a PANIC  attack at work", "What helps?")
    (dm,) = scene.fake.dms_to(scene.alice)
    assert dm.embeds[0]["title"] == KEYWORD_TITLE
    assert f"<#{scene.rules.id}>" in dm.embed_text()
    assert "/resources dm:off" in dm.embed_text()
    assert resources_followups(submitted) == []


async def test_any_other_asker_gets_an_ephemeral_follow_up_and_no_dm(scene: Scene) -> None:
    await turn_keyword_reply_on(scene)
    await reply_to(await scene.alice.slash("resources", {"dm": "on"}))  # someone else opted in
    submitted = await ask(scene, scene.bob, "Feeling hopeless since winter", "Every day.")
    (reply,) = resources_followups(submitted)
    assert reply.ephemeral and reply.visible_to == scene.bob.id
    assert "not a crisis service" in reply.embed_text()
    assert not dmed(scene.fake, scene.bob)
    assert not dmed(scene.fake, scene.alice)  # alice asked nothing


async def test_an_anonymous_or_opted_out_asker_gets_it_ephemerally_never_by_dm(
    scene: Scene,
) -> None:
    await turn_keyword_reply_on(scene)
    anonymous = await ask(
        scene, scene.bob, "Thoughts of self-harm lately", "Not sure who to tell.", anonymous=True
    )
    (reply,) = resources_followups(anonymous)
    assert reply.ephemeral and reply.visible_to == scene.bob.id
    await reply_to(await scene.alice.slash("resources", {"dm": "on"}))
    await reply_to(await scene.alice.slash("resources", {"dm": "off"}))
    opted_out = await ask(scene, scene.alice, "A panic attack on the bus", "Twice this week.")
    assert len(resources_followups(opted_out)) == 1
    assert not dmed(scene.fake, scene.alice) and not dmed(scene.fake, scene.bob)


async def test_no_keyword_or_the_setting_off_sends_nothing(scene: Scene) -> None:
    await set_setting(scene, "resources_keywords", KEYWORDS)  # the reply itself stays off
    await reply_to(await scene.alice.slash("resources", {"dm": "on"}))
    off = await ask(scene, scene.alice, "Panic attack before exams", "Every time.")
    assert resources_followups(off) == []
    await set_setting(scene, "resources_keyword_reply", "on")
    unrelated = await ask(scene, scene.bob, "Which running shoes for beginners?", "Flat feet.")
    assert resources_followups(unrelated) == []
    partial = await ask(scene, scene.bob, "Hopelessly lost in the city", "Maps?")  # not a word
    assert resources_followups(partial) == []
    assert not dmed(scene.fake, scene.alice) and not dmed(scene.fake, scene.bob)


async def test_a_question_posted_past_the_similar_questions_gate_gets_the_reply(
    scene: Scene,
) -> None:
    await turn_keyword_reply_on(scene)
    details = "My chest tightens on buses and I have to get off."
    await ask(scene, scene.bob, "Panic attack on the bus", details)
    ix = await scene.alice.slash("ask", channel=scene.general)
    submitted = await ix.submit_modal(
        {"title": "Panic attack on the bus again", "details": details}
    )
    prompt = await submitted.message()
    assert prompt.content == GATE_TEXT and resources_followups(submitted) == []
    post_anyway = next(
        c["custom_id"]
        for c in prompt.walk_components()
        if c.get("label") == "Post my question anyway"
    )
    pressed = await scene.alice.click(prompt, post_anyway)
    followups = await pressed.followups(2)
    (reply,) = [m for m in followups if m.embeds and m.embeds[0].get("title") == KEYWORD_TITLE]
    assert reply.ephemeral and reply.visible_to == scene.alice.id
    assert not dmed(scene.fake, scene.alice) and not dmed(scene.fake, scene.bob)
