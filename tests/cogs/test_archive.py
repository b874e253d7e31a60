"""The public archive's consent model end to end through the fake Discord, on SQLite and
PostgreSQL (issue 23): the server's switch, categories, invite link and forum notice; the
asker's "Allow in the public archive" button (named and anonymous, after a restart);
**Publish / unpublish**; ``/privacy`` with **Withdraw all**; and what the archive's one query
(``bot.forum.publishing``) returns after each gesture, each rule beside its positive twin.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.forum import categories, consent, lookups, moderation, publishing, settings
from bot.forum.publishing import A_MEMBER, ANONYMOUS, WITHHELD, PublishedThread
from bot.forum.rights import Actor
from bot.transactions import run_sync_read
from bot.ui.archive import ALLOW_LABEL, FORUM_NOTICE, FORUM_TOPIC_MAX, WITHDRAW_LABEL
from bot.ui.premod import WAITS_FOR_REVIEW
from cogs.archive._cog import PUBLISH_MENU
from tests.bot.workers.test_notifier import wait_for_dms
from tests.cogs.conftest import (
    BotEvents,
    add_forum_tag,
    configure_qa_guild,
    run_domain,
    thread_message_handled,
)
from tests.fakediscord import FakeDiscord, InteractionHandle, Member, Message
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.fakediscord.model import Channel
from tests.leaks import Identity, LeakScanner, LogCapture

EXTENSIONS = [
    "cogs.admin",
    "cogs.asking",
    "cogs.answering",
    "cogs.lifecycle",
    "cogs.moderation",
    "cogs.mydata",
    "cogs.archive",
]
TITLE, DETAILS = "How do I sleep better?", "I wake up at 3 am most nights and my mind races."
ANSWER = "Keep the same wake-up time every day, even at weekends, and get up if you lie awake."
#: The anonymous asker's names: they collide with no ordinary word.
USERNAME, GLOBAL_NAME, NICK = "zqvortle", "Yssbrandt", "Klypthora"
GUIDELINES = "Be kind. One question per post."


@dataclass
class Scene:
    fake: FakeDiscord
    factory: BotFactory
    db_url: str
    harness: BotHarness
    logs: LogCapture
    mods: Channel
    owner: Member
    alice: Member
    bob: Member
    anon: Member
    mia: Member

    @property
    def guild_id(self) -> int:
        assert self.fake.guild is not None
        return self.fake.guild.id

    @property
    def forum(self) -> Channel:
        assert self.fake.forum is not None
        return self.fake.forum

    async def restart(self) -> None:
        await self.harness.close()
        self.harness = await self.factory(extensions=EXTENSIONS, database_url=self.db_url)

    async def questions(self) -> list[int]:
        gid = self.guild_id
        found = await run_sync_read(
            self.harness.bot, lambda c: publishing.publishable_questions(c, gid)
        )
        return [q.id for q in found]

    async def thread(self, question_id: int) -> PublishedThread | None:
        return await run_sync_read(
            self.harness.bot, lambda c: publishing.publishable_thread(c, question_id)
        )

    async def setting(self, key: str, value: str) -> str:
        ix = await self.owner.slash("qa settings set", {"key": key, "value": value})
        return await ephemeral(ix)


@pytest.fixture
async def scene(
    leak_logs: LogCapture, db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    fake = fake_discord
    assert fake.guild is not None and fake.owner is not None and fake.moderator_role is not None
    for tag in ("Sleep", "Work"):
        add_forum_tag(fake, tag)
    assert fake.forum is not None
    fake.edit_channel(fake.forum, topic=GUIDELINES)
    mods = fake.add_text_channel(fake.guild, "mods")
    user = fake.world.add_user(USERNAME, global_name=GLOBAL_NAME)
    anon = fake.add_member(fake.guild, USERNAME, user=user, nick=NICK)
    alice = fake.add_member(fake.guild, "alice")
    bob = fake.add_member(fake.guild, "bob")
    mia = fake.add_member(fake.guild, "mia", roles=[fake.moderator_role])
    harness = await qa_bot_factory(extensions=EXTENSIONS, database_url=db_url)
    await configure_qa_guild(harness, questions_per_hour=10_000, mod_channel_id=mods.id)
    forum, gid = fake.forum, fake.guild.id
    tags = [(t.id, t.name) for t in forum.available_tags]
    await run_domain(harness, lambda s: categories.sync_categories(s, gid, tags, None))
    yield Scene(fake, qa_bot_factory, db_url, harness, leak_logs, mods, fake.owner, alice, bob,
                anon, mia)  # fmt: skip


async def ephemeral(ix: InteractionHandle) -> str:
    message = await ix.message()
    assert message.ephemeral, message.content
    return message.content + message.embed_text()


def button(message: Message, label: str) -> str | None:
    for component in message.walk_components():
        if component.get("type") == 2 and component.get("label") == label:
            return str(component["custom_id"])
    return None


async def open_archive(scene: Scene) -> None:
    assert "now **on**" in await scene.setting("publishing", "on")
    assert "**Sleep** may be published" in await scene.setting("archive_categories", "add Sleep")


async def ask(scene: Scene, who: Member, *, anonymous: bool = False, **fields: str) -> Message:
    """/ask in the Sleep category; the asker's ephemeral confirmation."""
    ix = await who.slash("ask", {"category": "Sleep", "anonymous": anonymous},
                         channel=scene.fake.general)  # fmt: skip
    values = {"title": TITLE, "details": DETAILS, **fields}
    if anonymous:
        values.setdefault("display_name", "")
    confirmation = await (await ix.submit_modal(values)).message()
    assert confirmation.ephemeral
    return confirmation


