"""The leak scanner (``tests/leaks.py``) proves it can fail, and today's flows keep an anonymous
asker hidden, on both database backends.

One run of the flows that exist today: a question is asked (anonymously under a display name,
or named), two members answer in the thread, a third votes, the asker accepts an answer with
"Accept answer" and closes and reopens the question with /close and /reopen from another
channel (all answered ephemerally), the DMs arrive (the answers to the asker, the accept to the
answerer), and another member uses /search, /unanswered, /profile and /leaderboard. Then the
scanner looks for the asker's id, username, global name and nickname:

* anonymous: no hit (status lines, DMs to others, close notices, search, lists and logs keep
  the asker hidden), while the asker's own DMs and ephemeral replies were there, left out;
* named: hits (the starter's mention and author line, the thread's member list, the
  leaderboard);
* anonymous with leaks planted on purpose (log lines, a bot message, a public response to the
  asker's own command): exactly those hits, at their places; the asker's own DM and ephemeral
  replies stay out.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import discord
import pytest

from tests.cogs.conftest import (
    AskedQuestion,
    BotEvents,
    add_forum_tag,
    ask_question_directly,
    configure_qa_guild,
    thread_message_handled,
    upvote,
)
from tests.fakediscord import FakeDiscord, Member, Message
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.leaks import Hit, Identity, LeakScanner, LogCapture, capture_logs, settle

BOB = "Breathe in for four counts, hold for four, then breathe out slowly for four."
CAROL = "Write the worries down on paper before bed, then close the notebook."
TITLE = "How do I calm down before an exam?"
#: The asker's names: they collide with no ordinary word (nor with each other's substrings).
USERNAME, GLOBAL_NAME, NICK = "zqvortle", "Yssbrandt", "Klypthora"


@dataclass
class Scene:
    fake: FakeDiscord
    harness: BotHarness
    logs: LogCapture
    events: BotEvents
    asker: Member
    bob: Member  # answers (accepted)
    carol: Member  # answers, searches, lists
    dave: Member  # votes

    @property
    def identity(self) -> Identity:
        return Identity.of(self.fake, self.asker)

    def scanner(self) -> LeakScanner:
        return LeakScanner(self.fake, self.logs, self.identity)


@pytest.fixture
async def scene(
    leak_logs: LogCapture, db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    fake = fake_discord
    assert fake.guild is not None
    user = fake.world.add_user(USERNAME, global_name=GLOBAL_NAME)
    asker = fake.add_member(fake.guild, USERNAME, user=user, nick=NICK)
    others = {n: fake.add_member(fake.guild, n) for n in ("bob", "carol", "dave")}
    solved = add_forum_tag(fake, "Solved")
    harness = await qa_bot_factory(database_url=db_url)
    harness.bot.status_lines.coalescer.interval = 0.0  # no cool-downs: ``settle`` returns at once
    harness.bot.role_sync.coalescer.interval = 0.0
    await configure_qa_guild(harness, solved_tag_id=solved, notify_coalesce_seconds=0)
    events = BotEvents(harness, "qa_thread_message", "raw_reaction_add")
    try:
        yield Scene(fake, harness, leak_logs, events, asker, **others)
    finally:
        events.close()


async def answer(scene: Scene, who: Member, asked: AskedQuestion, text: str) -> Message:
    message = await who.send(asked.thread, text)
    change = await thread_message_handled(scene.events, message)
    assert change is not None and change.post.kind == "answer"
    return message


async def run_flows(scene: Scene, *, anonymous: bool) -> AskedQuestion:
    """Today's flows around one question by ``scene.asker``; returns once everything shows."""
    fake, asker = scene.fake, scene.asker
    asked = await ask_question_directly(
        scene.harness,
        asker,
        TITLE,
        anonymous=anonymous,
        display_name="Worried student" if anonymous else None,
    )
    bob_says = await answer(scene, scene.bob, asked, BOB)
    await answer(scene, scene.carol, asked, CAROL)
    await fake.wait_until(
        lambda: len(fake.dms_to(asker)) >= 1, what="the asker's DM about the answers"
    )
    await upvote(scene.harness, scene.events, scene.dave, asked.starter)
    await upvote(scene.harness, scene.events, scene.dave, bob_says)

    accepted = await asker.context_menu("Accept answer", bob_says)
    done = await accepted.message()
    assert done.ephemeral and "accepted" in done.content
    await fake.wait_until(lambda: fake.dms_to(scene.bob), what="Bob's DM about the accept")
    await fake.wait_until(
        lambda: (
            "2 answers" in asked.starter.embed_text() and "Solved" in asked.starter.embed_text()
        ),
        what="the status line showing the accepted answer",
    )
    # The asker closes and reopens it from another channel (their answers are ephemeral).
    where = fake.general
    for command, says in (("close", "closed"), ("reopen", "open again")):
        ix = await asker.slash(command, {"question": str(asked.id)}, channel=where)
        told = await ix.message()
        assert told.ephemeral and says in told.content, told.content
    await fake.wait_until(lambda: not asked.thread.archived, what="the thread open again")

    found = await (await scene.carol.slash("search", {"query": "exam"}, channel=where)).message()
    assert TITLE in found.embed_text() or TITLE in found.content
    await (await scene.carol.slash("unanswered", channel=where)).message()
    profile = await scene.carol.slash("profile", {"member": scene.bob}, channel=where)
    await profile.message()
    board = await (await scene.carol.slash("leaderboard", channel=where)).message()
    assert "bob" in board.embed_text() + board.content
    await settle(scene.harness)
    return asked


