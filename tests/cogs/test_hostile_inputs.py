"""Hostile inputs, one table: every row is what a member types or sends (a field of /ask, an
/answer, a /reply, a /close reference, a forged button, a context menu target...), where it goes
and what must come of it, end to end through the fake Discord on SQLite and PostgreSQL.

- ``Refused``: the bot answers with one ephemeral sentence and writes nothing - every table of
  the database counts the same rows before and after, and the bot posted nothing to Discord.
- ``Inert``: accepted, stored exactly as typed (trimmed), and rendered harmless: the bot's message
  pings nobody the text names (``fake.rules.pings``) and its embed shows the text as typed.
- ``Found``: a title asked in one Unicode normalisation form is found by /search in every form.

A forged ``custom_id`` is sent the way a modified client would: an interaction the Discord
client never offered (``World.new_interaction``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import discord
import pytest
from sqlalchemy import func, select

from bot.db.models import Base, Post
from bot.forum import deletion
from bot.forum.post_rows import QUESTION_GONE as GONE
from bot.forum.rights import Actor
from bot.forum.text_rules import NO_BIDI
from bot.guilds import NOT_SET_UP
from bot.question_option import NO_QUESTION_HERE, PICK_A_QUESTION
from bot.ui.embeds import embed_problems
from tests.cogs.conftest import (
    AskedQuestion,
    BotEvents,
    ask_question_directly,
    configure_qa_guild,
    run_domain,
    thread_message_handled,
)
from tests.fakediscord import FakeDiscord, InteractionHandle, Member, Message
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.fakediscord.model import IX_MODAL_SUBMIT, Channel

EXTENSIONS = [
    "cogs.asking",
    "cogs.answering",
    "cogs.lifecycle",
    "cogs.discovery",
    "cogs.moderation",
]
ANSWER = "Breathe in for four counts, hold for four, then breathe out slowly for four."
DETAILS = "My heart races and I cannot focus."
MODAL = 9  # an interaction callback that opens a form
HUGE_ID = "99999999999999999999"  # 20 digits: passes a [0-9]{1,20} pattern, past 64 bits
MESSAGES = "/channels/{channel_id}/messages"
THREADS = "/channels/{channel_id}/threads"


# --------------------------------------------------------------------------- the scene


@dataclass
class Scene:
    fake: FakeDiscord
    harness: BotHarness
    events: BotEvents
    alice: Member  # asks
    bob: Member  # answers
    mod: Member  # moderates guild A
    olga: Member  # asks in guild B
    una: Member  # member of a guild that never ran /qa setup
    helpers_role: int  # a mentionable role of guild A
    asked: AskedQuestion  # alice's, in guild A
    answer: Message  # bob's answer in it
    theirs: AskedQuestion  # olga's, in guild B
    deleted: AskedQuestion  # alice's, deleted
    unset_general: Channel
    other_guild: int
    ids: dict[str, int] = field(default_factory=dict)


@pytest.fixture
async def scene(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    fake = fake_discord
    assert fake.guild is not None and fake.moderator_role is not None
    helpers = fake.add_role(fake.guild, "helpers", mentionable=True)
    alice, bob = fake.add_member(fake.guild, "alice"), fake.add_member(fake.guild, "bob")
    mod = fake.add_member(fake.guild, "mod", roles=[fake.moderator_role])
    other = fake.add_guild(name="Other Guild")
    other_forum = fake.add_forum(other, "questions")
    olga = fake.add_member(other, "olga")
    unset = fake.add_guild(name="Unset Guild")
    unset_general = fake.add_text_channel(unset, "general")
    una = fake.add_member(unset, "una")
    harness = await qa_bot_factory(extensions=EXTENSIONS, database_url=db_url)
    # No cool-down between status-line edits: waiting for the workers to be idle is not
    # waiting out an edit interval.
    harness.bot.status_lines.coalescer.interval = 0.0
    await configure_qa_guild(harness)
    await configure_qa_guild(harness, forum=other_forum)
    events = BotEvents(harness, "qa_thread_message")
    asked = await ask_question_directly(harness, alice)
    answer = await bob.send(asked.thread, ANSWER)
    await thread_message_handled(events, answer)
    theirs = await ask_question_directly(harness, olga, "Sleep and caffeine", forum=other_forum)
    deleted = await ask_question_directly(harness, alice, "Deleted already", "Gone soon.")
    await run_domain(
        harness,
        lambda s: deletion.delete_question(s, actor=Actor(alice.id), question_id=deleted.id),
    )
    await idle(harness)  # the DM about bob's answer delivered before any row counts
    try:
        yield Scene(
            fake,
            harness,
            events,
            alice,
            bob,
            mod,
            olga,
            una,
            helpers.id,
            asked,
            answer,
            theirs,
            deleted,
            unset_general,
            other.id,
        )
    finally:
        events.close()


async def idle(harness: BotHarness) -> None:
    for worker in harness.bot.workers:
        await worker.wait_idle()


async def row_counts(scene: Scene) -> dict[str, int]:
    """How many rows every table holds."""
    async with scene.harness.sessionmaker() as session:
        return {
            table.name: (
                await session.execute(select(func.count()).select_from(table))
            ).scalar_one()
            for table in Base.metadata.sorted_tables
        }


def placeholders(scene: Scene) -> dict[str, Any]:
    """What a row's text may name: ``{alice}``, ``{helpers}``, ``{other_post}``..."""
    return {
        "alice": scene.alice.id,
        "bob": scene.bob.id,
        "helpers": scene.helpers_role,
        "guild": scene.asked.thread.guild_id,
        "thread": scene.asked.thread.id,
        "post": scene.asked.id,
        "other_post": scene.theirs.id,
        "other_guild": scene.other_guild,
        "deleted": scene.deleted.id,
        "deleted_thread": scene.deleted.thread.id,
    }


