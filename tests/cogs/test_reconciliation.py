"""Reconciliation on a new session, end to end through the fake Discord on both backends: what
members did while the bot was stopped (or while its session was lost) counts once it is back -
answers and comments with their DMs, edits and deletes, native posts (archived ones too), pending
rows completed or discarded - within the request budget, the rest finished by the next run; a
second READY with nothing missed pages no thread history."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import utc_now
from bot.db.models import Post
from bot.forum import posts, questions, reconcile
from bot.forum.reconcile import RunSummary
from bot.forum.results import PostSnapshot
from bot.ui.admin import reconciliation_line
from bot.ui.embeds import footer_key_text
from bot.workers.status_lines import question_message_embed
from tests.cogs.conftest import (
    AskedQuestion,
    BotEvents,
    ask_question_directly,
    configure_qa_guild,
    run_domain,
    thread_message_handled,
)
from tests.fakediscord import FakeDiscord
from tests.fakediscord.actors import Member
from tests.fakediscord.fixtures import BotFactory, BotHarness

HISTORY = ("GET", "/channels/{channel_id}/messages")
EVENTS = ("qa_reconciled", "qa_thread_message")
ANSWER = "Breathe slowly, four seconds in and six out."


@dataclass
class Scene:
    fake: FakeDiscord
    factory: BotFactory
    db_url: str
    harness: BotHarness
    events: BotEvents
    settings: dict[str, Any]

    async def stop(self) -> None:
        await self.harness.close()
        self.events.close()

    async def start(self) -> RunSummary:
        """A new bot process on the same database; returns its first run's summary."""
        self.harness = await self.factory(
            database_url=self.db_url, wait_ready=False, **self.settings
        )
        self.events = BotEvents(self.harness, *EVENTS)
        return await self.next_run()

    async def next_run(self) -> RunSummary:
        # A generous bound: a new session and a run take a few requests, slow on a busy machine.
        _, summary = await self.events.wait_for("qa_reconciled", timeout=30)
        self.events.seen.clear()
        await self.harness.bot.notifier.wait_idle()
        assert isinstance(summary, RunSummary)
        return summary

    async def new_session(self) -> RunSummary:
        """The fake ends the session (op 9, not resumable): the bot IDENTIFYs again."""
        self.events.seen.clear()
        self.fake.faults.invalidate_session(0, resumable=False)
        return await self.next_run()

    async def post(self, message_id: int) -> Post | None:
        async with self.harness.sessionmaker() as session:
            return (
                await session.execute(select(Post).where(Post.message_id == message_id))
            ).scalar_one_or_none()

    async def questions_in(self, thread_id: int) -> list[Post]:
        async with self.harness.sessionmaker() as session:
            stmt = select(Post).where(Post.thread_id == thread_id, Post.kind == "question")
            return list((await session.execute(stmt)).scalars())


async def _scene(db_url: str, fake: FakeDiscord, factory: BotFactory, **settings: Any) -> Scene:
    harness = await factory(database_url=db_url, wait_ready=False, **settings)
    events = BotEvents(harness, *EVENTS)
    made = Scene(fake, factory, db_url, harness, events, settings)
    await made.next_run()
    await configure_qa_guild(harness)
    return made


