"""A flood of thread messages takes a bounded share of the connection pool, on both backends.

Found by the ten-server load (issue 20): 2,000 answer messages within seconds each queued a
transaction for a pooled connection; those that waited past the pool's 30 s timeout were lost
with an error, and the vote writer starved behind them. Now at most ``INTAKE_CONNECTIONS``
messages are stored at once and the others wait their turn, none lost.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

from cogs.answering import intake
from tests.cogs.conftest import BotEvents, ask_question_directly, configure_qa_guild
from tests.fakediscord.fixtures import BotFactory

FLOOD = 3 * intake.INTAKE_CONNECTIONS
LONG = "Breathe in for four counts, hold for four, then breathe out slowly for four."


async def test_a_flood_of_thread_messages_is_stored_a_few_at_a_time_and_none_is_lost(
    db_url: str, qa_bot_factory: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = await qa_bot_factory(extensions=["cogs.answering"], database_url=db_url)
    # The module the loaded extension uses (loading an extension imports its package afresh).
    live = sys.modules["cogs.answering.intake"]
    fake = harness.fake
    assert fake.guild is not None
    await configure_qa_guild(harness)
    asked = await ask_question_directly(harness, fake.add_member(fake.guild, "asker"))
    helpers = [fake.add_member(fake.guild, f"helper{i}") for i in range(FLOOD)]

    # Every transaction the intake starts waits at a gate, so the ones in flight pile up.
    gate = asyncio.Event()
    in_flight: list[int] = []
    most = 0
    real = live.run_transaction

    async def gated(bot: Any, operation: Any) -> Any:
        nonlocal most
        in_flight.append(1)
        most = max(most, len(in_flight))
        try:
            await gate.wait()
            return await real(bot, operation)
        finally:
            in_flight.pop()

    monkeypatch.setattr(live, "run_transaction", gated)
    events = BotEvents(harness, "message", "qa_thread_message")
    sent = [await helper.send(asked.thread, LONG) for helper in helpers]
    for message in sent:
        await events.wait_for("message", lambda m, message=message: m.id == message.id)
    # Every message reached the cog long after the first ones: four are in, the rest wait.
    assert len(in_flight) == intake.INTAKE_CONNECTIONS

    gate.set()
    for message in sent:
        _, change = await events.wait_for(
            "qa_thread_message", lambda m, _c, message=message: m.id == message.id
        )
        assert change is not None and change.post.kind == "answer"
    assert most == intake.INTAKE_CONNECTIONS
