"""The DM notification worker end to end: the real bot, its worker and the fake Discord.

Answers are created through the domain here (the answering cog has its own tests); the worker's
clock and random source are injected where a test steps through backoff delays, so no test waits
for a retry in real time. discord.py's own retry sleeps are scaled by ``discord_sleep``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import create_engine, create_sessionmaker, is_sqlite
from bot.db.models import Notification
from bot.forum import claims, delivery, lookups, outbox, posts, prefs, questions, settings
from bot.forum.results import PostSnapshot
from bot.forum.uow import run_in_transaction
from bot.ui.authors import UNKNOWN_MEMBER
from bot.ui.text import EMBED_TOTAL
from bot.workers.notifier import Notifier, describe
from tests.bot.ui import assert_embed_within_limits, markup_left, shown
from tests.fakediscord import FakeDiscord, Member
from tests.fakediscord.clock import SleepLog
from tests.fakediscord.fixtures import BotFactory, BotHarness, BotProcess
from tests.fakediscord.model import Message
from tests.fakediscord.recorder import Call
from tests.held_writes import HeldWrite

#: The extensions of the worker tests: the worker's cog, and admin for the /qa group.
EXTENSIONS = ("cogs.admin", "cogs.notifications")
#: The worker looks every 50 ms (tests wake it or wait for its passes anyway).
FAST = {"notify_poll_seconds": 0.05}
MESSAGES = "/channels/{channel_id}/messages"
OPEN_DM = "/users/@me/channels"
ANSWER = "Breathe in for four counts, hold for four, then breathe out slowly for four."

_thread_ids = itertools.count(1)


# --------------------------------------------------------------------------- helpers


class ManualClock:
    """The worker's clock, moved by the test (it starts an hour ahead of real time, so a
    notification queued during the test is due, however slow the machine)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def to(self, when: datetime) -> None:
        self.now = max(self.now, when)


def is_dm_send(call: Call) -> bool:
    """A DM the worker sends: its nonce is a notification's."""
    body = call.json if isinstance(call.json, dict) else {}
    return str(body.get("nonce", "")).startswith("qa-n")


def dm_sends(fake: FakeDiscord, *, ok: bool | None = None, since: int = 0) -> list[Call]:
    calls = fake.find_calls("POST", MESSAGES, where=is_dm_send, since=since)
    return [c for c in calls if ok is None or c.ok == ok]


def pinged(fake: FakeDiscord, message: Message) -> bool:
    """Whether Discord notified anyone of ``message``."""
    pings = fake.rules.pings(message)
    return bool(pings.notified or pings.everyone or pings.users or pings.roles)


async def wait_for_dms(fake: FakeDiscord, member: Member, count: int, **kw: Any) -> list[Message]:
    """Until ``member`` has ``count`` DMs from the bot (fails on more)."""
    dms = await fake.wait_until(
        lambda: fake.dms_to(member) if len(fake.dms_to(member)) >= count else None,
        what=f"{count} DM(s) to {member.name}",
        **kw,
    )
    assert len(dms) == count, [m.embed_text() for m in dms]
    return dms


async def rows(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Notification]:
    async with sessionmaker() as session:
        result = await session.execute(
            select(Notification).order_by(Notification.id).execution_options(populate_existing=True)
        )
        return list(result.scalars())


@dataclass
class Scene:
    fake: FakeDiscord
    harness: BotHarness
    asker: Member
    answerer: Member

    @property
    def notifier(self) -> Notifier:
        return self.harness.bot.notifier

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        return self.harness.sessionmaker

    async def run(self, work: Callable[[AsyncSession], Any]) -> Any:
        return await run_in_transaction(self.sessionmaker, work)

    async def question(self, asker: Member | None = None, title: str = "How do I sleep?") -> int:
        """A live question (no Discord thread is needed for a DM) ; returns its id."""
        return await ask(self.sessionmaker, self.fake, (asker or self.asker).id, title)

    async def answer(
        self,
        question_id: int,
        author: Member | None = None,
        body: str = ANSWER,
        *,
        anonymous: bool = False,
        display_name: str | None = None,
    ) -> PostSnapshot:
        """A live answer, as the answering cog stores it, then the worker is woken."""
        post = await answer(
            self.sessionmaker,
            self.fake,
            question_id,
            (author or self.answerer).id,
            body,
            anonymous=anonymous,
            display_name=display_name,
        )
        self.notifier.wake()
        return post


