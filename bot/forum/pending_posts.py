"""Pending posts: what the bot posts on someone's behalf is stored before it is posted.

/ask, /answer and /reply store their post ``pending`` (it counts nothing yet); once Discord has
the message the caller confirms it (``confirm_post``), which stores its ids and makes it count,
or, when Discord refused the message, forgets it (``discard_pending_post``). When the outcome is
unknown (Discord answered with a 5xx, or the process died) the row stays ``pending``: it counts
nothing and nothing shows it, until the next reconciliation (``bot.workers.reconciler``)
completes it from the message Discord holds (its footer key) or discards it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.models import Post
from bot.forum.errors import InvalidState, NotFound
from bot.forum.ledger import Ledger
from bot.forum.lookups import change
from bot.forum.post_rows import POST_GONE, load_post, lock_posts, locked_question, update_post
from bot.forum.posts import name_author, went_live
from bot.forum.results import PostChange

log = logging.getLogger(__name__)


async def confirm_post(
    session: AsyncSession,
    *,
    post_id: int,
    message_id: int,
    thread_id: int | None = None,
    display_name: str | None = None,
    now: datetime | None = None,
) -> PostChange:
    """A pending post now exists on Discord: store its ids and make it count.

    For a question give the forum thread's id (its starter shows the status line until
    ``questions.set_status_message`` says otherwise). Confirming again with the same message
    changes nothing. An answer or comment made live stores its author's ``display_name`` when
    given (``posts.name_author``).
    """
    now = now or utc_now()
    post = await load_post(session, post_id)
    if post is None or post.deleted_at is not None:
        raise NotFound(POST_GONE)
    if post.state == "live":
        if post.message_id == message_id:
            return await change(session, post.id, changed=False)
        raise InvalidState("That post is already on Discord.")
    if post.kind == "question":
        if thread_id is None:
            raise ValueError("a question is confirmed with its thread id")
        post = (await lock_posts(session, [post.id]))[post.id]
        ledger = await Ledger.start(session, post.guild_id, [post.id])
        await update_post(
            session,
            post.id,
            state="live",
            message_id=message_id,
            thread_id=thread_id,
            status_message_id=message_id,
            last_seen_message_id=message_id,
            updated_at=now,
            last_activity_at=now,
        )
        ledger.refresh_status(post.id)
        await ledger.settle(now)
        log.info("question %s posted in guild %s", post.id, post.guild_id)
        return await change(session, post.id)

    assert post.question_id is not None
    question = await locked_question(session, post.question_id)
    post = (await lock_posts(session, [post.id]))[post.id]
    ledger = await Ledger.start(session, post.guild_id, [post.id])
    await update_post(session, post.id, state="live", message_id=message_id, updated_at=now)
    await went_live(
        session, ledger.config, question, post.id, message_id=message_id, now=now, ledger=ledger
    )
    return await name_author(session, await change(session, post.id), display_name)


async def discard_pending_post(session: AsyncSession, *, post_id: int) -> bool:
    """Forget a pending post the bot could not post (it never counted). False if not pending."""
    result = await session.execute(
        delete(Post)
        .where(Post.id == post_id, Post.state == "pending")
        .execution_options(synchronize_session=False)
    )
    gone = bool(getattr(result, "rowcount", 0))
    if gone:
        log.info("pending post %s discarded", post_id)
    return gone
