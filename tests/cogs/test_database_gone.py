"""The database gone while the bot runs, and SQLite's disk full, end to end on both backends.

The outage is real: on PostgreSQL the bot's database stops taking connections
(``ALLOW_CONNECTIONS false``) and its sessions are terminated; on SQLite another connection holds
the file's write lock (the bot's busy timeout cut to 50 ms, so "database is locked" comes fast).
A full disk is SQLite's ``max_page_count`` set to the file's current size on every checkout.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from bot.backoff import BackoffPolicy
from bot.db import health
from bot.db.engine import is_sqlite, sqlite_path
from bot.db.models import Post
from bot.forum import lookups
from bot.workers.backoff import Backoff
from tests.cogs.test_asking import configure, member, open_ask
from tests.cogs.test_voting import EXTENSIONS, UP, Votes, people
from tests.db_support import _admin_execute, until
from tests.fakediscord.fixtures import BotFactory, BotHarness

#: A 3,900-character paste of distinct words: its row and its search index need new pages.
DETAILS = " ".join(f"night{i}" for i in range(520))[:3900]


class Logged(logging.Handler):
    """Wakes a waiting test at each record the bot logs: its workers log every retry, so the
    bot's own counters (which the fake cannot signal) are checked again after each."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self._changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self._changed.set()

    async def until(self, check: Callable[[], bool], timeout: float = 20.0) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            while not check():
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
def logged() -> Iterator[Logged]:
    handler = Logged()
    logger = logging.getLogger("bot")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def _write_lock(path: str) -> sqlite3.Connection:
    """A connection holding the file's write lock until it is closed (in WAL mode readers
    still read: only what writes meets the outage)."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    connection.execute("BEGIN EXCLUSIVE")
    return connection


class Outage:
    """Takes the database away from the bot (``begin``) and gives it back (``end``)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock: sqlite3.Connection | None = None

    async def begin(self) -> None:
        if is_sqlite(self.url):
            path = sqlite_path(self.url)
            assert path is not None
            # In a thread: waiting for the bot's transaction in flight must not stop its loop.
            self._lock = await asyncio.to_thread(_write_lock, str(path))
            return
        name = make_url(self.url).database
        await _admin_execute(self.url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await _admin_execute(
            self.url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()",
        )

    async def end(self) -> None:
        if is_sqlite(self.url):
            if self._lock is not None:
                self._lock.close()  # rolls the open transaction back
                self._lock = None
            return
        name = make_url(self.url).database
        await _admin_execute(self.url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


@pytest.fixture
async def outage(db_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Outage]:
    monkeypatch.setattr("bot.db.engine.SQLITE_BUSY_TIMEOUT_MS", 50)
    taken = Outage(db_url)
    try:
        yield taken
    finally:
        await taken.end()


@pytest.fixture
async def v(outage: Outage, db_url: str, qa_bot_factory: BotFactory) -> Votes:
    harness = await qa_bot_factory(
        extensions=EXTENSIONS, database_url=db_url, notify_poll_seconds=0.05
    )
    harness.bot.vote_writer.backoff = Backoff(BackoffPolicy(0.05, 0.2))
    return Votes(harness)


# --------------------------------------------------------------------------- interactions


async def test_a_command_during_an_outage_is_told_to_try_again(
    outage: Outage, db_url: str, qa_bot_factory: BotFactory
) -> None:
    harness = await qa_bot_factory(extensions=["cogs.asking"], database_url=db_url)
    fake = harness.fake
    forum = await configure(harness, fake)
    alice = member(fake, "alice")
    ix = await open_ask(alice, fake)
    await ix.modal()  # the form is open before the database goes

    await outage.begin()
    submitted = await ix.submit_modal({"title": "How do I sleep again?", "details": "Help."})
    reply = await submitted.message()
    assert reply.ephemeral
    assert reply.content == "The database is not answering; try again in a moment."

    await outage.end()
    assert fake.threads_in(forum) == []
    ix = await open_ask(alice, fake)  # the twin: the same question once the database is back
    submitted = await ix.submit_modal({"title": "How do I sleep again?", "details": "Help."})
    assert "https://discord.com/channels/" in (await submitted.message()).content
    assert [t.name for t in fake.threads_in(forum)] == ["How do I sleep again?"]


# --------------------------------------------------------------------------- gestures


async def test_votes_during_an_outage_are_applied_when_it_ends(
    v: Votes, outage: Outage, logged: Logged
) -> None:
    asker, answerer, *voters = people(v.fake, "asker", "answerer", "v1", "v2", "v3")
    q = await v.question(asker)
    a = await v.answer(q, answerer)
    writer = v.bot.vote_writer

    await outage.begin()
    for voter in voters:
        await voter.react(a.message, UP)
    await logged.until(lambda: writer.retried >= 2)
    assert writer.dropped == 0

    await outage.end()
    await v.settle()
    assert set(await v.stored(a)) == {voter.id for voter in voters}
    assert (await v.get(a)).score == 3
    await v.assert_consistent()
    assert writer.backoff.failures == 0


async def test_gestures_beyond_the_bound_are_dropped_and_counted(
    v: Votes, outage: Outage, logged: Logged
) -> None:
    asker, answerer, *voters = people(v.fake, "asker", "answerer", "v1", "v2", "v3", "v4", "v5")
    q = await v.question(asker)
    a = await v.answer(q, answerer)
    writer = v.bot.vote_writer
    writer.max_queued = 2

    await outage.begin()
    first, *rest = voters
    await first.react(a.message, UP)
    await logged.until(lambda: writer.retried >= 1)
    for voter in rest:
        await voter.react(a.message, UP)
    await logged.until(lambda: writer.dropped == 2)
    assert writer.queued == 2

    await outage.end()
    await v.settle()
    kept = {first.id, rest[0].id, rest[1].id}
    assert set(await v.stored(a)) == kept
    await v.assert_consistent()


# --------------------------------------------------------------------------- the outbox worker


async def test_the_notification_worker_backs_off_and_recovers(
    v: Votes, outage: Outage, logged: Logged
) -> None:
    notifier = v.bot.notifier
    await notifier.wait_idle()

    await outage.begin()
    notifier.wake()
    await logged.until(lambda: notifier.backoff.failures >= 1)
    passes, failures = notifier.stats.passes, notifier.backoff.failures
    # Each failed pass is followed by a pause twice as long: wake-ups do not cut it short.
    for _ in range(20):
        notifier.wake()
    await logged.until(lambda: notifier.backoff.failures >= failures + 3)
    assert notifier.stats.passes - passes <= notifier.backoff.failures - failures + 1

    await outage.end()
    async with asyncio.timeout(10):
        await notifier.wait_idle()
    assert notifier.backoff.failures == 0


# --------------------------------------------------------------------------- disk full (SQLite)


def _limit_pages(harness: BotHarness, full: dict[str, bool]) -> None:
    """While ``full["on"]``, every connection the bot checks out may not grow the file."""

    @event.listens_for(harness.engine.sync_engine, "checkout")
    def limit(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA page_count")
        (pages,) = cursor.fetchone()
        cursor.execute(f"PRAGMA max_page_count={pages if full['on'] else 1_073_741_823}")
        cursor.close()


def _vacuum(url: str) -> None:
    connection = sqlite3.connect(str(sqlite_path(url)), isolation_level=None, timeout=30)
    try:
        connection.execute("VACUUM")
    finally:
        connection.close()


async def _posts(harness: BotHarness) -> int:
    async with harness.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Post)) or 0)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_disk_full_on_sqlite_saves_nothing_and_says_so(
    db_url: str, qa_bot_factory: BotFactory
) -> None:
    harness = await qa_bot_factory(extensions=["cogs.asking"], database_url=db_url)
    fake = harness.fake
    forum = await configure(harness, fake)
    alice = member(fake, "alice")
    full = {"on": True}
    await asyncio.to_thread(_vacuum, db_url)  # no free pages left to fill
    _limit_pages(harness, full)

    ix = await open_ask(alice, fake)
    submitted = await ix.submit_modal({"title": "How do I sleep again?", "details": DETAILS})
    reply = await submitted.message()
    assert reply.ephemeral
    assert reply.content == health.FULL_SENTENCE
    assert await _posts(harness) == 0  # nothing half-written: no pending row either
    assert fake.threads_in(forum) == []

    full["on"] = False  # the twin: space freed, the same question goes in whole
    ix = await open_ask(alice, fake)
    submitted = await ix.submit_modal({"title": "How do I sleep again?", "details": DETAILS})
    reply = await submitted.message()
    assert "https://discord.com/channels/" in reply.content
    assert await _posts(harness) == 1
    (thread,) = fake.threads_in(forum)
    assert thread.name == "How do I sleep again?"


