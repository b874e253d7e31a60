"""Anonymous questions end to end through the fake Discord, on both database backends: /ask
anonymous:true with and without a display name, names that imitate someone, the server's switch
and minimum days, the similar-questions gate, every right of the anonymous asker through commands
answered only to them (refused to others), and a title edit's rename past Discord's limit. No
payload of the public post, nor anything else the bot sent outside the asker's own DMs and
ephemeral replies, names the asker."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.models import Post
from bot.forum import anonymity, lookups, settings
from bot.ui.authors import ANONYMOUS
from cogs.answering.own_posts import NOTHING_OF_YOURS
from cogs.asking.anonymity import SEARCH_FAILED
from cogs.asking.gate import GATE_TEXT
from tests.bot.workers.test_notifier import wait_for_dms
from tests.cogs.conftest import (
    BotEvents,
    add_forum_tag,
    ask_question_directly,
    configure_qa_guild,
    run_domain,
    thread_message_handled,
)
from tests.fakediscord import FakeDiscord, InteractionHandle, Member, Message
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.fakediscord.model import Channel
from tests.fakediscord.recorder import Call
from tests.fakediscord.rest import Reply

EXTENSIONS = ["cogs.admin", "cogs.asking", "cogs.answering", "cogs.lifecycle", "cogs.notifications"]
THREADS = "/channels/{channel_id}/threads"
LONG = "Breathe in for four counts, hold for four, then breathe out slowly for four."
#: The asker's username: a word no text of the bot contains by chance.
SECRET = "zorbleqx"


@dataclass
class Scene:
    fake: FakeDiscord
    harness: BotHarness
    events: BotEvents
    forum: Channel
    asker: Member
    bob: Member  # answers
    dave: Member  # just a member

    @property
    def guild_id(self) -> int:
        assert self.fake.guild is not None
        return self.fake.guild.id

    async def set(self, key: str, value: Any) -> None:
        gid = self.guild_id
        await run_domain(self.harness, lambda s: settings.set_setting(s, gid, key, value))

    async def questions(self) -> list[Post]:
        async with self.harness.sessionmaker() as session:
            found = await session.execute(
                select(Post).where(Post.kind == "question").order_by(Post.id)
            )
            return list(found.scalars())

    def new_threads(self, before: list[Channel]) -> list[Channel]:
        known = {t.id for t in before}
        return [t for t in self.fake.threads_in(self.forum) if t.id not in known]


@pytest.fixture
async def scene(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    fake = fake_discord
    assert fake.guild is not None and fake.forum is not None
    solved = add_forum_tag(fake, "Solved")
    asker = fake.add_member(fake.guild, SECRET)
    bob, dave = fake.add_member(fake.guild, "bob"), fake.add_member(fake.guild, "dave")
    harness = await qa_bot_factory(
        extensions=EXTENSIONS, database_url=db_url, notify_poll_seconds=30
    )
    await configure_qa_guild(harness, solved_tag_id=solved, notify_coalesce_seconds=0)
    events = BotEvents(harness, "qa_thread_message")
    try:
        yield Scene(fake, harness, events, fake.forum, asker, bob, dave)
    finally:
        events.close()


async def ephemeral_text(ix: InteractionHandle) -> str:
    message = await ix.message()
    assert message.ephemeral, message.content
    return message.content


async def ask_anonymously(scene: Scene, title: str, details: str = LONG, name: str = "") -> Message:
    """/ask anonymous:true, the form filled in and submitted: the bot's (ephemeral) answer."""
    ix = await scene.asker.slash("ask", {"anonymous": True}, channel=scene.fake.general)
    submitted = await ix.submit_modal({"title": title, "details": details, "display_name": name})
    assert await submitted.deferred()
    reply = await submitted.message()
    assert reply.ephemeral and reply.visible_to == scene.asker.id
    return reply


def assert_nothing_names(scene: Scene, since: int = 0) -> None:
    """No request the bot made since ``since`` names the asker, except the DMs to them and the
    answers to their own interactions (only they see those)."""
    fake, asker = scene.fake, scene.asker
    dm = fake.world.dm_channels.get(asker.id)
    for call in fake.calls[since:]:
        private = (
            call.path.startswith("/interactions/")
            or call.path.startswith("/webhooks/")
            or call.route == "/users/@me/channels"
            or (dm is not None and call.params.get("channel_id") == str(dm))
        )
        if private or call.json is None:
            continue
        payload = json.dumps(call.json, ensure_ascii=False).lower()
        assert str(asker.id) not in payload, call
        assert SECRET not in payload, call


