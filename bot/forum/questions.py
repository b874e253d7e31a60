"""Questions: ask (from /ask or by adopting a native forum post), close, reopen, status message.

``check_can_ask`` refuses /ask before its form opens when the member is at the hourly limit.

A question's status is derived: ``closed`` while closed, else ``solved`` with an accepted
answer, else ``answered`` with at least one live answer, else ``open`` (``ledger.Ledger``
keeps it, ``answer_count``, the score and members' points right in the event's transaction).
Edits are in ``bot.forum.edits``, deletes in ``bot.forum.deletion``, the pending row of an
/ask question becomes live in ``bot.forum.pending_posts``; what a title, details or a display name
may be is ``bot.forum.text_rules``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.models import Post
from bot.forum import audit
from bot.forum.categories import list_categories, resolve_category
from bot.forum.errors import NotFound, PermissionDenied, ValidationError
from bot.forum.ledger import Ledger
from bot.forum.lookups import change, readable_question
from bot.forum.post_rows import (
    QUESTION_GONE,
    existing_question_id,
    insert_post,
    load_post,
    update_post,
)
from bot.forum.ratelimits import check_rate
from bot.forum.results import PostChange
from bot.forum.rights import Actor, locked_question_for
from bot.forum.settings import load_config
from bot.forum.text_rules import (
    DISPLAY_NAME_MAX,
    clean_display_name,
    native_title,
    trim,
    validate_close_reason,
    validate_details,
    validate_title,
)
from bot.forum.visibility import VisibleForums

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AskedQuestion:
    """A question as its member asks it (through /ask, or by posting in the forum): what they
    typed, the category it goes to and how it is signed (``display_name`` only counts for an
    anonymous question)."""

    title: str
    details: str = ""
    category: str | None = None
    anonymous: bool = False
    display_name: str | None = None


async def checked_question(
    session: AsyncSession, guild_id: int, asked: AskedQuestion
) -> AskedQuestion:
    """``asked`` as /ask keeps it: title, details and display name validated (``ValidationError``
    otherwise) and the category resolved to one of the guild's (``NotFound`` otherwise)."""
    return replace(
        asked,
        title=validate_title(asked.title),
        details=validate_details(asked.details),
        display_name=clean_display_name(asked.display_name),
        category=await resolve_category(session, guild_id, asked.category),
    )


def _as_posted(asked: AskedQuestion) -> AskedQuestion:
    """A native forum post's text cut to what the columns hold: Discord already accepted it, so
    nothing is refused."""
    return replace(
        asked,
        title=native_title(asked.title),
        details=trim(asked.details or ""),
        category=trim(asked.category)[:100] if asked.category else None,
        display_name=trim(asked.display_name)[:DISPLAY_NAME_MAX] if asked.display_name else None,
    )


async def create_question(
    session: AsyncSession,
    *,
    guild_id: int,
    author_id: int,
    asked: AskedQuestion,
    via_bot: bool = True,
    thread_id: int | None = None,
    message_id: int | None = None,
    forum_id: int | None = None,
    state: Literal["pending", "live"] = "live",
    now: datetime | None = None,
    check_limit: bool = True,
) -> PostChange:
    """Store the question ``asked``, in the forum ``forum_id`` (default: the guild's Q&A forum).

    ``via_bot=True`` (/ask): its title, details, display name and category are validated and
    the member's hourly question limit applies; the bot usually stores it ``pending`` before
    posting the forum thread and calls ``pending_posts.confirm_post`` once it exists.
    ``via_bot=False`` adopts a native forum post (``thread_id`` and ``message_id`` given,
    live): Discord already accepted it, so nothing is refused. A repeat (same message or
    thread) returns the existing question with ``created=False``.
    """
    now = now or utc_now()
    existing = await existing_question_id(session, message_id=message_id, thread_id=thread_id)
    if existing is not None:
        return await change(session, existing, changed=False)
    config = await load_config(session, guild_id)
    if via_bot:
        asked = await checked_question(session, guild_id, asked)
        if check_limit:
            await check_rate(
                session, config, guild_id=guild_id, user_id=author_id, kind="question", now=now
            )
    else:
        asked = _as_posted(asked)
    post_id = await insert_post(
        session,
        state=state,
        now=now,
        guild_id=guild_id,
        kind="question",
        thread_id=thread_id,
        message_id=message_id,
        status_message_id=message_id if via_bot else None,
        forum_id=forum_id if forum_id is not None else config.forum_channel_id,
        author_id=author_id,
        anonymous=asked.anonymous,
        via_bot=via_bot,
        display_name=asked.display_name,
        title=asked.title,
        body=asked.details,
        category=asked.category,
    )
    if post_id is None:  # the same message was stored concurrently
        existing = await existing_question_id(session, message_id=message_id, thread_id=thread_id)
        assert existing is not None
        return await change(session, existing, changed=False)
    if state == "live":
        ledger = Ledger(session, config, guild_id)
        ledger.track_new(post_id)
        await ledger.settle(now)
    log.info("question %s stored (%s) in guild %s", post_id, state, guild_id)
    return await change(session, post_id, created=True)


async def ask_question(
    session: AsyncSession,
    *,
    guild_id: int,
    author_id: int,
    asked: AskedQuestion,
    check_limit: bool = True,
    now: datetime | None = None,
) -> PostChange:
    """Store a question asked through /ask ``pending``, validated (``create_question`` with
    ``via_bot=True``); the caller posts its forum thread, then ``pending_posts.confirm_post``."""
    return await create_question(
        session,
        guild_id=guild_id,
        author_id=author_id,
        asked=asked,
        state="pending",
        now=now,
        check_limit=check_limit,
    )