# --------------------------------------------------------------------------- where a row goes


async def submit_raw(ix: InteractionHandle, values: dict[str, str]) -> InteractionHandle:
    """Submit a modal with values the Discord client would refuse (a modified client)."""
    modal = await ix.modal()
    for modal_field in modal.fields:
        modal_field.max_length = None  # a modified client ignores the limits
        modal_field.required = False
    record = ix.fake.world.new_interaction(
        type=IX_MODAL_SUBMIT,
        user_id=ix.actor.id,
        channel=ix.channel,
        data={"custom_id": modal.custom_id, "components": modal.submission(values)},
        parent=ix.record,
    )
    await ix.fake.flush()
    return InteractionHandle(ix.fake, record, ix.actor)


async def forged_click(scene: Scene, who: Member, custom_id: str) -> InteractionHandle:
    """A press of a button whose ``custom_id`` the attacker chose. Discord (and discord.py)
    deliver a press only for a component of the message, so the button is put on a message of
    the bot's in the fake's state, as a stale or tampered message would carry it."""
    fake = scene.fake
    assert fake.general is not None
    button = {"type": 2, "style": 2, "label": "Go", "custom_id": custom_id}
    body = {"content": "Buttons", "components": [{"type": 1, "components": [button]}]}
    message = fake.world.post_message(fake.general, fake.bot_user.id, body)
    await fake.flush()
    return await who.click(message, custom_id)


def button(message: Message, label: str) -> str:
    for component in message.walk_components():
        if component.get("type") == 2 and component.get("label") == label:
            return str(component["custom_id"])
    raise AssertionError(f"no {label!r} button on message {message.id}")


async def answer_of(scene: Scene, ix: InteractionHandle) -> Message:
    """The bot's final answer to ``ix``: past the similar-questions prompt ("Post my question
    anyway") and a moderator's reason form, which a forged button may open first."""
    if (await ix.response()).type == MODAL:
        ix = await ix.submit_modal({"reason": "Spam"})
    reply = await ix.message()
    if reply.content.startswith("Before you post"):
        pressed = await ix.actor.click(reply, button(reply, "Post my question anyway"))
        (reply,) = await pressed.followups(1)
    return reply


