"""Answers and comments: messages in a question's thread, /answer and /reply.

A message in a question's thread becomes (``record_thread_message``), in this order:

1. nothing, when a bot wrote it (the bot's own posts are stored by the command that made them);
2. a comment on the answer it replies to; a comment on the same post as the comment it replies
   to; a comment on the question when it replies to the starter (or status) message;
3. a comment on the question when the asker wrote it;
4. an answer when it has at least the guild's ``min_answer_length`` characters - unless the
   question is closed or the member is over the hourly answer limit (a message Discord already
   shows cannot be refused, so it is kept as a comment) - else a comment on the question.

Given the author's ``display_name``, a new post that is not anonymous stores it as the name the
member was last seen with (``name_author``, in the post's transaction), so the leaderboard and
DMs can name them without the members intent.

An explicit answer (``post_answer``, the /answer command) is an answer whoever writes it, the
asker included; a reply (``post_reply``, the /reply command) is a comment by any member. Either
may be anonymous: it is then signed with the author's per-thread pseudonym ("Member 2",
``bot.forum.pseudonyms``, given in the transaction that stores the post), except the anonymous
asker's, which is signed as their question is (its display name, else "Anonymous").

Every Discord message maps to at most one post: a repeated event returns the existing post
unchanged. What the bot posts on someone's behalf is stored ``pending`` first and
made live by ``bot.forum.pending_posts``; edits are in ``bot.forum.edits``, deletes in
``bot.forum.deletion``.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Literal

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.models import Post
from bot.forum import notifications
from bot.forum.anonymity import check_anonymity_allowed
from bot.forum.blocks import check_not_blocked
from bot.forum.errors import InvalidState, NotFound
from bot.forum.leaderboard import remember_display_names
from bot.forum.ledger import Ledger
from bot.forum.lookups import change, repeat_of
from bot.forum.post_rows import (
    POST_GONE,
    QUESTION_CLOSED,
    QUESTION_GONE,
    gone,
    insert_post,
    load_post,
    locked_question,
    question_for_thread,
    update_post,
)
from bot.forum.pseudonyms import assign_pseudonym
from bot.forum.ratelimits import check_rate, over_limit
from bot.forum.reconcile import advance_thread_mark
from bot.forum.results import PostChange
from bot.forum.settings import GuildConfig, load_config
from bot.forum.text_rules import clean_display_name, validate_body

log = logging.getLogger(__name__)

PostState = Literal["pending", "live"]


@dataclass(frozen=True, slots=True)
class NewPost:
    """An answer or comment about to be stored in a question's thread (each field is the
    post's column of the same name)."""

    kind: Literal["answer", "comment"]
    parent_id: int
    author_id: int = field(repr=False)
    body: str
    via_bot: bool
    anonymous: bool = False
    display_name: str | None = None


# --------------------------------------------------------------------------- thread messages


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
    display_name: str | None = None,
    now: datetime | None = None,
) -> PostChange | None:
    """Map a message posted in a thread to an answer or comment (rules in the module doc).

    None when it is no post: written by a bot, or not in a live question's thread. A new post
    stores its author's ``display_name`` when given (``name_author``); a repeat stores nothing.
    """
    now = now or utc_now()
    repeat = await repeat_of(session, message_id)
    if repeat is not None:
        return repeat
    if author_is_bot:  # no post, but seen: reconciliation need not page it again
        await advance_thread_mark(session, thread_id, message_id)
        return None
    question = await question_for_thread(session, thread_id=thread_id, guild_id=guild_id, lock=True)
    if question is None or gone(question) or question.state != "live":
        return None
    await check_not_blocked(session, guild_id=guild_id, user_id=author_id, anonymous=False, now=now)
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
    new = NewPost(kind=kind, parent_id=parent.id, author_id=author_id, body=body, via_bot=False)
    stored = await _store(
        session, config, question, new, message_id=message_id, state="live", now=now
    )
    return await name_author(session, stored, display_name) if stored.created else stored