async def ask(
    sessionmaker: async_sessionmaker[AsyncSession],
    fake: FakeDiscord,
    asker_id: int,
    title: str = "How do I sleep?",
) -> int:
    assert fake.guild is not None and fake.forum is not None
    # A thread that exists: reconciliation deletes a question whose thread Discord says is gone.
    thread_id = fake.world.create_thread(fake.forum, name=title, owner_id=asker_id).id
    change = await run_in_transaction(
        sessionmaker,
        lambda s: questions.create_question(
            s,
            guild_id=fake.guild.id,
            author_id=asker_id,
            asked=questions.AskedQuestion(title=title, details="I lie awake for hours."),
            via_bot=False,
            thread_id=thread_id,
            message_id=thread_id,
            state="live",
        ),
    )
    return int(change.post.id)


async def answer(
    sessionmaker: async_sessionmaker[AsyncSession],
    fake: FakeDiscord,
    question_id: int,
    author_id: int,
    body: str = ANSWER,
    *,
    anonymous: bool = False,
    display_name: str | None = None,
) -> PostSnapshot:
    assert fake.guild is not None
    guild_id = fake.guild.id
    message_id = fake.ids.next()
    if anonymous:
        change = await run_in_transaction(
            sessionmaker,
            lambda s: posts.post_answer(
                s,
                post=posts.MemberPost(
                    guild_id,
                    author_id=author_id,
                    body=body,
                    question_id=question_id,
                    anonymous=True,
                ),
                display_name=display_name,
                message_id=message_id,
                state="live",
            ),
        )
        return change.post

    async def work(session: AsyncSession) -> PostSnapshot:
        question = await lookups.get_question(session, question_id=question_id)
        assert question.thread_id is not None
        change = await posts.record_thread_message(
            session,
            guild_id=guild_id,
            thread_id=question.thread_id,
            message_id=message_id,
            author_id=author_id,
            body=body,
        )
        assert change is not None and change.post.kind == "answer"
        return change.post

    return await run_in_transaction(sessionmaker, work)


async def configure(
    sessionmaker: async_sessionmaker[AsyncSession], guild_id: int, **values: Any
) -> None:
    values = {"questions_per_hour": 10_000, "answers_per_hour": 10_000, **values}
    for key, value in values.items():
        await run_in_transaction(
            sessionmaker,
            lambda s, key=key, value=value: settings.set_setting(s, guild_id, key, value),
        )


async def make_scene(
    fake: FakeDiscord, factory: BotFactory, *, coalesce: int = 0, **overrides: Any
) -> Scene:
    harness = await factory(extensions=list(EXTENSIONS), **{**FAST, **overrides})
    assert fake.guild is not None
    await configure(harness.sessionmaker, fake.guild.id, notify_coalesce_seconds=coalesce)
    return Scene(
        fake,
        harness,
        fake.add_member(fake.guild, "alice"),
        fake.add_member(fake.guild, "bob"),
    )


@pytest.fixture
async def scene(fake_discord: FakeDiscord, qa_bot_factory: BotFactory) -> Scene:
    return await make_scene(fake_discord, qa_bot_factory)


def manual_time(scene: Scene, seed: int = 1) -> ManualClock:
    clock = ManualClock()
    scene.notifier.clock = clock
    scene.notifier.rng = random.Random(seed)
    return clock


# --------------------------------------------------------------------------- sending


async def test_a_dm_is_one_request_with_a_nonce_pings_nobody_and_links_the_answer(
    scene: Scene,
) -> None:
    fake = scene.fake
    question_id = await scene.question()
    mark = fake.mark()
    post = await scene.answer(question_id)
    [dm] = await wait_for_dms(fake, scene.asker, 1)
    await scene.notifier.wait_idle()
    [row] = await rows(scene.sessionmaker)
    assert (row.status, row.attempts, row.sent_message_id) == ("sent", 1, dm.id)
    assert dm.nonce == f"qa-n{row.id}"
    [send] = dm_sends(fake, since=mark)
    assert send.json["enforce_nonce"] is True
    assert send.json["allowed_mentions"] == {"parse": []}
    assert not pinged(fake, dm)
    [embed] = dm.embeds
    assert embed["title"] == "New answer to “How do I sleep?”"
    assert embed["description"] == f"**{UNKNOWN_MEMBER}** answered:\n>>> {ANSWER}"
    [[button]] = [row["components"] for row in dm.components]
    assert button["label"] == "Open the answer"
    assert button["url"] == (
        f"https://discord.com/channels/{post.guild_id}/{post.thread_id}/{post.message_id}"
    )
    # The DM channel was opened once and remembered: the next DMs cost one request each.
    await scene.answer(await scene.question(title="Second"))
    await scene.answer(await scene.question(title="Third"))
    await wait_for_dms(fake, scene.asker, 3)
    assert len(fake.find_calls("POST", OPEN_DM, since=mark)) == 1
    async with scene.sessionmaker() as session:
        cached = (await prefs.get_prefs(session, scene.asker.id)).dm_channel_id
    assert cached == fake.dm_channel(scene.asker).id


