"""Rows of ``posts`` for the operations: load and find them, insert and update them, lock them.

Operations work on ORM rows inside their transaction and hand callers snapshots
(``bot.forum.lookups``). A Discord message maps to at most one post: ``insert_post`` does
nothing when the message is already stored, so a repeated event can never insert twice.

Lock order (what makes deadlocks rare in the first place): rows of ``posts`` are locked in
ascending id order. A question is always older than its answers, so "question, then its answers
by id" is that order. The vote path locks only a batch's voted posts (in id order) and merely
reads their questions.
``members`` rows are written last, once per transaction, in ascending user id order.
PostgreSQL locks with ``FOR NO KEY UPDATE``, which does not block the ``KEY SHARE`` locks that
foreign-key checks take when votes, answers and notifications reference a locked post. SQLite
has no row locks: its write transactions start with ``BEGIN IMMEDIATE`` and run one at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final, Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.dialect import insert
from bot.db.models import Post
from bot.forum.errors import InvalidState, NotFound

QUESTION_GONE: Final = "That question no longer exists."
POST_GONE: Final = "That post no longer exists."
QUESTION_CLOSED: Final = "This question is closed, so it takes no new answers."
NOT_POSTED: Final = "That question is still being posted; try again in a moment."
#: Where a live post of each kind is on Discord: the column it cannot be live without.
_LIVE_AT: Final = {"question": "thread_id", "answer": "message_id", "comment": "message_id"}


# --------------------------------------------------------------------------- finding rows


def gone(post: Post) -> bool:
    """Deleted, or removed by a moderator: shown nowhere and open to nothing."""
    return post.deleted_at is not None or post.removed_at is not None


async def load_post(session: AsyncSession, post_id: int, *, lock: bool = False) -> Post | None:
    """The post row, fresh from the database (locked ``FOR NO KEY UPDATE`` when asked)."""
    stmt = select(Post).where(Post.id == post_id).execution_options(populate_existing=True)
    if lock:
        stmt = stmt.with_for_update(key_share=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def require_post(session: AsyncSession, post_id: int, *, lock: bool = False) -> Post:
    """The post row as ``load_post`` gives it (deleted ones included); NotFound when there is
    none."""
    post = await load_post(session, post_id, lock=lock)
    if post is None:
        raise NotFound(POST_GONE)
    return post


async def require_question(session: AsyncSession, question_id: int, *, lock: bool = False) -> Post:
    """The question row as ``load_post`` gives it; NotFound when it is no question or ``gone``."""
    question = await load_post(session, question_id, lock=lock)
    if question is None or question.kind != "question" or gone(question):
        raise NotFound(QUESTION_GONE)
    return question


async def post_id_by_message(session: AsyncSession, message_id: int) -> int | None:
    stmt = select(Post.id).where(Post.message_id == message_id)
    return (await session.execute(stmt)).scalar_one_or_none()


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


async def existing_question_id(
    session: AsyncSession, *, message_id: int | None, thread_id: int | None
) -> int | None:
    """The question already stored for this starter message or forum thread, if any."""
    if message_id is not None:
        found = await post_id_by_message(session, message_id)
        if found is not None:
            return found
    if thread_id is not None:
        question = await question_for_thread(session, thread_id=thread_id)
        if question is not None:
            return question.id
    return None


# --------------------------------------------------------------------------- writing rows


async def insert_post(
    session: AsyncSession, *, state: Literal["pending", "live"], now: datetime, **columns: object
) -> int | None:
    """Insert an ``open`` post created ``now`` in ``state``; None when its Discord message is
    already stored. A live post must say where it is on Discord (``_LIVE_AT``)."""
    kind = columns["kind"]
    if state == "live" and columns.get(_LIVE_AT[str(kind)]) is None:
        raise ValueError(f"a live {kind} needs its {_LIVE_AT[str(kind)]}")
    stmt = (
        insert(session, Post)
        .values(
            **columns,
            status="open",
            state=state,
            created_at=now,
            updated_at=now,
            last_activity_at=now,
        )
        .on_conflict_do_nothing(index_elements=[Post.message_id])
        .returning(Post.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def update_post(session: AsyncSession, post_id: int, **values: Any) -> None:
    """Write ``values`` to one post's columns (SQL expressions allowed, such as a ``case``)."""
    await session.execute(
        update(Post)
        .where(Post.id == post_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


# --------------------------------------------------------------------------- locking rows


async def lock_posts(session: AsyncSession, post_ids: Iterable[int]) -> dict[int, Post]:
    """Lock several posts in ascending id order and return them fresh."""
    ids = sorted(set(post_ids))
    if not ids:
        return {}
    return {row.id: row for row in await _lock(session, Post.id.in_(ids))}


async def lock_answers(session: AsyncSession, question_id: int) -> list[Post]:
    """Lock every answer of a (locked) question, in id order."""
    return await _lock(session, Post.question_id == question_id, Post.kind == "answer")


async def _lock(session: AsyncSession, *where: Any) -> list[Post]:
    """Lock the posts matching ``where`` in ascending id order and return them fresh."""
    stmt = (
        select(Post)
        .where(*where)
        .order_by(Post.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(stmt)).scalars())


async def locked_question(
    session: AsyncSession, question_id: int, *, guild_id: int | None = None
) -> Post:
    """Lock a live question; NotFound when it is gone (or of another guild than ``guild_id``),
    InvalidState while still pending."""
    question = await require_question(session, question_id, lock=True)
    if guild_id is not None and question.guild_id != guild_id:
        raise NotFound(QUESTION_GONE)
    if question.state != "live":
        raise InvalidState(NOT_POSTED)
    return question