async def name_author(
    session: AsyncSession, change: PostChange, display_name: str | None
) -> PostChange:
    """Store ``display_name`` as the name the author of the post just made was last seen with;
    never for an anonymous post, whose author nothing may tie to a name. The change says
    whether it was stored (``author_named``)."""
    post = change.post
    if display_name is None or post.anonymous:
        return change
    await remember_display_names(
        session, guild_id=post.guild_id, names={post.author_id: display_name}
    )
    return replace(change, author_named=True)


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
        Post.removed_at.is_(None),
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


# --------------------------------------------------------------------------- /answer and /reply


@dataclass(frozen=True, slots=True)
class MemberPost:
    """An answer or reply a member has the bot post (/answer, /reply) in the thread of a question
    of ``guild_id`` given by id or by thread: its text, whether it is anonymous, and when the
    member joined the server (``joined_at``, for the anonymity rule)."""

    guild_id: int
    author_id: int = field(repr=False)
    body: str = field(repr=False)
    question_id: int | None = None
    thread_id: int | None = None
    anonymous: bool = False
    joined_at: datetime | None = None


async def post_answer(
    session: AsyncSession,
    *,
    post: MemberPost,
    display_name: str | None = None,
    message_id: int | None = None,
    state: PostState = "pending",
    now: datetime | None = None,
    check_limit: bool = True,
) -> PostChange:
    """An explicit answer (/answer), posted by the bot on the author's behalf.

    Always an answer, the asker's included. Refused while the question is closed and over the
    member's hourly answer limit; an anonymous one also where the member may not post
    anonymously. An anonymous answer is signed as ``_anonymous_name`` says (``display_name`` is
    then ignored). Stored ``pending`` before the bot posts it (then
    ``pending_posts.confirm_post``), or ``live`` with its ``message_id``.
    ``check_limit=False``: the hourly limit was checked when it was held for review.
    """
    now = now or utc_now()
    repeat = await repeat_of(session, message_id)
    if repeat is not None:
        return repeat
    question = await _question_for(session, post)
    if question.closed_at is not None:
        raise InvalidState(QUESTION_CLOSED)
    text = validate_body(post.body, what="answer")
    config = await load_config(session, post.guild_id)
    if post.anonymous:
        check_anonymity_allowed(config, joined_at=post.joined_at, now=now)
    await check_not_blocked(
        session, guild_id=post.guild_id, user_id=post.author_id, anonymous=post.anonymous
    )
    if check_limit:
        await check_rate(
            session, config, guild_id=post.guild_id, user_id=post.author_id, kind="answer", now=now
        )
    new = NewPost(
        kind="answer",
        parent_id=question.id,
        author_id=post.author_id,
        body=text,
        via_bot=True,
        anonymous=post.anonymous,
        display_name=(
            await _anonymous_name(session, question, post.author_id)
            if post.anonymous
            else clean_display_name(display_name)
        ),
    )
    return await _store(session, config, question, new, message_id=message_id, state=state, now=now)


async def post_reply(
    session: AsyncSession,
    *,
    post: MemberPost,
    parent_id: int | None = None,
    message_id: int | None = None,
    state: PostState = "pending",
    now: datetime | None = None,
) -> PostChange:
    """A member's comment posted by the bot (/reply): on the question, or on ``parent_id``
    (an answer of it).

    Named, or ``anonymous`` under the author's pseudonym in this thread (refused where the
    member may not post anonymously). The asker of an anonymous question always replies as the
    question shows them (its display name, else "Anonymous"), whatever ``anonymous`` says: a
    named reply would unmask them.
    """
    now = now or utc_now()
    repeat = await repeat_of(session, message_id)
    if repeat is not None:
        return repeat
    question = await _question_for(session, post)
    body = validate_body(post.body, what="reply")
    parent = question.id
    if parent_id is not None and parent_id != question.id:
        target = await load_post(session, parent_id)
        if (
            target is None
            or target.question_id != question.id
            or gone(target)
            or target.state != "live"
        ):
            raise NotFound(POST_GONE)
        parent = target.id if target.kind == "answer" else (target.parent_id or question.id)
    config = await load_config(session, post.guild_id)
    as_asker = post.author_id == question.author_id and question.anonymous
    if post.anonymous and not as_asker:
        check_anonymity_allowed(config, joined_at=post.joined_at, now=now)
    hidden = post.anonymous or as_asker
    await check_not_blocked(
        session, guild_id=post.guild_id, user_id=post.author_id, anonymous=hidden
    )
    new = NewPost(
        kind="comment",
        parent_id=parent,
        author_id=post.author_id,
        body=body,
        via_bot=True,
        anonymous=hidden,
        display_name=await _anonymous_name(session, question, post.author_id) if hidden else None,
    )
    return await _store(session, config, question, new, message_id=message_id, state=state, now=now)


