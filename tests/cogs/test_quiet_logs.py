"""Logs carry ids and counts, never text: the end-to-end flows run at ``LOG_LEVEL=DEBUG`` with a
database error forced on the way, and no captured log record (message, arguments, exception,
stack, extras) holds any title, body or name used. The scan proves it can fail: a line planted
on purpose is found. A message that starts with the bot's mention is no command (qa-bot has no
text commands) and logs nothing."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.db.engine import is_sqlite
from tests.cogs.conftest import BotEvents, add_forum_tag, configure_qa_guild, upvote
from tests.fakediscord import FakeDiscord, Member
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.leaks import LogCapture, capture_logs, settle

#: Made-up words, one in each text a member types: no log line may ever hold one.
TITLE = "Is grunthelm normal before talks?"
DETAILS = "Every evening the drovask feeling comes back and I lie awake."
ANSWER = "Try the plimsorrow breathing: four counts in, four counts out."
REPLY = "Thanks, the quendle part helped."
FAILING = "Vexmorrow: this answer makes the database refuse it."
ANON_NAME = "Tamsivel Owl"
NAMES = ("ozrikandel", "Brevantine", "Ulquessa", "yarrowbek", "Hestrimond")
SECRETS = ("grunthelm", "drovask", "plimsorrow", "quendle", "vexmorrow", "tamsivel", *NAMES)

SQLITE_TRIGGER = """
CREATE TRIGGER refuse_vexmorrow BEFORE INSERT ON posts
WHEN NEW.body LIKE '%Vexmorrow%'
BEGIN SELECT RAISE(ABORT, 'forced failure'); END
"""
PG_FUNCTION = """
CREATE FUNCTION refuse_vexmorrow() RETURNS trigger AS $$
BEGIN
  IF NEW.body LIKE '%Vexmorrow%' THEN RAISE EXCEPTION 'forced failure'; END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql
"""
PG_TRIGGER = (
    "CREATE TRIGGER refuse_vexmorrow BEFORE INSERT ON posts"
    " FOR EACH ROW EXECUTE FUNCTION refuse_vexmorrow()"
)


@dataclass
class Scene:
    fake: FakeDiscord
    harness: BotHarness
    logs: LogCapture
    asker: Member
    answerer: Member
    voter: Member


def record_texts(record: logging.LogRecord) -> Iterator[str]:
    """Everything a log line shows or carries: the message with its arguments, the formatted
    exception and stack, and every attribute added with ``extra=``."""
    formatter = logging.Formatter()
    yield record.getMessage()
    if record.exc_info:
        yield formatter.formatException(record.exc_info)
    if record.exc_text:
        yield record.exc_text
    if record.stack_info:
        yield record.stack_info
    plain = logging.makeLogRecord({}).__dict__
    for key, value in record.__dict__.items():
        if key not in plain and key not in ("message", "asctime"):
            yield f"{key}={value!r}"


def text_hits(logs: LogCapture) -> list[str]:
    """``logger LEVEL: secret`` for every secret word found in a captured record."""
    pattern = re.compile("|".join(re.escape(s) for s in SECRETS), re.IGNORECASE)
    hits = []
    for record in logs.records:
        for shown in record_texts(record):
            for match in pattern.finditer(shown):
                hits.append(f"{record.name} {record.levelname}: {match.group(0).lower()}")
    return hits


async def refuse_one_insert(url: str) -> None:
    """A trigger makes the database refuse the post whose body holds ``Vexmorrow``."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            if is_sqlite(url):
                await conn.execute(text(SQLITE_TRIGGER))
            else:
                await conn.execute(text("DROP TRIGGER IF EXISTS refuse_vexmorrow ON posts"))
                await conn.execute(text("DROP FUNCTION IF EXISTS refuse_vexmorrow()"))
                await conn.execute(text(PG_FUNCTION))
                await conn.execute(text(PG_TRIGGER))
    finally:
        await engine.dispose()


async def drop_refusal(url: str) -> None:
    if is_sqlite(url):
        return  # the file is the test's own
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP TRIGGER IF EXISTS refuse_vexmorrow ON posts"))
            await conn.execute(text("DROP FUNCTION IF EXISTS refuse_vexmorrow()"))
    finally:
        await engine.dispose()


@pytest.fixture
async def scene(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    fake = fake_discord
    assert fake.guild is not None
    members = []
    for username in NAMES[:3]:
        user = fake.world.add_user(username, global_name=f"{username.title()} G")
        members.append(fake.add_member(fake.guild, username, user=user, nick=f"{username} N"))
    solved = add_forum_tag(fake, "Solved")
    await refuse_one_insert(db_url)
    with capture_logs("DEBUG") as logs:
        harness = await qa_bot_factory(database_url=db_url)
        harness.bot.status_lines.coalescer.interval = 0.0
        await configure_qa_guild(harness, solved_tag_id=solved, notify_coalesce_seconds=0)
        try:
            yield Scene(fake, harness, logs, *members)
        finally:
            await harness.close()
            await drop_refusal(db_url)


async def test_debug_logs_hold_no_text_even_when_the_database_fails(scene: Scene) -> None:
    fake, harness = scene.fake, scene.harness
    assert fake.general is not None and fake.forum is not None
    events = BotEvents(harness, "qa_thread_message", "raw_reaction_add")
    # A named question, and an anonymous one under a display name, through the /ask form.
    for anonymous in (False, True):
        options = {"anonymous": True} if anonymous else {}
        ix = await scene.asker.slash("ask", options, channel=fake.general)
        values = {"title": TITLE if not anonymous else f"{TITLE} (again)", "details": DETAILS}
        if anonymous:
            values["display_name"] = ANON_NAME
        done = await (await ix.submit_modal(values)).message()
        assert done.ephemeral
    thread = fake.threads_in(fake.forum)[0]
    answer = await scene.answerer.send(thread, ANSWER)
    await events.wait_for("qa_thread_message", lambda m, _c: m.id == answer.id)
    await upvote(harness, events, scene.voter, answer)
    reply = await scene.asker.slash("reply", {"text": REPLY}, channel=thread)
    assert (await reply.message()).ephemeral
    found = await scene.voter.slash("search", {"query": "grunthelm"}, channel=fake.general)
    await found.message()
    # The database refuses one post: the error is logged, its statement's values are not.
    harness.allow_errors()
    await scene.answerer.send(thread, FAILING)
    errors = await harness.wait_for_errors()
    assert "forced failure" in "\n".join(t for r in errors for t in record_texts(r))
    await fake.wait_until(lambda: fake.dms_to(scene.asker), what="the asker's DM")
    await settle(harness)

    assert scene.logs.records, "nothing was captured"
    assert text_hits(scene.logs) == []
    # The scan can fail: a line planted on purpose is found, at its place.
    logging.getLogger("bot.forum.posts").debug("planted %s", ANSWER)
    assert text_hits(scene.logs) == ["bot.forum.posts DEBUG: plimsorrow"]


async def test_a_message_starting_with_the_bots_mention_is_no_command(scene: Scene) -> None:
    fake, harness = scene.fake, scene.harness
    assert fake.general is not None
    events = BotEvents(harness, "message")
    bot_id = harness.bot.user.id if harness.bot.user else 0
    sent = await scene.asker.send(fake.general, f"<@{bot_id}> grunthelm please help")
    await events.wait_for("message", lambda m: m.id == sent.id)
    await settle(harness)
    assert harness.errors == []
    assert not [r for r in scene.logs.records if "not found" in r.getMessage()]
    assert text_hits(scene.logs) == []