def assert_anonymous_post(scene: Scene, thread: Channel, author_line: str) -> None:
    starter = scene.fake.message(thread.id)
    assert starter.author_id == scene.fake.bot_user.id and thread.owner_id == starter.author_id
    assert "<@" not in (starter.content or "") and "Asked by" not in (starter.content or "")
    assert starter.mentions == [] and starter.mention_roles == []
    assert not (starter.allowed_mentions or {}).get("users")
    (embed,) = starter.embeds
    assert embed["author"]["name"] == author_line
    assert scene.asker.id not in thread.members


# --------------------------------------------------------------------------- asking


async def test_an_anonymous_question_without_a_name(scene: Scene) -> None:
    fake = scene.fake
    ix = await scene.asker.slash("ask", {"anonymous": True}, channel=fake.general)
    modal = await ix.modal()
    name = modal.field("display_name")
    assert (name.label, name.required, name.max_length) == (
        "Your name to display (optional)",
        False,
        32,
    )
    submitted = await ix.submit_modal({"title": "Is it normal to cry at work?", "details": LONG})
    reply = await submitted.message()
    assert reply.ephemeral and reply.visible_to == scene.asker.id
    (thread,) = fake.threads_in(scene.forum)
    assert f"posted anonymously, as **{ANONYMOUS}**" in reply.content
    assert str(thread.id) in reply.content
    for tell in ("Follow post", "/reply", "/edit", "/delete", "/close", "/reopen", "Accept"):
        assert tell in reply.content
    assert_anonymous_post(scene, thread, ANONYMOUS)
    assert not fake.message(thread.id).content
    (row,) = await scene.questions()
    assert (row.anonymous, row.display_name, row.author_id) == (True, None, scene.asker.id)
    assert_nothing_names(scene)


async def test_an_anonymous_question_under_a_chosen_name(scene: Scene) -> None:
    reply = await ask_anonymously(scene, "How do I stop overthinking?", name="  Quiet Owl ")
    assert "posted anonymously, as **Quiet Owl**" in reply.content
    (thread,) = scene.fake.threads_in(scene.forum)
    assert_anonymous_post(scene, thread, "Quiet Owl")
    (row,) = await scene.questions()
    assert (row.anonymous, row.display_name) == (True, "Quiet Owl")
    assert_nothing_names(scene)


async def test_names_that_imitate_someone_are_refused(scene: Scene) -> None:
    fake = scene.fake
    assert fake.guild is not None
    fake.add_member(fake.guild, "bobbyfox")
    fake.add_member(fake.guild, "xq77user", nick="Sunshine")
    fake.add_role(fake.guild, "Listeners")
    for name in (
        "Bobbyfox",  # a member's username
        "B0bbyfox the wise",  # starts with it, a look-alike digit
        "sunshine",  # a member's nickname
        "Listeners",  # a role
        "qa-bot",  # the bot
        "Moderator",
        SECRET,  # the asker's own name would give them away
    ):
        reply = await ask_anonymously(scene, "Why do I feel numb?", name=name)
        assert reply.content == anonymity.IMITATION, name
    reply = await ask_anonymously(scene, "Why do I feel numb?", name="Ow\u202el")
    assert reply.content == anonymity.HIDDEN_CHARACTERS
    searched = fake.find_calls("GET", "/guilds/{guild_id}/members/search")
    assert searched and all(c.query["limit"] == "1000" for c in searched)
    assert fake.threads_in(scene.forum) == [] and await scene.questions() == []


async def test_a_name_that_cannot_be_checked_is_refused(scene: Scene) -> None:
    def refuse_search(call: Call) -> Reply | None:
        if call.route == "/guilds/{guild_id}/members/search":
            return Reply(403, {"message": "Missing Access", "code": 50001})
        return None

    scene.fake.rest.interceptors.append(refuse_search)
    reply = await ask_anonymously(scene, "Why do I feel numb?", name="Quiet Owl")
    assert reply.content == SEARCH_FAILED
    reply = await ask_anonymously(scene, "Why do I feel numb?")  # no name: nothing to check
    assert "posted anonymously" in reply.content


