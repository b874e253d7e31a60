"""Issue 14 item 6, end to end on both database backends: an anonymous asker and an anonymous
answerer use every right they have, through the real cogs and the fake Discord, others answer,
vote, search and list, a moderator closes and reopens; each right is refused to a member who is
neither the author nor a moderator; then the leak scanner (``tests/leaks.py``) finds neither
anonymous author anywhere: REST payloads, stored messages, channels, DEBUG logs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.forum import lookups
from cogs.answering.own_posts import NOTHING_OF_YOURS
from tests.cogs.conftest import (
    BotEvents,
    add_forum_tag,
    configure_qa_guild,
    run_domain,
    thread_message_handled,
    upvote,
)
from tests.fakediscord import FakeDiscord, InteractionHandle, Member, Message
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.fakediscord.model import Channel
from tests.leaks import Identity, LeakScanner, LogCapture, settle

TITLE = "How do I calm down before an exam?"
DETAILS = "My heart races the night before and I cannot focus on anything at all."
BOB = "Breathe in for four counts, hold for four, then breathe out slowly for four."
CAROL = "Write the worries down on paper before bed, then close the notebook."
SHADE = "A short walk outside before the exam helps the body burn off the adrenaline."
#: The anonymous members' names: no ordinary word, nor any text of the bot, contains them.
GHOST = ("zqvortle", "Yssbrandt", "Klypthora")
SHADE_NAMES = ("wuxmelqa", "Orvendyle", "Quazzibor")
DISPLAY = "Quiet Owl"


@dataclass
class Scene:
    fake: FakeDiscord
    harness: BotHarness
    logs: LogCapture
    events: BotEvents
    ghost: Member  # asks anonymously
    shade: Member  # answers anonymously
    bob: Member  # answers, accepted
    carol: Member  # answers, searches and lists
    dave: Member  # votes; neither an author nor a moderator: refused
    mod: Member  # a moderator


def _member(fake: FakeDiscord, names: tuple[str, str, str]) -> Member:
    assert fake.guild is not None
    username, global_name, nick = names
    user = fake.world.add_user(username, global_name=global_name)
    return fake.add_member(fake.guild, username, user=user, nick=nick)


@pytest.fixture
async def scene(
    leak_logs: LogCapture, db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    fake = fake_discord
    assert fake.guild is not None and fake.moderator_role is not None
    ghost, shade = _member(fake, GHOST), _member(fake, SHADE_NAMES)
    others = {n: fake.add_member(fake.guild, n) for n in ("bob", "carol", "dave")}
    mod = fake.add_member(fake.guild, "mod", roles=[fake.moderator_role])
    solved = add_forum_tag(fake, "Solved")
    harness = await qa_bot_factory(database_url=db_url)
    harness.bot.status_lines.coalescer.interval = 0.0  # no cool-downs: ``settle`` returns at once
    harness.bot.role_sync.coalescer.interval = 0.0
    await configure_qa_guild(harness, solved_tag_id=solved, notify_coalesce_seconds=0)
    events = BotEvents(harness, "qa_thread_message", "raw_reaction_add")
    try:
        yield Scene(fake, harness, leak_logs, events, ghost, shade, mod=mod, **others)
    finally:
        events.close()


async def private(ix: InteractionHandle) -> str:
    """The text of ``ix``'s answer, which must be ephemeral (only its user sees it)."""
    message = await ix.message()
    assert message.ephemeral, message.content
    return message.content


async def bot_post(scene: Scene, thread: Channel, ix: InteractionHandle) -> Message:
    """The bot's public message that ``ix`` (answered ephemerally) posted in ``thread``."""
    before = scene.fake.messages_in(thread)[-1]
    text = await private(ix)
    assert text.startswith("✅"), text
    posted = await scene.fake.wait_for_message(thread, where=lambda m: bool(m.embeds), after=before)
    await thread_message_handled(scene.events, posted)
    assert posted.author_id == scene.fake.bot_user.id
    return posted


def button(message: Message, label: str) -> str:
    for component in message.walk_components():
        if component.get("type") == 2 and component.get("label") == label:
            return str(component["custom_id"])
    raise AssertionError(f"no {label!r} button on message {message.id}")


async def post_id_of(scene: Scene, message: Message) -> int:
    post = await run_domain(
        scene.harness, lambda s: lookups.find_post_by_message(s, message_id=message.id)
    )
    assert post is not None
    return int(post.id)