async def question_of(scene: Scene) -> tuple[int, Channel]:
    """The newest question and its thread."""
    (thread,) = scene.fake.threads_in(scene.forum)[-1:]
    return await post_id_of(scene, thread.id), thread


async def post_id_of(scene: Scene, message_id: int) -> int:
    """The post of a message (a question's by its thread: the starter's id is the thread's)."""
    found = await run_domain(
        scene.harness, lambda s: lookups.find_post_by_message(s, message_id=message_id)
    )
    assert found is not None
    return found.id


async def answer_in_thread(scene: Scene, who: Member, thread: Channel, text: str) -> Message:
    events = BotEvents(scene.harness, "qa_thread_message")
    try:
        message = await who.send(thread, text)
        await thread_message_handled(events, message)
    finally:
        events.close()
    return message


# --------------------------------------------------------------------------- the server decides


async def test_publishing_switches_the_forum_notice_and_keeps_the_guidelines(scene: Scene) -> None:
    forum = scene.forum
    await open_archive(scene)
    assert forum.topic == f"{GUIDELINES}\n\n{FORUM_NOTICE}"
    await scene.setting("publishing", "on")  # again: the notice is not doubled
    assert forum.topic == f"{GUIDELINES}\n\n{FORUM_NOTICE}"
    shown = await ephemeral(await scene.owner.slash("qa settings show"))
    assert "archive_categories" in shown and "Sleep" in shown
    assert "now **off**" in await scene.setting("publishing", "off")
    assert forum.topic == GUIDELINES
    ix = await scene.owner.slash("qa settings reset", {"key": "publishing"})
    assert "off" in await ephemeral(ix)
    assert forum.topic == GUIDELINES


async def test_a_notice_that_would_not_fit_is_refused_and_nothing_changes(scene: Scene) -> None:
    long = "x" * (FORUM_TOPIC_MAX - 100)
    scene.fake.edit_channel(scene.forum, topic=long)
    refused = await scene.setting("publishing", "on")
    assert "too long" in refused and scene.forum.topic == long
    gid = scene.guild_id
    config = await run_domain(scene.harness, lambda s: settings.load_config(s, gid))
    assert not config.publishing


