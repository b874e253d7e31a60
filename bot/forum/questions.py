"""Questions: ask (from /ask or by adopting a native forum post), edit, delete, close, reopen.

A question's status is derived: ``closed`` while closed, else ``solved`` with an accepted
answer, else ``answered`` with at least one live answer, else ``open`` (``points.Ledger``
keeps it, ``answer_count``, the score and members' points right in the event's transaction).

Text rules. Discord counts the length of thread names, messages and modal fields in Unicode
code points - an emoji outside the Basic Multilingual Plane is 1, not the 2 UTF-16 units a
JavaScript ``.length`` reports, and a ZWJ emoji sequence is several, not one grapheme - which
is exactly Python's ``len(str)``. So limits are checked with ``len`` after trimming. A title
needs at least one *visible* character: whitespace, control, format (zero-width) characters,
lone combining marks, unassigned/private-use code points and the few "blank letters"
(Hangul fillers, the braille blank) are not visible.
"""

from __future__ import annotations

import logging
import unicodedata
from datetime import datetime
from typing import Final, Literal

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.dialect import insert
from bot.db.models import Category, Post
from bot.forum.errors import InvalidState, NotFound, PermissionDenied, ValidationError
from bot.forum.ledger import Ledger
from bot.forum.ratelimits import check_rate
from bot.forum.results import PostChange, PostSnapshot, post_view
from bot.forum.settings import load_config
from bot.forum.uow import load_post, lock_answers

log = logging.getLogger(__name__)

TITLE_MAX: Final = 100
DETAILS_MAX: Final = 4000
BODY_MAX: Final = 4000
DISPLAY_NAME_MAX: Final = 32
CLOSE_REASON_MAX: Final = 500

QUESTION_GONE: Final = "That question no longer exists."
NOT_POSTED: Final = "That question is still being posted; try again in a moment."