async def go(scene: Scene, where: str, text: str) -> InteractionHandle:
    """Send ``text`` where the row says; the interaction the bot answers."""
    fake, s = scene.fake, scene
    general = fake.general
    assert general is not None
    if where in ("title", "details"):
        values = {"title": "How do I stop worrying?", "details": DETAILS, where: text}
        return await submit_raw(await s.alice.slash("ask", channel=general), values)
    if where == "ask unconfigured":
        return await s.una.slash("ask", channel=s.unset_general)
    if where == "answer":
        return await submit_raw(
            await s.bob.slash("answer", channel=s.asked.thread), {"answer": text}
        )
    if where == "answer in thread":
        thread = fake.channel(int(text))
        return await s.bob.slash("answer", channel=thread)
    if where == "answer option":
        return await s.bob.slash("answer", {"question": text}, channel=general)
    if where == "reply":
        return await s.bob.slash("reply", {"text": text}, channel=s.asked.thread)
    if where == "reply outside":
        return await s.bob.slash("reply", {"text": text}, channel=general)
    if where == "close reference":
        return await s.alice.slash("close", {"question": text}, channel=general)
    if where == "close outside":
        return await s.alice.slash("close", channel=general)
    if where == "button":
        return await forged_click(scene, s.mod, text)
    if where == "accept":
        target = {"starter": s.asked.starter, "answer": s.answer}.get(text)
        if target is None:
            target = await s.bob.send(general, "A message that is not an answer.")
        return await s.alice.context_menu("Accept answer", target)
    raise AssertionError(f"no such place: {where}")


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class Refused:
    """One ephemeral sentence (``exactly`` it, or containing ``says``), nothing written."""

    exactly: str | None = None
    says: str | None = None


@dataclass(frozen=True)
class Inert:
    """Stored as typed; the bot's message shows ``shows`` (and never ``hides``), pings none."""

    shows: tuple[str, ...] = ()
    hides: tuple[str, ...] = ()


@dataclass(frozen=True)
class Found:
    """A title asked in the form ``text`` is found by /search in every normalisation form."""


@dataclass(frozen=True)
class Case:
    name: str
    where: str
    text: str
    expect: Refused | Inert | Found


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


SOMEONE = "<@100000000000000001>"
LONG_PASTE = (f"A long paste with @here, {SOMEONE} and a [link](https://example.com). " * 60)[:4000]
TITLE = "Café naïve résumé for a señor"
QUERY = "café naïve señor"

