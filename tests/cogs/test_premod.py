"""Pre-moderation end to end through the fake Discord, on both database backends (issue 16,
item 3): posts through /ask, /answer and /reply held when the server says so (anonymous posts,
new members), a card in the moderator channel whose Approve / Reject work after a restart and
check the moderator rule in code, approval publishing exactly as a direct post, the author's
DMs, the audit trail, and no card or reply naming the anonymous author."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.models import HeldPost, Post
from bot.forum import lookups, settings
from bot.forum.premod import ALREADY_DECIDED
from bot.ui.authors import author_label
from bot.ui.premod import CARD_FAILED, NO_MOD_CHANNEL, WAITS_FOR_REVIEW
from bot.ui.questions import question_message_embed
from cogs.asking.gate import GATE_TEXT, SENT_FOR_REVIEW
from cogs.moderation.premod import NOT_A_REVIEWER
from tests.bot.workers.test_notifier import wait_for_dms
from tests.cogs.conftest import ask_question_directly, configure_qa_guild, run_domain
from tests.fakediscord import FakeDiscord, InteractionHandle, Member, Message
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.fakediscord.model import Channel
from tests.leaks import Identity, LeakScanner, LogCapture

TITLE = "Is it normal to dread my first therapy session?"
DETAILS = "I booked it weeks ago and now I keep thinking of cancelling. Ping @everyone <@1>."
OTHER_TITLE, OTHER = "How do I sleep better?", "I wake up at 3 am most nights."
ANSWER = "Very normal: tell the therapist you nearly cancelled, it is a good first thing to say."
#: The anonymous author's names: they collide with no ordinary word.
USERNAME, GLOBAL_NAME, NICK = "zqvortle", "Yssbrandt", "Klypthora"


@dataclass
class Scene:
    fake: FakeDiscord
    factory: BotFactory
    db_url: str
    harness: BotHarness
    logs: LogCapture
    mods: Channel
    asker: Member  # posts anonymously
    bob: Member  # posts under his name
    mia: Member  # moderates (Manage Threads through the moderator role)
    max: Member  # moderates too

    @property
    def guild_id(self) -> int:
        assert self.fake.guild is not None
        return self.fake.guild.id

    async def set(self, key: str, value: Any) -> None:
        gid = self.guild_id
        await run_domain(self.harness, lambda s: settings.set_setting(s, gid, key, value))

    async def restart(self) -> None:
        """A new bot process on the same database (the old one's views are gone)."""
        await self.harness.close()
        self.harness = await self.factory(database_url=self.db_url, notify_poll_seconds=30)

    async def held(self) -> list[HeldPost]:
        async with self.harness.sessionmaker() as session:
            found = await session.execute(select(HeldPost).order_by(HeldPost.id))
            return list(found.scalars())

    def cards(self) -> list[Message]:
        return [m for m in self.fake.messages_in(self.mods) if m.author_id == self.fake.bot_user.id]

    def threads(self) -> list[Channel]:
        assert self.fake.forum is not None
        return self.fake.threads_in(self.fake.forum)

    def identity(self) -> Identity:
        return Identity.of(self.fake, self.asker)


@pytest.fixture
async def scene(
    leak_logs: LogCapture, db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    fake = fake_discord
    assert fake.guild is not None and fake.moderator_role is not None
    mods = fake.add_text_channel(fake.guild, "mods")
    user = fake.world.add_user(USERNAME, global_name=GLOBAL_NAME)
    asker = fake.add_member(fake.guild, USERNAME, user=user, nick=NICK)
    bob = fake.add_member(fake.guild, "bob")
    mia = fake.add_member(fake.guild, "mia", roles=[fake.moderator_role])
    max_ = fake.add_member(fake.guild, "max", roles=[fake.moderator_role])
    harness = await qa_bot_factory(database_url=db_url, notify_poll_seconds=30)
    await configure_qa_guild(
        harness, notify_coalesce_seconds=0, mod_channel_id=mods.id, premod_anonymous=True
    )
    yield Scene(fake, qa_bot_factory, db_url, harness, leak_logs, mods, asker, bob, mia, max_)


def button(message: Message, label: str) -> str:
    for component in message.walk_components():
        if component.get("type") == 2 and component.get("label") == label:
            return str(component["custom_id"])
    raise AssertionError(f"no {label!r} button on message {message.id}")


async def ephemeral(ix: InteractionHandle) -> str:
    message = await ix.message()
    assert message.ephemeral, message.content
    return message.content + message.embed_text()


async def ask(
    scene: Scene, who: Member, *, anonymous: bool, title: str = TITLE, details: str = DETAILS
) -> str:
    ix = await who.slash("ask", {"anonymous": anonymous}, channel=scene.fake.general)
    fields = {"title": title, "details": details}
    if anonymous:
        fields["display_name"] = ""
    return await ephemeral(await ix.submit_modal(fields))


async def answer(scene: Scene, who: Member, thread: Channel, *, anonymous: bool = False) -> str:
    ix = await who.slash("answer", {"anonymous": anonymous}, channel=thread)
    return await ephemeral(await ix.submit_modal({"answer": ANSWER}))


async def mod_log(scene: Scene) -> str:
    ix = await scene.mia.slash("mod log", {}, channel=scene.fake.general)
    return await ephemeral(ix)


async def test_an_anonymous_question_waits_and_is_approved_after_a_restart(scene: Scene) -> None:
    fake = scene.fake
    # A named question is published at once; an anonymous one waits, and says so.
    named = await ask(scene, scene.bob, anonymous=False, title=OTHER_TITLE, details=OTHER)
    assert "Your question is posted" in named
    (named_thread,) = scene.threads()
    assert await ask(scene, scene.asker, anonymous=True) == WAITS_FOR_REVIEW
    assert scene.threads() == [named_thread]
    (card,) = scene.cards()
    text = card.embed_text()
    assert "A question waits for review" in text and TITLE in text
    assert "@everyone" not in (card.content or "") and not card.mentions
    assert "Anonymous" in text and f"<@{scene.asker.id}>" not in text
    assert (card.allowed_mentions or {}).get("parse") == []
    (held,) = await scene.held()
    assert held.status == "waiting" and held.card_message_id == card.id

    await scene.restart()
    # Someone who does not moderate sees the card (the channel is open) but is refused.
    refused = await scene.bob.click(card, button(card, "Approve"))
    assert NOT_A_REVIEWER in await ephemeral(refused)
    assert scene.threads() == [named_thread]

    # Two moderators click at once (the card's edit is held back, so both see the buttons):
    # one approves, the other hears it is decided already.
    approve = button(card, "Approve")
    edit = fake.faults.hold("PATCH", f"/channels/{scene.mods.id}/messages/{card.id}", times=1)
    approved = await scene.mia.click(card, approve)
    await edit.arrived()
    again = await scene.max.click(card, approve)
    assert ALREADY_DECIDED in await ephemeral(again)
    edit.release()
    said = await ephemeral(approved)
    assert "Approved and published" in said
    thread = await fake.wait_until(
        lambda: [t for t in scene.threads() if t != named_thread] or None, what="the thread"
    )
    (thread,) = thread
    starter = fake.message(thread.id)
    question = await run_domain(
        scene.harness, lambda s: lookups.find_question_by_thread(s, thread_id=thread.id)
    )
    assert question is not None and question.anonymous and question.author_id == scene.asker.id
    # Exactly the post a direct /ask makes: the same embed, no mention, the vote reactions.
    assert starter.embeds == [question_message_embed(question, author_label(question)).to_dict()]
    assert starter.embeds[0]["author"]["name"] == "Anonymous"
    assert not starter.content and not starter.mentions
    assert thread.name == TITLE and scene.asker.id not in thread.members
    await fake.wait_until(lambda: starter.reaction_users("👎") or None, what="vote reactions")

    (dm,) = await wait_for_dms(fake, scene.asker, 1)
    assert "Your question was approved" in dm.embed_text()
    decided = fake.message(card.id)
    assert "Approved by" in decided.embed_text() and not decided.components
    assert f"approved post #{question.id}" in await mod_log(scene)

    scan = LeakScanner(fake, scene.logs, scene.identity())
    assert scan.hits() == [], scan.report()


async def test_an_anonymous_answer_is_rejected_after_a_restart_with_a_reason(
    scene: Scene,
) -> None:
    fake = scene.fake
    asked = await ask_question_directly(scene.harness, scene.bob, TITLE, DETAILS)
    before = len(fake.messages_in(asked.thread))
    assert await answer(scene, scene.asker, asked.thread, anonymous=True) == WAITS_FOR_REVIEW
    (card,) = scene.cards()
    assert "An answer waits for review" in card.embed_text()
    assert TITLE in card.embed_text() and "Very normal" in card.embed_text()

    await scene.restart()
    refused = await scene.bob.click(card, button(card, "Reject"))
    assert NOT_A_REVIEWER in await ephemeral(refused)
    reject = button(card, "Reject")
    ix = await scene.mia.click(card, reject)
    modal = await ix.modal()
    assert modal.title == "Reject this post" and not modal.fields[0].required
    edit = fake.faults.hold("PATCH", f"/channels/{scene.mods.id}/messages/{card.id}", times=1)
    submitted = await ix.submit_modal({"reason": "Please keep advice general."})
    await edit.arrived()
    again = await scene.max.click(card, reject)  # no second modal: it is decided
    assert ALREADY_DECIDED in await ephemeral(again)
    edit.release()
    assert "Rejected" in await ephemeral(submitted)

    (dm,) = await wait_for_dms(fake, scene.asker, 1)
    assert "Your answer was not approved" in dm.embed_text()
    assert "Please keep advice general." in dm.embed_text()
    assert len(fake.messages_in(asked.thread)) == before
    async with scene.harness.sessionmaker() as session:
        answers = await session.scalars(select(Post).where(Post.kind == "answer"))
        assert list(answers) == []
    decided = fake.message(card.id)
    assert "Rejected by" in decided.embed_text() and not decided.components
    assert "rejected · held answer" in await mod_log(scene)

    scan = LeakScanner(fake, scene.logs, scene.identity())
    assert scan.hits() == [], scan.report()


async def test_new_members_wait_and_older_ones_post_at_once(scene: Scene) -> None:
    fake = scene.fake
    await scene.set("premod_anonymous", False)
    await scene.set("premod_new_member_days", 3)
    asked = await ask_question_directly(scene.harness, scene.mia, TITLE, DETAILS)
    world, day = fake.world, 86_400
    world.member(scene.guild_id, scene.bob.id).joined_at = world.now() - 10 * day
    world.member(scene.guild_id, scene.asker.id).joined_at = world.now() - 1 * day

    assert "Your answer is posted" in await answer(scene, scene.bob, asked.thread)
    assert await answer(scene, scene.asker, asked.thread) == WAITS_FOR_REVIEW
    ix = await scene.asker.slash("reply", {"text": "Thank you all."}, channel=asked.thread)
    assert await ephemeral(ix) == WAITS_FOR_REVIEW
    answer_card, reply_card = scene.cards()
    assert f"<@{scene.asker.id}>" in answer_card.embed_text()  # a named post names its author
    assert "A reply waits for review" in reply_card.embed_text()

    # The reply is approved: posted under the member's name, as /reply would have.
    ix = await scene.mia.click(reply_card, button(reply_card, "Approve"))
    assert "Approved and published" in await ephemeral(ix)
    (posted,) = [m for m in fake.messages_in(asked.thread) if "Thank you all." in m.embed_text()]
    assert posted.embeds[0]["author"]["name"] == NICK  # the display name it had when held

    # The question is closed meanwhile: the held answer cannot be published any more.
    closed = await scene.mia.slash("close", {"question": str(asked.id)}, channel=fake.general)
    await closed.message()
    ix = await scene.mia.click(answer_card, button(answer_card, "Approve"))
    assert "closed" in await ephemeral(ix)
    dms = await wait_for_dms(fake, scene.asker, 2)
    assert any("could not be published" in dm.embed_text() for dm in dms)
    assert "but not published" in fake.message(answer_card.id).embed_text()
    log = await mod_log(scene)
    assert "not published" in log and log.count("approved") == 2


async def test_without_a_moderator_channel_nothing_is_held_and_the_setting_warns(
    scene: Scene,
) -> None:
    owner = scene.fake.owner_of(scene.fake.guild)  # type: ignore[arg-type]
    await scene.set("mod_channel_id", None)
    ix = await owner.slash(
        "qa settings set", {"key": "premod_anonymous", "value": "on"}, channel=scene.fake.general
    )
    assert NO_MOD_CHANNEL in await ephemeral(ix)
    said = await ask(scene, scene.asker, anonymous=True)
    assert "waits" not in said and len(scene.threads()) == 1 and scene.cards() == []

    await scene.set("mod_channel_id", scene.mods.id)
    ix = await owner.slash(
        "qa settings set", {"key": "premod_anonymous", "value": "on"}, channel=scene.fake.general
    )
    assert NO_MOD_CHANNEL not in await ephemeral(ix)


async def test_a_question_posted_anyway_past_similar_ones_waits_and_keeps_its_related_line(
    scene: Scene,
) -> None:
    fake = scene.fake
    await ask(scene, scene.bob, anonymous=False)  # named: published at once
    (similar,) = scene.threads()
    ix = await scene.asker.slash("ask", {"anonymous": True}, channel=fake.general)
    fields = {"title": TITLE, "details": DETAILS, "display_name": "Night Owl"}
    prompt = await (await ix.submit_modal(fields)).message()
    assert prompt.content == GATE_TEXT
    pressed = await scene.asker.click(prompt, button(prompt, "Post my question anyway"))
    (waits,) = await pressed.followups(count=1)
    assert waits.ephemeral and waits.content == WAITS_FOR_REVIEW
    await fake.wait_until(
        lambda: fake.message(prompt.id).content == SENT_FOR_REVIEW, what="the prompt's last word"
    )
    assert scene.threads() == [similar] and not fake.message(prompt.id).components
    (card,) = scene.cards()
    assert "Night Owl (a name chosen to stay anonymous)" in card.embed_text()

    approved = await scene.mia.click(card, button(card, "Approve"))
    assert "Approved and published" in await ephemeral(approved)
    (thread,) = [t for t in scene.threads() if t != similar]
    starter = fake.message(thread.id)
    assert starter.embeds[0]["author"]["name"] == "Night Owl"
    assert starter.content.startswith("-# Related questions: [") and str(similar.id) in (
        starter.content
    )


async def test_a_card_the_bot_cannot_send_holds_nothing_and_says_so(scene: Scene) -> None:
    fake = scene.fake
    assert fake.guild is not None
    closed = fake.add_text_channel(
        fake.guild, "closed", overwrites=[fake.overwrite(fake.bot_user, deny=["send_messages"])]
    )
    await fake.flush()
    await scene.set("mod_channel_id", closed.id)
    assert await ask(scene, scene.asker, anonymous=True) == CARD_FAILED
    assert await scene.held() == [] and scene.threads() == []