# Categories with no glyph of their own: controls, format (zero-width, bidi), surrogates,
# private use, unassigned, separators, and combining marks (which only decorate a base).
_INVISIBLE_CATEGORIES: Final = frozenset(
    {"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "Me"}
)
# Letters and symbols that render blank (used to fake empty names).
_BLANK_CHARACTERS: Final = frozenset({"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"})
# Trimmed at the ends besides whitespace and controls: zero-width spaces and the BOM (not
# ZWJ or tag characters, which end some emoji sequences).
_TRIM_FORMAT: Final = frozenset({"\u200b", "\u2060", "\ufeff", "\u180e"})


# --------------------------------------------------------------------------- text validation


def is_visible(char: str) -> bool:
    return unicodedata.category(char) not in _INVISIBLE_CATEGORIES and (
        char not in _BLANK_CHARACTERS
    )


def has_visible(text: str) -> bool:
    return any(is_visible(char) for char in text)


def _trimmable(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) == "Cc" or char in _TRIM_FORMAT


def trim(text: str) -> str:
    """Strip whitespace, control characters and zero-width spaces from both ends."""
    start, end = 0, len(text)
    while start < end and _trimmable(text[start]):
        start += 1
    while end > start and _trimmable(text[end - 1]):
        end -= 1
    return text[start:end]


def _one_line(text: str) -> str:
    """Line breaks and other controls inside a title become spaces (thread names are one line)."""
    return "".join(" " if unicodedata.category(c) in {"Cc", "Zl", "Zp"} else c for c in text)


def validate_title(raw: str) -> str:
    title = trim(_one_line(raw))
    if not title:
        raise ValidationError("Please give your question a title.")
    if not has_visible(title):
        raise ValidationError("The title needs at least one visible character.")
    if len(title) > TITLE_MAX:
        raise ValidationError(
            f"The title can be at most {TITLE_MAX} characters; yours has {len(title)}."
        )
    return title


def validate_details(raw: str | None) -> str:
    details = trim(raw or "")
    if details and not has_visible(details):
        return ""
    if len(details) > DETAILS_MAX:
        raise ValidationError(
            f"The details can be at most {DETAILS_MAX} characters; yours have {len(details)}."
        )
    return details


def validate_body(raw: str, *, what: str = "answer") -> str:
    body = trim(raw)
    if not body or not has_visible(body):
        raise ValidationError(f"The {what} cannot be empty.")
    if len(body) > BODY_MAX:
        raise ValidationError(
            f"The {what} can be at most {BODY_MAX} characters; yours has {len(body)}."
        )
    return body


def clean_display_name(raw: str | None) -> str | None:
    """An optional display name for anonymous posts; blank means none ("Anonymous")."""
    name = trim(_one_line(raw or ""))
    if not name or not has_visible(name):
        return None
    if len(name) > DISPLAY_NAME_MAX:
        raise ValidationError(
            f"The display name can be at most {DISPLAY_NAME_MAX} characters; yours has {len(name)}."
        )
    return name


def validate_close_reason(raw: str | None) -> str | None:
    reason = trim(raw or "")
    if not reason or not has_visible(reason):
        return None
    if len(reason) > CLOSE_REASON_MAX:
        raise ValidationError(
            f"The reason can be at most {CLOSE_REASON_MAX} characters; yours has {len(reason)}."
        )
    return reason


def native_title(raw: str) -> str:
    """A native forum post's name, which Discord already accepted: tidied, never refused."""
    title = trim(_one_line(raw))[:TITLE_MAX]
    return title if has_visible(title) else "Untitled question"


async def resolve_category(session: AsyncSession, guild_id: int, raw: str | None) -> str | None:
    """The guild's category named ``raw`` (any case), as the guild spells it."""
    name = trim(raw or "")
    if not name:
        return None
    wanted = fold(name)
    names = await session.execute(select(Category.name).where(Category.guild_id == guild_id))
    for found in names.scalars():
        if fold(found) == wanted:
            return found
    raise ValidationError("That category does not exist here; pick one from the list.")


def fold(name: str) -> str:
    """The form two names are compared in (case- and normalisation-insensitive, any script;
    SQL ``lower()`` folds only ASCII on SQLite)."""
    return unicodedata.normalize("NFKC", trim(name)).casefold()


# --------------------------------------------------------------------------- shared helpers


async def view(session: AsyncSession, post_id: int) -> PostSnapshot:
    post = await load_post(session, post_id)
    if post is None:
        raise NotFound("That post no longer exists.")
    return post_view(post)


async def change(
    session: AsyncSession, post_id: int, *, created: bool = False, changed: bool = True
) -> PostChange:
    """Snapshot a post and its question after an operation."""
    post = await view(session, post_id)
    question = post if post.question_id is None else await view(session, post.question_id)
    return PostChange(post=post, question=question, created=created, changed=changed)


async def question_for_thread(
    session: AsyncSession, *, thread_id: int, guild_id: int | None = None, lock: bool = False
) -> Post | None:
    """The question whose thread this is (deleted or not)."""
    stmt = (
        select(Post)
        .where(Post.thread_id == thread_id, Post.kind == "question")
        .order_by(Post.id)
        .limit(1)
        .execution_options(populate_existing=True)
    )
    if guild_id is not None:
        stmt = stmt.where(Post.guild_id == guild_id)
    if lock:
        stmt = stmt.with_for_update(key_share=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def locked_question(
    session: AsyncSession, question_id: int, *, guild_id: int | None = None
) -> Post:
    """Lock a live question; NotFound when it is gone (or of another guild than ``guild_id``),
    InvalidState while still pending."""
    question = await load_post(session, question_id, lock=True)
    if (
        question is None
        or question.kind != "question"
        or question.deleted_at is not None
        or (guild_id is not None and question.guild_id != guild_id)
    ):
        raise NotFound(QUESTION_GONE)
    if question.state != "live":
        raise InvalidState(NOT_POSTED)
    return question


def _may_moderate(post: Post, actor_id: int, is_moderator: bool) -> bool:
    return is_moderator or actor_id == post.author_id


async def touch_question(
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
    await session.execute(
        update(Post)
        .where(Post.id == question_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


# --------------------------------------------------------------------------- operations


async def create_question(
    session: AsyncSession,
    *,
    guild_id: int,
    author_id: int,
    title: str,
    details: str = "",
    category: str | None = None,
    anonymous: bool = False,
    display_name: str | None = None,
    via_bot: bool = True,
    thread_id: int | None = None,
    message_id: int | None = None,
    status_message_id: int | None = None,
    state: Literal["pending", "live"] = "live",
    now: datetime | None = None,
) -> PostChange:
    """Store a question.

    ``via_bot=True`` (/ask): the title, details, display name and category are validated and
    the member's hourly question limit applies; the bot usually stores it ``pending`` before
    posting the forum thread and calls ``posts.confirm_post`` once it exists.
    ``via_bot=False`` adopts a native forum post (``thread_id`` and ``message_id`` given,
    live): Discord already accepted it, so nothing is refused. A repeat (same message or
    thread) returns the existing question with ``created=False``.
    """
    now = now or utc_now()
    existing = await _existing_question(session, message_id=message_id, thread_id=thread_id)
    if existing is not None:
        return await change(session, existing, changed=False)
    config = await load_config(session, guild_id)
    if via_bot:
        title = validate_title(title)
        details = validate_details(details)
        display_name = clean_display_name(display_name)
        category = await resolve_category(session, guild_id, category)
        await check_rate(
            session, config, guild_id=guild_id, user_id=author_id, kind="question", now=now
        )
    else:
        title = native_title(title)
        details = trim(details or "")
        category = trim(category)[:100] if category else None
        display_name = trim(display_name)[:DISPLAY_NAME_MAX] if display_name else None
    if state == "live" and thread_id is None:
        raise ValueError("a live question needs its thread id")
    if via_bot and status_message_id is None:
        status_message_id = message_id
    values = {
        "guild_id": guild_id,
        "kind": "question",
        "thread_id": thread_id,
        "message_id": message_id,
        "status_message_id": status_message_id,
        "author_id": author_id,
        "anonymous": anonymous,
        "via_bot": via_bot,
        "display_name": display_name,
        "title": title,
        "body": details,
        "category": category,
        "status": "open",
        "state": state,
        "created_at": now,
        "updated_at": now,
        "last_activity_at": now,
    }
    post_id = await insert_post(session, values)
    if post_id is None:  # the same message was stored concurrently
        existing = await _existing_question(session, message_id=message_id, thread_id=thread_id)
        assert existing is not None
        return await change(session, existing, changed=False)
    if state == "live":
        ledger = Ledger(session, config, guild_id)
        ledger.track_new(post_id)
        await ledger.settle(now)
    log.info("question %s stored (%s) in guild %s", post_id, state, guild_id)
    return await change(session, post_id, created=True)


async def insert_post(session: AsyncSession, values: dict[str, object]) -> int | None:
    """Insert a post; None when its Discord message is already stored."""
    stmt = (
        insert(session, Post)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Post.message_id])
        .returning(Post.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def _existing_question(
    session: AsyncSession, *, message_id: int | None, thread_id: int | None
) -> int | None:
    if message_id is not None:
        found = (
            await session.execute(select(Post.id).where(Post.message_id == message_id))
        ).scalar_one_or_none()
        if found is not None:
            return found
    if thread_id is not None:
        found = (
            await session.execute(
                select(Post.id)
                .where(Post.thread_id == thread_id, Post.kind == "question")
                .order_by(Post.id)
                .limit(1)
            )
        ).scalar_one_or_none()
        if found is not None:
            return found
    return None


async def edit_question(
    session: AsyncSession,
    *,
    question_id: int,
    actor_id: int,
    title: str | None = None,
    details: str | None = None,
    category: str | None = None,
    is_moderator: bool = False,
    now: datetime | None = None,
) -> PostChange:
    """Change a question's title, details or category (the asker, or a moderator)."""
    now = now or utc_now()
    question = await load_post(session, question_id, lock=True)
    if question is None or question.kind != "question" or question.deleted_at is not None:
        raise NotFound(QUESTION_GONE)
    if not _may_moderate(question, actor_id, is_moderator):
        raise PermissionDenied("Only the asker or a moderator can edit this question.")
    values: dict[str, object] = {}
    if title is not None:
        new_title = validate_title(title)
        if new_title != question.title:
            values["title"] = new_title
    if details is not None:
        new_details = validate_details(details)
        if new_details != question.body:
            values["body"] = new_details
    if category is not None:
        new_category = await resolve_category(session, question.guild_id, category)
        if new_category != question.category:
            values["category"] = new_category
    if not values:
        return await change(session, question.id, changed=False)
    return await _save_question(session, question, values, now=now, how="edited")


async def _save_question(
    session: AsyncSession, question: Post, values: dict[str, object], *, now: datetime, how: str
) -> PostChange:
    """Store changed columns of a question (edit or rename), log it with ids, return the change."""
    await session.execute(
        update(Post)
        .where(Post.id == question.id)
        .values(updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    log.info("question %s %s in guild %s", question.id, how, question.guild_id)
    return await change(session, question.id)


async def rename_question_by_thread(
    session: AsyncSession,
    *,
    thread_id: int,
    name: str,
    guild_id: int | None = None,
    now: datetime | None = None,
) -> PostChange | None:
    """A question's thread was renamed in Discord (by its owner or a moderator): the question
    takes the new name as its title.

    Discord already allowed the rename, so nobody's rights are checked; the name must still be
    a valid title (``ValidationError`` otherwise, and the stored title stays). None when the
    thread is no live question's. A name equal to the stored title (the bot's own rename after
    an edit coming back from Discord) changes nothing.
    """
    question = await question_for_thread(session, thread_id=thread_id, guild_id=guild_id, lock=True)
    if question is None or question.deleted_at is not None or question.state != "live":
        return None
    title = validate_title(name)
    if title == question.title:
        return await change(session, question.id, changed=False)
    return await _save_question(
        session, question, {"title": title}, now=now or utc_now(), how="renamed in Discord"
    )


async def delete_question(
    session: AsyncSession,
    *,
    question_id: int,
    actor_id: int,
    is_moderator: bool = False,
    now: datetime | None = None,
) -> PostChange:
    """Soft-delete a question and its answers and comments (the asker, or a moderator).

    Everything they earned or gave is undone. Deleting it again changes nothing.
    """
    question = await load_post(session, question_id, lock=True)
    if question is None or question.kind != "question":
        raise NotFound(QUESTION_GONE)
    if not _may_moderate(question, actor_id, is_moderator):
        raise PermissionDenied("Only the asker or a moderator can delete this question.")
    changed = await soft_delete_question(session, question, now=now or utc_now())
    return await change(session, question.id, changed=changed)


async def soft_delete_question(session: AsyncSession, question: Post, *, now: datetime) -> bool:
    """Delete a (locked) question with everything in its thread; False if already deleted."""
    if question.deleted_at is not None:
        return False
    config = await load_config(session, question.guild_id)
    answers = await lock_answers(session, question.id)
    ledger = Ledger(session, config, question.guild_id)
    await ledger.track([question.id, *(a.id for a in answers)])
    await session.execute(
        update(Post)
        .where(Post.question_id == question.id, Post.deleted_at.is_(None))
        .values(deleted_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Post)
        .where(Post.id == question.id)
        .values(deleted_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    ledger.refresh_status(question.id)
    await ledger.settle(now)
    log.info("question %s deleted in guild %s", question.id, question.guild_id)
    return True


async def close_question(
    session: AsyncSession,
    *,
    question_id: int,
    actor_id: int,
    is_moderator: bool = False,
    reason: str | None = None,
    duplicate_of_id: int | None = None,
    guild_id: int | None = None,
    now: datetime | None = None,
) -> PostChange:
    """Close a question (the asker, or a moderator), optionally as a duplicate of another.

    While it is closed no vote on it or its answers counts, and it takes no new answers or
    acceptance. Closing a closed question changes nothing. With ``guild_id`` (a command's
    guild), a question of another guild is refused as not found.
    """
    now = now or utc_now()
    question = await _question_to_moderate(
        session, question_id, actor_id, is_moderator, guild_id=guild_id, action="close"
    )
    if question.closed_at is not None:
        return await change(session, question.id, changed=False)
    reason = validate_close_reason(reason)
    if duplicate_of_id is not None:
        if duplicate_of_id == question.id:
            raise ValidationError("A question cannot be a duplicate of itself.")
        original = await load_post(session, duplicate_of_id)
        if (
            original is None
            or original.kind != "question"
            or original.guild_id != question.guild_id
            or original.deleted_at is not None
            or original.state != "live"
        ):
            raise NotFound("The question it duplicates does not exist.")
    return await _set_closed(
        session,
        question,
        now=now,
        values={
            "closed_at": now,
            "closed_reason": reason,
            "duplicate_of_id": duplicate_of_id,
            "closed_by_moderator": is_moderator,
        },
        done="closed",
    )


async def reopen_question(
    session: AsyncSession,
    *,
    question_id: int,
    actor_id: int,
    is_moderator: bool = False,
    guild_id: int | None = None,
    now: datetime | None = None,
) -> PostChange:
    """Reopen a closed question; its current votes count again. Only a moderator reopens what
    a moderator closed. ``guild_id`` as for ``close_question``."""
    now = now or utc_now()
    question = await _question_to_moderate(
        session, question_id, actor_id, is_moderator, guild_id=guild_id, action="reopen"
    )
    if question.closed_at is None:
        return await change(session, question.id, changed=False)
    if question.closed_by_moderator and not is_moderator:
        raise PermissionDenied(
            "A moderator closed this question, so only a moderator can reopen it."
        )
    return await _set_closed(
        session,
        question,
        now=now,
        values={
            "closed_at": None,
            "closed_reason": None,
            "duplicate_of_id": None,
            "closed_by_moderator": False,
        },
        done="reopened",
    )


async def _question_to_moderate(
    session: AsyncSession,
    question_id: int,
    actor_id: int,
    is_moderator: bool,
    *,
    guild_id: int | None,
    action: str,
) -> Post:
    """The question, locked, when the actor may ``action`` it (its asker, or a moderator)."""
    question = await locked_question(session, question_id, guild_id=guild_id)
    if not _may_moderate(question, actor_id, is_moderator):
        raise PermissionDenied(f"Only the asker or a moderator can {action} this question.")
    return question


async def _set_closed(
    session: AsyncSession,
    question: Post,
    *,
    now: datetime,
    values: dict[str, object],
    done: str,
) -> PostChange:
    """Write the closed columns (``values``), with the points that move, and log it as ``done``."""
    config = await load_config(session, question.guild_id)
    answers = await lock_answers(session, question.id)
    ledger = Ledger(session, config, question.guild_id)
    await ledger.track([question.id, *(a.id for a in answers)])
    await session.execute(
        update(Post)
        .where(Post.id == question.id)
        .values(updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
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
    await session.execute(
        update(Post)
        .where(Post.id == question.id)
        .values(status_message_id=message_id)
        .execution_options(synchronize_session=False)
    )
    return await change(session, question.id)


# --------------------------------------------------------------------------- reads


async def get_question(session: AsyncSession, *, question_id: int) -> PostSnapshot:
    """A question that exists and is not deleted."""
    post = await load_post(session, question_id)
    if post is None or post.kind != "question" or post.deleted_at is not None:
        raise NotFound(QUESTION_GONE)
    return post_view(post)


async def find_question_by_thread(
    session: AsyncSession, *, thread_id: int, guild_id: int | None = None
) -> PostSnapshot | None:
    """The question of a thread, None when the thread is not a (live, undeleted) question."""
    post = await question_for_thread(session, thread_id=thread_id, guild_id=guild_id)
    if post is None or post.deleted_at is not None:
        return None
    return post_view(post)


async def find_post_by_message(session: AsyncSession, *, message_id: int) -> PostSnapshot | None:
    """The post a Discord message maps to (deleted ones included), or None."""
    stmt = (
        select(Post).where(Post.message_id == message_id).execution_options(populate_existing=True)
    )
    post = (await session.execute(stmt)).scalar_one_or_none()
    return None if post is None else post_view(post)