CASES = [
    # ---- refused: nothing written
    Case("empty title", "title", "", Refused("Please give your question a title.")),
    Case("whitespace title", "title", " \t \n ", Refused("Please give your question a title.")),
    Case(
        "zero-width title",
        "title",
        "\u200b\u200c\u200d\u2060\ufeff",
        Refused("The title needs at least one visible character."),
    ),
    Case(
        "control-character title",
        "title",
        "\x01\x02\x07\x1b\x7f",
        Refused("Please give your question a title."),
    ),
    Case("right-to-left override title", "title", "Help \u202egnp.exe", Refused(NO_BIDI)),
    Case("isolate title", "title", "\u2067Help me\u2069", Refused(NO_BIDI)),
    Case("embedding title", "title", "A \u202aquestion\u202c", Refused(NO_BIDI)),
    Case("title of 101", "title", "x" * 101, Refused(says="at most 100 characters")),
    Case("details of 4001", "details", "y" * 4001, Refused(says="at most 4000 characters")),
    Case("empty answer", "answer", " \u200b\n ", Refused("The answer cannot be empty.")),
    Case("answer of 4001", "answer", "z" * 4001, Refused(says="at most 4000 characters")),
    Case("control-only reply", "reply", "\x00\x1f\x1b", Refused("The reply cannot be empty.")),
    Case("20-digit question id", "close reference", HUGE_ID, Refused(PICK_A_QUESTION)),
    Case("20-digit thread mention", "close reference", f"<#{HUGE_ID}>", Refused(PICK_A_QUESTION)),
    Case(
        "20-digit thread link",
        "close reference",
        f"https://discord.com/channels/{{guild}}/{HUGE_ID}",
        Refused(PICK_A_QUESTION),
    ),
    Case("25-digit id in /answer", "answer option", "1" * 25, Refused(PICK_A_QUESTION)),
    Case("other server's question", "close reference", "{other_post}", Refused(GONE)),
    Case("deleted question by id", "close reference", "#{deleted}", Refused(GONE)),
    Case(
        "deleted question's thread",
        "answer in thread",
        "{deleted_thread}",
        Refused(NO_QUESTION_HERE),
    ),
    Case("/close outside a thread", "close outside", "", Refused(NO_QUESTION_HERE)),
    Case("/reply outside a thread", "reply outside", "Hello there", Refused(NO_QUESTION_HERE)),
    Case("no /qa setup yet", "ask unconfigured", "", Refused(NOT_SET_UP)),
    Case("accept the question", "accept", "starter", Refused("Only answers can be accepted.")),
    Case("accept a chat message", "accept", "general", Refused("Only answers can be accepted.")),
    Case("button, 20-digit post", "button", f"qa:act:remove:{HUGE_ID}", Refused(says="no longer")),
    Case(
        "button, other server's post",
        "button",
        "qa:act:remove:{other_post}",
        Refused(says="no longer"),
    ),
    Case("button, deleted post", "button", "qa:act:restore:{deleted}", Refused(says="no longer")),
    Case("button, 20-digit report", "button", f"qa:rdismiss:{HUGE_ID}", Refused(says="no")),
    Case("button, 20-digit block", "button", f"qa:unblock:{HUGE_ID}", Refused(says="block")),
    Case(
        "button, 20-digit held post", "button", f"qa:premod:approve:{HUGE_ID}", Refused(says="no")
    ),
    Case(
        "button, other server's pages",
        "button",
        "qa:unans:{other_guild}:2",
        Refused("These buttons belong to another server."),
    ),
    Case(
        "button, 20-digit server pages",
        "button",
        f"qa:unans:{HUGE_ID}:2",
        Refused(says="another server"),
    ),
    # ---- accepted, stored verbatim, rendered inert
    Case(
        "mentions in a title",
        "title",
        "@everyone @here <@{bob}> <@&{helpers}> help",
        Inert(shows=("@\u200beveryone", "\\<@\u200b{bob}>", "\\<@\u200b&{helpers}>")),
    ),
    Case(
        "mentions in details",
        "details",
        "Ping @everyone and @here, <@{bob}> and <@&{helpers}>!",
        Inert(
            shows=("@\u200beveryone", "@\u200bhere", "\\<@\u200b{bob}>", "\\<@\u200b&{helpers}>")
        ),
    ),
    Case(
        "mentions in an answer",
        "answer",
        "@everyone look: <@{bob}> <@&{helpers}> @here",
        Inert(shows=("@\u200beveryone", "\\<@\u200b{bob}>")),
    ),
    Case(
        "mentions in a reply",
        "reply",
        "@here <@{alice}> see <@&{helpers}>",
        Inert(shows=("@\u200bhere", "\\<@\u200b{alice}>")),
    ),
    Case(
        "markdown imitating the bot",
        "title",
        "# ✅ Accepted answer **by a moderator**",
        Inert(shows=("\\# ✅ Accepted answer \\*\\*by a moderator\\*\\*",)),
    ),
    Case(
        "masked link in details",
        "details",
        "[Official help](https://evil.example/login) and [Jump to answer](https://evil.example)",
        Inert(shows=("\\[Official help](https://evil.example/login)",), hides=("and [Jump",)),
    ),
    Case(
        "fake jump link in an answer",
        "answer",
        "Solved here: [Jump to the accepted answer](https://discord.com.evil.example/channels/1/2/3)",
        Inert(shows=("\\[Jump to the accepted answer]",), hides=(" [Jump",)),
    ),
    Case("emoji-only title", "title", "😀🫠👨‍👩‍👧‍👦🇫🇷", Inert(shows=("😀🫠👨‍👩‍👧‍👦🇫🇷",))),
    Case(
        "SQL in a title",
        "title",
        "'; DROP TABLE posts; --",
        Inert(shows=("'; DROP TABLE posts; --",)),
    ),
    Case(
        "FTS syntax in details",
        "details",
        'title:"x" OR NEAR(a b) AND body:* NOT ^c',
        Inert(shows=('title:"x" OR NEAR(a b) AND body:* NOT ^c',)),
    ),
    Case("4,000-character paste", "details", LONG_PASTE, Inert(shows=("@\u200bhere",))),
    Case(
        "4,000-character answer",
        "answer",
        LONG_PASTE,
        Inert(shows=("\\<@\u200b100000000000000001>",)),
    ),
    Case("NFC title", "title", unicodedata.normalize("NFC", TITLE), Found()),
    Case("NFD title", "title", nfd(TITLE), Found()),
    Case("NFKC title", "title", unicodedata.normalize("NFKC", TITLE), Found()),
    Case("NFKD title", "title", unicodedata.normalize("NFKD", TITLE), Found()),
]


