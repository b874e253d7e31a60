"""Full-text search: /search and similar questions while asking.

Two engines behind one set of functions, created by migration 0002:

- SQLite (the embedded default): the FTS5 table ``posts_search`` (tokenizer ``porter
  unicode61``), one entry per question and per answer, kept equal to ``posts`` by triggers;
  relevance is ``bm25`` (title weighted 10, text 4).
- PostgreSQL: the stored generated column ``posts.search_vector`` (``english``; title weight A,
  text weight B) with a GIN index; relevance is ``ts_rank`` (A = 1.0, B = 0.4).

Both stem (Porter on SQLite, Snowball English on PostgreSQL: "therapists" finds "therapist").

What matches. A question matches when each query term occurs in its title, its details or the
text of one of its live answers - not necessarily all in the same one. The index has an entry
per post; matching posts are grouped by question at query time, so an edit or delete of an
answer changes only that answer's entry and can never leave a stale copy in its question's.
Deleted and pending posts, comments, other guilds' posts and questions in a forum the reader
cannot see (``bot.forum.visibility``) never match. A question's rank is
the sum of its matching posts' relevance, an answer counting half; ties go to the higher score.

How typed text becomes terms is ``bot.forum.query_terms``, the SQL ``bot.forum.search_sql``;
title autocomplete is ``bot.forum.title_search``. A one-term search for a very common word reads
its precomputed top list when the caller passes ``common`` (``bot.forum.common_terms``: fast,
but only as fresh as the list's last refresh).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.dialect import dialect_name
from bot.forum.common_terms import CommonTerms, listed_rows
from bot.forum.query_terms import MAX_TERM_CHARS, search_terms, significant_terms
from bot.forum.results import QuestionLine, snapshot_of
from bot.forum.search_sql import (
    ANSWER_FACTOR,
    Find,
    estimated_common,
    find_statement,
    question_scope,
    term_posts,
)
from bot.forum.visibility import VisibleForums

__all__ = [
    "ANSWER_FACTOR",
    "MAX_LIMIT",
    "TERM_LIMITS",
    "Find",
    "SearchHit",
    "TermLimits",
    "find_statement",
    "question_scope",
    "search_questions",
    "similar_questions",
    "telling_terms",
]

MAX_LIMIT: Final = 100
#: A search first looks up only this many times ``limit`` of the best-ranked questions (most
#: of them are in the reader's scope), sparing the row look-up of every other match.
WINDOW: Final = 4


@dataclass(frozen=True, slots=True)
class TermLimits:
    """Which of a new question's terms ``similar_questions`` looks for: none held by more than
    ``common`` posts, and from the rarest, only while the posts holding them add up to at most
    ``budget`` (what ranking them reads)."""

    common: int
    budget: int


#: In a community of 100,000 questions (600,000 posts) a word held by 5,000 posts weighs about
#: half what a rare one does in bm25 (its idf, ln(600,000 / 5,000) = 4.8, against 9.4 for a word
#: in 50 posts) and the commonest words, in a third of all posts, almost nothing (0.6); ranking
#: 20,000 posts takes a few tens of milliseconds.
TERM_LIMITS: Final = TermLimits(common=5_000, budget=20_000)


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchHit(QuestionLine):
    """A question found by a search (``rank``: higher is more relevant, comparable only within
    one result list)."""

    question_id: int
    rank: float

    @property
    def id(self) -> int:
        """The question's id (as on ``PostSnapshot``, for code showing either)."""
        return self.question_id


# --------------------------------------------------------------------------- queries


async def search_questions(
    session: AsyncSession,
    *,
    guild_id: int,
    visible: VisibleForums,
    query: str,
    limit: int = 10,
    include_closed: bool = True,
    common: CommonTerms | None = None,
) -> list[SearchHit]:
    """The guild's questions in ``visible`` forums matching every term of ``query``, most
    relevant first. With ``common``, a one-term query reads the term's precomputed list if it
    has one, and asks for one when the term proves very common."""
    terms = search_terms(query)
    if any(len(t) > MAX_TERM_CHARS for t in terms):
        return []
    if common is not None and len(terms) == 1 and limit >= 1:
        top = common.top(guild_id, terms[0])
        if top is not None:
            listed = await listed_rows(
                session,
                top,
                guild_id=guild_id,
                visible=visible,
                limit=min(limit, MAX_LIMIT),
                include_closed=include_closed,
            )
            # Fewer left than asked for while the list was cut short: rank in full.
            if len(listed) == min(limit, MAX_LIMIT) or not top.cut_short(visible):
                return [_hit(row, rank) for row, rank in listed]
    find = Find(
        guild_id=guild_id,
        visible=visible,
        terms=terms,
        need=len(terms),
        limit=limit,
        include_closed=include_closed,
    )
    return await _find(session, find, common=common if len(terms) == 1 else None)


