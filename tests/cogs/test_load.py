"""The scaled load of issue 20 (item 4) against the real bot, on SQLite and PostgreSQL.

Ten servers, each set up as ``/qa setup`` leaves it (its own Q&A forum), with its own askers,
answerers and voters. The fake sends 1,800 reaction events (adds, removes, redeliveries) on the
servers' answers with 200 new answer messages spread among them (``tests.bench.burst.drive_load``)
and, halfway through, a member runs ``/profile``: it is acknowledged and answered while the bot
works through the load (no timing is asserted: timings live in ``make bench``, which runs the
full 20,000 + 2,000). Afterwards the bot's database equals a recomputation from the fake's world
alone: every vote is a reaction a message carries, every answer a message in a question's
thread, every member's points what those imply, and each asker who kept DMs on has exactly one
"new answer" outbox row per answer on their question (the asker who turned them off, none).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

from tests.bench.burst import REACTION_EVENTS, drive_load
from tests.bench.load import (
    LOAD_SCALED,
    build_servers,
    differences,
    expected_state,
    plan,
    poll_until,
    recompute_fixes,
    seed,
    stored_state,
)
from tests.cogs.conftest import configure_qa_guild
from tests.cogs.test_voting import Votes
from tests.fakediscord import FakeDiscord
from tests.fakediscord.fixtures import BotFactory, BotHarness


def database_rows(harness: BotHarness) -> Any:
    """Rows of a query on the bot's database (read outside the bot's units of work)."""

    async def rows(sql: str) -> list[tuple[Any, ...]]:
        async with harness.engine.connect() as conn:
            return [tuple(row) for row in (await conn.execute(text(sql))).all()]

    return rows


@pytest.mark.slow
async def test_a_command_during_the_load_is_answered_and_everything_ends_exact(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    fake = fake_discord
    scale = LOAD_SCALED
    servers = build_servers(fake, scale)
    harness = await qa_bot_factory(database_url=db_url)
    for server in servers:
        # DMs not gathered over a minute, so the outbox drains within the test.
        await configure_qa_guild(harness, forum=server.forum, notify_coalesce_seconds=0)
    rows = database_rows(harness)

    async def until(sql: str, expected: list[tuple[Any, ...]]) -> None:
        assert await poll_until(rows, sql, expected, 60), f"{sql} never gave {expected}"

    for server in servers:
        ix = await server.quiet.slash("notifications", {"mode": "off"}, channel=server.general)
        assert "off" in (await ix.message()).embed_text().lower()
    await seed(servers, scale, until)
    load = plan(servers, scale)
    assert load.workload.events == scale.reactions

    start = fake.event_mark()
    driving = asyncio.create_task(
        drive_load(fake, load.messages, load.voters, load.workload, posts=load.posts, chunk=64)
    )
    # Mid-load: a member of the sixth server asks for their profile.
    await fake.wait_until(lambda: fake.event_mark() - start >= scale.reactions // 2, timeout=60)
    asking = servers[5].voters[0]
    ix = await asking.slash("profile", {}, channel=servers[5].general)
    assert not driving.done()  # issued while the load goes on
    await ix.response(timeout=30)  # acknowledged
    answer = await ix.message(timeout=60)
    assert "Points" in answer.embed_text()
    driven = await driving
    assert driven.reaction_events == scale.reactions
    assert sum(e.name in REACTION_EVENTS for e in fake.events[start:]) == scale.reactions

    # Every reaction applied, every new answer stored.
    await Votes(harness).settle()
    total_answers = scale.servers * scale.targets + scale.answers
    await until("SELECT COUNT(*) FROM posts WHERE kind = 'answer'", [(total_answers,)])

    quiet = {server.quiet.id for server in servers}
    expected = expected_state(fake, servers, quiet)
    assert len(expected.answers) == total_answers
    assert len(expected.votes) > scale.servers * scale.targets  # many keys end with a vote
    assert sum(expected.new_answer_dms.values()) < total_answers  # the quiet askers' are out
    assert differences(expected, await stored_state(rows)) == []
    assert await recompute_fixes(harness.sessionmaker, [s.guild.id for s in servers]) == 0

    # The outbox drains: each deserved row went out as a DM the fake holds for its recipient
    # (rows of one question may share a DM), and the askers who turned DMs off got none.
    busy = "SELECT COUNT(*) FROM notifications WHERE status IN ('pending', 'sending')"
    await until(busy, [(0,)])
    sent = await rows(
        "SELECT recipient_id, sent_message_id FROM notifications"
        " WHERE kind = 'new_answer' AND status = 'sent'"
    )
    assert len(sent) == sum(expected.new_answer_dms.values())
    members = {m.id: m for server in servers for m in server.askers}
    for recipient, message_id in sent:
        assert message_id in {dm.id for dm in fake.dms_to(members[recipient])}
    assert all(fake.dms_to(members[user]) == [] for user in quiet)