# --------------------------------------------------------------------------- the runs


async def test_an_anonymous_asker_is_named_nowhere(scene: Scene) -> None:
    asked = await run_flows(scene, anonymous=True)
    assert asked.starter.embeds[0]["author"]["name"] == "Worried student"
    scan = scene.scanner()
    assert scan.hits() == [], scan.report()
    # What only the asker sees was there and was left out: their DMs and their accept's reply.
    reasons = {reason for _call, reason in scan.excluded}
    assert "the author's DM channel" in reasons
    assert "a response to the author's interaction only they see" in reasons
    assert scene.fake.dms_to(scene.asker)
    # The scan saw the bot's debug logs, and discord.py's raw payloads stayed out of them.
    assert any(r.levelno == logging.DEBUG for r in scene.logs.records)
    assert not any(
        r.name.startswith("discord") and r.levelno < logging.INFO for r in scene.logs.records
    )


async def test_a_named_asker_is_found(scene: Scene) -> None:
    asked = await run_flows(scene, anonymous=False)
    hits = scene.scanner().hits()
    starter = f"message {asked.starter.id} "
    # The starter's "Asked by <@id>" and its author line, the thread's member list.
    assert any(h.where.startswith(starter) and h.token == f"id {scene.asker.id}" for h in hits)
    assert any(h.where.startswith(starter) and h.token == f"name {USERNAME!r}" for h in hits)
    member = Hit("channel", f"channel {asked.thread.id}", f"id {scene.asker.id}", "a member of")
    assert member in hits
    # The status-line edits of the starter (REST), and Carol's /leaderboard ranking them.
    assert any(h.source == "rest" and h.where.startswith("PATCH /channels/") for h in hits)
    assert any(
        h.source == "message" and "(ephemeral to" in h.where and "points" in h.excerpt for h in hits
    ), scene.scanner().report()


