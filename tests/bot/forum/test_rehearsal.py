"""The batch writers' rehearsal (``bot.forum.rehearsal``, ``TransactionRunner.rehearse``): on an
SQLite file it compiles every statement of a vote batch, of an answer batch and of the DM
outbox's claim and recorded sends on the writing engine, writes nothing and takes no write
lock; elsewhere it does not run."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.db.engine import create_sessionmaker, is_sqlite, write_holds
from bot.db.models import Notification, Post, Vote
from bot.forum import delivery, outbox, votes
from bot.forum.rehearsal import rehearse_batches
from bot.forum.thread_batch import (
    ThreadMessage,
    plan_thread_messages,
    record_thread_messages,
    write_thread_messages,
)
from bot.forum.uow import Planned
from bot.transactions import TransactionRunner
from tests.bot.forum.core_support import GUILD, OTHER, VOTER, Forum
from tests.bot.forum.test_vote_batch import DOWN, reaction


async def _rows(runner: TransactionRunner) -> list[int]:
    async def count(session: AsyncSession) -> list[int]:
        models = (Post, Vote, Notification)
        return [int(await session.scalar(select(func.count()).select_from(m)) or 0) for m in models]

    return await runner.run(count, read_only=True)


async def test_after_the_rehearsal_a_real_batch_compiles_nothing_and_nothing_was_written(
    db_url: str, engine: AsyncEngine, runner: TransactionRunner
) -> None:
    forum = Forum(create_sessionmaker(engine))
    question = await forum.ask()
    answer = await forum.answer(question)
    before = await _rows(runner)
    holds = write_holds(engine)
    held = 0 if holds is None else holds.count

    rehearsed = await runner.rehearse(rehearse_batches)

    assert rehearsed is is_sqlite(db_url)
    if holds is not None:
        assert holds.count == held  # the database's write lock was not taken
    assert await _rows(runner) == before  # nothing written
    compiled = runner.compiled_for_writes
    assert (compiled > 0) is is_sqlite(db_url)
    assert question.thread_id is not None
    await runner.write(
        lambda s: record_thread_messages(
            s,
            [ThreadMessage(GUILD, question.thread_id, forum.next_id(), OTHER, "x" * 80, None)],
        )
    )
    planned = [  # an answer and a bot's message, planned apart from their writes
        ThreadMessage(GUILD, question.thread_id, forum.next_id(), OTHER + 1, "y" * 80),
        ThreadMessage(GUILD, question.thread_id, forum.next_id(), 99, "z", author_is_bot=True),
    ]
    await runner.write(
        Planned(
            "answers",
            lambda s: plan_thread_messages(s, planned),
            write_thread_messages,
        )
    )
    await runner.write(
        lambda s: votes.apply_gestures(s, [reaction(answer, VOTER), reaction(answer, OTHER, DOWN)])
    )
    await runner.write(lambda s: votes.apply_gestures(s, [reaction(answer, VOTER, on=False)]))
    ahead = forum.now + timedelta(days=1)  # every notification due

    async def claim_and_send(session: AsyncSession) -> int:
        claimed = await outbox.claim_due(
            session, worker_id="w", now=ahead, lease=timedelta(minutes=1), limit=10
        )
        sent = {item.id: 5_000 + item.id for item in claimed}  # the DMs delivering them
        await delivery.mark_many_sent(session, sent, worker_id="w", now=ahead)
        await outbox.next_due_at(session)
        return len(claimed)

    assert await runner.write(claim_and_send) > 0
    assert runner.compiled_for_writes == compiled  # every statement was compiled already
    voters = await forum.run(lambda s: votes.voters(s, post_id=answer.id))
    assert voters == {OTHER: (False, True)}  # the real batches wrote as ever
    posts, vote_rows, _ = await _rows(runner)
    assert (posts, vote_rows) == (before[0] + 2, before[1] + 1)


async def test_the_rehearsal_leaves_no_caller_for_a_closing_bot_to_wait_for(
    runner: TransactionRunner, caplog: pytest.LogCaptureFixture
) -> None:
    rehearsed, closing = asyncio.Event(), asyncio.Event()

    async def start() -> None:  # as the bot's start: its task lives until the bot closes
        await runner.rehearse(rehearse_batches)
        rehearsed.set()
        await closing.wait()

    starting = asyncio.create_task(start())
    await rehearsed.wait()
    with caplog.at_level(logging.WARNING, logger="bot.transactions"):
        await runner.wait_callers(grace=0.5)
    assert "still at work" not in caplog.text
    closing.set()
    await starting
