"""Discord's faults on the bot's REST calls, class by class (``tests/rest_inventory.py`` names
these tests for each class of call), end to end through the fake Discord on both backends:
429 per route and global (discord.py waits and retries: nothing lost), 5xx (retried) and a
request with no answer (bounded by ``REST_REQUEST_TIMEOUT``: a sentence, not a hang), 403 50013
(the moderators told once which permission is missing), 404 10003 / 10008 for a thread or
message deleted behind the bot's back (the question deleted; never on 403 50001), 10062 and
40060 on interaction callbacks, 160005 in a locked thread. No fault logs an unhandled error (the
fixtures fail the test on one), and every interaction is answered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.models import Post
from bot.errors import ANSWERED_ALREADY, DISCORD_FAILED
from tests.cogs.conftest import (
    AskedQuestion,
    BotEvents,
    add_forum_tag,
    ask_question_directly,
    configure_qa_guild,
)
from tests.fakediscord import FakeDiscord, InteractionHandle, Member, Message
from tests.fakediscord.clock import SleepLog
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.fakediscord.model import Channel

CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"
FOLLOWUP = "/webhooks/{webhook_id}/{webhook_token}"
MESSAGES = "/channels/{channel_id}/messages"
MESSAGE = "/channels/{channel_id}/messages/{message_id}"
OWN_REACTION = "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me"
#: Every request bounded this tightly here (production: 60 s).
TIMEOUT = 3.0


@dataclass
class Scene:
    fake: FakeDiscord
    harness: BotHarness
    asker: Member
    voter: Member
    mods: Channel
    events: BotEvents

    async def question(self, title: str = "How do I calm down before an exam?") -> AskedQuestion:
        return await ask_question_directly(self.harness, self.asker, title)

    async def post(self, post_id: int) -> Post:
        async with self.harness.sessionmaker() as session:
            row = await session.get(Post, post_id)
            assert row is not None
            return row

    async def profile(self) -> InteractionHandle:
        return await self.asker.slash("profile", channel=self.fake.general)

    async def ask(self, title: str) -> Message:
        ix = await self.asker.slash("ask", {}, channel=self.fake.general)
        submitted = await ix.submit_modal({"title": title, "details": "Details."})
        return await submitted.message()


@pytest.fixture
async def scene(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory, discord_sleep: SleepLog
) -> AsyncIterator[Scene]:
    fake = fake_discord
    assert fake.guild is not None
    solved = add_forum_tag(fake, "Solved")
    mods = fake.add_text_channel(fake.guild, "mods")
    asker = fake.add_member(fake.guild, "asker")
    voter = fake.add_member(fake.guild, "voter")
    harness = await qa_bot_factory(database_url=db_url, rest_request_timeout=TIMEOUT)
    await configure_qa_guild(
        harness, solved_tag_id=solved, mod_channel_id=mods.id, questions_per_hour=1000
    )
    events = BotEvents(harness, "qa_synced")
    yield Scene(fake, harness, asker, voter, mods, events)
    events.close()


def bot_messages(fake: FakeDiscord, channel: Channel) -> list[Message]:
    return [m for m in fake.messages_in(channel) if m.author_id == fake.bot_user.id]


# --------------------------------------------------------------------- interaction responses


async def test_interaction_answers_survive_rate_limits_per_route_and_global(
    scene: Scene,
) -> None:
    # The webhook adapter (interaction callbacks and followups) waits in real time, within the
    # 3 s an interaction has: short waits here.
    fake = scene.fake
    per_route = fake.faults.rate_limit("POST", CALLBACK, retry_after=0.2)
    shared = fake.faults.rate_limit("POST", FOLLOWUP, retry_after=0.2, is_global=True)
    ix = await scene.profile()
    reply = await ix.message()
    assert reply.ephemeral and "points" in reply.embed_text().lower()
    assert len(per_route.hits) == 1 and len(shared.hits) == 1
    assert [c.status for c in fake.find_calls("POST", FOLLOWUP)] == [429, 200]


async def test_a_rate_limit_discord_py_does_not_wait_out_is_one_sentence(scene: Scene) -> None:
    # Cloudflare's 429 (no Via header): discord.py raises it at once instead of retrying.
    fake = scene.fake
    fake.faults.rate_limit("POST", FOLLOWUP, retry_after=30, via=False)
    ix = await scene.profile()
    reply = await ix.message()
    assert reply.ephemeral and reply.content == DISCORD_FAILED


async def test_interaction_answers_survive_5xx_and_a_request_with_no_answer_is_bounded(
    scene: Scene, discord_sleep: SleepLog
) -> None:
    fake = scene.fake
    # The webhook adapter retries a 5xx after 1 s (real time, within the bound).
    failing = fake.faults.fail("POST", FOLLOWUP, status=502, times=1)
    ix = await scene.profile()
    assert "points" in (await ix.message()).embed_text().lower()
    assert len(failing.hits) == 1
    # The followup gets no answer at all: bounded, then the member gets one sentence.
    stuck = fake.faults.delay("POST", FOLLOWUP, 30, times=1)
    ix = await scene.profile()
    sentence = await ix.message()  # the first followup that arrives stands for the answer
    assert sentence.content == DISCORD_FAILED
    assert sentence.ephemeral and len(stuck.hits) == 1
    stuck.cancel()


async def test_an_expired_interaction_is_logged_and_the_next_one_answered(scene: Scene) -> None:
    fake = scene.fake
    expired = fake.faults.fail("POST", CALLBACK, code=10062, times=1)
    await scene.profile()
    await fake.wait_until(lambda: expired.hits or None, what="the 10062")
    ix = await scene.profile()
    assert (await ix.message()).ephemeral  # the bot carries on; no error was logged


async def test_an_interaction_already_acknowledged_is_answered_by_a_followup(scene: Scene) -> None:
    # The defer takes effect, but the bot is told 40060 (as after a lost answer and a retry).
    fake = scene.fake
    fake.faults.fail("POST", CALLBACK, code=40060, times=1, lost_response=True)
    ix = await scene.profile()
    reply = await ix.message()
    assert reply.ephemeral and reply.content == ANSWERED_ALREADY


# --------------------------------------------------------------------- posts in threads, notices


async def test_a_missing_permission_is_told_to_the_moderators_once(scene: Scene) -> None:
    fake = scene.fake
    assert fake.forum is not None
    deny = fake.overwrite(fake.bot_user, deny=["add_reactions"])
    fake.edit_channel(fake.forum, permission_overwrites=[deny])
    await fake.flush()
    for title in ("Sleep paralysis at night", "Dentist fear"):
        reply = await scene.ask(title)
        assert "Your question is posted" in reply.content
    refusals = fake.find_calls("PUT", OWN_REACTION, where=lambda c: c.status == 403)
    assert len(refusals) == 4  # two emoji on two questions
    await scene.harness.bot.permission_notices.wait_idle()
    (notice,) = bot_messages(fake, scene.mods)
    assert "Add Reactions" in notice.content and f"<#{fake.forum.id}>" in notice.content
    assert notice.mentions == [] and not notice.mention_everyone


async def test_without_a_moderator_channel_the_next_setup_reply_tells(scene: Scene) -> None:
    fake = scene.fake
    assert fake.forum is not None
    await configure_qa_guild(scene.harness, mod_channel_id=None)
    deny = fake.overwrite(fake.bot_user, deny=["add_reactions"])
    fake.edit_channel(fake.forum, permission_overwrites=[deny])
    await fake.flush()
    await scene.ask("A question while reactions are refused")
    await scene.harness.bot.permission_notices.wait_idle()
    assert fake.owner is not None
    setup = await fake.owner.slash("qa setup", {"forum": fake.forum}, channel=fake.general)
    assert "Discord refused the bot in" in (await setup.message()).embed_text()
    again = await fake.owner.slash("qa setup", {"forum": fake.forum}, channel=fake.general)
    assert "Discord refused the bot in" not in (await again.message()).embed_text()


async def test_a_moderator_channel_refusing_the_bot_hands_the_notices_to_setup(
    scene: Scene,
) -> None:
    fake = scene.fake
    assert fake.forum is not None and fake.owner is not None
    fake.edit_channel(
        scene.mods, permission_overwrites=[fake.overwrite(fake.bot_user, deny=["send_messages"])]
    )
    deny = fake.overwrite(fake.bot_user, deny=["add_reactions"])
    fake.edit_channel(fake.forum, permission_overwrites=[deny])
    await fake.flush()
    await scene.ask("A question while reactions are refused")
    await scene.harness.bot.permission_notices.wait_idle()
    assert bot_messages(fake, scene.mods) == []
    setup = await fake.owner.slash("qa setup", {"forum": fake.forum}, channel=fake.general)
    text = (await setup.message()).embed_text()
    assert f"in <#{fake.forum.id}>: it lacks Add Reactions" in text
    assert f"in <#{scene.mods.id}>: it lacks Send Messages" in text


@pytest.mark.parametrize(("code", "word"), [(160005, "locked"), (50083, "archived")])
async def test_a_locked_thread_refusal_is_one_sentence_and_nothing_is_stored(
    scene: Scene, code: int, word: str
) -> None:
    fake = scene.fake
    asked = await scene.question()
    fake.faults.fail(
        "POST", MESSAGES, code=code, where=lambda c: c.id("channel_id") == asked.thread.id
    )
    ix = await scene.voter.slash("answer", channel=asked.thread)
    done = await ix.submit_modal({"answer": "Breathe slowly, four in and six out."})
    reply = await done.message()
    assert reply.ephemeral and word in reply.content
    async with scene.harness.sessionmaker() as session:
        kinds = (await session.execute(select(Post.kind, Post.state))).all()
    assert [tuple(k) for k in kinds] == [("question", "live")]


async def test_posts_in_threads_survive_rate_limits_and_5xx(
    scene: Scene, discord_sleep: SleepLog
) -> None:
    fake = scene.fake
    asked = await scene.question()
    in_thread: Any = lambda c: c.id("channel_id") == asked.thread.id  # noqa: E731
    limited = fake.faults.rate_limit(
        "POST", MESSAGES, retry_after=1.0, is_global=True, where=in_thread
    )
    ix = await scene.voter.slash("answer", channel=asked.thread)
    assert (
        "posted"
        in (await (await ix.submit_modal({"answer": "Count to ten first."})).message()).content
    )
    failing = fake.faults.fail("POST", MESSAGES, status=500, times=2, where=in_thread)
    ix = await scene.voter.slash("answer", channel=asked.thread)
    assert (
        "posted"
        in (await (await ix.submit_modal({"answer": "Then walk a little."})).message()).content
    )
    assert limited.hits and len(failing.hits) == 2
    answers = [m for m in bot_messages(fake, asked.thread) if m.embeds and m.id != asked.thread.id]
    assert len(answers) == 2  # each once


async def test_a_thread_post_with_no_answer_is_bounded_and_left_for_reconciliation(
    scene: Scene,
) -> None:
    # The post may have happened (Discord took it and never answered): the row stays pending,
    # counting nothing, until reconciliation finds the message or discards it.
    fake = scene.fake
    asked = await scene.question()
    stuck = fake.faults.delay(
        "POST", MESSAGES, 30, times=1, where=lambda c: c.id("channel_id") == asked.thread.id
    )
    ix = await scene.voter.slash("answer", channel=asked.thread)
    reply = await (await ix.submit_modal({"answer": "Sleep on it first."})).message()
    assert reply.ephemeral and reply.content == DISCORD_FAILED and len(stuck.hits) == 1
    async with scene.harness.sessionmaker() as session:
        states = (await session.execute(select(Post.kind, Post.state))).all()
    assert sorted(tuple(s) for s in states) == [("answer", "pending"), ("question", "live")]
    stuck.cancel()


# --------------------------------------------------------------------- status lines and deletions


async def vote_and_edit(scene: Scene, asked: AskedQuestion) -> None:
    """A vote moves the score: the status line is edited (its PATCH is where faults land)."""
    await scene.voter.react(asked.starter, "👍")
    await scene.harness.bot.vote_writer.wait_idle()
    await scene.harness.bot.status_lines.refresh_now(asked.id)


async def test_status_line_edits_survive_rate_limits_and_5xx(
    scene: Scene, discord_sleep: SleepLog
) -> None:
    fake = scene.fake
    asked = await scene.question()
    starter: Any = lambda c: c.id("message_id") == asked.starter.id  # noqa: E731
    fake.faults.rate_limit("PATCH", MESSAGE, retry_after=1.0, where=starter)
    fake.faults.rate_limit("PATCH", MESSAGE, retry_after=1.0, is_global=True, where=starter)
    fake.faults.fail("PATCH", MESSAGE, status=500, times=2, where=starter)  # discord.py retries
    fake.faults.fail("PATCH", MESSAGE, status=503, times=1, where=starter)  # the worker retries
    scene.harness.bot.status_lines.coalescer.interval = 0.05
    await vote_and_edit(scene, asked)
    await fake.wait_for_call("PATCH", MESSAGE, where=lambda c: starter(c) and c.status == 200)
    assert discord_sleep.requested.count(1.0) >= 2
    assert "▲ 1" in fake.message(asked.starter.id).embed_text()


async def test_missing_access_never_deletes_a_question(scene: Scene) -> None:
    fake = scene.fake
    asked = await scene.question()
    fake.faults.fail("PATCH", MESSAGE, code=50001, where=lambda c: c.id("message_id") == asked.id)
    await vote_and_edit(scene, asked)
    row = await scene.post(asked.id)
    assert row.deleted_at is None and row.state == "live"


@pytest.mark.parametrize("code", [10003, 10008])
async def test_a_question_deleted_behind_the_bots_back_is_marked_deleted(
    scene: Scene, code: int
) -> None:
    fake = scene.fake
    asked = await scene.question()
    keep = await scene.question("A question that stays")
    fake.faults.fail(
        "PATCH", MESSAGE, code=code, where=lambda c: c.id("message_id") == asked.starter.id
    )
    await vote_and_edit(scene, asked)
    await scene.events.wait_for("qa_synced", lambda kind, *_: kind == "gone")
    assert (await scene.post(asked.id)).deleted_at is not None
    assert (await scene.post(keep.id)).deleted_at is None


# --------------------------------------------------------------------- reactions


async def test_vote_reactions_survive_rate_limits_per_route_and_global(
    scene: Scene, discord_sleep: SleepLog
) -> None:
    fake = scene.fake
    per_route = fake.faults.rate_limit("PUT", OWN_REACTION, retry_after=1.0)
    shared = fake.faults.rate_limit("PUT", OWN_REACTION, retry_after=1.0, is_global=True)
    await scene.ask("Is it fine to nap in the afternoon?")
    assert fake.forum is not None
    (thread,) = fake.threads_in(fake.forum)
    starter = fake.message(thread.id)
    assert starter.reaction_users("👍") == [fake.bot_user.id]
    assert starter.reaction_users("👎") == [fake.bot_user.id]
    assert per_route.hits and shared.hits
