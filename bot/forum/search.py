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

How typed text becomes terms is ``bot.forum.query_terms``; title autocomplete is
``bot.forum.title_search``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.dialect import dialect_name
from bot.forum.query_terms import (
    MAX_TERM_CHARS,
    fts_match,
    search_terms,
    significant_terms,
    term_forms,
)
from bot.forum.results import QuestionLine, snapshot_of
from bot.forum.visibility import VisibleForums, forum_filter

MAX_LIMIT: Final = 100

# Relevance weights. FTS5 bm25 column weights (title, text); PostgreSQL's ts_rank uses its
# default weights, A (title) = 1.0 and B (text) = 0.4, the same ratio.
_BM25_WEIGHTS: Final = "10.0, 4.0"
# An answer's relevance counts this much toward its question's rank.
ANSWER_FACTOR: Final = 0.5


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
) -> list[SearchHit]:
    """The guild's questions in ``visible`` forums matching every term of ``query``, most
    relevant first."""
    terms = search_terms(query)
    if any(len(t) > MAX_TERM_CHARS for t in terms):
        return []
    return await _find(
        session,
        guild_id,
        visible,
        terms,
        need=len(terms),
        limit=limit,
        include_closed=include_closed,
    )


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
) -> list[SearchHit]:
    """Questions of the guild in ``visible`` forums like a new one (title and details as
    typed), most relevant first.

    Any of the new question's significant terms may match, but a question must share at least
    two of them (one, when the new question has only one) to count as similar.
    ``exclude_id`` leaves out the new question itself once it is stored.
    """
    terms = significant_terms(title, details)
    return await _find(
        session,
        guild_id,
        visible,
        terms,
        need=min(2, len(terms)),
        limit=limit,
        include_closed=include_closed,
        exclude_id=exclude_id,
    )


# --------------------------------------------------------------------------- SQL


def question_scope(
    guild_id: int,
    visible: VisibleForums,
    *,
    include_closed: bool,
    exclude_id: int | None,
    closed_only: bool = False,
    **params: Any,
) -> tuple[str, dict[str, Any]]:
    """The condition on ``q`` for a live, undeleted question of the guild in a ``visible``
    forum (open or closed as asked, ``exclude_id`` left out), and its parameters with
    ``params`` added."""
    params["guild_id"] = guild_id
    sql = (
        "q.kind = 'question' AND q.guild_id = :guild_id AND q.deleted_at IS NULL"
        " AND q.removed_at IS NULL"
        f" AND q.state = 'live' AND {forum_filter(visible, params)}"
    )
    if not include_closed:
        sql += " AND q.status <> 'closed'"
    elif closed_only:
        sql += " AND q.status = 'closed'"
    if exclude_id is not None:
        sql += " AND q.id <> :exclude_id"
        params["exclude_id"] = exclude_id
    return sql, params


# A post that may count toward its question: a live, undeleted question or answer of the guild.
_POST_FILTERS: Final = (
    "p.guild_id = :guild_id AND p.kind IN ('question', 'answer')"
    " AND p.deleted_at IS NULL AND p.removed_at IS NULL AND p.state = 'live'"
)
_ANSWER_FACTOR_SQL: Final = f"CASE WHEN p.kind = 'answer' THEN {ANSWER_FACTOR} ELSE 1.0 END"


async def _find(
    session: AsyncSession,
    guild_id: int,
    visible: VisibleForums,
    terms: list[str],
    *,
    need: int,
    limit: int,
    include_closed: bool,
    exclude_id: int | None = None,
) -> list[SearchHit]:
    """Questions matching at least ``need`` of ``terms``, most relevant first (at most
    ``limit``, capped at ``MAX_LIMIT``); none without terms or with a limit below 1."""
    if not terms or limit < 1:
        return []
    sql, params = find_statement(
        dialect_name(session),
        guild_id=guild_id,
        visible=visible,
        terms=terms,
        need=need,
        limit=min(limit, MAX_LIMIT),
        include_closed=include_closed,
        exclude_id=exclude_id,
    )
    rows = await session.execute(text(sql), params)
    return [
        snapshot_of(SearchHit, row, rank=float(row.rank), solved=row.accepted_answer_id is not None)
        for row in rows
    ]


