"""Lookups: posts as callers see them, snapshots taken inside the transaction.

By id (``get_post``, ``get_question``), by Discord message (``find_post_by_message``), by thread
(``find_question_by_thread``), the bot's posts of one author in a thread
(``bot_posts_of_author``), and the ``PostChange`` every write operation returns (``change``).
A question a member names by id or thread (``readable_question``, ``readable_thread_question``)
is found only in a forum they can see, so one they cannot see answers as one that does not exist.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Post
from bot.forum.post_rows import (
    gone,
    post_id_by_message,
    question_for_thread,
    require_post,
    require_question,
)
from bot.forum.results import PostChange, PostSnapshot, post_snapshot
from bot.forum.visibility import VisibleForums, forum_filter


async def get_post(session: AsyncSession, post_id: int) -> PostSnapshot:
    """A question, answer or comment (deleted ones included); NotFound when there is none."""
    return post_snapshot(await require_post(session, post_id))


async def change(
    session: AsyncSession, post_id: int, *, created: bool = False, changed: bool = True
) -> PostChange:
    """Snapshot a post and its question after an operation."""
    post = await get_post(session, post_id)
    question = post if post.question_id is None else await get_post(session, post.question_id)
    return PostChange(post=post, question=question, created=created, changed=changed)


async def repeat_of(session: AsyncSession, message_id: int | None) -> PostChange | None:
    """The post already stored for this Discord message, unchanged (the event is a repeat)."""
    if message_id is None:
        return None
    existing = await post_id_by_message(session, message_id)
    return None if existing is None else await change(session, existing, changed=False)


async def get_question(session: AsyncSession, *, question_id: int) -> PostSnapshot:
    """A question that exists and is neither deleted nor removed."""
    return post_snapshot(await require_question(session, question_id))


async def find_question_by_thread(
    session: AsyncSession, *, thread_id: int, guild_id: int | None = None
) -> PostSnapshot | None:
    """The question of a thread, None when the thread is not a (live, undeleted) question."""
    post = await question_for_thread(session, thread_id=thread_id, guild_id=guild_id)
    if post is None or gone(post):
        return None
    return post_snapshot(post)


async def find_post_by_message(session: AsyncSession, *, message_id: int) -> PostSnapshot | None:
    """The post a Discord message maps to (deleted ones included), or None."""
    stmt = (
        select(Post).where(Post.message_id == message_id).execution_options(populate_existing=True)
    )
    post = (await session.execute(stmt)).scalar_one_or_none()
    return None if post is None else post_snapshot(post)


async def bot_posts_of_author(
    session: AsyncSession, *, guild_id: int, thread_id: int, author_id: int
) -> list[PostSnapshot]:
    """The live posts the bot posted on ``author_id``'s behalf in a question's thread (the
    question from /ask, answers from /answer, replies from /reply), oldest first: what /edit
    and /delete offer them, since those messages are the bot's."""
    stmt = (
        select(Post)
        .where(
            Post.guild_id == guild_id,
            Post.thread_id == thread_id,
            Post.author_id == author_id,
            Post.via_bot.is_(True),
            Post.state == "live",
            Post.deleted_at.is_(None),
            Post.removed_at.is_(None),
        )
        .order_by(Post.id)
        .execution_options(populate_existing=True)
    )
    return [post_snapshot(row) for row in (await session.execute(stmt)).scalars()]


async def readable_question(
    session: AsyncSession, *, guild_id: int, visible: VisibleForums, question_id: int
) -> PostSnapshot | None:
    """The undeleted question ``question_id`` of the guild when it is in a ``visible`` forum;
    None otherwise, so a question the reader cannot see is told apart from no question by
    nothing."""
    return await _readable(session, guild_id, visible, Post.id == question_id)


async def readable_thread_question(
    session: AsyncSession, *, guild_id: int, visible: VisibleForums, thread_id: int
) -> PostSnapshot | None:
    """As ``readable_question``, for the question of the thread ``thread_id``."""
    return await _readable(session, guild_id, visible, Post.thread_id == thread_id)


async def _readable(
    session: AsyncSession, guild_id: int, visible: VisibleForums, given: ColumnElement[bool]
) -> PostSnapshot | None:
    params: dict[str, Any] = {}
    visible_sql = text(forum_filter(visible, params, table="posts")).bindparams(**params)
    stmt = select(Post).where(
        Post.guild_id == guild_id,
        Post.kind == "question",
        Post.deleted_at.is_(None),
        given,
        visible_sql,
    )
    post = (
        await session.execute(
            stmt.order_by(Post.id).limit(1).execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    return None if post is None else post_snapshot(post)
