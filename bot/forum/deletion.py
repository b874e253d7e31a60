"""Deletes: a tombstone stays, the text goes (``bot.forum.purge``), and they undo everything
the deleted posts earned or gave.

A question goes with everything in its thread (its answers and comments). From commands
(``delete_question``, ``delete_post``: the author or a moderator) and from Discord
(``delete_message`` when a mapped message is deleted - the starter message deletes the
question - and ``delete_thread``). Deleting a deleted post changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.models import Post
from bot.forum.errors import NotFound
from bot.forum.ledger import Ledger
from bot.forum.lookups import change
from bot.forum.post_rows import (
    QUESTION_GONE,
    load_post,
    lock_posts,
    post_id_by_message,
    question_for_thread,
    require_post,
    update_post,
)
from bot.forum.purge import blank_posts
from bot.forum.results import PostChange
from bot.forum.rights import Actor, require_author_or_moderator

log = logging.getLogger(__name__)


async def delete_question(
    session: AsyncSession, *, question_id: int, actor: Actor, now: datetime | None = None
) -> PostChange:
    """Soft-delete a question and its answers and comments (the asker, or a moderator).

    Everything they earned or gave is undone. Deleting it again changes nothing.
    """
    question = await load_post(session, question_id, lock=True)
    if question is None or question.kind != "question":
        raise NotFound(QUESTION_GONE)
    require_author_or_moderator(
        question, actor, refusal="Only the asker or a moderator can delete this question."
    )
    changed = await _delete_thread_of(session, question, now=now or utc_now())
    return await change(session, question.id, changed=changed)


async def delete_post(
    session: AsyncSession, *, post_id: int, actor: Actor, now: datetime | None = None
) -> PostChange:
    """/delete (or a moderator's removal) of a question, answer or comment."""
    post = await require_post(session, post_id)
    require_author_or_moderator(
        post, actor, refusal="Only its author or a moderator can delete this."
    )
    return await _delete(session, post.id, now=now or utc_now())


async def delete_message(
    session: AsyncSession, *, message_id: int, now: datetime | None = None
) -> PostChange | None:
    """A mapped message was deleted on Discord (the starter message deletes the question).
    A removed post's message is deleted by the removal itself: the post stays restorable."""
    post_id = await post_id_by_message(session, message_id)
    if post_id is None:
        return None
    removed = await load_post(session, post_id)
    if removed is not None and removed.removed_at is not None:
        return await change(session, post_id, changed=False)
    return await _delete(session, post_id, now=now or utc_now())


async def delete_thread(
    session: AsyncSession, *, thread_id: int, now: datetime | None = None
) -> PostChange | None:
    """A question's thread was deleted: the question and everything in it are deleted."""
    question = await question_for_thread(session, thread_id=thread_id)
    if question is None:
        return None
    return await _delete(session, question.id, now=now or utc_now())


async def _delete(session: AsyncSession, post_id: int, *, now: datetime) -> PostChange:
    post = await load_post(session, post_id)
    assert post is not None
    if post.kind == "question":
        question = await load_post(session, post.id, lock=True)
        assert question is not None
        changed = await _delete_thread_of(session, question, now=now)
        return await change(session, post.id, changed=changed)
    assert post.question_id is not None
    # Lock order: the question, then the post (a question is older than its answers).
    locked = await lock_posts(session, [post.question_id, post.id])
    post = locked[post.id]
    question = locked.get(post.question_id) if post.question_id is not None else None
    if post.deleted_at is not None:
        return await change(session, post.id, changed=False)
    ledger = await Ledger.start(session, post.guild_id, [post.id])
    await update_post(session, post.id, deleted_at=now, updated_at=now)
    await blank_posts(session, [post.id])
    if question is not None and question.accepted_answer_id == post.id:
        await update_post(session, question.id, accepted_answer_id=None, updated_at=now)
        ledger.refresh_status(question.id)
    await ledger.settle(now)
    log.info("%s %s deleted in guild %s", post.kind, post.id, post.guild_id)
    return await change(session, post.id)


async def _delete_thread_of(session: AsyncSession, question: Post, *, now: datetime) -> bool:
    """Delete a (locked) question with everything in its thread; False if already deleted."""
    if question.deleted_at is not None:
        return False
    ledger = await Ledger.for_thread(session, question)
    await session.execute(
        update(Post)
        .where(Post.question_id == question.id, Post.deleted_at.is_(None))
        .values(deleted_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await update_post(session, question.id, deleted_at=now, updated_at=now)
    in_thread = await session.scalars(select(Post.id).where(Post.question_id == question.id))
    await blank_posts(session, [question.id, *in_thread])
    ledger.refresh_status(question.id)
    await ledger.settle(now)
    log.info("question %s deleted in guild %s", question.id, question.guild_id)
    return True
