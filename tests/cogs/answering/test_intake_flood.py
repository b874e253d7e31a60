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
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot import shutdown
from bot.transactions import TransactionRunner
from bot.workers.batch_budget import HOLD_BUDGET, BatchBudget
from tests.cogs.conftest import (
    AskedQuestion,
    BotEvents,
    ask_question_directly,
    configure_qa_guild,
)
from tests.fakediscord.actors import Member
from tests.fakediscord.fixtures import BotFactory, BotHarness

FLOOD = 12
LONG = "Breathe in for four counts, hold for four, then breathe out slowly for four."


@dataclass
class Gated:
    """The intake's runner, each transaction waiting at ``gate`` first (so the messages pile
    up behind it); ``started`` counts them, ``batches`` says how many messages each recorded."""

    real: TransactionRunner
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    started: list[int] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)

    async def write(self, operation: Any) -> Any:
        self.started.append(1)
        await self.gate.wait()
        recorded = await self.real.write(operation)
        self.batches.append(len(recorded))
        return recorded


@dataclass
class Flood:
    harness: BotHarness
    asker: Member
    asked: AskedQuestion
    helpers: list[Member]
    runner: Gated
    events: BotEvents


async def flood(
    db_url: str, qa_bot_factory: BotFactory, monkeypatch: pytest.MonkeyPatch, helpers: int
) -> Flood:
    """A question in a Q&A forum, ``helpers`` members to answer it, the intake's runner gated."""
    harness = await qa_bot_factory(extensions=["cogs.answering"], database_url=db_url)
    fake = harness.fake
    assert fake.guild is not None
    await configure_qa_guild(harness)
    asker = fake.add_member(fake.guild, "asker")
    asked = await ask_question_directly(harness, asker)
    members = [fake.add_member(fake.guild, f"helper{i}") for i in range(helpers)]
    intake = harness.bot.thread_intake
    runner = Gated(intake.runner)
    monkeypatch.setattr(intake, "runner", runner)
    events = BotEvents(harness, "message", "qa_thread_message")
    return Flood(harness, asker, asked, members, runner, events)


async def send_all(f: Flood, writers: list[Member]) -> list[Any]:
    """Each writer's message in the question's thread, once the cog has each of them."""
    sent = [await writer.send(f.asked.thread, LONG) for writer in writers]
    for message in sent:
        await f.events.wait_for("message", lambda m, message=message: m.id == message.id)
    return sent


async def outcomes(f: Flood, sent: list[Any]) -> list[Any]:
    """What each message became, in order."""
    changes = []
    for message in sent:
        _, change = await f.events.wait_for(
            "qa_thread_message", lambda m, _c, message=message: m.id == message.id
        )
        assert change is not None and change.post.message_id == message.id
        changes.append(change)
    return changes


async def test_a_flood_of_thread_messages_is_stored_in_a_few_batches_and_none_is_lost(
    db_url: str, qa_bot_factory: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = await flood(db_url, qa_bot_factory, monkeypatch, FLOOD)
    # The asker's own message in the same flood is a comment, in its place among the answers.
    sent = await send_all(f, [*f.helpers, f.asker])
    # Every message reached the cog: one transaction is in, the rest wait for the next.
    assert len(f.runner.started) == 1

    f.runner.gate.set()
    changes = await outcomes(f, sent)
    assert [c.post.kind for c in changes] == ["answer"] * FLOOD + ["comment"]
    assert all(c.created for c in changes)
    # The first message's transaction, then one for all the others.
    assert len(f.runner.started) == 2
    assert changes[-1].question.answer_count == FLOOD


async def test_a_batch_recorded_one_message_at_a_time_records_its_budget_and_the_rest_follow(
    db_url: str, qa_bot_factory: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = await flood(db_url, qa_bot_factory, monkeypatch, FLOOD)
    intake = f.harness.bot.thread_intake
    one_writer = f.runner.real.one_writer
    if one_writer:  # a lock budget that holds two messages recorded one at a time
        intake.one_step = BatchBudget(2, budget=HOLD_BUDGET, least=2)
    # The first answer's transaction waits at the gate; behind it six answers, the asker's
    # comment, then five answers.
    sent = await send_all(f, [*f.helpers[:7], f.asker, *f.helpers[7:]])
    f.runner.gate.set()
    changes = await outcomes(f, sent)
    assert all(c.created for c in changes)
    assert [c.post.kind for c in changes] == ["answer"] * 7 + ["comment"] + ["answer"] * 5
    assert [c.post.id for c in changes] == sorted(c.post.id for c in changes)  # in order
    assert changes[-1].question.answer_count == FLOOD
    if one_writer:
        # The 12 behind the gate, taken whole and recorded one at a time: the first two; two
        # answers, planned; the eight left, taken whole, recorded one at a time: two; the
        # comment and the next answer, two; two answers planned; the last two, planned.
        assert f.runner.batches == [1, 2, 2, 2, 2, 2, 2]
    else:
        assert f.runner.batches == [1, 12]


async def test_a_shutdown_records_the_thread_messages_received_before_it(
    db_url: str, qa_bot_factory: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = await flood(db_url, qa_bot_factory, monkeypatch, 3)
    sent = await send_all(f, f.helpers)
    draining = asyncio.create_task(shutdown.drain(f.harness.bot, seconds=30))
    done, _ = await asyncio.wait({draining}, timeout=0.5)
    assert not done  # the drain waits for the messages held at the gate
    f.runner.gate.set()
    assert await draining  # everything received was recorded
    assert [c.post.kind for c in await outcomes(f, sent)] == ["answer"] * 3