async def _anonymous_name(session: AsyncSession, question: Post, author_id: int) -> str | None:
    """How an anonymous answer or reply is signed: the anonymous asker as their question is
    (None: "Anonymous"), anyone else with their pseudonym in this thread, given now (in the
    transaction that stores the post) when they have none yet."""
    if author_id == question.author_id and question.anonymous:
        return question.display_name
    return await assign_pseudonym(session, question_id=question.id, author_id=author_id)


async def _question_for(session: AsyncSession, post: MemberPost) -> Post:
    """Lock the live question the post goes to, given by id or thread."""
    question_id = post.question_id
    if question_id is None:
        if post.thread_id is None:
            raise ValueError("give question_id or thread_id")
        found = await question_for_thread(session, thread_id=post.thread_id, guild_id=post.guild_id)
        if found is None:
            raise NotFound("This is not a question's thread.")
        question_id = found.id
    question = await locked_question(session, question_id)
    if question.guild_id != post.guild_id:
        raise NotFound(QUESTION_GONE)
    return question


# --------------------------------------------------------------------------- storing


async def _store(
    session: AsyncSession,
    config: GuildConfig,
    question: Post,
    new: NewPost,
    *,
    message_id: int | None,
    state: PostState,
    now: datetime,
) -> PostChange:
    """Insert ``new`` in ``question``'s thread (a repeated message returns the stored post);
    a live post counts at once, a pending one once ``pending_posts.confirm_post`` makes it live."""
    post_id = await insert_post(
        session,
        state=state,
        now=now,
        guild_id=question.guild_id,
        question_id=question.id,
        thread_id=question.thread_id,
        forum_id=question.forum_id,
        message_id=message_id,
        **asdict(new),
    )
    if post_id is None:  # the same message was stored concurrently
        repeat = await repeat_of(session, message_id)
        assert repeat is not None
        return repeat
    if state == "live":
        await went_live(session, config, question, post_id, message_id=message_id, now=now)
    else:
        log.info("pending %s %s stored in guild %s", new.kind, post_id, question.guild_id)
    return await change(session, post_id, created=True)


async def went_live(
    session: AsyncSession,
    config: GuildConfig,
    question: Post,
    post_id: int,
    *,
    message_id: int | None,
    now: datetime,
    ledger: Ledger | None = None,
) -> None:
    """Points, counters, thread activity and notifications of an answer or comment that just
    became live (``ledger``: one already tracking it, when it was pending)."""
    if ledger is None:
        ledger = Ledger(session, config, question.guild_id)
        ledger.track_new(post_id)
    await ledger.settle(now)
    await _touch_question(session, question.id, message_id=message_id, now=now)
    post = await load_post(session, post_id)
    fresh_question = await load_post(session, question.id)
    assert post is not None
    assert fresh_question is not None
    if post.kind == "answer":
        await notifications.notify_new_answer(
            session, question=fresh_question, answer=post, now=now
        )
    else:
        parent = fresh_question
        if post.parent_id is not None and post.parent_id != question.id:
            loaded = await load_post(session, post.parent_id)
            parent = loaded if loaded is not None else fresh_question
        await notifications.notify_comment(
            session, question=fresh_question, comment=post, parent=parent, now=now
        )
    log.info(
        "%s %s stored on question %s in guild %s", post.kind, post.id, question.id, post.guild_id
    )


async def _touch_question(
    session: AsyncSession, question_id: int, *, message_id: int | None, now: datetime
) -> None:
    """Record activity in a (locked) question's thread and the newest message id seen there."""
    values: dict[str, object] = {"last_activity_at": now}
    if message_id is not None:
        values["last_seen_message_id"] = case(
            (Post.last_seen_message_id.is_(None), message_id),
            (Post.last_seen_message_id < message_id, message_id),
            else_=Post.last_seen_message_id,
        )
    await update_post(session, question_id, **values)
