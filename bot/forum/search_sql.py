"""The SQL of full-text search (``bot.forum.search``): which questions count, how matching
posts are grouped by question and ranked, on SQLite (FTS5, ``bm25``) and PostgreSQL
(``tsvector``, ``ts_rank``). Terms are only ever bound parameters.

A question's rank is the sum of its matching posts' relevance, an answer counting
``ANSWER_FACTOR``; a query of one term needs no per-term match flags (every matching post holds
it), which spares each matching post a second look-up.
"""

from __future__ import annotations

from typing import Any, Final

from bot.forum.query_terms import fts_match, term_forms
from bot.forum.visibility import VisibleForums, forum_filter

# Relevance weights. FTS5 bm25 column weights (title, text); PostgreSQL's ts_rank uses its
# default weights, A (title) = 1.0 and B (text) = 0.4, the same ratio.
_BM25_WEIGHTS: Final = "10.0, 4.0"
# An answer's relevance counts this much toward its question's rank.
ANSWER_FACTOR: Final = 0.5

#: A live, undeleted question of the guild (``:guild_id``), in any forum.
LIVE_QUESTION: Final = (
    "q.kind = 'question' AND q.guild_id = :guild_id AND q.deleted_at IS NULL"
    " AND q.removed_at IS NULL AND q.state = 'live'"
)


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
    sql = f"{LIVE_QUESTION} AND {forum_filter(visible, params)}"
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


def ranked_questions(dialect: str, terms: list[str], need: int, params: dict[str, Any]) -> str:
    """A ``WITH`` clause defining ``m (question_id, rank)``: every question in which at least
    ``need`` of ``terms`` occur (in the question or its live answers), whatever its forum or
    status. Its parameters are added to ``params``."""
    names = [f"t{i}" for i in range(len(terms))]
    # One term: every matching post holds it, so no per-term flags are needed.
    flagged = len(terms) > 1 and need > 0
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
        having = f"HAVING {matched} >= :need" if flagged else ""
        return _with_m(
            "",
            f"""
            SELECT COALESCE(p.question_id, p.id) AS question_id,
                   SUM(ts_rank(p.search_vector, {any_term})::float8 * {_ANSWER_FACTOR_SQL})
                       AS rank
            FROM posts AS p
            WHERE p.search_vector @@ {any_term} AND {_POST_FILTERS}
            GROUP BY COALESCE(p.question_id, p.id)
            {having}
        """,
        )
    params["any_term"] = " OR ".join(fts_match(t) for t in terms)
    flags = having = ""
    if flagged:
        params.update(zip(names, (fts_match(t) for t in terms), strict=True))
        flags = "".join(
            f", rowid IN (SELECT rowid FROM posts_search WHERE posts_search MATCH :{n}) AS m{i}"
            for i, n in enumerate(names)
        )
        having = "HAVING " + " + ".join(f"MAX(h.m{i})" for i in range(len(terms))) + " >= :need"
    # Each match's question and state from the narrow covering index (migration 0013), not the
    # wide row; named, since without ANALYZE statistics SQLite would look up the row by rowid.
    # Materialized: bm25() works only in the query that scans posts_search by MATCH,
    # which flattening the subquery into the join would undo.
    matches = f"""
        h AS MATERIALIZED (
            SELECT rowid AS post_id, -bm25(posts_search, {_BM25_WEIGHTS}) AS rel{flags}
            FROM posts_search
            WHERE posts_search MATCH :any_term
        ),
    """
    return _with_m(
        matches,
        f"""
        SELECT COALESCE(p.question_id, p.id) AS question_id,
               SUM(h.rel * {_ANSWER_FACTOR_SQL}) AS rank
        FROM h
        JOIN posts AS p INDEXED BY ix_posts_search_lookup ON p.id = h.post_id
        WHERE {_POST_FILTERS}
        GROUP BY COALESCE(p.question_id, p.id)
        {having}
    """,
    )


def _with_m(before: str, grouped: str) -> str:
    # Materialized: read twice by ``find_statement`` (its rank cut-off, then the join).
    return f"WITH {before} m AS MATERIALIZED ({grouped})"


#: The columns of a result line (``SearchHit``), read from ``q``.
HIT_COLUMNS: Final = (
    "q.id AS question_id, q.thread_id, q.message_id, COALESCE(q.title, '') AS title,"
    " q.score, q.answer_count, q.status, q.accepted_answer_id"
)


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
    window: int | None = None,
) -> tuple[str, dict[str, Any]]:
    """SQL and parameters finding the questions in which at least ``need`` of ``terms`` occur
    (in the question or its live answers), most relevant first. The SQL text depends on the
    number of terms alone (on PostgreSQL, on how many distinct normal forms each has).

    ``matched``: how many questions hold the terms, in any forum, of any status.
    ``window`` looks only at the questions ranked at least as high as the ``window``-th (ties
    kept), sparing the look-up of every other question's row: the result is exact when it holds
    ``limit`` rows; with fewer, run it again without."""
    scope, params = question_scope(
        guild_id,
        visible,
        include_closed=include_closed,
        exclude_id=exclude_id,
        need=need,
        limit=limit,
    )
    with_m = ranked_questions(dialect, terms, need, params)
    cut = ""
    if window is not None:
        params["window_offset"] = window - 1
        cut = (
            " AND m.rank >= COALESCE((SELECT m.rank FROM m ORDER BY m.rank DESC"
            " LIMIT 1 OFFSET :window_offset), m.rank)"
        )
    sql = f"""{with_m}
        SELECT {HIT_COLUMNS}, m.rank, (SELECT COUNT(*) FROM m) AS matched
        FROM m
        JOIN posts AS q ON q.id = m.question_id
        WHERE {scope}{cut}
        ORDER BY m.rank DESC, q.score DESC, q.id DESC
        LIMIT :limit
    """
    return sql, params
