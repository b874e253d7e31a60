"""The server's AutoMod keyword rules hold for what the bot posts for members, end to end through
the fake Discord (which blocks a member's own matching message, as Discord does), on SQLite and
PostgreSQL: each refusal beside its positive twin."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.db.models import Post
from bot.ui.admin import AUTOMOD_UNREADABLE
from tests.cogs.conftest import (
    AskedQuestion,
    BotEvents,
    add_forum_tag,
    ask_question_directly,
    configure_qa_guild,
)
from tests.fakediscord import FakeDiscord, InteractionHandle, Member, Message
from tests.fakediscord import permissions as P
from tests.fakediscord.automod import AutoModBlocked
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.fakediscord.model import Channel, Role

THREADS = "/channels/{channel_id}/threads"
MESSAGES = "/channels/{channel_id}/messages"
RULES = "/guilds/{guild_id}/auto-moderation/rules"
BLOCKED = "This server's AutoMod blocks that text (rule: {})."
SAFE_ANSWER = "Keep the same wake-up time every day, even at weekends."


@dataclass
class Scene:
    fake: FakeDiscord
    harness: BotHarness
    events: BotEvents
    alice: Member
    bob: Member
    helper: Member
    helper_role: Role

    @property
    def forum(self) -> Channel:
        assert self.fake.forum is not None
        return self.fake.forum

    async def post_count(self) -> int:
        async with self.harness.sessionmaker() as session:
            return int((await session.execute(select(func.count(Post.id)))).scalar_one())


def bot_role(fake: FakeDiscord) -> Role:
    assert fake.guild is not None
    return next(r for r in fake.guild.roles.values() if r.bot_id == fake.bot_user.id)


async def make_scene(
    fake: FakeDiscord, factory: BotFactory, db_url: str, *, manage_server: bool
) -> Scene:
    assert fake.guild is not None
    if manage_server:
        role = bot_role(fake)
        fake.world.update_role(role, permissions=role.permissions | P.MANAGE_GUILD)
    add_forum_tag(fake, "Solved")
    helper_role = fake.add_role(fake.guild, "Helper")
    alice = fake.add_member(fake.guild, "alice")
    bob = fake.add_member(fake.guild, "bob")
    helper = fake.add_member(fake.guild, "helper", roles=[helper_role])
    harness = await factory(
        extensions=["cogs.admin", "cogs.asking", "cogs.answering"], database_url=db_url
    )
    await configure_qa_guild(harness, solved_tag_id=fake.forum.tag("Solved").id)  # type: ignore[union-attr]
    events = BotEvents(harness, "automod_rule_create", "automod_rule_update")
    return Scene(fake, harness, events, alice, bob, helper, helper_role)


@pytest.fixture
async def scene(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory, db_url: str
) -> AsyncIterator[Scene]:
    made = await make_scene(fake_discord, qa_bot_factory, db_url, manage_server=True)
    yield made
    made.events.close()


async def ask(scene: Scene, who: Member, title: str, details: str = "") -> Message:
    ix = await who.slash("ask", {}, channel=scene.fake.general)
    submitted = await ix.submit_modal({"title": title, "details": details})
    return await submitted.message()


async def answer(scene: Scene, who: Member, asked: AskedQuestion, text: str) -> Message:
    ix = await who.slash("answer", channel=asked.thread)
    submitted = await ix.submit_modal({"answer": text})
    return await submitted.message()


async def reply(scene: Scene, who: Member, asked: AskedQuestion, text: str) -> InteractionHandle:
    return await who.slash("reply", {"text": text}, channel=asked.thread)


def add_rule(scene: Scene, **rule: Any) -> Any:
    assert scene.fake.guild is not None
    return scene.fake.add_automod_rule(scene.fake.guild, **rule)


async def test_ask_with_a_blocked_title_is_refused_and_nothing_is_posted(scene: Scene) -> None:
    fake = scene.fake
    add_rule(scene, name="No scams", keywords=["free nitro", "scam*"], custom_message="Be kind.")
    await scene.events.wait_for("automod_rule_create")
    mark = fake.mark()
    refused = await ask(scene, scene.alice, "Free Nitro for my sleep?", "it helps")
    assert refused.ephemeral
    assert refused.content == BLOCKED.format("No scams") + " Be kind."
    assert not fake.find_calls("POST", THREADS, since=mark)
    assert await scene.post_count() == 0
    details = await ask(scene, scene.alice, "Is this legit?", "Looks like a scammer to me")
    assert details.content.startswith(BLOCKED.format("No scams"))
    assert not fake.find_calls("POST", THREADS, since=mark)
    # Discord itself blocks the same words typed by the member.
    with pytest.raises(AutoModBlocked):
        await scene.alice.create_post(scene.forum, "Free nitro", "")

    posted = await ask(scene, scene.alice, "How do I sleep better?", "I wake up at 3 am.")
    assert posted.ephemeral and "Your question is posted" in posted.content
    await fake.wait_for_call("POST", THREADS, since=mark)
    assert await scene.post_count() == 1


async def test_an_anonymous_display_name_is_checked_too(scene: Scene) -> None:
    add_rule(scene, name="Names", keywords=["*nitro*"])
    await scene.events.wait_for("automod_rule_create")
    values = {"title": "How do I sleep better?", "details": "", "display_name": "Nitro Giver"}
    ix = await scene.alice.slash("ask", {"anonymous": True}, channel=scene.fake.general)
    refused = await (await ix.submit_modal(values)).message()
    assert refused.content == BLOCKED.format("Names")
    assert await scene.post_count() == 0
    ix = await scene.alice.slash("ask", {"anonymous": True}, channel=scene.fake.general)
    posted = await (await ix.submit_modal({**values, "display_name": "Night owl"})).message()
    assert "posted" in posted.content and "Night owl" in posted.content
    assert await scene.post_count() == 1


async def test_answer_and_reply_with_a_keyword_are_refused(scene: Scene) -> None:
    fake = scene.fake
    asked = await ask_question_directly(scene.harness, scene.alice)
    add_rule(scene, name="Words", keywords=["*idiot*"])
    await scene.events.wait_for("automod_rule_create")
    before = await scene.post_count()
    mark = fake.mark()
    refused = await answer(scene, scene.bob, asked, "Only an IDIOTIC person asks this, honestly.")
    assert refused.ephemeral and refused.content == BLOCKED.format("Words")
    comment = await (await reply(scene, scene.bob, asked, "you idiot")).message()
    assert comment.ephemeral and comment.content == BLOCKED.format("Words")
    assert not fake.find_calls(
        "POST", MESSAGES, since=mark, where=lambda c: c.id("channel_id") == asked.thread.id
    )
    assert await scene.post_count() == before
    with pytest.raises(AutoModBlocked):
        await scene.bob.send(asked.thread, "you idiot")

    posted = await answer(scene, scene.bob, asked, SAFE_ANSWER)
    assert "Your answer is posted" in posted.content
    done = await (await reply(scene, scene.bob, asked, "Good luck with it!")).message()
    assert "Your reply is posted" in done.content
    assert await scene.post_count() == before + 2


async def test_the_allow_list_lets_an_allowed_phrase_through(
    scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.automod")
    asked = await ask_question_directly(scene.harness, scene.alice)
    # ``\p{L}`` is Rust regex Python cannot read: skipped, and counted in a log line.
    add_rule(scene, name="Pills", keywords=["pill*"], allow=["pillow*"], regex=[r"\p{L}+pill"])
    await scene.events.wait_for("automod_rule_create")
    allowed = await answer(scene, scene.bob, asked, "A pillow between the knees helps me a lot.")
    assert "Your answer is posted" in allowed.content
    refused = await answer(scene, scene.bob, asked, "Just take a pill before bed, every night.")
    assert refused.content == BLOCKED.format("Pills")
    skipped = [r.getMessage() for r in caplog.records if "regex patterns skipped" in r.getMessage()]
    assert skipped and skipped[0] == (
        f"guild {scene.fake.guild.id}: 1 AutoMod regex patterns skipped "  # type: ignore[union-attr]
        "(not readable as Python regex)"
    )


async def test_an_exempt_role_may_post_what_others_may_not(scene: Scene) -> None:
    asked = await ask_question_directly(scene.harness, scene.alice)
    add_rule(scene, name="Words", keywords=["melatonin"], exempt_roles=[scene.helper_role])
    await scene.events.wait_for("automod_rule_create")
    text = "Melatonin is worth asking your doctor about, in a low dose."
    refused = await answer(scene, scene.bob, asked, text)
    assert refused.content == BLOCKED.format("Words")
    allowed = await answer(scene, scene.helper, asked, text)
    assert "Your answer is posted" in allowed.content


async def test_an_exempt_forum_covers_its_threads_and_a_changed_rule_applies(scene: Scene) -> None:
    asked = await ask_question_directly(scene.harness, scene.alice)
    rule = add_rule(scene, name="Words", keywords=["melatonin"], exempt_channels=[scene.forum.id])
    await scene.events.wait_for("automod_rule_create")
    text = "Melatonin is worth asking your doctor about, in a low dose."
    allowed = await answer(scene, scene.bob, asked, text)
    assert "Your answer is posted" in allowed.content
    # A thread discord.py no longer holds (archived, after a restart) is asked for its parent.
    guild = scene.harness.bot.get_guild(asked.thread.guild_id or 0)
    assert guild is not None
    guild._remove_thread(guild.get_thread(asked.thread.id))  # type: ignore[arg-type]
    mark = scene.fake.mark()
    again = await answer(scene, scene.bob, asked, text + " Truly.")
    assert "Your answer is posted" in again.content
    assert scene.fake.find_calls("GET", "/channels/{channel_id}", since=mark)
    scene.fake.automod.update(rule, exempt_channels=[])
    await scene.events.wait_for("automod_rule_update")
    refused = await answer(scene, scene.bob, asked, text + " Really.")
    assert refused.content == BLOCKED.format("Words")


async def test_edit_to_a_blocked_text_is_refused(scene: Scene) -> None:
    asked = await ask_question_directly(scene.harness, scene.alice)
    await answer(scene, scene.bob, asked, SAFE_ANSWER)
    add_rule(scene, name="Words", keywords=["melatonin"])
    await scene.events.wait_for("automod_rule_create")
    ix = await scene.bob.slash("edit", channel=asked.thread)
    done = await (await ix.submit_modal({"answer": "Try melatonin instead."})).message()
    assert done.content == BLOCKED.format("Words")
    ix = await scene.bob.slash("edit", channel=asked.thread)
    done = await (await ix.submit_modal({"answer": SAFE_ANSWER + " Also dim lights."})).message()
    assert "is updated" in done.content


async def test_setup_says_when_the_rules_cannot_be_read(
    fake_discord: FakeDiscord,
    qa_bot_factory: BotFactory,
    db_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.automod")
    scene = await make_scene(fake_discord, qa_bot_factory, db_url, manage_server=False)
    fake = scene.fake
    assert fake.owner is not None and fake.guild is not None
    try:
        ix = await fake.owner.slash("qa setup", {"forum": scene.forum}, channel=fake.general)
        report = await ix.message()
        notes = [f["value"] for e in report.embeds for f in e.get("fields", [])]
        assert sum(AUTOMOD_UNREADABLE in n for n in notes) == 1
        # The check is skipped: the rules are not even asked for.
        add_rule(scene, name="Words", keywords=["melatonin"])
        asked = await ask_question_directly(scene.harness, scene.alice)
        posted = await answer(scene, scene.bob, asked, "Melatonin helps me, in a low dose.")
        assert "Your answer is posted" in posted.content
        posted = await answer(scene, scene.bob, asked, "Melatonin helps me too, in a low dose.")
        assert "Your answer is posted" in posted.content
        assert not fake.find_calls("GET", RULES)
        skips = [
            r.getMessage() for r in caplog.records if "AutoMod rules not readable" in r.getMessage()
        ]
        assert skips == [
            f"guild {fake.guild.id}: AutoMod rules not readable (no Manage Server); not checked"
        ]

        role = bot_role(fake)
        fake.world.update_role(role, permissions=role.permissions | P.MANAGE_GUILD)
        await fake.flush()
        ix = await fake.owner.slash("qa setup", {"forum": scene.forum}, channel=fake.general)
        report = await ix.message()
        assert AUTOMOD_UNREADABLE not in str(report.embeds)
        refused = await answer(scene, scene.bob, asked, "Melatonin, again, in a low dose.")
        assert refused.content == BLOCKED.format("Words")
    finally:
        scene.events.close()