async def test_discord_refusing_the_notice_blocks_switching_on_but_never_switching_off(
    scene: Scene,
) -> None:
    fake, route = scene.fake, f"/channels/{scene.forum.id}"
    fault = fake.faults.fail("PATCH", route, code=50013, times=None)
    refused = await scene.setting("publishing", "on")
    assert "now **on**" not in refused and scene.forum.topic == GUIDELINES
    gid = scene.guild_id
    config = await run_domain(scene.harness, lambda s: settings.load_config(s, gid))
    assert not config.publishing
    fault.cancel()
    await scene.setting("publishing", "on")
    fault = fake.faults.fail("PATCH", route, code=50013, times=None)
    said = await scene.setting("publishing", "off")
    assert "now **off**" in said and "could not take the archive's notice out" in said
    config = await run_domain(scene.harness, lambda s: settings.load_config(s, gid))
    assert not config.publishing and FORUM_NOTICE in (scene.forum.topic or "")
    fault.cancel()


async def test_the_invite_link_must_be_a_discord_invite(scene: Scene) -> None:
    refused = await scene.setting("archive_invite", "https://example.com/join")
    assert "must be a Discord invite link" in refused
    assert "https://discord.gg/abc123" in await scene.setting("archive_invite", "discord.gg/abc123")
    refused = await scene.setting("archive_categories", "add Gardening")
    assert "no category called" in refused


async def test_a_server_with_publishing_off_or_a_category_not_chosen(scene: Scene) -> None:
    confirmation = await ask(scene, scene.alice)
    assert button(confirmation, ALLOW_LABEL) is None  # publishing off: nothing to allow
    question, _ = await question_of(scene)
    ix = await scene.alice.slash("privacy", {"allow_by_default": True})
    assert "archive is off" in await ephemeral(ix)
    assert await scene.questions() == []
    assert "now **on**" in await scene.setting("publishing", "on")
    assert await scene.questions() == []  # Sleep is not chosen yet
    await scene.setting("archive_categories", "add Sleep")
    assert await scene.questions() == [question]
    await scene.setting("archive_categories", "remove Sleep")
    assert await scene.questions() == []


# --------------------------------------------------------------------------- the asker decides


async def test_a_question_needs_the_askers_yes_and_the_button_outlives_a_restart(
    scene: Scene,
) -> None:
    await open_archive(scene)
    confirmation = await ask(scene, scene.alice)
    question, _ = await question_of(scene)
    assert await scene.questions() == []
    allow = button(confirmation, ALLOW_LABEL)
    assert allow is not None
    await scene.restart()
    said = await ephemeral(await scene.alice.click(confirmation, allow))
    assert "may appear in the public archive" in said
    assert await scene.questions() == [question]
    shown = await scene.thread(question)
    assert shown is not None and shown.question.author == A_MEMBER


async def test_an_anonymous_asker_allows_without_being_revealed(scene: Scene) -> None:
    await open_archive(scene)
    ix = await scene.anon.slash("privacy", {"be_named": True})  # never for an anonymous post
    await ephemeral(ix)
    confirmation = await ask(scene, scene.anon, anonymous=True)
    question, thread = await question_of(scene)
    allow = button(confirmation, ALLOW_LABEL)
    assert allow is not None
    await ephemeral(await scene.anon.click(confirmation, allow))
    starter = scene.fake.message(thread.id)  # the bot's message: only the domain knows whose
    refused = await ephemeral(await scene.bob.context_menu(PUBLISH_MENU, starter))
    assert "Only its author" in refused
    said = await ephemeral(await scene.anon.context_menu(PUBLISH_MENU, starter))
    assert "is not published" in said and await scene.questions() == []
    await ephemeral(await scene.anon.context_menu(PUBLISH_MENU, starter))
    await answer_in_thread(scene, scene.bob, thread, ANSWER)
    shown = await scene.thread(question)
    assert shown is not None and shown.question.author == ANONYMOUS
    scanner = LeakScanner(scene.fake, scene.logs, Identity.of(scene.fake, scene.anon))
    assert scanner.match(repr(shown) + repr(await scene.questions())) == []
    assert scanner.hits() == [], scanner.report()