@pytest.fixture
async def scene(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    yield await _scene(db_url, fake_discord, qa_bot_factory)


async def _ask(scene: Scene, name: str = "alice") -> AskedQuestion:
    assert scene.fake.guild is not None
    return await ask_question_directly(scene.harness, scene.fake.add_member(scene.fake.guild, name))


def _member(scene: Scene, name: str) -> Member:
    assert scene.fake.guild is not None
    return scene.fake.add_member(scene.fake.guild, name)


async def test_answers_and_comments_posted_while_stopped_count_with_their_dm(
    scene: Scene,
) -> None:
    fake = scene.fake
    asked = await _ask(scene)
    await scene.stop()
    bob, carol = _member(scene, "bob"), _member(scene, "carol")
    answer = await bob.send(asked.thread, ANSWER)
    comment = await carol.send(asked.thread, "Thanks, that helps", reply_to=answer)

    summary = await scene.start()

    stored_answer, stored_comment = await scene.post(answer.id), await scene.post(comment.id)
    assert stored_answer is not None and stored_answer.kind == "answer"
    assert stored_comment is not None and stored_comment.kind == "comment"
    assert stored_comment.parent_id == stored_answer.id
    assert len(fake.dms_to(asked.asker)) == 1  # the asker hears of the answer, once
    assert summary.questions_scanned == 1 and summary.messages_backfilled == 2
    assert summary.complete

    again = await scene.new_session()  # nothing new: nothing back-filled, no DM repeated
    assert again.messages_backfilled == 0
    assert len(fake.dms_to(asked.asker)) == 1


async def test_a_second_ready_without_a_gap_pages_no_history(scene: Scene) -> None:
    asked = await _ask(scene)
    bob = _member(scene, "bob")
    live = await bob.send(asked.thread, ANSWER)
    await thread_message_handled(scene.events, live)
    # The thread's last message is the bot's own: seen live, so no page is needed either.
    own = scene.fake.world.post_message(asked.thread, scene.fake.bot_user.id, {"content": "ok"})
    await thread_message_handled(scene.events, own)
    mark = scene.fake.mark()

    summary = await scene.new_session()

    assert summary.questions_scanned == 1 and summary.messages_backfilled == 0
    assert scene.fake.find_calls(*HISTORY, since=mark) == []


async def test_a_second_ready_after_a_gap_pages_the_missed_messages(scene: Scene) -> None:
    asked = await _ask(scene)
    bob = _member(scene, "bob")
    mark = scene.fake.mark()
    scene.events.seen.clear()
    async with scene.fake.paused():
        scene.fake.faults.invalidate_session(0, resumable=False)
        missed = await bob.send(asked.thread, ANSWER)  # its MESSAGE_CREATE is lost
    summary = await scene.next_run()

    assert summary.messages_backfilled == 1
    stored = await scene.post(missed.id)
    assert stored is not None and stored.kind == "answer"
    assert [c.id("channel_id") for c in scene.fake.find_calls(*HISTORY, since=mark)] == [
        asked.thread.id
    ]


async def test_edits_and_deletes_made_while_stopped_are_caught(scene: Scene) -> None:
    asked = await _ask(scene)
    bob, carol, dave = _member(scene, "bob"), _member(scene, "carol"), _member(scene, "dave")
    kept = await bob.send(asked.thread, ANSWER)
    gone = await carol.send(asked.thread, "Go for a walk before you start to study.")
    untouched = await dave.send(asked.thread, "Sleep well the night before the exam.")
    for message in (kept, gone, untouched):
        await thread_message_handled(scene.events, message)
    await scene.stop()
    await bob.edit(kept, "Breathe slowly: four seconds in, six seconds out.")
    await carol.delete(gone)
    await dave.send(asked.thread, "And eat something light before it, too.")

    await scene.start()

    edited, deleted, same = [await scene.post(m.id) for m in (kept, gone, untouched)]
    assert edited is not None and edited.body == "Breathe slowly: four seconds in, six seconds out."
    assert deleted is not None and deleted.deleted_at is not None
    assert same is not None and same.deleted_at is None
    assert same.body == "Sleep well the night before the exam."


async def test_native_posts_made_while_stopped_are_adopted_archived_ones_too(
    scene: Scene,
) -> None:
    fake = scene.fake
    assert fake.forum is not None
    await scene.stop()
    erin, fred = _member(scene, "erin"), _member(scene, "fred")
    open_post = await erin.create_post(fake.forum, "Panic at night", "It wakes me up.")
    archived = await fred.create_post(fake.forum, "Exam nerves", "Every single time.")
    await fred.edit_thread(archived, archived=True)

    summary = await scene.start()

    for thread in (open_post, archived):
        (question,) = await scene.questions_in(thread.id)
        assert question.state == "live" and question.message_id == thread.id
    assert summary.questions_scanned == 2


async def test_pending_rows_are_completed_from_discord_or_discarded(scene: Scene) -> None:
    fake = scene.fake
    asked = await _ask(scene)
    bob = _member(scene, "bob")
    guild_id = asked.question.guild_id

    async def pending_answer() -> int:
        change = await run_domain(
            scene.harness,
            lambda s: posts.post_answer(
                s,
                post=posts.MemberPost(
                    guild_id, author_id=bob.id, body=ANSWER, question_id=asked.id
                ),
            ),
        )
        return change.post.id

    posted, lost = await pending_answer(), await pending_answer()
    # The bot's message for ``posted`` reached Discord; its commit did not.
    body = {"embeds": [{"description": ANSWER, "footer": {"text": footer_key_text(posted)}}]}
    message = fake.world.post_message(asked.thread, fake.bot_user.id, body)
    await scene.stop()

    await scene.start()

    async with scene.harness.sessionmaker() as session:
        completed = await session.get(Post, posted)
        discarded = await session.get(Post, lost)
    assert completed is not None and completed.state == "live"
    assert completed.message_id == message.id
    assert discarded is None  # gone: it no longer counts toward bob's hourly limit
    assert len(fake.dms_to(asked.asker)) == 1


async def test_the_budget_is_respected_and_the_rest_finished_next_run(
    db_url: str,
    fake_discord: FakeDiscord,
    qa_bot_factory: BotFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Two requests list the forum's threads, then one history page per thread.
    scene = await _scene(db_url, fake_discord, qa_bot_factory, reconcile_request_budget=4)
    asked = [await _ask(scene, name) for name in ("alice", "amy", "ann")]
    await scene.stop()
    bob = _member(scene, "bob")
    missed = [await bob.send(a.thread, ANSWER) for a in asked]

    with caplog.at_level(logging.INFO, logger="bot.workers.reconciler"):
        first = await scene.start()
        assert first.requests_used == 4 and not first.complete
        assert first.messages_backfilled == 2
        second = await scene.new_session()

    assert second.complete and second.messages_backfilled == 1 and second.requests_used == 3
    for message in missed:
        stored = await scene.post(message.id)
        assert stored is not None and stored.kind == "answer"
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("reconciled")]
    assert lines[-1].startswith(
        "reconciled shard 0: 3 questions scanned, 1 messages back-filled, "
        "0 votes back-filled, 3 requests used, "
    )
    assert "budget spent" in lines[-2]
    async with scene.harness.sessionmaker() as session:
        stored_run = await reconcile.last_run(session, asked[0].question.guild_id)
    assert stored_run is not None and stored_run.complete and stored_run.requests_used == 3


async def test_qa_status_shows_the_last_run(scene: Scene) -> None:
    fake = scene.fake
    assert fake.owner is not None
    asked = await _ask(scene)
    await scene.stop()
    await _member(scene, "bob").send(asked.thread, ANSWER)
    await scene.start()

    ix = await fake.owner.slash("qa status", channel=fake.general)
    [embed] = (await ix.message()).embeds
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    line = fields["Last reconciliation"]
    assert line.startswith("<t:") and line.endswith(" s")
    assert "1 questions scanned, 1 messages and 0 votes back-filled, 3 requests" in line


def test_the_status_line_before_any_run_and_after_a_run_out_of_budget() -> None:
    assert reconciliation_line(None) == "Not run yet"
    cut = RunSummary(questions_scanned=3, requests_used=4, complete=False, finished_at=utc_now())
    assert reconciliation_line(cut).endswith(
        "3 questions scanned, 0 messages and 0 votes back-filled, 4 requests, 0.0 s "
        "(request budget spent: the rest is done by the next run)"
    )


async def test_a_pending_ask_is_completed_from_its_forum_post_or_discarded(scene: Scene) -> None:
    fake = scene.fake
    assert fake.forum is not None and fake.guild is not None
    alice = _member(scene, "alice")
    guild_id, forum_id = fake.guild.id, fake.forum.id

    async def pending_question(title: str) -> PostSnapshot:
        change = await run_domain(
            scene.harness,
            lambda s: questions.create_question(
                s,
                guild_id=guild_id,
                author_id=alice.id,
                asked=questions.AskedQuestion(title=title, details="It keeps me awake."),
                via_bot=True,
                forum_id=forum_id,
                state="pending",
            ),
        )
        return change.post

    posted = await pending_question("Why do I wake at 4 am?")
    lost = await pending_question("Is napping bad for me?")
    await scene.stop()
    # /ask's forum post reached Discord (its starter carries the row's key); its commit did not.
    thread = fake.world.create_thread(
        fake.forum, name="Why do I wake at 4 am?", owner_id=fake.bot_user.id
    )
    embed = question_message_embed(posted, "alice")
    fake.world.post_message(
        thread, fake.bot_user.id, {"embeds": [embed.to_dict()]}, message_id=thread.id
    )

    await scene.start()

    (question,) = await scene.questions_in(thread.id)
    assert question.id == posted.id and question.state == "live"
    assert question.message_id == thread.id
    async with scene.harness.sessionmaker() as session:
        assert await session.get(Post, lost.id) is None


async def test_a_resume_replays_what_was_missed_and_reconciles_nothing(scene: Scene) -> None:
    asked = await _ask(scene)
    bob = _member(scene, "bob")
    resumed = BotEvents(scene.harness, "shard_resumed")
    mark = scene.fake.mark()
    async with scene.fake.paused():
        await scene.fake.faults.drop_connection()
        missed = await bob.send(asked.thread, ANSWER)  # buffered: the RESUME replays it
    await resumed.wait_for("shard_resumed")
    change = await thread_message_handled(scene.events, missed)
    await scene.harness.bot.reconciler.wait_idle()

    assert change is not None and change.post.kind == "answer"
    assert scene.events.of("qa_reconciled") == []
    assert len(scene.fake.gateway.identifies) == 1  # the session went on: no new IDENTIFY
    assert scene.fake.find_calls(*HISTORY, since=mark) == []
    resumed.close()


async def test_a_request_that_hangs_is_cut_off_and_the_next_run_catches_up(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    scene = await _scene(db_url, fake_discord, qa_bot_factory, reconcile_request_timeout=0.2)
    asked = await _ask(scene)
    await scene.stop()
    missed = await _member(scene, "bob").send(asked.thread, ANSWER)
    release = asyncio.Event()

    async def hang_history(call: Any) -> None:
        if call.method == "GET" and call.route == HISTORY[1] and not release.is_set():
            await release.wait()  # Discord does not answer, until released

    fake_discord.rest.interceptors.append(hang_history)
    first = await scene.start()
    assert first.messages_backfilled == 0 and await scene.post(missed.id) is None
    release.set()
    second = await scene.new_session()
    assert second.messages_backfilled == 1
    stored = await scene.post(missed.id)
    assert stored is not None and stored.kind == "answer"


async def test_a_re_page_cut_by_the_budget_is_done_by_the_next_run(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    # Two requests list the threads, one pages the missed message: none is left to re-page.
    scene = await _scene(db_url, fake_discord, qa_bot_factory, reconcile_request_budget=3)
    asked = await _ask(scene)
    bob, dave = _member(scene, "bob"), _member(scene, "dave")
    gone = await bob.send(asked.thread, ANSWER)
    await thread_message_handled(scene.events, gone)
    await scene.stop()
    await bob.delete(gone)
    await dave.send(asked.thread, "Sleep well the night before the exam.")

    first = await scene.start()
    assert not first.complete and first.messages_backfilled == 1
    stored = await scene.post(gone.id)
    assert stored is not None and stored.deleted_at is None  # not re-paged yet

    second = await scene.new_session()
    assert second.complete and second.requests_used == 3  # the listing, then the re-page
    stored = await scene.post(gone.id)
    assert stored is not None and stored.deleted_at is not None


async def test_a_thread_deleted_while_stopped_deletes_its_question(scene: Scene) -> None:
    asked, kept = await _ask(scene), await _ask(scene, "bob")
    await scene.stop()
    scene.fake.world.delete_thread(asked.thread)  # no session: THREAD_DELETE reaches nobody
    scene.harness = await scene.factory(database_url=scene.db_url, wait_ready=False)
    synced = BotEvents(scene.harness, "qa_synced")
    scene.events = BotEvents(scene.harness, *EVENTS)
    # The catch-up pages the thread, Discord answers 404 10003: the question is deleted.
    await synced.wait_for("qa_synced", lambda kind, *_: kind == "gone", timeout=10)
    gone, still = await scene.post(asked.starter.id), await scene.post(kept.starter.id)
    assert gone is not None and gone.deleted_at is not None
    assert still is not None and still.deleted_at is None
    synced.close()


async def test_missing_access_to_one_thread_deletes_nothing_and_the_others_catch_up(
    scene: Scene,
) -> None:
    first, second = await _ask(scene), await _ask(scene, "bob")
    await scene.stop()
    carol = _member(scene, "carol")
    for asked in (first, second):
        await carol.send(asked.thread, ANSWER)
    # The most recently active thread is caught up first: access to it is refused.
    refused = scene.fake.faults.fail(
        *HISTORY, code=50001, times=None, where=lambda c: c.id("channel_id") == second.thread.id
    )
    summary = await scene.start()
    assert refused.hits and summary.messages_backfilled == 1
    for asked in (first, second):
        stored = await scene.post(asked.starter.id)
        assert stored is not None and stored.deleted_at is None