async def test_the_servers_switch_and_minimum_days(scene: Scene) -> None:
    fake = scene.fake
    assert fake.guild is not None
    await scene.set("anonymous_posting", False)
    ix = await scene.asker.slash("ask", {"anonymous": True}, channel=fake.general)
    assert await ephemeral_text(ix) == anonymity.ANONYMITY_OFF
    named = await scene.asker.slash("ask", channel=fake.general)
    await named.modal()  # asking under one's name still works

    await scene.set("anonymous_posting", True)
    await scene.set("anonymous_min_days", 7)
    ix = await scene.asker.slash("ask", {"anonymous": True}, channel=fake.general)
    assert await ephemeral_text(ix) == (
        "You can post anonymously once you have been in this server for 7 days."
    )
    fake.world.member(fake.guild.id, scene.asker.id).joined_at = fake.world.now() - 8 * 86_400
    opened = await scene.asker.slash("ask", {"anonymous": True}, channel=fake.general)
    await opened.modal()
    # Turned off while the form is open: the submission is refused.
    await scene.set("anonymous_posting", False)
    submitted = await opened.submit_modal({"title": "Can I say this here?"})
    assert await ephemeral_text(submitted) == anonymity.ANONYMITY_OFF
    assert fake.threads_in(scene.forum) == [] and await scene.questions() == []


async def test_server_managers_switch_it_with_qa_settings(scene: Scene) -> None:
    fake, owner = scene.fake, scene.fake.owner
    assert fake.general is not None
    for key, value in (("anonymous_posting", "off"), ("anonymous_min_days", "3")):
        ix = await owner.slash(
            "qa settings set", {"key": key, "value": value}, channel=fake.general
        )
        await ephemeral_text(ix)
    shown = await owner.slash("qa settings show", channel=fake.general)
    text = "\n".join(e.get("description") or "" for e in (await shown.message()).embeds)
    assert "`anonymous_posting`: **off**" in text and "`anonymous_min_days`: **3**" in text
    ix = await scene.asker.slash("ask", {"anonymous": True}, channel=fake.general)
    assert await ephemeral_text(ix) == anonymity.ANONYMITY_OFF
    ix = await owner.slash(
        "qa settings set", {"key": "anonymous_posting", "value": "on"}, channel=fake.general
    )
    await ephemeral_text(ix)
    ix = await scene.asker.slash("ask", {"anonymous": True}, channel=fake.general)
    assert await ephemeral_text(ix) == (
        "You can post anonymously once you have been in this server for 3 days."
    )


async def test_the_gate_keeps_the_question_anonymous(scene: Scene) -> None:
    fake = scene.fake
    await ask_question_directly(scene.harness, scene.bob, "How do I sleep better at night?")
    before = fake.threads_in(scene.forum)
    prompt = await ask_anonymously(scene, "How do I sleep better?", name="Night Owl")
    assert prompt.content == GATE_TEXT
    custom_id = next(
        str(c["custom_id"])
        for c in prompt.walk_components()
        if c.get("type") == 2 and c.get("label") == "Post my question anyway"
    )
    pressed = await scene.asker.click(prompt, custom_id)
    assert (await pressed.response()).type == 6  # a silent update of the ephemeral prompt
    (thread,) = await fake.wait_until(
        lambda: scene.new_threads(before) or None, what="the question posted anyway"
    )
    [_, posted] = await scene.questions()
    assert (posted.anonymous, posted.display_name) == (True, "Night Owl")
    await fake.wait_until(lambda: bool(fake.message(thread.id).reactions), what="the reactions")
    assert_anonymous_post(scene, thread, "Night Owl")
    confirmation = await pressed.followups(count=1)
    assert "posted anonymously, as **Night Owl**" in confirmation[0].content
    assert all(m.ephemeral for m in confirmation)
    assert_nothing_names(scene)


# --------------------------------------------------------------------------- the asker's rights