def find_statement(
    dialect: str,
    *,
    guild_id: int,
    visible: VisibleForums,
    terms: list[str],
    need: int,
    limit: int,
    include_closed: bool,
    exclude_id: int | None,
) -> tuple[str, dict[str, Any]]:
    """SQL and parameters finding the questions in which at least ``need`` of ``terms`` occur
    (in the question or its live answers), most relevant first. Terms are only ever bound
    parameters; the SQL text depends on their number alone (on PostgreSQL, on how many distinct
    normal forms each has)."""
    scope, params = question_scope(
        guild_id,
        visible,
        include_closed=include_closed,
        exclude_id=exclude_id,
        need=need,
        limit=limit,
    )
    names = [f"t{i}" for i in range(len(terms))]
    prelude = ""
    if dialect == "postgresql":
        queries = []
        for name, term in zip(names, terms, strict=True):
            # Each distinct normal form once: an OR of equal forms would only blur the planner's
            # estimate (it then prefers a guild index to the GIN index).
            forms = list(dict.fromkeys(term_forms(term)))
            params.update({f"{name}_{i}": form for i, form in enumerate(forms)})
            queries.append(
                "("
                + " || ".join(f"plainto_tsquery('english', :{name}_{i})" for i in range(len(forms)))
                + ")"
            )
        any_term = "(" + " || ".join(queries) + ")"
        matched = " + ".join(f"bool_or(p.search_vector @@ {q})::int" for q in queries)
        grouped = f"""
            SELECT COALESCE(p.question_id, p.id) AS question_id,
                   SUM(ts_rank(p.search_vector, {any_term})::float8 * {_ANSWER_FACTOR_SQL})
                       AS rank
            FROM posts AS p
            WHERE p.search_vector @@ {any_term} AND {_POST_FILTERS}
            GROUP BY COALESCE(p.question_id, p.id)
            HAVING {matched} >= :need
        """
    else:
        params.update(zip(names, (fts_match(t) for t in terms), strict=True))
        params["any_term"] = " OR ".join(fts_match(t) for t in terms)
        flags = ", ".join(
            f"rowid IN (SELECT rowid FROM posts_search WHERE posts_search MATCH :{n}) AS m{i}"
            for i, n in enumerate(names)
        )
        matched = " + ".join(f"MAX(h.m{i})" for i in range(len(terms)))
        # Materialized: bm25() works only in the query that scans posts_search by MATCH,
        # which flattening the subquery into the join would undo.
        prelude = f"""
            WITH h AS MATERIALIZED (
                SELECT rowid AS post_id, -bm25(posts_search, {_BM25_WEIGHTS}) AS rel, {flags}
                FROM posts_search
                WHERE posts_search MATCH :any_term
            )
        """
        grouped = f"""
            SELECT COALESCE(p.question_id, p.id) AS question_id,
                   SUM(h.rel * {_ANSWER_FACTOR_SQL}) AS rank
            FROM h
            JOIN posts AS p ON p.id = h.post_id
            WHERE {_POST_FILTERS}
            GROUP BY COALESCE(p.question_id, p.id)
            HAVING {matched} >= :need
        """
    sql = f"""{prelude}
        SELECT q.id AS question_id, q.thread_id, q.message_id, COALESCE(q.title, '') AS title,
               q.score, q.answer_count, q.status, m.rank, q.accepted_answer_id
        FROM ({grouped}) AS m
        JOIN posts AS q ON q.id = m.question_id
        WHERE {scope}
        ORDER BY m.rank DESC, q.score DESC, q.id DESC
        LIMIT :limit
    """
    return sql, params
