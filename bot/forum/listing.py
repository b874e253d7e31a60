"""Question lists: ``/unanswered`` (open questions nobody has answered yet, oldest first), and
a member's recent questions (``recent_questions``, for ``/profile``).

A question is unanswered while it is open (not answered, solved or closed), has no live answer
(``answer_count = 0``), is posted (``live``) and is not deleted. The query states the partial
index ``ix_posts_unanswered``'s condition literally (constants, not bound parameters), so both
SQLite and PostgreSQL can prove the index applies and read the guild's questions from it in
``created_at`` order instead of scanning ``posts``.

Pages are numbered from 1 and hold ``PAGE_SIZE`` questions; a page past the end shows the last
one (a list shrinks while someone pages through it), so a button never leads nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.types import UTCDateTime
from bot.forum import categories
from bot.forum.categories import CategorySnapshot
from bot.forum.errors import NotFound
from bot.forum.paging import page_window
from bot.forum.results import QuestionLine, snapshot_of
from bot.forum.visibility import VisibleForums, forum_filter

PAGE_SIZE: Final = 10
#: The newest questions a profile links.
RECENT_LIMIT: Final = 5
#: The condition of ``ix_posts_unanswered`` (bot/db/models.py), word for word.
UNANSWERED: Final = (
    "kind = 'question' AND answer_count = 0 AND status = 'open' AND deleted_at IS NULL"
)
#: Posted, and not removed by a moderator.
SHOWN: Final = "state = 'live' AND removed_at IS NULL"
CATEGORY_GONE: Final = "That category no longer exists; use /unanswered again."


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionSummary(QuestionLine):
    """A question in a list: enough to show its line and link to its thread."""

    id: int
    category: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class QuestionPage:
    """Page ``number`` (from 1) of ``pages`` (at least 1); ``total`` questions in all."""

    questions: list[QuestionSummary]
    number: int
    pages: int
    total: int
    category: CategorySnapshot | None = None


def _where(
    guild_id: int, visible: VisibleForums, category: str | None, params: dict[str, Any]
) -> str:
    """The condition on ``posts`` for the guild's unanswered questions in ``visible`` forums
    (of one category when given); its parameters go to ``params``."""
    params["guild_id"] = guild_id
    where = f"guild_id = :guild_id AND {UNANSWERED} AND {SHOWN}"
    where += f" AND {forum_filter(visible, params, table='posts')}"
    if category is not None:
        where += " AND category = :category"
        params["category"] = category
    return where


def unanswered_statement(
    *, guild_id: int, visible: VisibleForums, category: str | None, limit: int, offset: int
) -> tuple[str, dict[str, Any]]:
    """SQL and parameters of one page of the guild's unanswered questions in ``visible``
    forums, oldest first."""
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    where = _where(guild_id, visible, category, params)
    sql = f"""
        SELECT id, thread_id, message_id, COALESCE(title, '') AS title, score, answer_count,
               status, category, created_at, accepted_answer_id
        FROM posts
        WHERE {where}
        ORDER BY created_at, id
        LIMIT :limit OFFSET :offset
    """
    return sql, params


def _count_statement(
    *, guild_id: int, visible: VisibleForums, category: str | None
) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {}
    where = _where(guild_id, visible, category, params)
    return f"SELECT COUNT(*) FROM posts WHERE {where}", params


async def _category(
    session: AsyncSession, guild_id: int, name: str | None, category_id: int | None
) -> CategorySnapshot | None:
    if category_id is not None:
        for found in await categories.list_categories(session, guild_id):
            if found.id == category_id:
                return found
        raise NotFound(CATEGORY_GONE)
    if name is None or not name.strip():
        return None
    return await categories.find_category(session, guild_id, name)


async def unanswered_questions(
    session: AsyncSession,
    *,
    guild_id: int,
    visible: VisibleForums,
    page: int = 1,
    category: str | None = None,
    category_id: int | None = None,
    page_size: int = PAGE_SIZE,
) -> QuestionPage:
    """Page ``page`` of the guild's unanswered questions in ``visible`` forums, oldest first.

    ``category`` (a name, in any case: refused with the known names when there is no such
    category) or ``category_id`` (from a page button: refused when it was removed since) keeps
    to one category.
    """
    found = await _category(session, guild_id, category, category_id)
    name = found.name if found is not None else None
    size = max(page_size, 1)
    count_sql, count_params = _count_statement(guild_id=guild_id, visible=visible, category=name)
    total = int((await session.execute(text(count_sql), count_params)).scalar_one())
    window = page_window(total, page, size)
    sql, params = unanswered_statement(
        guild_id=guild_id,
        visible=visible,
        category=name,
        limit=window.limit,
        offset=window.offset,
    )
    typed = text(sql).columns(created_at=UTCDateTime())
    rows = await session.execute(typed, params)
    questions = [
        snapshot_of(QuestionSummary, row, solved=row.accepted_answer_id is not None) for row in rows
    ]
    return QuestionPage(questions, window.number, window.pages, total, found)


async def recent_questions(
    session: AsyncSession,
    *,
    guild_id: int,
    author_id: int,
    visible: VisibleForums,
    limit: int = RECENT_LIMIT,
) -> list[QuestionSummary]:
    """A member's newest questions (a profile's links) in ``visible`` forums: posted, not
    deleted, and asked under their name (an anonymous question is never tied to its asker)."""
    params: dict[str, Any] = {"guild_id": guild_id, "author_id": author_id, "limit": limit}
    sql = f"""
        SELECT id, thread_id, message_id, COALESCE(title, '') AS title, score, answer_count,
               status, category, created_at, accepted_answer_id
        FROM posts
        WHERE guild_id = :guild_id AND author_id = :author_id AND kind = 'question'
          AND anonymous = FALSE AND {SHOWN} AND deleted_at IS NULL
          AND {forum_filter(visible, params, table="posts")}
        ORDER BY created_at DESC, id DESC
        LIMIT :limit
    """
    rows = await session.execute(text(sql).columns(created_at=UTCDateTime()), params)
    return [
        snapshot_of(QuestionSummary, row, solved=row.accepted_answer_id is not None) for row in rows
    ]