async def similar_questions(
    session: AsyncSession,
    *,
    guild_id: int,
    visible: VisibleForums,
    title: str,
    details: str = "",
    limit: int = 5,
    exclude_id: int | None = None,
    include_closed: bool = True,
    limits: TermLimits = TERM_LIMITS,
) -> list[SearchHit]:
    """Questions of the guild in ``visible`` forums like a new one (title and details as
    typed), most relevant first.

    Any of the new question's significant terms may match, but a question must share at least
    two of them (one, when the new question has only one) to count as similar.
    ``exclude_id`` leaves out the new question itself once it is stored.

    Only the terms that tell questions apart are looked for (``telling_terms``): in a large
    community a word in thousands of posts says little about a question, and ranking it would
    read every one of them (seconds at 100,000 questions).
    """
    terms = await telling_terms(session, significant_terms(title, details), limits)
    find = Find(
        guild_id=guild_id,
        visible=visible,
        terms=terms,
        need=min(2, len(terms)),
        limit=limit,
        include_closed=include_closed,
        exclude_id=exclude_id,
    )
    return await _find(session, find)


async def telling_terms(
    session: AsyncSession, terms: list[str], limits: TermLimits = TERM_LIMITS
) -> list[str]:
    """Of ``terms`` (in their order), those ``limits`` keep: the posts holding each are counted
    up to ``limits.common`` plus one at most, one statement for all (on PostgreSQL, a word its
    statistics estimate to be held by more is not counted). A term held by no post is kept (it
    costs nothing and still counts toward how many must be shared)."""
    if not terms:
        return []
    dialect = dialect_name(session)
    counts: dict[int, float] = {}
    if dialect == "postgresql":
        # Its statistics name the commonest words: counting them would read every post.
        sql, params = estimated_common(terms, limits.common)
        counts.update((row.i, row.posts) for row in await session.execute(text(sql), params))
    rest = [i for i in range(len(terms)) if i not in counts]
    if rest:
        sql, params = term_posts(dialect, [terms[i] for i in rest], limits.common + 1)
        counts.update(zip(rest, (await session.execute(text(sql), params)).one(), strict=True))
    kept: set[int] = set()
    total = 0.0
    for i in sorted(range(len(terms)), key=lambda i: counts[i]):
        if counts[i] > limits.common or total + counts[i] > limits.budget:
            break
        total += counts[i]
        kept.add(i)
    return [term for i, term in enumerate(terms) if i in kept]


async def _find(
    session: AsyncSession, find: Find, *, common: CommonTerms | None = None
) -> list[SearchHit]:
    """The questions ``find`` asks for, most relevant first (at most its ``limit``, capped at
    ``MAX_LIMIT``); none without terms or with a limit below 1. With ``common`` (one term),
    tells it how many threads the ranking covered.

    First only the ``WINDOW`` times ``limit`` best-ranked questions are looked up; when more
    questions match and fewer than ``limit`` of those are in the reader's scope, all are."""
    if not find.terms or find.limit < 1:
        return []
    find = replace(find, limit=min(find.limit, MAX_LIMIT))
    limit = find.limit
    rows: Sequence[Row[Any]] = []
    for window in (WINDOW * limit, None):
        sql, params = find_statement(dialect_name(session), find, window=window)
        rows = (await session.execute(text(sql), params)).all()
        if len(rows) == limit or (rows and rows[0].matched <= WINDOW * limit):
            break
    if common is not None:
        common.want(find.guild_id, find.terms[0], rows[0].matched if rows else 0)
    return [_hit(row, float(row.rank)) for row in rows]


def _hit(row: Any, rank: float) -> SearchHit:
    return snapshot_of(SearchHit, row, rank=rank, solved=row.accepted_answer_id is not None)