async def test_planted_leaks_are_reported_where_they_are(scene: Scene) -> None:
    await run_flows(scene, anonymous=True)
    fake, asker, bot = scene.fake, scene.asker, scene.harness.bot
    general = fake.general
    assert general is not None
    # Log lines (the message, an ``extra``), a message the bot posts, and Discord's own tell:
    # a public response to the asker's command shows everyone who used it.
    logging.getLogger("cogs.answering").debug("question asked by %s", asker.id)
    logging.getLogger("bot.workers.notifier").info("sent", extra={"who": NICK.upper()})
    planted = await bot.get_partial_messageable(general.id).send(
        f"Thanks <@!{asker.id}>, {GLOBAL_NAME.lower()}!",
        allowed_mentions=discord.AllowedMentions.none(),
    )
    shown = await asker.slash("profile", {"member": scene.bob, "public": True}, channel=general)
    public = await shown.message()
    assert not public.ephemeral
    # Only the asker sees these: not hits.
    await (await bot.fetch_user(asker.id)).send(f"Only for you, <@{asker.id}> {USERNAME}")
    mine = await asker.slash("profile", channel=general)
    assert (await mine.message()).ephemeral
    await settle(scene.harness)

    posted = f"POST /channels/{general.id}/messages"
    message = f"message {planted.id} in #general ({general.id})"
    response = f"message {public.id} in #general ({general.id})"
    user = "interaction_metadata.user"
    found = {(h.source, h.where, h.token) for h in scene.scanner().hits()}
    assert found == {
        ("log", "log cogs.answering DEBUG message", f"id {asker.id}"),
        ("log", "log bot.workers.notifier INFO extra who", f"name {NICK!r}"),
        ("rest", f"{posted} json.content", f"id {asker.id}"),
        ("rest", f"{posted} json.content", f"name {GLOBAL_NAME!r}"),
        ("message", f"{message} content", f"id {asker.id}"),
        ("message", f"{message} content", f"name {GLOBAL_NAME!r}"),
        ("message", f"{response} {user}.id", f"id {asker.id}"),
        ("message", f"{response} {user}.username", f"name {USERNAME!r}"),
        ("message", f"{response} {user}.global_name", f"name {GLOBAL_NAME!r}"),
        ("message", f"{response} interaction.user.id", f"id {asker.id}"),
        ("message", f"{response} interaction.user.username", f"name {USERNAME!r}"),
        ("message", f"{response} interaction.user.global_name", f"name {GLOBAL_NAME!r}"),
        ("message", f"{response} interaction.member.nick", f"name {NICK!r}"),
    }, scene.scanner().report()


async def test_discord_at_debug_would_leak_and_the_scanner_would_say_so(scene: Scene) -> None:
    """Why production keeps ``discord.*`` at INFO: at DEBUG discord.py logs the raw gateway
    payload of the asker's (ephemeral, excluded) command, which carries who they are."""
    gateway = logging.getLogger("discord.gateway")
    gateway.setLevel(logging.DEBUG)
    try:
        ix = await scene.asker.slash("profile", channel=scene.fake.general)
        assert (await ix.message()).ephemeral
    finally:
        gateway.setLevel(logging.INFO)
    hits = scene.scanner().hits()
    assert hits and {h.where for h in hits} == {"log discord.gateway DEBUG message"}, hits
    assert {h.token for h in hits} >= {f"id {scene.asker.id}", f"name {USERNAME!r}"}


# --------------------------------------------------------------------------- matching


def test_ids_match_as_whole_numbers_and_names_ignore_case() -> None:
    identity = Identity(112233445566778899, ("zqvortle", "Klypthora"))
    scan = LeakScanner(FakeDiscord(), LogCapture(), identity)
    assert [t for t, _ in scan.match("hi <@112233445566778899>")] == ["id 112233445566778899"]
    assert [t for t, _ in scan.match("qa:accept:112233445566778899")] != []
    assert scan.match("9112233445566778899 and 1122334455667788990") == []
    assert [t for t, _ in scan.match("by ZQVORTLE")] == ["name 'zqvortle'"]
    assert [t for t, _ in scan.match("klypthoras")] == ["name 'Klypthora'"]
    assert scan.match("an ordinary sentence about 1122334455") == []
    with pytest.raises(ValueError, match="too short"):
        Identity(1, ("Al",))


def test_the_capture_keeps_discord_at_info_and_restores_levels() -> None:
    before = logging.getLogger("discord.gateway").level, logging.getLogger().level
    with capture_logs() as logs:
        assert logging.getLogger().getEffectiveLevel() == logging.DEBUG
        logging.getLogger("discord.gateway").debug("raw payload 112233445566778899")
        logging.getLogger("bot.x").debug("kept")
        logging.getLogger("tests.fakediscord.rest").warning("the fake's own, left out")
    assert [r.getMessage() for r in logs.records] == ["kept"]
    assert (logging.getLogger("discord.gateway").level, logging.getLogger().level) == before