# --------------------------------------------------------------------------- thread messages


async def _answering(factory: BotFactory, url: str) -> Votes:
    """A bot that records thread messages and votes, retrying quickly after an outage."""
    harness = await factory(
        extensions=[*EXTENSIONS, "cogs.answering", "cogs.lifecycle"], database_url=url
    )
    harness.bot.vote_writer.backoff = Backoff(BackoffPolicy(0.05, 0.2))
    harness.bot.message_retry.backoff = Backoff(BackoffPolicy(0.05, 0.2))
    return Votes(harness)


async def _kind(v: Votes, message_id: int) -> str | None:
    post = await v.run(lambda s: lookups.find_post_by_message(s, message_id=message_id))
    return None if post is None else post.kind


async def test_thread_messages_during_an_outage_are_recorded_when_it_ends(
    outage: Outage, db_url: str, qa_bot_factory: BotFactory, logged: Logged
) -> None:
    v = await _answering(qa_bot_factory, db_url)
    retry = v.bot.message_retry
    asker, first, second = people(v.fake, "asker", "first", "second")
    q = await v.question(asker)

    await outage.begin()
    one = await first.send(q.thread, "Count backwards from a hundred in threes.")
    await logged.until(lambda: retry.kept == 1)
    two = await second.send(q.thread, "Keep the room cool and dark, and get up at one time.")
    await logged.until(lambda: retry.kept == 2)
    assert retry.dropped == 0

    await outage.end()
    async with asyncio.timeout(10):
        await retry.wait_idle()
    assert [await _kind(v, m.id) for m in (one, two)] == ["answer", "answer"]
    assert (await v.get(q)).answer_count == 2
    await v.assert_consistent()


