"""A flood of thread messages takes one pooled connection and a few transactions, on both
backends.

Found by the ten-server load (issue 20): 2,000 answer messages within seconds each queued a
transaction for a pooled connection; those that waited past the pool's 30 s timeout were lost
with an error, and the vote writer starved behind them. Then at most four messages were stored
at once, one transaction each, about 25 statements per answer (issue 18: 20 answers/s). Now the
thread intake (``bot.workers.thread_intake``) records what arrived meanwhile in one transaction,
one batch at a time, none lost, each message's outcome its own; a shutdown records the
messages received before it (``bot.shutdown.drain``). On SQLite a batch that must be recorded
one message at a time (a comment among the answers) records only as many as its lock budget
holds; the rest follow in the next batches, in order.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot import shutdown
from bot.workers.batch_budget import HOLD_BUDGET, BatchBudget
from tests.cogs.conftest import BotEvents, ask_question_directly, configure_qa_guild
from tests.fakediscord.fixtures import BotFactory

FLOOD = 12
LONG = "Breathe in for four counts, hold for four, then breathe out slowly for four."


async def test_a_flood_of_thread_messages_is_stored_in_a_few_batches_and_none_is_lost(
    db_url: str, qa_bot_factory: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = await qa_bot_factory(extensions=["cogs.answering"], database_url=db_url)
    fake = harness.fake
    assert fake.guild is not None
    await configure_qa_guild(harness)
    asker = fake.add_member(fake.guild, "asker")
    asked = await ask_question_directly(harness, asker)
    helpers = [fake.add_member(fake.guild, f"helper{i}") for i in range(FLOOD)]

    # Every transaction the intake starts waits at a gate, so the messages pile up behind it.
    intake = harness.bot.thread_intake
    real = intake.runner
    gate = asyncio.Event()
    started: list[int] = []

    class Gated:
        async def write(self, operation: Any) -> Any:
            started.append(1)
            await gate.wait()
            return await real.write(operation)

    monkeypatch.setattr(intake, "runner", Gated())
    events = BotEvents(harness, "message", "qa_thread_message")
    sent = [await helper.send(asked.thread, LONG) for helper in helpers]
    # The asker's own message in the same flood is a comment, in its place among the answers.
    sent.append(await asker.send(asked.thread, LONG))
    for message in sent:
        await events.wait_for("message", lambda m, message=message: m.id == message.id)
    # Every message reached the cog: one transaction is in, the rest wait for the next.
    assert len(started) == 1

    gate.set()
    changes = []
    for message in sent:
        _, change = await events.wait_for(
            "qa_thread_message", lambda m, _c, message=message: m.id == message.id
        )
        assert change is not None and change.post.message_id == message.id
        changes.append(change)
    assert [c.post.kind for c in changes] == ["answer"] * FLOOD + ["comment"]
    assert all(c.created for c in changes)
    # The first message's transaction, then one for all the others.
    assert len(started) == 2
    assert changes[-1].question.answer_count == FLOOD


async def test_a_batch_recorded_one_message_at_a_time_records_its_budget_and_the_rest_follow(
    db_url: str, qa_bot_factory: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = await qa_bot_factory(extensions=["cogs.answering"], database_url=db_url)
    fake = harness.fake
    assert fake.guild is not None
    await configure_qa_guild(harness)
    asker = fake.add_member(fake.guild, "asker")
    asked = await ask_question_directly(harness, asker)
    helpers = [fake.add_member(fake.guild, f"helper{i}") for i in range(FLOOD)]
    intake = harness.bot.thread_intake
    one_writer = intake.runner.one_writer
    if one_writer:  # a lock budget that holds two messages recorded one at a time
        intake.one_step = BatchBudget(2, budget=HOLD_BUDGET, least=2)
    real = intake.runner
    gate = asyncio.Event()
    batches: list[int] = []

    class Gated:
        async def write(self, operation: Any) -> Any:
            await gate.wait()
            recorded = await real.write(operation)
            batches.append(len(recorded))
            return recorded

    monkeypatch.setattr(intake, "runner", Gated())
    events = BotEvents(harness, "message", "qa_thread_message")
    # The first answer's transaction waits at the gate; behind it six answers, the asker's
    # comment, then five answers.
    writers = [*helpers[:7], asker, *helpers[7:]]
    sent = [await writer.send(asked.thread, LONG) for writer in writers]
    for message in sent:
        await events.wait_for("message", lambda m, message=message: m.id == message.id)
    gate.set()
    changes = []
    for message in sent:
        _, change = await events.wait_for(
            "qa_thread_message", lambda m, _c, message=message: m.id == message.id
        )
        assert change is not None and change.created and change.post.message_id == message.id
        changes.append(change)
    assert [c.post.kind for c in changes] == ["answer"] * 7 + ["comment"] + ["answer"] * 5
    assert [c.post.id for c in changes] == sorted(c.post.id for c in changes)  # in order
    assert changes[-1].question.answer_count == FLOOD
    if one_writer:
        # The 12 behind the gate, taken whole and recorded one at a time: the first two; two
        # answers, planned; the eight left, taken whole, recorded one at a time: two; the
        # comment and the next answer, two; two answers planned; the last two, planned.
        assert batches == [1, 2, 2, 2, 2, 2, 2]
    else:
        assert batches == [1, 12]


async def test_a_shutdown_records_the_thread_messages_received_before_it(
    db_url: str, qa_bot_factory: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = await qa_bot_factory(extensions=["cogs.answering"], database_url=db_url)
    fake = harness.fake
    assert fake.guild is not None
    await configure_qa_guild(harness)
    asked = await ask_question_directly(harness, fake.add_member(fake.guild, "asker"))
    helpers = [fake.add_member(fake.guild, f"helper{i}") for i in range(3)]
    intake = harness.bot.thread_intake
    real = intake.runner
    gate = asyncio.Event()

    class Gated:
        async def write(self, operation: Any) -> Any:
            await gate.wait()
            return await real.write(operation)

    monkeypatch.setattr(intake, "runner", Gated())
    events = BotEvents(harness, "message", "qa_thread_message")
    sent = [await helper.send(asked.thread, LONG) for helper in helpers]
    for message in sent:
        await events.wait_for("message", lambda m, message=message: m.id == message.id)

    draining = asyncio.create_task(shutdown.drain(harness.bot, seconds=30))
    done, _ = await asyncio.wait({draining}, timeout=0.5)
    assert not done  # the drain waits for the messages held at the gate
    gate.set()
    assert await draining  # everything received was recorded
    for message in sent:
        _, change = await events.wait_for(
            "qa_thread_message", lambda m, _c, message=message: m.id == message.id
        )
        assert change is not None and change.post.kind == "answer"
