"""Answers and comments: thread messages, /answer and /reply, pending rows, edits, deletes.

A message in a question's thread becomes (``record_thread_message``), in this order:

1. nothing, when a bot wrote it (the bot's own posts are stored by the command that made them);
2. a comment on the answer it replies to; a comment on the same post as the comment it replies
   to; a comment on the question when it replies to the starter (or status) message;
3. a comment on the question when the asker wrote it;
4. an answer when it has at least the guild's ``min_answer_length`` characters - unless the
   question is closed or the member is over the hourly answer limit (a message Discord already
   shows cannot be refused, so it is kept as a comment) - else a comment on the question.

An explicit answer (``post_answer``, the /answer command) is an answer whoever writes it, the
asker included. Every Discord message maps to at most one post: a repeated event returns the
existing post unchanged. Deletes are soft and undo all the post earned or gave.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.models import Post
from bot.forum import notifications
from bot.forum.errors import InvalidState, NotFound, PermissionDenied
from bot.forum.ledger import Ledger
from bot.forum.questions import (
    QUESTION_GONE,
    change,
    clean_display_name,
    insert_post,
    locked_question,
    question_for_thread,
    soft_delete_question,
    touch_question,
    validate_body,
)
from bot.forum.ratelimits import check_rate, over_limit
from bot.forum.results import PostChange, PostSnapshot, post_view
from bot.forum.settings import GuildConfig, load_config
from bot.forum.uow import load_post, lock_posts, post_id_by_message

log = logging.getLogger(__name__)

POST_GONE = "That post no longer exists."


# --------------------------------------------------------------------------- creating


async def record_thread_message(
    session: AsyncSession,
    *,
    guild_id: int,
    thread_id: int,
    message_id: int,
    author_id: int,
    body: str,
    reply_to_message_id: int | None = None,
    author_is_bot: bool = False,
    now: datetime | None = None,
) -> PostChange | None:
    """Map a message posted in a thread to an answer or comment (rules in the module doc).

    None when it is no post: written by a bot, or not in a live question's thread.
    """
    now = now or utc_now()
    existing = await post_id_by_message(session, message_id)
    if existing is not None:
        return await change(session, existing, changed=False)
    if author_is_bot:
        return None
    question = await question_for_thread(session, thread_id=thread_id, guild_id=guild_id, lock=True)
    if question is None or question.deleted_at is not None or question.state != "live":
        return None
    config = await load_config(session, guild_id)

    kind: Literal["answer", "comment"] = "comment"
    parent: Post = question
    target = await _reply_target(session, question, reply_to_message_id)
    if target is not None:
        parent = target
    elif author_id != question.author_id and await _answers_natively(
        session, config, question, author_id=author_id, body=body, now=now
    ):
        kind = "answer"
    post_id = await insert_post(
        session,
        _values(
            question,
            kind=kind,
            parent_id=parent.id,
            message_id=message_id,
            author_id=author_id,
            body=body,
            anonymous=False,
            display_name=None,
            via_bot=False,
            state="live",
            now=now,
        ),
    )
    if post_id is None:
        found = await post_id_by_message(session, message_id)
        assert found is not None
        return await change(session, found, changed=False)
    await _went_live(session, config, question, post_id, message_id=message_id, now=now)
    return await change(session, post_id, created=True)


async def _reply_target(
    session: AsyncSession, question: Post, reply_to_message_id: int | None
) -> Post | None:
    """The post a reply comments on: the answer replied to, a replied comment's parent, or the
    question for a reply to its starter or status message."""
    if reply_to_message_id is None:
        return None
    if reply_to_message_id in (question.message_id, question.status_message_id):
        return question
    stmt = select(Post).where(
        Post.message_id == reply_to_message_id,
        Post.question_id == question.id,
        Post.deleted_at.is_(None),
        Post.state == "live",
    )
    replied = (await session.execute(stmt)).scalar_one_or_none()
    if replied is None:
        return None
    if replied.kind == "answer":
        return replied
    if replied.parent_id is None or replied.parent_id == question.id:
        return question
    parent = await load_post(session, replied.parent_id)
    if parent is None or parent.deleted_at is not None:
        return question
    return parent


async def _answers_natively(
    session: AsyncSession,
    config: GuildConfig,
    question: Post,
    *,
    author_id: int,
    body: str,
    now: datetime,
) -> bool:
    if len(body.strip()) < config.min_answer_length or question.closed_at is not None:
        return False
    limited = await over_limit(
        session, config, guild_id=question.guild_id, user_id=author_id, kind="answer", now=now
    )
    return not limited


def _values(
    question: Post,
    *,
    kind: Literal["answer", "comment"],
    parent_id: int,
    message_id: int | None,
    author_id: int,
    body: str,
    anonymous: bool,
    display_name: str | None,
    via_bot: bool,
    state: Literal["pending", "live"],
    now: datetime,
) -> dict[str, object]:
    return {
        "guild_id": question.guild_id,
        "kind": kind,
        "question_id": question.id,
        "parent_id": parent_id,
        "thread_id": question.thread_id,
        "message_id": message_id,
        "author_id": author_id,
        "anonymous": anonymous,
        "via_bot": via_bot,
        "display_name": display_name,
        "body": body,
        "status": "open",
        "state": state,
        "created_at": now,
        "updated_at": now,
        "last_activity_at": now,
    }


async def _went_live(
    session: AsyncSession,
    config: GuildConfig,
    question: Post,
    post_id: int,
    *,
    message_id: int | None,
    now: datetime,
    ledger: Ledger | None = None,
) -> None:
    """Points, counters and notifications of an answer or comment that just became live."""
    if ledger is None:
        ledger = Ledger(session, config, question.guild_id)
        ledger.track_new(post_id)
    await ledger.settle(now)
    await touch_question(session, question.id, message_id=message_id, now=now)
    post = await load_post(session, post_id)
    fresh_question = await load_post(session, question.id)
    assert post is not None and fresh_question is not None
    if post.kind == "answer":
        await notifications.notify_new_answer(
            session, question=fresh_question, answer=post, now=now
        )
    else:
        parent = fresh_question
        if post.parent_id is not None and post.parent_id != question.id:
            loaded = await load_post(session, post.parent_id)
            parent = loaded if loaded is not None else fresh_question
        await notifications.notify_comment(session, comment=post, parent=parent, now=now)
    log.info(
        "%s %s stored on question %s in guild %s", post.kind, post.id, question.id, post.guild_id
    )


async def _question_for(
    session: AsyncSession, *, guild_id: int, question_id: int | None, thread_id: int | None
) -> Post:
    """Lock the live question given by id or thread."""
    if question_id is None:
        if thread_id is None:
            raise ValueError("give question_id or thread_id")
        found = await question_for_thread(session, thread_id=thread_id, guild_id=guild_id)
        if found is None:
            raise NotFound("This is not a question's thread.")
        question_id = found.id
    question = await locked_question(session, question_id)
    if question.guild_id != guild_id:
        raise NotFound(QUESTION_GONE)
    return question


async def post_answer(
    session: AsyncSession,
    *,
    guild_id: int,
    author_id: int,
    body: str,
    question_id: int | None = None,
    thread_id: int | None = None,
    anonymous: bool = False,
    display_name: str | None = None,
    message_id: int | None = None,
    state: Literal["pending", "live"] = "pending",
    now: datetime | None = None,
) -> PostChange:
    """An explicit answer (/answer), posted by the bot on the author's behalf.

    Always an answer, the asker's included. Refused while the question is closed and over the
    member's hourly answer limit. Stored ``pending`` before the bot posts it (then
    ``confirm_post``), or ``live`` with its ``message_id``.
    """
    now = now or utc_now()
    if message_id is not None:
        existing = await post_id_by_message(session, message_id)
        if existing is not None:
            return await change(session, existing, changed=False)
    question = await _question_for(
        session, guild_id=guild_id, question_id=question_id, thread_id=thread_id
    )
    if question.closed_at is not None:
        raise InvalidState("This question is closed, so it takes no new answers.")
    body = validate_body(body, what="answer")
    display_name = clean_display_name(display_name)
    config = await load_config(session, guild_id)
    await check_rate(session, config, guild_id=guild_id, user_id=author_id, kind="answer", now=now)
    return await _store_explicit(
        session,
        config,
        question,
        kind="answer",
        parent_id=question.id,
        author_id=author_id,
        body=body,
        anonymous=anonymous,
        display_name=display_name,
        message_id=message_id,
        state=state,
        now=now,
    )


async def post_reply(
    session: AsyncSession,
    *,
    guild_id: int,
    author_id: int,
    body: str,
    question_id: int | None = None,
    thread_id: int | None = None,
    parent_id: int | None = None,
    message_id: int | None = None,
    state: Literal["pending", "live"] = "pending",
    now: datetime | None = None,
) -> PostChange:
    """The asker's comment posted by the bot (/reply): on the question, or on ``parent_id``
    (an answer of it). It is anonymous, under the question's display name, when the question
    is."""
    now = now or utc_now()
    if message_id is not None:
        existing = await post_id_by_message(session, message_id)
        if existing is not None:
            return await change(session, existing, changed=False)
    question = await _question_for(
        session, guild_id=guild_id, question_id=question_id, thread_id=thread_id
    )
    if author_id != question.author_id:
        raise PermissionDenied("Only the asker can use /reply in this thread.")
    body = validate_body(body, what="reply")
    parent = question.id
    if parent_id is not None and parent_id != question.id:
        target = await load_post(session, parent_id)
        if (
            target is None
            or target.question_id != question.id
            or target.deleted_at is not None
            or target.state != "live"
        ):
            raise NotFound(POST_GONE)
        parent = target.id if target.kind == "answer" else (target.parent_id or question.id)
    config = await load_config(session, guild_id)
    return await _store_explicit(
        session,
        config,
        question,
        kind="comment",
        parent_id=parent,
        author_id=author_id,
        body=body,
        anonymous=question.anonymous,
        display_name=question.display_name,
        message_id=message_id,
        state=state,
        now=now,
    )


async def _store_explicit(
    session: AsyncSession,
    config: GuildConfig,
    question: Post,
    *,
    kind: Literal["answer", "comment"],
    parent_id: int,
    author_id: int,
    body: str,
    anonymous: bool,
    display_name: str | None,
    message_id: int | None,
    state: Literal["pending", "live"],
    now: datetime,
) -> PostChange:
    if state == "live" and message_id is None:
        raise ValueError("a live post needs its message id")
    post_id = await insert_post(
        session,
        _values(
            question,
            kind=kind,
            parent_id=parent_id,
            message_id=message_id,
            author_id=author_id,
            body=body,
            anonymous=anonymous,
            display_name=display_name,
            via_bot=True,
            state=state,
            now=now,
        ),
    )
    if post_id is None:
        assert message_id is not None
        found = await post_id_by_message(session, message_id)
        assert found is not None
        return await change(session, found, changed=False)
    if state == "live":
        await _went_live(session, config, question, post_id, message_id=message_id, now=now)
    else:
        log.info("pending %s %s stored in guild %s", kind, post_id, question.guild_id)
    return await change(session, post_id, created=True)


async def confirm_post(
    session: AsyncSession,
    *,
    post_id: int,
    message_id: int,
    thread_id: int | None = None,
    status_message_id: int | None = None,
    now: datetime | None = None,
) -> PostChange:
    """A pending post now exists on Discord: store its ids and make it count.

    For a question give the forum thread's id (and the status message's, when it is not the
    starter). Confirming again with the same message changes nothing.
    """
    now = now or utc_now()
    post = await load_post(session, post_id)
    if post is None or post.deleted_at is not None:
        raise NotFound(POST_GONE)
    if post.state == "live":
        if post.message_id == message_id:
            return await change(session, post.id, changed=False)
        raise InvalidState("That post is already on Discord.")
    config = await load_config(session, post.guild_id)
    if post.kind == "question":
        if thread_id is None:
            raise ValueError("a question is confirmed with its thread id")
        locked = await lock_posts(session, [post.id])
        post = locked[post.id]
        ledger = Ledger(session, config, post.guild_id)
        await ledger.track([post.id])
        await session.execute(
            update(Post)
            .where(Post.id == post.id)
            .values(
                state="live",
                message_id=message_id,
                thread_id=thread_id,
                status_message_id=status_message_id or message_id,
                last_seen_message_id=message_id,
                updated_at=now,
                last_activity_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        ledger.refresh_status(post.id)
        await ledger.settle(now)
        log.info("question %s posted in guild %s", post.id, post.guild_id)
        return await change(session, post.id)

    assert post.question_id is not None
    question = await locked_question(session, post.question_id)
    post = (await lock_posts(session, [post.id]))[post.id]
    ledger = Ledger(session, config, post.guild_id)
    await ledger.track([post.id])
    await session.execute(
        update(Post)
        .where(Post.id == post.id)
        .values(state="live", message_id=message_id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await _went_live(
        session, config, question, post.id, message_id=message_id, now=now, ledger=ledger
    )
    return await change(session, post.id)


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


# --------------------------------------------------------------------------- editing


async def edit_message(
    session: AsyncSession, *, message_id: int, body: str, now: datetime | None = None
) -> PostChange | None:
    """A mapped message was edited on Discord: update the post's text (its kind never changes).

    None when the message is no post. A question's starter message is its details.
    """
    now = now or utc_now()
    post_id = await post_id_by_message(session, message_id)
    if post_id is None:
        return None
    post = await load_post(session, post_id, lock=True)
    assert post is not None
    if post.deleted_at is not None or post.body == body:
        return await change(session, post.id, changed=False)
    return await _save_body(session, post, body, now=now)


async def edit_post(
    session: AsyncSession,
    *,
    post_id: int,
    actor_id: int,
    body: str,
    now: datetime | None = None,
) -> PostChange:
    """/edit of an answer or reply the bot posted on the author's behalf (the author only).

    The caller edits the bot's message afterwards. Questions: ``questions.edit_question``.
    """
    now = now or utc_now()
    post = await load_post(session, post_id, lock=True)
    if post is None or post.deleted_at is not None or post.kind == "question":
        raise NotFound(POST_GONE)
    if post.author_id != actor_id:
        raise PermissionDenied("Only its author can edit this.")
    if not post.via_bot:
        raise InvalidState("Edit your own message on Discord directly.")
    text = validate_body(body, what="answer" if post.kind == "answer" else "reply")
    if text == post.body:
        return await change(session, post.id, changed=False)
    return await _save_body(session, post, text, now=now)


async def _save_body(session: AsyncSession, post: Post, body: str, *, now: datetime) -> PostChange:
    """Store an edited post's new text (its kind never changes)."""
    await session.execute(
        update(Post)
        .where(Post.id == post.id)
        .values(body=body, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    log.info("%s %s edited in guild %s", post.kind, post.id, post.guild_id)
    return await change(session, post.id)


# --------------------------------------------------------------------------- deleting


async def delete_message(
    session: AsyncSession, *, message_id: int, now: datetime | None = None
) -> PostChange | None:
    """A mapped message was deleted on Discord (the starter message deletes the question)."""
    post_id = await post_id_by_message(session, message_id)
    if post_id is None:
        return None
    return await _delete(session, post_id, now=now or utc_now())


async def delete_thread(
    session: AsyncSession, *, thread_id: int, now: datetime | None = None
) -> PostChange | None:
    """A question's thread was deleted: the question and everything in it are deleted."""
    question = await question_for_thread(session, thread_id=thread_id)
    if question is None:
        return None
    return await _delete(session, question.id, now=now or utc_now())


async def delete_post(
    session: AsyncSession,
    *,
    post_id: int,
    actor_id: int,
    is_moderator: bool = False,
    now: datetime | None = None,
) -> PostChange:
    """/delete (or a moderator's removal) of a question, answer or comment."""
    post = await load_post(session, post_id)
    if post is None:
        raise NotFound(POST_GONE)
    if not (is_moderator or post.author_id == actor_id):
        raise PermissionDenied("Only its author or a moderator can delete this.")
    return await _delete(session, post.id, now=now or utc_now())


async def _delete(session: AsyncSession, post_id: int, *, now: datetime) -> PostChange:
    post = await load_post(session, post_id)
    assert post is not None
    if post.kind == "question":
        question = await load_post(session, post.id, lock=True)
        assert question is not None
        changed = await soft_delete_question(session, question, now=now)
        return await change(session, post.id, changed=changed)
    assert post.question_id is not None
    # Lock order: the question, then the post (a question is older than its answers).
    locked = await lock_posts(session, [post.question_id, post.id])
    post = locked[post.id]
    question = locked.get(post.question_id) if post.question_id is not None else None
    if post.deleted_at is not None:
        return await change(session, post.id, changed=False)
    config = await load_config(session, post.guild_id)
    ledger = Ledger(session, config, post.guild_id)
    await ledger.track([post.id])
    await session.execute(
        update(Post)
        .where(Post.id == post.id)
        .values(deleted_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if question is not None and question.accepted_answer_id == post.id:
        await session.execute(
            update(Post)
            .where(Post.id == question.id)
            .values(accepted_answer_id=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        ledger.refresh_status(question.id)
    await ledger.settle(now)
    log.info("%s %s deleted in guild %s", post.kind, post.id, post.guild_id)
    return await change(session, post.id)


# --------------------------------------------------------------------------- reads


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
        )
        .order_by(Post.id)
        .execution_options(populate_existing=True)
    )
    return [post_view(row) for row in (await session.execute(stmt)).scalars()]