async def test_the_anonymous_asker_keeps_every_right_through_commands(scene: Scene) -> None:
    fake, asker, dave = scene.fake, scene.asker, scene.dave
    assert fake.general is not None
    await ask_anonymously(scene, "How do I calm down before an exam?")
    (thread,) = fake.threads_in(scene.forum)
    (question,) = await scene.questions()
    qid = str(question.id)

    # Bob answers in the thread: the anonymous asker gets the DM a named asker gets.
    answer = await scene.bob.send(thread, LONG)
    await thread_message_handled(scene.events, answer)
    [dm] = await wait_for_dms(fake, asker, 1)
    assert "bob" in dm.embed_text()

    # Accept answer: refused to others, done for the asker, ephemerally.
    refused = await dave.context_menu("Accept answer", answer)
    assert await ephemeral_text(refused) == "Only the asker or a moderator can accept an answer."
    accepted = await asker.context_menu("Accept answer", answer)
    assert (await ephemeral_text(accepted)).startswith("✅ You accepted")
    assert (await run_domain(scene.harness, lambda s: lookups.get_post(s, question.id))).solved

    # /edit: refused to others; the asker's form is prefilled; the title renames the thread.
    refused = await dave.slash("edit", channel=thread)
    assert await ephemeral_text(refused) == NOTHING_OF_YOURS
    editing = await asker.slash("edit", channel=thread)
    modal = await editing.modal()
    assert modal.field("title").value == "How do I calm down before an exam?"
    assert modal.field("details").value == LONG
    edited = await editing.submit_modal({"title": "How do I calm down before exams?"})
    assert "Your question is updated" in await ephemeral_text(edited)
    assert thread.name == "How do I calm down before exams?"
    assert fake.message(thread.id).embeds[0]["author"]["name"] == ANONYMOUS

    # /close and /reopen: refused to others, done for the asker.
    refused = await dave.slash("close", {"question": qid}, channel=fake.general)
    assert await ephemeral_text(refused) == "Only the asker or a moderator can close this question."
    closed = await asker.slash("close", {"question": qid}, channel=fake.general)
    assert "The question is closed" in await ephemeral_text(closed)
    await fake.wait_until(lambda: thread.archived, what="the thread archived")
    refused = await dave.slash("reopen", {"question": qid}, channel=fake.general)
    assert "Only the asker or a moderator" in await ephemeral_text(refused)
    reopened = await asker.slash("reopen", {"question": qid}, channel=fake.general)
    assert "The question is open again" in await ephemeral_text(reopened)
    assert not thread.archived

    # /delete: refused to others; the asker's confirmation, then the thread goes.
    refused = await dave.slash("delete", channel=thread)
    assert await ephemeral_text(refused) == NOTHING_OF_YOURS
    deleting = await asker.slash("delete", channel=thread)
    prompt = await deleting.message()
    assert prompt.ephemeral
    confirm = next(
        str(c["custom_id"])
        for c in prompt.walk_components()
        if c.get("type") == 2 and c.get("label") == "Delete"
    )
    await asker.click(prompt, confirm)
    await fake.wait_until(lambda: thread.deleted, what="the thread deleted")
    assert "Your question is deleted" in prompt.content

    assert asker.id not in thread.members
    assert_nothing_names(scene)


# --------------------------------------------------------------------------- renames


class ManualSleep:
    """The rename worker's wait, ended when the test says so."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.ended = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await self.ended.wait()


async def edit_title(scene: Scene, thread: Channel, title: str) -> str:
    ix = await scene.asker.slash("edit", channel=thread)
    return await ephemeral_text(await ix.submit_modal({"title": title}))


async def test_a_third_rename_in_ten_minutes_waits_and_the_author_is_told(scene: Scene) -> None:
    fake = scene.fake
    sleep = ManualSleep()
    scene.harness.bot.thread_renames.sleep = sleep
    await ask_anonymously(scene, "Title one here")
    (thread,) = fake.threads_in(scene.forum)

    def renames() -> list[str]:
        return [
            c.json["name"]
            for c in fake.find_calls("PATCH", "/channels/{channel_id}")
            if c.id("channel_id") == thread.id and "name" in (c.json or {})
        ]

    for title in ("Title two here", "Title three here"):
        text = await edit_title(scene, thread, title)
        assert "Your question is updated" in text and "renamed only twice" not in text
        assert thread.name == title
    text = await edit_title(scene, thread, "Title four here")
    assert "renamed only twice in ten minutes" in text and "about 10 minutes" in text
    assert thread.name == "Title three here"
    assert fake.message(thread.id).embeds[0]["title"] == "Title four here"  # the post shows it
    # Another edit while the rename waits: still one rename, to the latest title.
    text = await edit_title(scene, thread, "Title five here")
    assert "renamed only twice in ten minutes" in text
    assert len(sleep.waits) == 1 and 590 < sleep.waits[0] <= 600
    assert renames() == ["Title two here", "Title three here"]

    sleep.ended.set()
    await scene.harness.bot.thread_renames.wait_idle()
    assert thread.name == "Title five here"
    assert renames() == ["Title two here", "Title three here", "Title five here"]
    assert_nothing_names(scene)
