"""Deleted text really deleted: a deleted post keeps a tombstone, never its words.

``blank_posts`` runs in the transaction that deletes the posts (``bot.forum.deletion``): their
title, body and display name are removed from ``posts`` (the SQLite full-text index follows
through its update trigger, PostgreSQL's generated ``search_vector`` is recomputed), the held
post an approved one came from forgets what it held, and the asker's ``/ask`` drafts of a deleted
question are dropped. The row stays as a tombstone: kind, author, guild, thread, score, votes and
timestamps, all that points and counters need. Notification rows hold ids only
(``bot.forum.notifications``), so there is no text to blank there.

A moderator's removal keeps the text for the guild's ``restore_window_days``, so the post can be
restored; ``purge_removed`` blanks removed posts older than that (run periodically by
``bot.workers.purger``).

What the database files may still hold after that is ``bot.db.compaction``'s concern.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.imported import ImportedPost
from bot.db.models import AskDraft, Flag, HeldPost, Notification, Post, ReportCard, UserPref
from bot.forum.post_rows import load_post
from bot.forum.q2a_rules import IMPORTED_REMOVALS
from bot.forum.settings import load_config
from bot.forum.shards import ALL_SERVERS, ServerScope

log = logging.getLogger(__name__)

#: The name of a question's thread once the question is deleted.
REMOVED_THREAD_NAME: Final = "[removed]"


def _has_text() -> ColumnElement[bool]:
    return or_(Post.title.is_not(None), Post.body != "", Post.display_name.is_not(None))


async def blank_posts(session: AsyncSession, post_ids: Sequence[int]) -> int:
    """Remove the words of ``post_ids`` from every table that holds a copy; the number of posts
    that still had some. The rows stay as tombstones."""
    ids = sorted(set(post_ids))
    if not ids:
        return 0
    asked = await session.execute(
        select(Post.guild_id, Post.author_id, Post.title).where(
            Post.id.in_(ids), Post.kind == "question", Post.title.is_not(None)
        )
    )
    for guild_id, author_id, title in asked.all():
        await session.execute(
            delete(AskDraft)
            .where(
                AskDraft.guild_id == guild_id,
                AskDraft.user_id == author_id,
                AskDraft.title == title,
            )
            .execution_options(synchronize_session=False)
        )
    await session.execute(
        update(HeldPost)
        .where(HeldPost.post_id.in_(ids), HeldPost.payload != "{}")
        .values(payload="{}")
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(
        update(Post)
        .where(Post.id.in_(ids), _has_text())
        .values(title=None, body="", display_name=None)
        .execution_options(synchronize_session=False)
    )
    blanked = int(getattr(result, "rowcount", 0) or 0)
    if blanked:
        log.info("blanked the text of %d deleted posts", blanked)
    return blanked


async def purge_removed(
    session: AsyncSession, *, now: datetime | None = None, scope: ServerScope = ALL_SERVERS
) -> int:
    """Blank the posts a moderator removed more than their guild's ``restore_window_days``
    ago (they can no longer be restored), a removed question with everything in its thread,
    in the servers of ``scope``; the number blanked. Posts imported hidden or queued
    (``bot.forum.q2a_rules``) stay."""
    now = now or utc_now()
    rows = await session.execute(
        select(Post.id, Post.guild_id, Post.removed_at).where(
            Post.removed_at.is_not(None),
            _has_text(),
            scope.where(Post.guild_id),
            ~(
                Post.id.in_(select(ImportedPost.post_id))
                & Post.removal_reason.in_(IMPORTED_REMOVALS)
            ),
        )
    )
    windows: dict[int, timedelta] = {}
    due: list[int] = []
    for post_id, guild_id, removed_at in rows.all():
        if guild_id not in windows:
            config = await load_config(session, guild_id)
            windows[guild_id] = timedelta(days=config.restore_window_days)
        if removed_at is not None and removed_at <= now - windows[guild_id]:
            due.append(post_id)
    # A removed question's thread went with it and can no longer come back either.
    in_threads = await session.scalars(select(Post.id).where(Post.question_id.in_(due)))
    return await blank_posts(session, [*due, *in_threads])


async def thread_name(session: AsyncSession, *, question_id: int) -> tuple[int, str] | None:
    """The guild and the name a question's thread should have: its title, ``[removed]`` once
    the question is deleted; None when there is no such question or nothing to name it."""
    post = await load_post(session, question_id)
    if post is None or post.kind != "question":
        return None
    if post.deleted_at is not None:
        return post.guild_id, REMOVED_THREAD_NAME
    return (post.guild_id, post.title) if post.title else None


async def reported_posts_of(session: AsyncSession, *, post_id: int) -> list[int]:
    """The reported posts (a report card, or reports whose card may be on its way) among
    ``post_id`` and, for a question, everything in its thread (deleted with it): the cards to
    show again without their text."""
    in_thread = select(Post.id).where(or_(Post.id == post_id, Post.question_id == post_id))
    carded = select(ReportCard.post_id).where(ReportCard.post_id.in_(in_thread))
    flagged = select(Flag.post_id).where(Flag.post_id.in_(in_thread))
    rows = await session.scalars(carded.union(flagged))
    return sorted(set(rows))


async def sent_dms_about(session: AsyncSession, *, post_id: int) -> list[tuple[int, int]]:
    """The DMs the bot sent about ``post_id`` or, for a question, about anything in its thread
    (deleted with it), as (DM channel, message): each showed the deleted text and is edited to
    say it is gone. A DM whose channel the bot no longer knows is left out."""
    in_thread = select(Post.id).where(or_(Post.id == post_id, Post.question_id == post_id))
    rows = await session.execute(
        select(UserPref.dm_channel_id, Notification.sent_message_id)
        .join(UserPref, UserPref.user_id == Notification.recipient_id)
        .where(
            or_(Notification.post_id.in_(in_thread), Notification.question_id == post_id),
            Notification.status == "sent",
            Notification.sent_message_id.is_not(None),
            UserPref.dm_channel_id.is_not(None),
        )
        .distinct()
    )
    return sorted(
        (channel, message)
        for channel, message in rows.all()
        if channel is not None and message is not None
    )