# --------------------------------------------------------------------------- each author decides


async def test_an_answer_without_its_authors_yes_is_a_placeholder(scene: Scene) -> None:
    await open_archive(scene)
    await scene.alice.slash("privacy", {"allow_by_default": True})
    await ask(scene, scene.alice)
    question, thread = await question_of(scene)
    message = await answer_in_thread(scene, scene.bob, thread, ANSWER)
    shown = await scene.thread(question)
    assert shown is not None
    assert [(p.body, p.author) for p in shown.posts] == [(WITHHELD["answer"], None)]
    said = await ephemeral(await scene.bob.context_menu(PUBLISH_MENU, message))
    assert "may appear in the public archive" in said
    shown = await scene.thread(question)
    assert shown is not None and [(p.body, p.author) for p in shown.posts] == [(ANSWER, A_MEMBER)]
    # Someone else's post: refused, nothing changes.
    refused = await ephemeral(await scene.alice.context_menu(PUBLISH_MENU, message))
    assert "Only its author" in refused
    assert await scene.thread(question) == shown
    # Per post, withdrawn: the next query leaves it out.
    said = await ephemeral(await scene.bob.context_menu(PUBLISH_MENU, message))
    assert "is not published" in said
    shown = await scene.thread(question)
    assert shown is not None and shown.posts[0].withheld


async def test_names_only_for_authors_who_chose_to_be_named(scene: Scene) -> None:
    await open_archive(scene)
    await scene.alice.slash("privacy", {"allow_by_default": True})
    await ask(scene, scene.alice)
    question, thread = await question_of(scene)
    await ephemeral(await scene.bob.slash("privacy", {"allow_by_default": True}))
    await answer_in_thread(scene, scene.bob, thread, ANSWER)
    shown = await scene.thread(question)
    assert shown is not None and shown.posts[0].author == A_MEMBER
    said = await ephemeral(await scene.bob.slash("privacy", {"be_named": True}))
    assert "**shown**" in said and "1 answer" in said
    shown = await scene.thread(question)
    assert shown is not None and shown.posts[0].author == scene.bob.name


async def test_withdraw_all_at_once_from_privacy(scene: Scene) -> None:
    await open_archive(scene)
    await scene.bob.slash("privacy", {"allow_by_default": True})
    await ask(scene, scene.bob)
    question, thread = await question_of(scene)
    message = await answer_in_thread(scene, scene.bob, thread, "A comment of the asker's own.")
    await ephemeral(await scene.bob.context_menu(PUBLISH_MENU, message))  # default yes: now no
    await ephemeral(await scene.bob.context_menu(PUBLISH_MENU, message))  # and yes again
    assert await scene.questions() == [question]
    ix = await scene.bob.slash("privacy")
    reply = await ix.message()
    assert "1 question and 1 comment" in reply.embed_text()
    withdraw = button(reply, WITHDRAW_LABEL)
    assert withdraw is not None
    await scene.restart()
    said = await ephemeral(await scene.bob.click(reply, withdraw))
    assert "Withdrawn" in said and "2 posts" in said
    assert await scene.questions() == []
    ix = await scene.bob.slash("privacy")
    assert "nothing" in await ephemeral(ix)


# --------------------------------------------------------------------------- at once


async def test_deleted_and_removed_posts_leave_the_archive_at_once(scene: Scene) -> None:
    await open_archive(scene)
    for who in (scene.alice, scene.bob):
        await ephemeral(await who.slash("privacy", {"allow_by_default": True}))
    await ask(scene, scene.alice)
    question, thread = await question_of(scene)
    kept = await answer_in_thread(scene, scene.bob, thread, ANSWER)
    deleted = await answer_in_thread(scene, scene.bob, thread, ANSWER + " Also, no screens.")
    removed = await answer_in_thread(scene, scene.bob, thread, ANSWER + " And no coffee.")
    shown = await scene.thread(question)
    assert shown is not None and len(shown.posts) == 3
    events = BotEvents(scene.harness, "qa_synced")
    try:
        await scene.bob.delete(deleted)
        await events.wait_for("qa_synced", lambda kind, *_: kind == "delete")
    finally:
        events.close()
    gid, mod = scene.guild_id, scene.mia.id
    post_id = await post_id_of(scene, removed.id)
    await run_domain(
        scene.harness,
        lambda s: moderation.remove_post(
            s,
            removal=moderation.Removal(post_id),
            moderator=Actor(mod, is_moderator=True, guild_id=gid),
        ),
    )
    shown = await scene.thread(question)
    assert shown is not None and [p.body for p in shown.posts] == [kept.content]


