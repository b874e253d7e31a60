"""Per-thread pseudonyms of anonymous authors: "Member N".

An anonymous answer or reply is shown under its author's pseudonym in that question's thread.
The number is stored (``thread_pseudonyms``), so the same author is the same "Member N" in a
thread every time, across restarts; it is given in order of each author's first anonymous post
in the thread and has nothing to do with the author's id, so pseudonyms in two threads cannot
be linked. Numbers start at 2 (``FIRST_NUMBER``): the asker is the conversation's first member
and is shown by their name, their chosen display name or "Anonymous", never as "Member 1", so
"Member 1" is never shown and nobody can be mistaken for the asker (nor the asker for them).
"""

from __future__ import annotations

import logging
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ThreadPseudonym
from bot.forum.errors import NotFound
from bot.forum.post_rows import QUESTION_GONE, load_post

log = logging.getLogger(__name__)

FIRST_NUMBER: Final = 2


def pseudonym(number: int) -> str:
    """How a pseudonym number is shown."""
    return f"Member {number}"


async def _number(session: AsyncSession, question_id: int, author_id: int) -> int | None:
    return (
        await session.execute(
            select(ThreadPseudonym.number).where(
                ThreadPseudonym.question_id == question_id,
                ThreadPseudonym.author_id == author_id,
            )
        )
    ).scalar_one_or_none()


async def pseudonym_of(session: AsyncSession, *, question_id: int, author_id: int) -> str | None:
    """The author's pseudonym in this question's thread, None before their first anonymous
    post there (read only)."""
    number = await _number(session, question_id, author_id)
    return None if number is None else pseudonym(number)


async def assign_pseudonym(session: AsyncSession, *, question_id: int, author_id: int) -> str:
    """The author's pseudonym in this question's thread, given now when they have none: the
    next number of the thread. Call it in the transaction that stores their anonymous post.

    The question's row is locked while the number is chosen, so two authors posting at once
    never get the same number (and the unique constraint would refuse it anyway).
    """
    number = await _number(session, question_id, author_id)
    if number is not None:
        return pseudonym(number)
    question = await load_post(session, question_id, lock=True)
    if question is None or question.kind != "question":
        raise NotFound(QUESTION_GONE)
    highest = (
        await session.execute(
            select(func.max(ThreadPseudonym.number)).where(
                ThreadPseudonym.question_id == question_id
            )
        )
    ).scalar_one_or_none()
    number = FIRST_NUMBER if highest is None else highest + 1
    session.add(ThreadPseudonym(question_id=question_id, author_id=author_id, number=number))
    await session.flush()
    log.debug("pseudonym %d given in question %s", number, question_id)
    return pseudonym(number)


async def thread_pseudonyms(session: AsyncSession, *, question_id: int) -> dict[int, str]:
    """Every pseudonym of a thread: author id -> "Member N" (for rendering its posts)."""
    rows = await session.execute(
        select(ThreadPseudonym.author_id, ThreadPseudonym.number).where(
            ThreadPseudonym.question_id == question_id
        )
    )
    return {row.author_id: pseudonym(row.number) for row in rows}