async def test_every_anonymous_right_is_used_and_nobody_is_named(scene: Scene) -> None:
    fake, ghost, shade, dave, mod = scene.fake, scene.ghost, scene.shade, scene.dave, scene.mod
    general, forum = fake.general, fake.forum
    assert general is not None and forum is not None

    # /ask anonymous:true under a display name: the bot posts it, the asker stays out.
    ix = await ghost.slash("ask", {"anonymous": True}, channel=general)
    submitted = await ix.submit_modal({"title": TITLE, "details": DETAILS, "display_name": DISPLAY})
    assert f"posted anonymously, as **{DISPLAY}**" in await private(submitted)
    (thread,) = fake.threads_in(forum)
    starter = fake.message(thread.id)
    assert starter.embeds[0]["author"]["name"] == DISPLAY
    qid = str(await post_id_of(scene, starter))

    # Others answer under their names, one anonymously from elsewhere; the asker replies.
    bobs = await scene.bob.send(thread, BOB)
    await thread_message_handled(scene.events, bobs)
    carols = await scene.carol.send(thread, CAROL)
    await thread_message_handled(scene.events, carols)
    opened = await shade.slash("answer", {"anonymous": True, "question": qid}, channel=general)
    shades = await bot_post(scene, thread, await opened.submit_modal({"answer": SHADE}))
    assert shades.embeds[0]["author"]["name"].startswith("Member ")
    shades_post = str(await post_id_of(scene, shades))
    replied = await ghost.slash("reply", {"text": "Thank you, I will try these."}, channel=thread)
    ghosts_reply = await bot_post(scene, thread, replied)
    assert ghosts_reply.embeds[0]["author"]["name"] == DISPLAY
    # The asker's DMs about the answers arrive, as a named asker's do.
    await fake.wait_until(lambda: fake.dms_to(ghost) or None, what="the asker's DMs")

    # Votes by others on the anonymous question and on the answers.
    for message in (starter, bobs, shades):
        await upvote(scene.harness, scene.events, dave, message)

    # Neither the author nor a moderator: every right refused, ephemerally.
    refused = await dave.context_menu("Accept answer", bobs)
    assert await private(refused) == "Only the asker or a moderator can accept an answer."
    for command in ("edit", "delete"):
        assert await private(await dave.slash(command, channel=thread)) == NOTHING_OF_YOURS
        for target in (qid, shades_post):
            ix = await dave.slash(command, {"post": target}, channel=thread)
            assert await private(ix) == NOTHING_OF_YOURS
    refused = await dave.slash("close", {"question": qid}, channel=general)
    assert await private(refused) == "Only the asker or a moderator can close this question."

    # The anonymous asker accepts an answer; its author's DM arrives.
    accepted = await ghost.context_menu("Accept answer", bobs)
    assert (await private(accepted)).startswith("✅ You accepted")
    await fake.wait_until(lambda: fake.dms_to(scene.bob) or None, what="Bob's DM on the accept")

    # /edit of the question (title and details) by the asker, of the answer by its author.
    editing = await ghost.slash("edit", {"post": qid}, channel=thread)
    modal = await editing.modal()
    assert (modal.field("title").value, modal.field("details").value) == (TITLE, DETAILS)
    new_title = "How do I calm down before exams?"
    edited = await editing.submit_modal({"title": new_title, "details": DETAILS + " Any tips?"})
    assert "Your question is updated" in await private(edited)
    await fake.wait_until(lambda: thread.name == new_title or None, what="the thread renamed")
    assert starter.embeds[0]["author"]["name"] == DISPLAY
    editing = await shade.slash("edit", {"post": shades_post}, channel=thread)
    assert (await editing.modal()).field("answer").value == SHADE
    edited = await editing.submit_modal({"answer": SHADE + " Even ten minutes."})
    assert "Your answer is updated" in await private(edited)
    await fake.wait_until(
        lambda: "Even ten minutes." in shades.embeds[0]["description"] or None,
        what="the answer edited",
    )

    # /close and /reopen by the asker (the reopen refused to others while closed).
    closed = await ghost.slash("close", {"question": qid}, channel=general)
    assert "The question is closed" in await private(closed)
    await fake.wait_until(lambda: thread.archived or None, what="the thread archived")
    refused = await dave.slash("reopen", {"question": qid}, channel=general)
    assert "Only the asker or a moderator" in await private(refused)
    reopened = await ghost.slash("reopen", {"question": qid}, channel=general)
    assert "The question is open again" in await private(reopened)
    await fake.wait_until(lambda: not thread.archived or None, what="the thread open again")

    # A moderator's view: they close (with a reason shown in the thread) and reopen it.
    closed = await mod.slash(
        "close", {"question": qid, "reason": "Taking a pause"}, channel=general
    )
    assert "The question is closed" in await private(closed)
    await fake.wait_until(lambda: thread.archived or None, what="the thread archived")
    await fake.wait_until(
        lambda: (
            any("Taking a pause" in m.embed_text() + m.content for m in fake.messages_in(thread))
            or None
        ),
        what="the moderator's reason in the thread",
    )
    reopened = await mod.slash("reopen", {"question": qid}, channel=general)
    assert "The question is open again" in await private(reopened)
    await fake.wait_until(lambda: not thread.archived or None, what="the thread open again")

    # /delete of the anonymous answer by its author (confirmed with the button).
    deleting = await shade.slash("delete", {"post": shades_post}, channel=thread)
    prompt = await deleting.message()
    assert prompt.ephemeral
    await shade.click(prompt, button(prompt, "Delete"))
    await fake.wait_until(lambda: shades.deleted or None, what="the answer deleted")

    # Others look around: /search, /unanswered, /profile, /leaderboard.
    carol = scene.carol
    found = await (await carol.slash("search", {"query": "exam"}, channel=general)).message()
    assert new_title in found.embed_text() + found.content
    await (await carol.slash("unanswered", channel=general)).message()
    for member in (scene.bob, dave):
        await (await carol.slash("profile", {"member": member}, channel=general)).message()
    board = await (await carol.slash("leaderboard", channel=general)).message()
    assert "bob" in board.embed_text() + board.content

    await settle(scene.harness)
    assert ghost.id not in thread.members and shade.id not in thread.members
    assert fake.dms_to(ghost)
    for who in (ghost, shade):
        scan = LeakScanner(fake, scene.logs, Identity.of(fake, who))
        assert scan.hits() == [], scan.report()
        reasons = {reason for _call, reason in scan.excluded}
        # What only the author saw was there and left out: their ephemeral replies, the
        # asker's DMs.
        assert "a response to the author's interaction only they see" in reasons
        assert who is shade or "the author's DM channel" in reasons