async def test_claims_and_records_run_in_the_writing_thread_on_an_sqlite_file_only(
    db_url: str,
    fake_discord: FakeDiscord,
    qa_bot_factory: BotFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scene = await make_scene(fake_discord, qa_bot_factory, database_url=db_url)
    where: dict[str, set[str]] = {"claim": set(), "record": set()}
    plan_claim, write_claim = claims.plan_claim, claims.write_claim
    mark_many_sent = delivery.mark_many_sent

    async def planning(session: AsyncSession, **kwargs: Any) -> claims.ClaimPlan:
        where["claim"].add(threading.current_thread().name)
        return await plan_claim(session, **kwargs)

    async def claiming(session: AsyncSession, plan: claims.ClaimPlan) -> Any:
        where["claim"].add(threading.current_thread().name)
        return await write_claim(session, plan)

    async def recording(session: AsyncSession, *args: Any, **kwargs: Any) -> set[int]:
        where["record"].add(threading.current_thread().name)
        return await mark_many_sent(session, *args, **kwargs)

    monkeypatch.setattr(claims, "plan_claim", planning)
    monkeypatch.setattr(claims, "write_claim", claiming)
    monkeypatch.setattr(delivery, "mark_many_sent", recording)
    await scene.answer(await scene.question())
    [dm] = await wait_for_dms(scene.fake, scene.asker, 1)
    await scene.notifier.wait_idle()
    [row] = await rows(scene.sessionmaker)
    assert (row.status, row.sent_message_id) == ("sent", dm.id)
    # On an SQLite file one hand-off each to the writing thread (``bot.db.writes``): the write
    # lock is held for the statements alone, not for turns of the event loop between them.
    expected = {"qa-write"} if is_sqlite(db_url) else {threading.main_thread().name}
    assert {name.split("_")[0] for names in where.values() for name in names} == expected
    assert where["claim"] and where["record"]


async def test_the_dm_channel_is_remembered_across_a_restart(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    fake = fake_discord
    first = await make_scene(fake, qa_bot_factory)
    await first.answer(await first.question())
    await wait_for_dms(fake, first.asker, 1)
    # The DM is in Discord before the worker has recorded it: close only once it has, or the
    # second bot would send it again (dropped by its nonce) - not what this test is about.
    await first.notifier.wait_idle()
    [row] = await rows(first.sessionmaker)
    assert row.status == "sent"
    await first.harness.close()
    second = await qa_bot_factory(extensions=list(EXTENSIONS), **FAST)
    mark = fake.mark()
    await answer(second.sessionmaker, fake, await ask(second.sessionmaker, fake, first.asker.id), 7)
    second.bot.notifier.wake()
    await wait_for_dms(fake, first.asker, 2)
    assert fake.find_calls("POST", OPEN_DM, since=mark) == []
    assert len(dm_sends(fake, since=mark)) == 1


async def test_a_stale_dm_channel_is_opened_again(scene: Scene) -> None:
    fake = scene.fake
    await scene.run(lambda s: prefs.remember_dm_channel(s, scene.asker.id, fake.ids.next()))
    await scene.answer(await scene.question())
    await wait_for_dms(fake, scene.asker, 1)
    assert [c.status for c in dm_sends(fake)] == [404, 200]
    async with scene.sessionmaker() as session:
        cached = (await prefs.get_prefs(session, scene.asker.id)).dm_channel_id
    assert cached == fake.dm_channel(scene.asker).id


async def test_an_anonymous_answer_is_never_tied_to_its_author(
    scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    fake = scene.fake
    caplog.set_level(logging.DEBUG, logger="bot")
    secret = scene.answerer
    question_id = await scene.question()
    await scene.answer(question_id, secret, anonymous=True)
    [dm] = await wait_for_dms(fake, scene.asker, 1)
    # Signed with the author's pseudonym in that thread (a chosen name is for questions only).
    assert dm.embeds[0]["description"].startswith("**Member 2** answered:")
    await scene.answer(
        await scene.question(title="Other"), secret, anonymous=True, display_name="Owl"
    )
    second = (await wait_for_dms(fake, scene.asker, 2))[1]
    assert second.embeds[0]["description"].startswith("**Member 2** answered:")
    for message in (dm, second):
        assert str(secret.id) not in str(message.embeds) + str(message.components)
        assert secret.name not in message.embed_text()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert str(secret.id) not in logged
    assert str(scene.asker.id) not in logged  # the recipient is never named with a question
    assert ANSWER not in logged


async def test_a_10000_character_markdown_answer_stays_within_the_limits_and_literal(
    scene: Scene,
) -> None:
    fake = scene.fake
    body = ("**bold** _it_ `code` ~~gone~~ ||spoiler|| > quote @everyone <@1> # head\n" * 200)[
        :10_000
    ]
    assert len(body) == 10_000
    await scene.answer(await scene.question(title="# *Title* with `markdown`"), body=body)
    [dm] = await wait_for_dms(fake, scene.asker, 1)
    data = assert_embed_within_limits(discord.Embed.from_dict(dm.embeds[0]))
    assert len(discord.Embed.from_dict(dm.embeds[0])) <= EMBED_TOTAL
    quoted = data["description"].split("\n>>> ", 1)[1]
    assert quoted.endswith("…")
    assert markup_left(quoted.removesuffix("…")) == []
    assert body.startswith(shown(quoted.removesuffix("…")).replace("@\u200b", "@"))
    assert markup_left(data["title"]) == []
    assert not pinged(fake, dm)


# --------------------------------------------------------------------------- retries


async def test_backoff_schedule_first_retry_within_seconds_capped_bounded_then_failed(
    scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    fake = scene.fake
    clock = manual_time(scene, seed=7)
    caplog.set_level(logging.WARNING, logger="bot.workers.notifier")
    fake.faults.fail("POST", MESSAGES, status=503, times=None, where=is_dm_send)
    await scene.answer(await scene.question())
    waits: list[timedelta] = []
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        await scene.notifier.wait_idle()
        [row] = await rows(scene.sessionmaker)
        assert row.attempts == attempt
        assert len(dm_sends(fake)) == attempt
        if attempt == outbox.MAX_ATTEMPTS:
            break
        assert row.status == "pending"
        waits.append(row.next_attempt_at - clock.now)
        # Not due yet: a pass just before the due time sends nothing.
        clock.to(row.next_attempt_at - timedelta(milliseconds=1))
        await scene.notifier.wait_idle()
        assert len(dm_sends(fake)) == attempt
        clock.to(row.next_attempt_at)
    assert (row.status, row.last_error) == ("failed", "HTTP 503 (code 0)")
    assert waits[0] <= timedelta(seconds=5)
    assert max(waits) <= timedelta(seconds=delivery.RETRY_BACKOFF.most)
    for n, wait in enumerate(waits, start=1):
        ceiling = delivery.backoff_delay(n)
        assert ceiling * (1 - delivery.RETRY_BACKOFF.jitter) <= wait <= ceiling
    # Failed stays failed, however long one waits.
    clock.advance(86_400)
    await scene.notifier.wait_idle()
    assert len(dm_sends(fake)) == outbox.MAX_ATTEMPTS
    assert fake.dms_to(scene.asker) == []
    # A log line per failure: ids and the status, no text, no recipient.
    failures = [r.getMessage() for r in caplog.records if "failed: HTTP 503" in r.getMessage()]
    assert len(failures) == outbox.MAX_ATTEMPTS
    assert all(f"notifications {row.id} " in line for line in failures)
    assert "given up" in failures[-1]
    assert not any(ANSWER in line or str(scene.asker.id) in line for line in failures)


async def test_5xx_then_success_delivers_exactly_once(
    scene: Scene, discord_sleep: SleepLog
) -> None:
    fake = scene.fake
    clock = manual_time(scene)
    # discord.py retries a 500 itself (sleeps 1, 3, 5 s, scaled here): one attempt of ours.
    fake.faults.fail("POST", MESSAGES, status=500, times=3, where=is_dm_send)
    await scene.answer(await scene.question())
    [dm] = await wait_for_dms(fake, scene.asker, 1)
    await scene.notifier.wait_idle()
    assert discord_sleep.requested[:3] == [1, 3, 5]
    [row] = await rows(scene.sessionmaker)
    assert (row.status, row.attempts) == ("sent", 1)
    assert {c.json["nonce"] for c in dm_sends(fake)} == {dm.nonce}
    # Six 500s: discord.py gives up after five tries and the worker retries later, once.
    mark = fake.mark()
    fake.faults.fail("POST", MESSAGES, status=500, times=5, where=is_dm_send)
    await scene.answer(await scene.question(title="Second"))
    await scene.notifier.wait_idle()
    [_, second] = await rows(scene.sessionmaker)
    assert (second.status, second.last_error) == ("pending", "HTTP 500 (code 0)")
    assert [c.status for c in dm_sends(fake, since=mark)] == [500] * 5
    clock.to(second.next_attempt_at)
    dms = await wait_for_dms(fake, scene.asker, 2)
    await scene.notifier.wait_idle()
    [_, second] = await rows(scene.sessionmaker)
    assert (second.status, second.attempts, second.sent_message_id) == ("sent", 2, dms[1].id)
    await scene.notifier.wait_idle()
    assert len(fake.dms_to(scene.asker)) == 2


async def test_a_lost_answer_from_discord_does_not_show_the_dm_twice(
    scene: Scene, discord_sleep: SleepLog
) -> None:
    fake = scene.fake
    # Discord stores the message, then the 502 loses the answer; discord.py resends the same
    # body and Discord returns the stored message for the nonce.
    fake.faults.fail("POST", MESSAGES, status=502, times=1, where=is_dm_send, lost_response=True)
    await scene.answer(await scene.question())
    [dm] = await wait_for_dms(fake, scene.asker, 1)
    await scene.notifier.wait_idle()
    sends = dm_sends(fake)
    assert [c.status for c in sends] == [502, 200]
    assert {c.json["nonce"] for c in sends} == {dm.nonce}
    assert sends[1].response["id"] == str(dm.id)
    [row] = await rows(scene.sessionmaker)
    assert (row.status, row.sent_message_id) == ("sent", dm.id)
    assert len(fake.dms_to(scene.asker)) == 1


async def test_a_timeout_is_retried_with_the_same_nonce_and_shown_once(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    fake = fake_discord
    scene = await make_scene(fake, qa_bot_factory, notify_send_timeout=0.2)
    clock = manual_time(scene)
    gate = fake.faults.hold("POST", MESSAGES, times=1, where=is_dm_send)
    await scene.answer(await scene.question())
    [held] = await gate.arrived()
    await scene.notifier.wait_idle()  # the send timed out and was scheduled again
    [row] = await rows(scene.sessionmaker)
    assert (row.status, row.last_error) == ("pending", "no answer from Discord within 0.2 s")
    scene.notifier.send_timeout = 30.0  # the retry is not raced against the machine's speed
    # Discord handles the slow request after all; the retry is then dropped by its nonce.
    gate.release()
    await fake.wait_until(lambda: held.status, what="the held request to be handled")
    clock.to(row.next_attempt_at)
    [dm] = await wait_for_dms(fake, scene.asker, 1)
    await scene.notifier.wait_idle()
    assert len(fake.dms_to(scene.asker)) == 1
    assert {c.json["nonce"] for c in dm_sends(fake)} == {dm.nonce}
    [row] = await rows(scene.sessionmaker)
    assert (row.status, row.attempts) == ("sent", 2)


async def test_rate_limits_that_outlast_discord_py_are_retried(
    scene: Scene, discord_sleep: SleepLog
) -> None:
    fake = scene.fake
    clock = manual_time(scene)
    fake.faults.rate_limit("POST", MESSAGES, retry_after=0.5, times=5, where=is_dm_send)
    await scene.answer(await scene.question())
    await scene.notifier.wait_idle()
    [row] = await rows(scene.sessionmaker)
    assert (row.status, row.last_error) == ("pending", "HTTP 429 (code 0)")
    clock.to(row.next_attempt_at)
    await wait_for_dms(fake, scene.asker, 1)


async def test_dms_closed_stop_at_once_and_mark_the_user(scene: Scene) -> None:
    fake = scene.fake
    clock = manual_time(scene)
    fake.rules.close_dms(scene.asker)
    question_id = await scene.question()
    await scene.answer(question_id)
    await scene.notifier.wait_idle()
    [row] = await rows(scene.sessionmaker)
    assert row.status == "undeliverable"
    assert row.last_error == "403 (50007): the recipient's DMs are closed"
    async with scene.sessionmaker() as session:
        assert (await prefs.get_prefs(session, scene.asker.id)).dms_closed
    # No retry, however long one waits; later answers queue nothing for them.
    clock.advance(3600)
    await scene.answer(question_id, await_member(scene, "carol"))
    await scene.notifier.wait_idle()
    assert len(dm_sends(fake)) == 1
    assert len(await rows(scene.sessionmaker)) == 1


def await_member(scene: Scene, name: str) -> Member:
    assert scene.fake.guild is not None
    return scene.fake.add_member(scene.fake.guild, name)


async def test_restart_resumes_due_retries_at_once(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    fake = fake_discord
    first = await make_scene(fake, qa_bot_factory)
    fault = fake.faults.fail("POST", MESSAGES, status=503, times=None, where=is_dm_send)
    await first.answer(await first.question())
    await first.notifier.wait_idle()
    await first.harness.close()
    [row] = await rows(first.sessionmaker)
    assert (row.status, row.attempts) == ("pending", 1)
    # Make the retry due now (as if the bot was down for a while), and Discord recovers.
    async with first.sessionmaker.begin() as session:
        stored = await session.get(Notification, row.id)
        assert stored is not None
        stored.next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)
    fault.cancel()
    mark = fake.mark()
    await qa_bot_factory(extensions=list(EXTENSIONS), notify_poll_seconds=60)
    [dm] = await wait_for_dms(fake, first.asker, 1)  # no wake-up, no poll: at start
    assert [c.status for c in dm_sends(fake, since=mark)] == [200]
    assert dm.nonce == f"qa-n{row.id}"


# --------------------------------------------------------------------------- a backlog


async def test_a_backlog_drains_in_few_transactions_each_recipient_in_order(scene: Scene) -> None:
    fake, notifier = scene.fake, scene.notifier
    assert fake.guild is not None
    await notifier.stop()
    notifier.sent_log.flush_seconds = 60.0  # records by size and at the end of a pass only
    followers = [fake.add_member(fake.guild, f"reader{n}") for n in range(notifier.batch_size)]
    followed = await scene.question(title="Followed")
    in_order = [await scene.question(title=f"Question {n}") for n in range(3)]

    channels = {m.id: fake.dm_channel(m).id for m in followers}  # known: no DM channel opened
    guild_id = fake.guild.id

    async def follow(session: AsyncSession) -> None:
        for member in followers:
            await prefs.follow(session, guild_id=guild_id, question_id=followed, user_id=member.id)
            await prefs.remember_dm_channel(session, member.id, channels[member.id])

    await scene.run(follow)
    await scene.answer(followed)  # a DM to each follower and to alice, who asked
    for question_id in in_order:
        await scene.answer(question_id)  # three more DMs to alice, in this order
    total = len(followers) + 1 + len(in_order)
    runner = scene.harness.bot.transaction_runner
    reads, writes = runner.reads, runner.writes
    notifier.start()
    await fake.wait_until(
        lambda: len(dm_sends(fake, ok=True)) >= total, what="every DM", timeout=30
    )
    await notifier.wait_idle()
    assert len(dm_sends(fake)) == total  # one request each, none twice
    for member in followers:
        assert len(fake.dms_to(member)) == 1
    stored = {row.id: row for row in await rows(scene.sessionmaker)}
    assert {row.status for row in stored.values()} == {"sent"}
    # alice's DMs went out in the order they were queued, one after another.
    nonces = [str(m.nonce) for m in fake.dms_to(scene.asker)]
    assert len(nonces) == 1 + len(in_order)
    assert nonces == sorted(nonces, key=lambda nonce: int(nonce.removeprefix("qa-n")))
    # Two passes: claims, contents read a chunk at a time, records of many DMs each (it was
    # two transactions a DM).
    assert runner.reads - reads <= 8, runner.reads - reads
    assert runner.writes - writes <= total // 4, runner.writes - writes


# --------------------------------------------------------------------------- stopping, leases


async def test_a_clean_stop_hands_claims_back_and_the_next_start_sends_once(scene: Scene) -> None:
    fake = scene.fake
    gate = fake.faults.hold("POST", MESSAGES, times=1, where=is_dm_send)
    await scene.answer(await scene.question())
    await gate.arrived()
    await scene.notifier.stop()
    assert not scene.notifier.running
    [row] = await rows(scene.sessionmaker)
    assert (row.status, row.attempts, row.claimed_by) == ("pending", 0, None)
    gate.release()  # the cut-short request reaches Discord after all
    await fake.wait_until(lambda: gate.hits[0].status, what="the held request to be handled")
    scene.notifier.start()
    [dm] = await wait_for_dms(fake, scene.asker, 1)
    await scene.notifier.wait_idle()
    assert len(fake.dms_to(scene.asker)) == 1
    assert dm.nonce == f"qa-n{row.id}"


async def test_a_stop_while_a_sent_dm_is_recorded_records_it_and_never_resends(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = scene.fake
    recording = HeldWrite()  # the record runs in the writing thread on an SQLite file
    mark_many_sent = delivery.mark_many_sent

    async def held_mark_many_sent(session: AsyncSession, *args: Any, **kwargs: Any) -> set[int]:
        await recording.hold()
        return await mark_many_sent(session, *args, **kwargs)

    monkeypatch.setattr(delivery, "mark_many_sent", held_mark_many_sent)
    await scene.answer(await scene.question())
    await recording.reached.wait()  # Discord accepted the DM; the worker is writing that down
    name = f"notifier {scene.notifier.worker_id}"
    [worker] = [t for t in asyncio.all_tasks() if t.get_name() == name]
    stopping = asyncio.create_task(scene.notifier.stop())
    await asyncio.wait([worker])  # the stop cancelled the pass in the middle of the record
    assert worker.cancelled()
    assert not stopping.done()  # ... and waits for the record
    recording.release()
    await stopping
    [row] = await rows(scene.sessionmaker)
    assert (row.status, row.attempts, row.claimed_by) == ("sent", 1, scene.notifier.worker_id)
    scene.notifier.start()
    await scene.notifier.wait_idle()
    [dm] = fake.dms_to(scene.asker)
    assert [c.json["nonce"] for c in dm_sends(fake)] == [dm.nonce]


async def test_a_record_that_fails_is_made_good_after_the_lease_without_a_second_dm(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = scene.fake
    scene.harness.allow_errors()  # the failed pass is logged with its traceback
    clock = manual_time(scene)
    mark_many_sent = delivery.mark_many_sent
    failed = asyncio.Event()

    async def failing_once(session: AsyncSession, *args: Any, **kwargs: Any) -> set[int]:
        if not failed.is_set():
            failed.set()
            raise RuntimeError("the record failed")
        return await mark_many_sent(session, *args, **kwargs)

    monkeypatch.setattr(delivery, "mark_many_sent", failing_once)
    await scene.answer(await scene.question())
    [dm] = await wait_for_dms(fake, scene.asker, 1)
    await asyncio.wait_for(failed.wait(), timeout=5)
    await scene.notifier.wait_idle()  # the pass failed and backed off; the row stays leased
    [row] = await rows(scene.sessionmaker)
    assert (row.status, row.attempts) == ("sending", 1)
    assert row.claimed_until is not None
    clock.to(row.claimed_until.replace(tzinfo=UTC))
    await scene.notifier.wait_idle()
    [row] = await rows(scene.sessionmaker)
    assert (row.status, row.attempts, row.sent_message_id) == ("sent", 2, dm.id)
    assert [c.json["nonce"] for c in dm_sends(fake)] == [dm.nonce, dm.nonce]  # the same nonce
    assert len(fake.dms_to(scene.asker)) == 1  # Discord dropped the resend


async def test_closing_the_bot_stops_the_worker(scene: Scene) -> None:
    notifier = scene.notifier
    assert notifier.running
    await scene.harness.close()
    assert not notifier.running


async def test_a_dead_workers_claims_are_taken_over_after_the_lease(scene: Scene) -> None:
    fake = scene.fake
    await scene.notifier.stop()
    clock = manual_time(scene)
    await scene.answer(await scene.question())
    lease = timedelta(seconds=60)
    [claimed] = await scene.run(
        lambda s: outbox.claim_due(s, worker_id="dead", now=clock.now, lease=lease, limit=10)
    )
    scene.notifier.start()
    await scene.notifier.wait_idle()
    assert dm_sends(fake) == []
    clock.to(claimed.claimed_until - timedelta(milliseconds=1))
    await scene.notifier.wait_idle()
    assert dm_sends(fake) == []
    clock.to(claimed.claimed_until)
    [dm] = await wait_for_dms(fake, scene.asker, 1)
    await scene.notifier.wait_idle()
    [row] = await rows(scene.sessionmaker)
    assert (row.status, row.attempts, row.claimed_by) == ("sent", 2, scene.notifier.worker_id)
    assert dm.nonce == claimed.nonce


@pytest.mark.slow
async def test_two_workers_on_postgresql_never_double_send(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite runs a single worker")
    fake = fake_discord
    assert fake.guild is not None
    bots = [
        await qa_bot_factory(
            extensions=list(EXTENSIONS),
            database_url=db_url,
            shard_count=2,
            shard_ids=[shard],
            **FAST,
        )
        for shard in (0, 1)
    ]
    workers = [b.bot.notifier for b in bots]
    for worker in workers:
        await worker.stop()
    sessionmaker = bots[0].sessionmaker
    await configure(sessionmaker, fake.guild.id, notify_coalesce_seconds=0)
    asker = fake.add_member(fake.guild, "alice")
    total = 300

    async def queue(session: AsyncSession) -> None:
        # One answer to each of 300 questions: 300 notifications, 300 DMs.
        for n in range(total):
            thread_id = fake.ids.next()
            await questions.create_question(
                session,
                guild_id=fake.guild.id,
                author_id=asker.id,
                asked=questions.AskedQuestion(title=f"Question {n}", details=""),
                via_bot=False,
                thread_id=thread_id,
                message_id=thread_id,
                state="live",
            )
            await posts.record_thread_message(
                session,
                guild_id=fake.guild.id,
                thread_id=thread_id,
                message_id=fake.ids.next(),
                author_id=1000 + n % 7,
                body=ANSWER,
            )

    await run_in_transaction(sessionmaker, queue)
    for worker in workers:
        worker.start()
    dms = await wait_for_dms(fake, asker, total, timeout=60)
    await asyncio.gather(*(w.wait_idle() for w in workers))
    sends = dm_sends(fake)
    assert len(sends) == total  # no notification was sent twice, not even dropped by nonce
    assert len({c.json["nonce"] for c in sends}) == total
    assert len({m.nonce for m in dms}) == total
    stored = await rows(sessionmaker)
    assert len(stored) == total
    assert {r.status for r in stored} == {"sent"}
    assert {r.sent_message_id for r in stored} == {m.id for m in dms}
    assert sum(w.stats.sent for w in workers) == total
    assert all(w.stats.sent > 0 for w in workers), [w.stats for w in workers]


# --------------------------------------------------------------------------- a real process


@pytest.mark.slow
async def test_a_killed_process_delivers_every_pending_dm_once_after_discord_recovers(
    fake_discord: FakeDiscord, bot_process: BotProcess, bot_database_url: str
) -> None:
    fake = fake_discord
    assert fake.guild is not None
    bot_process.env_overrides.update(NOTIFY_POLL_SECONDS="0.1", NOTIFY_LEASE_SECONDS="2")
    engine = create_engine(bot_database_url)
    sessionmaker = create_sessionmaker(engine)
    try:
        await configure(sessionmaker, fake.guild.id, notify_coalesce_seconds=0)
        asker = fake.add_member(fake.guild, "alice")
        await bot_process.start()
        await bot_process.wait_ready()
        failing = fake.faults.fail("POST", MESSAGES, status=503, times=None, where=is_dm_send)
        count = 3
        for n in range(count):
            question_id = await ask(sessionmaker, fake, asker.id, f"Question {n}")
            await answer(sessionmaker, fake, question_id, 2000 + n)
        await fake.wait_until(
            lambda: len({c.json["nonce"] for c in dm_sends(fake, ok=False)}) >= count,
            timeout=10,
            what="every DM to fail once",
        )
        # The next attempt is in flight when the process is killed.
        gate = fake.faults.hold("POST", MESSAGES, times=1, where=is_dm_send)
        [in_flight] = await gate.arrived(timeout=10)
        await bot_process.kill()
        failing.cancel()  # Discord recovers ...
        gate.release()  # ... and handles the request the dead process made after all
        await fake.wait_until(lambda: in_flight.status, what="the in-flight request")
        await bot_process.start()
        await bot_process.wait_ready(since_identify=len(fake.gateway.identifies) - 1)
        dms = await wait_for_dms(fake, asker, count, timeout=15)
        stored = await rows(sessionmaker)
        for row in stored:  # logged once the row is marked sent
            await bot_process.wait_for_output(rf"sent for notifications {row.id} ")
        stored = await rows(sessionmaker)
        assert {r.status for r in stored} == {"sent"}
        await bot_process.terminate(signal.SIGTERM)
        assert len(fake.dms_to(asker)) == count
        assert sorted(m.nonce for m in dms) == sorted(f"qa-n{r.id}" for r in stored)
        # The request in flight at the kill reached Discord; the restarted process sent it again
        # with the same nonce and Discord answered with the message it already had.
        assert in_flight.status == 200
        by_nonce: dict[str, set[str]] = {}
        for call in dm_sends(fake, ok=True):
            by_nonce.setdefault(call.json["nonce"], set()).add(call.response["id"])
        assert by_nonce == {m.nonce: {str(m.id)} for m in dms}
        resent = dm_sends(fake, ok=True, since=in_flight.index + 1)
        assert in_flight.json["nonce"] in {c.json["nonce"] for c in resent}
    finally:
        await engine.dispose()


# --------------------------------------------------------------------------- outcomes


def test_describe_failures_without_text() -> None:
    assert describe(TimeoutError(), 15) == "no answer from Discord within 15 s"
    assert describe(discord.RateLimited(42.0), 15) == "rate limited for 42 s"
    assert describe(OSError("connection refused"), 15) == "connection error (OSError)"
