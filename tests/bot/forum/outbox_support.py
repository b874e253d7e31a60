"""Helpers for the outbox tests: rows written straight through the ORM, and a claim."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Notification, Post
from bot.forum import notifications, outbox, prefs
from bot.forum.outbox import OutboxItem

GUILD = 1
ASKER = 10
ANSWERER = 20
FOLLOWER = 30
MODERATOR = 40
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
unique_ids = itertools.count(70_000)


async def add_question(
    session: AsyncSession, *, author_id: int = ASKER, guild_id: int = GUILD
) -> Post:
    thread_id = next(unique_ids)
    question = Post(
        guild_id=guild_id,
        kind="question",
        author_id=author_id,
        thread_id=thread_id,
        message_id=thread_id,
        title="How do I sleep before an exam?",
        body="I lie awake for hours.",
    )
    session.add(question)
    await session.flush()
    return question


async def add_reply(
    session: AsyncSession,
    question: Post,
    *,
    author_id: int = ANSWERER,
    kind: str = "answer",
    parent: Post | None = None,
    anonymous: bool = False,
) -> Post:
    post = Post(
        guild_id=question.guild_id,
        kind=kind,
        author_id=author_id,
        question_id=question.id,
        parent_id=(parent or question).id,
        thread_id=question.thread_id,
        message_id=next(unique_ids),
        body="Try a fixed wind-down routine.",
        anonymous=anonymous,
    )
    session.add(post)
    await session.flush()
    return post


async def outbox_rows(session: AsyncSession) -> list[Notification]:
    result = await session.execute(
        select(Notification).order_by(Notification.id).execution_options(populate_existing=True)
    )
    return list(result.scalars())


async def recipients(session: AsyncSession) -> list[int]:
    return sorted(row.recipient_id for row in await outbox_rows(session))


async def claim(
    session: AsyncSession, now: datetime, *, worker: str = "w1", limit: int = 100
) -> list[OutboxItem]:
    return await outbox.claim_due(session, worker_id=worker, now=now, lease=LEASE, limit=limit)


async def queue_answers(
    sessionmaker: async_sessionmaker[AsyncSession], recipients: int, *, now: datetime = NOW
) -> Post:
    """One question with ``recipients`` followers (asker included) and one answer queued."""
    async with sessionmaker.begin() as session:
        question = await add_question(session)
        for user in range(1000, 1000 + recipients - 1):
            await prefs.follow(session, guild_id=GUILD, question_id=question.id, user_id=user)
        answer = await add_reply(session, question)
        assert (
            await notifications.notify_new_answer(
                session, question=question, answer=answer, now=now
            )
            == recipients
        )
    return question