async def test_thread_messages_beyond_the_bound_are_dropped_and_counted(
    outage: Outage, db_url: str, qa_bot_factory: BotFactory, logged: Logged
) -> None:
    v = await _answering(qa_bot_factory, db_url)
    retry = v.bot.message_retry
    retry.max_kept = 1
    asker, first, second = people(v.fake, "asker", "first", "second")
    q = await v.question(asker)

    await outage.begin()
    kept = await first.send(q.thread, "Count backwards from a hundred in threes.")
    await logged.until(lambda: retry.kept == 1)
    dropped = await second.send(q.thread, "Keep the room cool and dark, and get up at one time.")
    await logged.until(lambda: retry.dropped == 1)
    assert retry.kept == 1

    await outage.end()
    async with asyncio.timeout(10):
        await retry.wait_idle()
    assert await _kind(v, kept.id) == "answer"
    assert await _kind(v, dropped.id) is None


async def test_edits_and_deletes_during_an_outage_follow_their_messages_when_it_ends(
    outage: Outage, db_url: str, qa_bot_factory: BotFactory, logged: Logged
) -> None:
    v = await _answering(qa_bot_factory, db_url)
    retry = v.bot.message_retry
    asker, first, second = people(v.fake, "asker", "first", "second")
    q = await v.question(asker)
    earlier = await second.send(q.thread, "Keep the room cool and dark, and get up at one time.")
    await until(lambda: _is_answer(v, earlier.id), "the earlier answer recorded")

    await outage.begin()
    one = await first.send(q.thread, "Count backwards from a hundred in threes.")
    await logged.until(lambda: retry.kept == 1)
    await first.edit(one, "Count backwards from a hundred in sevens.")
    await logged.until(lambda: retry.kept == 2)
    await second.delete(earlier)
    await logged.until(lambda: retry.kept == 3)

    await outage.end()
    async with asyncio.timeout(10):
        await retry.wait_idle()
    edited = await v.run(lambda s: lookups.find_post_by_message(s, message_id=one.id))
    assert edited is not None and edited.body == "Count backwards from a hundred in sevens."
    gone = await v.run(lambda s: lookups.find_post_by_message(s, message_id=earlier.id))
    assert gone is None or gone.deleted
    assert (await v.get(q)).answer_count == 1
    await v.assert_consistent()


async def _is_answer(v: Votes, message_id: int) -> bool:
    return await _kind(v, message_id) == "answer"


# --------------------------------------------------------------------------- logs


async def test_an_outage_is_logged_as_warning_lines_without_the_password(
    outage: Outage,
    db_url: str,
    qa_bot_factory: BotFactory,
    logged: Logged,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A vote retried, a thread message and an edit kept: each one warning line (no traceback,
    no ERROR), and the URL's password in none (PostgreSQL's test cluster trusts local
    connections, so the bot's URL carries a password the server ignores)."""
    v = await _answering(qa_bot_factory, db_url if is_sqlite(db_url) else _with_password(db_url))
    asker, answerer, voter = people(v.fake, "asker", "answerer", "voter")
    q = await v.question(asker)
    # The bot's live path records the answer's message too: it is done before the outage.
    live = v.bot.wait_for("qa_thread_message", check=lambda m, _c: m.author.id == answerer.id)
    a = await v.answer(q, answerer)
    await asyncio.wait_for(live, 10)
    writer, retry = v.bot.vote_writer, v.bot.message_retry
    caplog.clear()

    await outage.begin()
    await voter.react(a.message, UP)
    await answerer.send(q.thread, "Count backwards from a hundred in threes.")
    await answerer.edit(a.message, "Breathe in for four counts and out for eight.")
    await logged.until(lambda: writer.retried >= 1 and retry.kept == 2)
    await outage.end()
    await v.settle()
    async with asyncio.timeout(10):
        await retry.wait_idle()
    assert await v.stored(a) == {voter.id: (True, False)}

    outages = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert outages and all(r.levelno == logging.WARNING and not r.exc_info for r in outages)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert PASSWORD not in caplog.text


PASSWORD = "s3cret-outage-Pw"


def _with_password(url: str) -> str:
    return make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)


# --------------------------------------------------------------------------- stopping


async def test_the_bot_stops_promptly_during_an_outage(
    v: Votes, outage: Outage, logged: Logged, caplog: pytest.LogCaptureFixture
) -> None:
    asker, answerer, voter = people(v.fake, "asker", "answerer", "voter")
    q = await v.question(asker)
    a = await v.answer(q, answerer)
    writer = v.bot.vote_writer

    await outage.begin()
    await voter.react(a.message, UP)
    await logged.until(lambda: writer.retried >= 1)
    async with asyncio.timeout(15):
        await v.h.close()
    assert not v.bot.vote_writer.running and not v.bot.notifier.running
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
