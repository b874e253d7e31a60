"""Continuing an imported question in Discord: its forum post created on demand, for the same row.

An imported question (``imported_posts``) starts without a thread. "Continue in Discord" creates
one; from then on the row behaves like any question asked with /ask (its thread, its starter
message carrying the question's votes).

Exactly one press creates the thread. ``claim_continuation`` takes a claim in the database
(``imported_claims``) before the Discord call; a second press meanwhile, or after, is told where
the question is (``Continued``: its thread, or None while the first press is still creating it).
The claim ends with the thread written to the row (``finish_continuation``) or, when Discord
refused the post, released (``release_continuation``). A claim left by a crash between the two
expires after ``CLAIM_EXPIRY``: the next press takes it over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import case, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.dialect import insert
from bot.db.imported import ImportedClaim, ImportedPost
from bot.db.models import Post
from bot.forum.errors import InvalidState, NotFound
from bot.forum.lookups import get_question, readable_question
from bot.forum.post_rows import QUESTION_GONE, update_post
from bot.forum.results import PostSnapshot
from bot.forum.visibility import VisibleForums

#: How long a claim holds without its thread written (a crashed press's claim then expires).
CLAIM_EXPIRY: Final = timedelta(minutes=5)
#: At most this many imported answers are summed up in the new post.
SUMMARY_ANSWERS: Final = 10

NOT_IMPORTED: Final = "That question was not imported: it is in Discord already."


@dataclass(frozen=True, slots=True)
class ImportedAnswer:
    """An imported answer as the new post sums it up (no author: imported authors stay
    unnamed)."""

    body: str
    score: int
    accepted: bool


@dataclass(frozen=True, slots=True)
class Claimed:
    """This press holds the claim: create the thread for ``question``."""

    question: PostSnapshot
    answers: tuple[ImportedAnswer, ...]


@dataclass(frozen=True, slots=True)
class Continued:
    """Another press got there first: its thread (None while it is being created)."""

    thread_id: int | None


async def claim_continuation(
    session: AsyncSession, *, guild_id: int, visible: VisibleForums, question_id: int, now: datetime
) -> Claimed | Continued:
    """Claim the imported question ``question_id`` for its thread, or say where it is."""
    question = await readable_question(
        session, guild_id=guild_id, visible=visible, question_id=question_id
    )
    if question is None or question.removed or question.state != "live":
        raise NotFound(QUESTION_GONE)
    if question.thread_id is not None:
        return Continued(question.thread_id)
    imported = await session.scalar(
        select(ImportedPost.post_id).where(ImportedPost.post_id == question_id)
    )
    if imported is None:
        raise InvalidState(NOT_IMPORTED)
    taken = await session.scalar(
        insert(session, ImportedClaim)
        .values(post_id=question_id, claimed_at=now)
        .on_conflict_do_nothing(index_elements=[ImportedClaim.post_id])
        .returning(ImportedClaim.post_id)
    )
    if taken is None:
        expired = await session.execute(
            update(ImportedClaim)
            .where(ImportedClaim.post_id == question_id)
            .where(ImportedClaim.claimed_at < now - CLAIM_EXPIRY)
            .values(claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        if not expired.rowcount:  # type: ignore[attr-defined]
            return Continued(None)
    return Claimed(question, await imported_answers(session, question))


async def imported_answers(
    session: AsyncSession, question: PostSnapshot
) -> tuple[ImportedAnswer, ...]:
    """The question's live answers, the accepted one first, then by score (at most
    ``SUMMARY_ANSWERS``)."""
    accepted = question.accepted_answer_id
    first = [case((Post.id == accepted, 0), else_=1)] if accepted is not None else []
    rows = await session.execute(
        select(Post.id, Post.body, Post.score)
        .where(
            Post.question_id == question.id,
            Post.kind == "answer",
            Post.state == "live",
            Post.deleted_at.is_(None),
            Post.removed_at.is_(None),
        )
        .order_by(*first, Post.score.desc(), Post.id)
        .limit(SUMMARY_ANSWERS)
    )
    return tuple(ImportedAnswer(body, score, post_id == accepted) for post_id, body, score in rows)


async def finish_continuation(
    session: AsyncSession, *, question_id: int, thread_id: int, message_id: int, forum_id: int
) -> PostSnapshot:
    """Write the new thread to the question (its starter message now carries its votes) and
    end the claim."""
    await update_post(
        session,
        question_id,
        thread_id=thread_id,
        message_id=message_id,
        forum_id=forum_id,
        via_bot=True,
    )
    await release_continuation(session, question_id=question_id)
    return await get_question(session, question_id=question_id)


async def release_continuation(session: AsyncSession, *, question_id: int) -> None:
    """End the claim (the thread is written, or Discord refused it: the next press tries again)."""
    await session.execute(delete(ImportedClaim).where(ImportedClaim.post_id == question_id))


async def most_viewed_waiting(session: AsyncSession, *, guild_id: int, limit: int) -> list[int]:
    """The guild's live imported questions without a thread, the most viewed first (at most
    ``limit``): what ``qa-bot import-q2a --publish`` opens."""
    rows = await session.scalars(
        select(Post.id)
        .join(ImportedPost, ImportedPost.post_id == Post.id)
        .where(
            Post.guild_id == guild_id,
            Post.kind == "question",
            Post.thread_id.is_(None),
            Post.state == "live",
            Post.deleted_at.is_(None),
            Post.removed_at.is_(None),
        )
        .order_by(ImportedPost.views.desc(), Post.id)
        .limit(max(limit, 0))
    )
    return list(rows)