async def check_can_ask(
    session: AsyncSession, *, guild_id: int, user_id: int, now: datetime | None = None
) -> None:
    """Refuse at once, before /ask opens its form, a member already at the guild's hourly
    question limit (``create_question`` checks it again when the question is stored)."""
    config = await load_config(session, guild_id)
    await check_rate(
        session, config, guild_id=guild_id, user_id=user_id, kind="question", now=now or utc_now()
    )


async def adopt_native_post(
    session: AsyncSession,
    *,
    guild_id: int,
    author_id: int,
    thread_id: int,
    message_id: int,
    title: str,
    details: str,
    tag_ids: Sequence[int],
    forum_id: int | None = None,
    now: datetime | None = None,
) -> PostChange:
    """A post a member made directly in the forum ``forum_id`` (default: the guild's Q&A
    forum), stored (live) as a question: its category is the first of its forum tags that is a
    category's. A repeat returns the existing question with ``created=False``
    (``create_question`` with ``via_bot=False``)."""
    known = await list_categories(session, guild_id)
    by_tag = {c.tag_id: c.name for c in known if c.tag_id is not None}
    category = next((by_tag[t] for t in tag_ids if t in by_tag), None)
    return await create_question(
        session,
        guild_id=guild_id,
        author_id=author_id,
        asked=AskedQuestion(title, details, category),
        via_bot=False,
        thread_id=thread_id,
        message_id=message_id,
        forum_id=forum_id,
        now=now,
    )


@dataclass(frozen=True, slots=True)
class Closing:
    """How question ``question_id`` is to be closed: with an optional ``reason``, optionally as
    a duplicate of ``duplicate_of_id``, which must be in a forum the closer can see
    (``visible``, required with ``duplicate_of_id``)."""

    question_id: int
    reason: str | None = None
    duplicate_of_id: int | None = None
    visible: VisibleForums | None = None


async def close_question(
    session: AsyncSession, *, closing: Closing, actor: Actor, now: datetime | None = None
) -> PostChange:
    """Close a question (the asker, or a moderator), as ``closing`` says; a duplicate's original
    the closer cannot see is refused as one that does not exist.

    While it is closed no vote on it or its answers counts, and it takes no new answers or
    acceptance. Closing a closed question changes nothing. When the actor's guild is known (a
    command's), a question of another guild is refused as not found.
    """
    now = now or utc_now()
    question = await locked_question_for(
        session,
        closing.question_id,
        actor,
        refusal="Only the asker or a moderator can close this question.",
    )
    if question.closed_at is not None:
        return await change(session, question.id, changed=False)
    reason = validate_close_reason(closing.reason)
    duplicate_of_id, visible = closing.duplicate_of_id, closing.visible
    if duplicate_of_id is not None:
        if duplicate_of_id == question.id:
            raise ValidationError("A question cannot be a duplicate of itself.")
        if visible is None:
            raise ValueError("a duplicate needs the forums the closer can see")
        original = await readable_question(
            session, guild_id=question.guild_id, visible=visible, question_id=duplicate_of_id
        )
        if original is None or original.state != "live":
            raise NotFound("The question it duplicates does not exist.")
    if actor.is_moderator and actor.member_id != question.author_id:  # a moderator's act
        detail = reason or ""
        await audit.record(
            session, question.guild_id, actor.member_id, "close", post_id=question.id, detail=detail
        )
    closed = _closed_columns(
        at=now, reason=reason, duplicate_of_id=duplicate_of_id, by_moderator=actor.is_moderator
    )
    return await _set_closed(session, question, now=now, values=closed, done="closed")


async def reopen_question(
    session: AsyncSession, *, question_id: int, actor: Actor, now: datetime | None = None
) -> PostChange:
    """Reopen a closed question; its current votes count again. Only a moderator reopens what
    a moderator closed. The actor's guild as for ``close_question``."""
    now = now or utc_now()
    question = await locked_question_for(
        session,
        question_id,
        actor,
        refusal="Only the asker or a moderator can reopen this question.",
    )
    if question.closed_at is None:
        return await change(session, question.id, changed=False)
    if question.closed_by_moderator and not actor.is_moderator:
        raise PermissionDenied(
            "A moderator closed this question, so only a moderator can reopen it."
        )
    opened = _closed_columns(at=None)
    return await _set_closed(session, question, now=now, values=opened, done="reopened")


def _closed_columns(
    *,
    at: datetime | None,
    reason: str | None = None,
    duplicate_of_id: int | None = None,
    by_moderator: bool = False,
) -> dict[str, object]:
    """The question's closed columns: closed ``at`` (None: open, and the rest cleared)."""
    return {
        "closed_at": at,
        "closed_reason": reason,
        "duplicate_of_id": duplicate_of_id,
        "closed_by_moderator": by_moderator,
    }


async def _set_closed(
    session: AsyncSession,
    question: Post,
    *,
    now: datetime,
    values: dict[str, object],
    done: str,
) -> PostChange:
    """Write the closed columns (``values``), with the points that move, and log it as ``done``."""
    ledger = await Ledger.for_thread(session, question)
    await update_post(session, question.id, updated_at=now, **values)
    ledger.refresh_status(question.id)
    await ledger.settle(now)
    log.info("question %s %s in guild %s", question.id, done, question.guild_id)
    return await change(session, question.id)


async def set_status_message(
    session: AsyncSession, *, question_id: int, message_id: int | None
) -> PostChange:
    """Remember which message shows the question's status line (the bot's first reply to a
    native forum post; the starter message of an /ask question)."""
    question = await load_post(session, question_id, lock=True)
    if question is None or question.kind != "question":
        raise NotFound(QUESTION_GONE)
    if question.status_message_id == message_id:
        return await change(session, question.id, changed=False)
    await update_post(session, question.id, status_message_id=message_id)
    return await change(session, question.id)