def test_the_table_is_large_and_names_are_unique() -> None:
    assert len(CASES) >= 30
    assert len({case.name for case in CASES}) == len(CASES)
    assert sum(isinstance(case.expect, Refused) for case in CASES) >= 15


async def bot_posts(scene: Scene, since: int) -> list[Any]:
    fake = scene.fake
    return [
        c
        for route in (MESSAGES, THREADS)
        for c in fake.find_calls("POST", route, since=since)
        if c.ok
    ]


async def posted_message(scene: Scene, where: str, since: int) -> Message:
    """The bot's message the accepted input became (the starter of a new question, or the
    message of an answer or reply)."""
    fake = scene.fake
    if where in ("title", "details"):
        call = await fake.wait_for_call("POST", THREADS, since=since)
        return fake.message(int(call.response["id"]))
    call = await fake.wait_for_call(
        "POST", MESSAGES, since=since, where=lambda c: "embeds" in c.json
    )
    return fake.message(int(call.response["id"]))


async def stored(scene: Scene, message: Message, where: str) -> str:
    async with scene.harness.sessionmaker() as session:
        post = (
            await session.execute(select(Post).where(Post.message_id == message.id))
        ).scalar_one()
    return post.title if where == "title" else post.body


async def search_finds(scene: Scene, query: str, thread_id: int) -> bool:
    general = scene.fake.general
    assert general is not None
    ix = await scene.bob.slash("search", {"query": query}, channel=general)
    reply = await ix.message()
    return f"/{thread_id})" in reply.embed_text() or f"/{thread_id}" in reply.embed_text()


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_a_hostile_input(scene: Scene, case: Case) -> None:
    fake = scene.fake
    names = placeholders(scene)
    text = case.text.format(**names) if "{" in case.text else case.text
    before = await row_counts(scene)
    mark = fake.mark()
    reply = await answer_of(scene, await go(scene, case.where, text))
    assert reply.ephemeral, case

    if isinstance(case.expect, Refused):
        if case.expect.exactly is not None:
            assert reply.content == case.expect.exactly
        if case.expect.says is not None:
            assert case.expect.says in reply.content, reply.content
        assert "\n" not in reply.content.strip()
        assert await row_counts(scene) == before
        assert await bot_posts(scene, mark) == []
        return

    message = await posted_message(scene, case.where, mark)
    assert await stored(scene, message, case.where) == text.strip()
    assert embed_problems_of(message) == []
    if isinstance(case.expect, Found):
        for form in ("NFC", "NFD", "NFKC", "NFKD"):
            query = unicodedata.normalize(form, QUERY)
            assert await search_finds(scene, query, message.channel_id), (form, case.name)
        return
    pings = fake.rules.pings(message)
    assert not pings.everyone and pings.roles == ()
    assert set(pings.notified) <= {scene.alice.id}  # the asker's own "Asked by" line at most
    shown = message.embed_text()
    for part in case.expect.shows:
        assert part.format(**names) in shown, (part, shown)
    for part in case.expect.hides:
        assert part not in shown, (part, shown)


def embed_problems_of(message: Message) -> list[str]:
    return [p for e in message.embeds for p in embed_problems(discord.Embed.from_dict(e))]