async def test_an_erased_members_posts_leave_the_archive_at_once(scene: Scene) -> None:
    await open_archive(scene)
    for who in (scene.alice, scene.bob):
        await ephemeral(await who.slash("privacy", {"allow_by_default": True, "be_named": True}))
    await ask(scene, scene.alice)
    question, thread = await question_of(scene)
    await answer_in_thread(scene, scene.bob, thread, ANSWER)
    shown = await scene.thread(question)
    assert shown is not None and [p.author for p in shown.posts] == [scene.bob.name]
    ix = await scene.bob.slash("mydata", {"action": "erase"})
    prompt = await ix.message()
    erase = button(prompt, "Erase my data")
    assert erase is not None
    await scene.bob.click(prompt, erase)
    await ix.followups(count=1, timeout=15)
    shown = await scene.thread(question)
    assert shown is not None and shown.posts == ()
    assert await scene.questions() == [question]


async def test_a_post_waiting_in_premoderation_is_not_published(scene: Scene) -> None:
    await open_archive(scene)
    await scene.setting("premod_anonymous", "on")
    for who in (scene.alice, scene.bob):
        await ephemeral(await who.slash("privacy", {"allow_by_default": True}))
    await ask(scene, scene.alice)
    question, thread = await question_of(scene)
    ix = await scene.bob.slash("answer", {"anonymous": True}, channel=thread)
    assert await ephemeral(await ix.submit_modal({"answer": ANSWER})) == WAITS_FOR_REVIEW
    shown = await scene.thread(question)
    assert shown is not None and shown.posts == ()
    (card,) = [m for m in scene.fake.messages_in(scene.mods) if m.components]
    approve = button(card, "Approve")
    assert approve is not None
    await ephemeral(await scene.mia.click(card, approve))
    shown = await scene.thread(question)
    assert shown is not None and [(p.body, p.author) for p in shown.posts] == [(ANSWER, "Member 2")]
    mine = await run_domain(
        scene.harness, lambda s: consent.my_published(s, scene.guild_id, scene.bob.id)
    )
    assert mine.answers == 1


async def test_a_held_question_is_allowed_from_its_approval_dm(scene: Scene) -> None:
    await open_archive(scene)
    await scene.setting("premod_anonymous", "on")
    ix = await scene.anon.slash("ask", {"category": "Sleep", "anonymous": True},
                                channel=scene.fake.general)  # fmt: skip
    values = {"title": TITLE, "details": DETAILS, "display_name": ""}
    assert await ephemeral(await ix.submit_modal(values)) == WAITS_FOR_REVIEW
    assert await scene.questions() == []
    (card,) = [m for m in scene.fake.messages_in(scene.mods) if m.components]
    approve = button(card, "Approve")
    assert approve is not None
    await ephemeral(await scene.mia.click(card, approve))
    (dm,) = await wait_for_dms(scene.fake, scene.anon, 1)
    allow = button(dm, ALLOW_LABEL)
    assert allow is not None
    question, _ = await question_of(scene)
    assert await scene.questions() == []  # approved, not yet allowed
    said = await ephemeral(await scene.anon.click(dm, allow))
    assert "may appear in the public archive" in said
    assert await scene.questions() == [question]
    scanner = LeakScanner(scene.fake, scene.logs, Identity.of(scene.fake, scene.anon))
    assert scanner.hits() == [], scanner.report()
