"""``/mod queue``: the open reports of a guild, one entry per post, the most recently reported
first, a page at a time. An entry names the post, never its author or its reporters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.db.models import Flag, Post
from bot.forum.paging import EntryPage, page_window
from bot.forum.results import PostKind


@dataclass(frozen=True, slots=True)
class QueueEntry:
    post_id: int
    kind: PostKind
    #: The question's title (an answer's or comment's question).
    title: str | None
    thread_id: int | None
    message_id: int | None
    open_reports: int
    latest_at: datetime
    hidden: bool


#: One page of reported posts, newest report first.
QueuePage = EntryPage[QueueEntry]


async def queue_page(
    session: AsyncSession, guild_id: int, *, number: int = 1, per_page: int = 10
) -> QueuePage:
    """Page ``number`` (clamped) of the guild's posts with open reports, newest report first."""
    is_open = (Flag.guild_id == guild_id, Flag.status == "open")
    total = (
        await session.scalar(select(func.count(func.distinct(Flag.post_id))).where(*is_open))
    ) or 0
    window = page_window(total, number, per_page)
    grouped = (
        select(
            Flag.post_id.label("post_id"),
            func.count().label("open_reports"),
            func.max(Flag.created_at).label("latest_at"),
            func.max(Flag.id).label("latest_id"),
        )
        .where(*is_open)
        .group_by(Flag.post_id)
        .subquery()
    )
    question = aliased(Post)
    rows = await session.execute(
        select(
            Post.id,
            Post.kind,
            func.coalesce(question.title, Post.title).label("title"),
            Post.thread_id,
            Post.message_id,
            Post.removed_at,
            grouped.c.open_reports,
            grouped.c.latest_at,
        )
        .join(grouped, grouped.c.post_id == Post.id)
        .outerjoin(question, question.id == Post.question_id)
        .order_by(grouped.c.latest_id.desc())
        .offset(window.offset)
        .limit(window.limit)
    )
    entries = tuple(
        QueueEntry(
            post_id=row.id,
            kind=cast(PostKind, row.kind),
            title=row.title,
            thread_id=row.thread_id,
            message_id=row.message_id,
            open_reports=row.open_reports,
            latest_at=row.latest_at,
            hidden=row.removed_at is not None,
        )
        for row in rows
    )
    return EntryPage(entries, window.number, window.pages, total)
