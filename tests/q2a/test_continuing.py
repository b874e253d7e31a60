"""Imported history in Discord end to end, on both backends: an imported question is found by
/search (marked imported, with a "Continue in Discord" button), two members pressing at once
open exactly one thread for the same row, which then takes answers like any question, and a
reconciliation of its reactions keeps the imported votes."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from bot import posting_rights
from bot.db.imported import ImportedPost, ImportedVote
from bot.db.models import Post, Vote
from bot.forum import votes
from bot.q2a_import import import_q2a
from bot.q2a_publish import PublishStopped, publish_imported
from bot.reaction_sync import ReactionTarget, reread_reactions
from bot.ui.imported import CONTINUE_PREFIX, IMPORTED_MARK
from tests.cogs.conftest import (
    BotEvents,
    ask_question_directly,
    configure_qa_guild,
    run_domain,
    thread_message_handled,
)
from tests.fakediscord import FakeDiscord, Member, Message
from tests.fakediscord.clock import SleepLog
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.q2a.site import generate, write

EXTENSIONS = ["cogs.discovery", "cogs.continuing", "cogs.answering", "cogs.asking"]
STRANGER = 5555


@dataclass
class Scene:
    fake: FakeDiscord
    harness: BotHarness
    alice: Member
    bob: Member

    @property
    def guild_id(self) -> int:
        assert self.fake.guild is not None
        return self.fake.guild.id


@pytest.fixture
async def scene(
    db_url: str, q2a_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    fake = fake_discord
    assert fake.guild is not None
    alice = fake.add_member(fake.guild, "alice")
    bob = fake.add_member(fake.guild, "bob")
    harness = await qa_bot_factory(extensions=EXTENSIONS, database_url=db_url)
    await configure_qa_guild(harness, questions_per_hour=10_000)
    await write(q2a_url, generate())
    await import_q2a(q2a_url, guild_id=fake.guild.id, database_url=db_url, out=io.StringIO())
    yield Scene(fake, harness, alice, bob)


async def search(scene: Scene, who: Member, query: str) -> Message:
    ix = await who.slash("search", {"query": query}, channel=scene.fake.general)
    return await ix.message()


def continue_ids(reply: Message) -> dict[int, str]:
    """The question ids behind the "Continue in Discord" buttons, with their custom ids."""
    found = {}
    for component in reply.walk_components():
        custom_id = str(component.get("custom_id", ""))
        if component.get("type") == 2 and custom_id.startswith(CONTINUE_PREFIX):
            found[int(custom_id.removeprefix(CONTINUE_PREFIX))] = custom_id
    return found


async def voted_imported_questions(scene: Scene) -> set[int]:
    """Live imported questions with imported votes on the question itself and an answer."""

    async def read(session: object) -> set[int]:
        assert hasattr(session, "scalars")
        rows = await session.scalars(
            select(Post.id)
            .join(ImportedPost, ImportedPost.post_id == Post.id)
            .join(ImportedVote, ImportedVote.post_id == Post.id)
            .where(Post.kind == "question", Post.removed_at.is_(None), Post.answer_count > 0)
        )
        return set(rows)

    return await run_domain(scene.harness, read)


async def stored_votes(scene: Scene, post_id: int) -> dict[int, tuple[bool, bool]]:
    async def read(session: object) -> dict[int, tuple[bool, bool]]:
        assert hasattr(session, "execute")
        rows = await session.execute(
            select(Vote.user_id, Vote.up, Vote.down).where(Vote.post_id == post_id)
        )
        return {user: (up, down) for user, up, down in rows}

    return await run_domain(scene.harness, read)


async def test_an_imported_question_is_found_and_continued_in_one_thread(scene: Scene) -> None:
    fake, forum = scene.fake, scene.fake.forum
    assert forum is not None
    found_by_alice = await search(scene, scene.alice, "cope")
    found_by_bob = await search(scene, scene.bob, "cope")
    (embed,) = found_by_alice.embeds
    assert IMPORTED_MARK in embed["description"]
    buttons = continue_ids(found_by_alice)
    assert buttons and buttons == continue_ids(found_by_bob)
    question_id = min(set(buttons) & await voted_imported_questions(scene))
    imported_votes = await stored_votes(scene, question_id)
    custom_id = buttons[question_id]

    # Two presses at once: one thread, both presses told its link.
    threads_before = len(fake.threads_in(forum))
    presses = await asyncio.gather(
        scene.alice.click(found_by_alice, custom_id), scene.bob.click(found_by_bob, custom_id)
    )
    answers = [await press.message() for press in presses]
    new_threads = fake.threads_in(forum)[threads_before:]
    assert len(new_threads) == 1
    (thread,) = new_threads
    link = f"https://discord.com/channels/{scene.guild_id}/{thread.id}"
    assert all(a.ephemeral and link in a.content for a in answers)
    assert sorted("already" in a.content for a in answers) == [False, True]

    # The same row: its thread and starter; the post sums up the imported answers.
    question = await run_domain(
        scene.harness, lambda s: s.get(Post, question_id, populate_existing=True)
    )
    assert question.thread_id == thread.id
    starter = fake.message(thread.id)
    assert question.message_id == starter.id
    titles = [e.get("title", "") for e in starter.embeds]
    assert titles[0] == question.title
    assert titles[1].startswith("Imported answers (")
    assert "imported from the community's previous Q&A site" in starter.embeds[1]["description"]
    # The search no longer offers to continue it; it links the thread instead.
    again = await search(scene, scene.bob, "cope")
    assert question_id not in continue_ids(again)
    assert f"({link})" in again.embeds[0]["description"]

    # It takes answers like any question.
    events = BotEvents(scene.harness, "qa_thread_message")
    reply = await scene.bob.send(thread, "Walking every evening helped me cope a lot.")
    change = await thread_message_handled(events, reply)
    assert change is not None and change.post.kind == "answer"
    assert change.post.question_id == question_id

    # A reconciliation with no member's reaction: not even re-read, imported votes kept.
    target = ReactionTarget(scene.guild_id, thread.id, starter.id)
    done = await reread_reactions(scene.harness.bot, [target], budget=10)
    assert (done.skipped, done.votes_backfilled) == (1, 0)
    # A stale live vote (no reaction behind it): the re-read drops it, never an imported one.
    await run_domain(
        scene.harness,
        lambda s: votes.set_vote(s, post_id=question_id, user_id=STRANGER, flag="up", on=True),
    )
    done = await reread_reactions(scene.harness.bot, [target], budget=10)
    assert done.skipped == 0
    assert await stored_votes(scene, question_id) == imported_votes


async def test_the_similar_questions_of_ask_offer_to_continue_an_imported_one(
    scene: Scene,
) -> None:
    forum = scene.fake.forum
    assert forum is not None
    ix = await scene.alice.slash("ask", {}, channel=scene.fake.general)
    submitted = await ix.submit_modal({"title": "How do I cope?", "details": "Question cope"})
    prompt = await submitted.message()
    assert prompt.embeds[0]["title"] == "Similar questions"
    assert IMPORTED_MARK in prompt.embeds[0]["description"]
    buttons = continue_ids(prompt)
    assert buttons
    question_id, custom_id = min(buttons.items())
    before = len(scene.fake.threads_in(forum))
    pressed = await scene.alice.click(prompt, custom_id)
    told = await pressed.message()
    (thread,) = scene.fake.threads_in(forum)[before:]
    assert told.ephemeral and str(thread.id) in told.content
    question = await run_domain(
        scene.harness, lambda s: s.get(Post, question_id, populate_existing=True)
    )
    assert question.thread_id == thread.id


async def test_a_member_who_cannot_post_in_the_forum_cannot_continue_one(scene: Scene) -> None:
    fake, forum = scene.fake, scene.fake.forum
    assert forum is not None and fake.guild is not None
    muted_role = fake.add_role(fake.guild, "Muted")
    muted = fake.add_member(fake.guild, "muted", roles=[muted_role])
    events = BotEvents(scene.harness, "guild_channel_update")
    deny = fake.overwrite(muted_role, deny=["send_messages", "send_messages_in_threads"])
    fake.edit_channel(forum, permission_overwrites=[deny])
    await events.wait_for("guild_channel_update")
    found = await search(scene, muted, "cope")
    custom_id = min(continue_ids(found).items())[1]
    before = len(fake.threads_in(forum))
    refused = await (await muted.click(found, custom_id)).message()
    assert refused.ephemeral and refused.content == posting_rights.CANNOT_ASK
    assert len(fake.threads_in(forum)) == before
    # Its positive twin: a member who may post continues it.
    told = await (
        await scene.bob.click(await search(scene, scene.bob, "cope"), custom_id)
    ).message()
    assert "continues in Discord" in told.content
    assert len(fake.threads_in(forum)) == before + 1


async def test_imported_questions_are_in_unanswered_and_autocomplete(scene: Scene) -> None:
    unanswered = await scene.bob.slash("unanswered", {}, channel=scene.fake.general)
    page = (await unanswered.message()).embeds[0]["description"]
    assert "Question " in page and IMPORTED_MARK in page
    choices = await scene.bob.autocomplete("search", {"query": "Question"}, focused="query")
    assert any(c["name"].endswith("how do I cope?") for c in choices)


async def test_a_native_question_has_no_continue_button(scene: Scene) -> None:
    await ask_question_directly(scene.harness, scene.alice, "Exams again", "Exams scare me.")
    reply = await search(scene, scene.bob, "exams")
    assert "Exams again" in reply.embeds[0]["description"]
    assert continue_ids(reply) == {}
    assert IMPORTED_MARK not in reply.embeds[0]["description"]


# --------------------------------------------------------------------------- --publish N

THREADS_ROUTE = "/channels/{channel_id}/threads"


async def most_viewed(scene: Scene, count: int) -> list[int]:
    async def read(session: object) -> list[int]:
        assert hasattr(session, "scalars")
        rows = await session.scalars(
            select(Post.id)
            .join(ImportedPost, ImportedPost.post_id == Post.id)
            .where(Post.kind == "question", Post.removed_at.is_(None))
            .order_by(ImportedPost.views.desc(), Post.id)
            .limit(count)
        )
        return list(rows)

    return await run_domain(scene.harness, read)


async def with_threads(scene: Scene) -> dict[int, int]:
    async def read(session: object) -> dict[int, int]:
        assert hasattr(session, "execute")
        rows = await session.execute(
            select(Post.id, Post.thread_id)
            .join(ImportedPost, ImportedPost.post_id == Post.id)
            .where(Post.kind == "question", Post.thread_id.is_not(None))
        )
        return {row.id: row.thread_id for row in rows}

    return await run_domain(scene.harness, read)


async def publish(scene: Scene, count: int) -> tuple[int, str]:
    out = io.StringIO()
    created = await publish_imported(
        scene.harness.settings, guild_id=scene.guild_id, count=count, out=out
    )
    return created, out.getvalue()


async def test_publish_opens_the_most_viewed_within_the_rate_limit_and_resumes(
    scene: Scene, discord_sleep: SleepLog
) -> None:
    fake, forum = scene.fake, scene.fake.forum
    assert forum is not None
    # Two posts per ten minutes (discord_sleep makes a wait 1000 times shorter).
    fake.ratelimits.limit("POST", THREADS_ROUTE, limit=2, window=600.0)
    created, printed = await publish(scene, 3)
    assert created == 3 and "3 imported questions published" in printed
    assert "threads" in printed  # the progress bar
    top = await most_viewed(scene, 5)
    assert set(await with_threads(scene)) == set(top[:3])
    # discord.py waited out the bucket rather than being refused.
    assert discord_sleep.waits and not fake.ratelimits.limited

    # Stopped by a refusal: nothing half-made, one sentence, the claim let go.
    fake.faults.fail("POST", THREADS_ROUTE, code=50013, times=1)
    with pytest.raises(PublishStopped, match="run the same command again"):
        await publish(scene, 2)
    assert set(await with_threads(scene)) == set(top[:3])

    # The re-run skips what has a thread and goes on with the next most viewed.
    created, _ = await publish(scene, 2)
    assert created == 2
    threads = await with_threads(scene)
    assert set(threads) == set(top)
    assert len(set(threads.values())) == 5 == len(fake.threads_in(forum))
