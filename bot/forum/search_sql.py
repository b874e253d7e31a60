"""The SQL of full-text search (``bot.forum.search``): which questions count, how matching
posts are grouped by question and ranked, on SQLite (FTS5, ``bm25``) and PostgreSQL
(``tsvector``, ``ts_rank``). Terms are only ever bound parameters.

A question's rank is the sum of its matching posts' relevance, an answer counting
``ANSWER_FACTOR``. When every term must occur, the threads holding them all are found first;
when only some must (similar questions), SQLite scans each term on its own, so that each row
says which term it holds. Only live questions and answers count: on SQLite the index holds no
other post (migration 0015), on PostgreSQL every counted post is checked.
"""

from __future__ import annotations

from dataclasses import dataclass
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


# On PostgreSQL, a post that may count toward its question: a live, undeleted question or answer
# of the guild.
_POST_FILTERS: Final = (
    "p.guild_id = :guild_id AND p.kind IN ('question', 'answer')"
    " AND p.deleted_at IS NULL AND p.removed_at IS NULL AND p.state = 'live'"
)
_ANSWER_FACTOR_SQL: Final = f"CASE WHEN p.kind = 'answer' THEN {ANSWER_FACTOR} ELSE 1.0 END"


def ranked_questions(dialect: str, terms: list[str], need: int, params: dict[str, Any]) -> str:
    """A ``WITH`` clause defining ``m (question_id, rank)``: every question in which at least
    ``need`` of ``terms`` occur (in the question or its live answers), whatever its forum or
    status (on SQLite, whatever its guild or its own state too: the scope of the query reading
    ``m`` decides). Its parameters are added to ``params``.

    When every one of several terms must occur, the engine's per-thread index (migration 0014)
    first finds the threads holding them all, and only those threads' posts are ranked."""
    names = [f"t{i}" for i in range(len(terms))]
    # One term: every matching post holds it, so no post needs to say which term it holds.
    flagged = len(terms) > 1 and need > 0
    every = len(terms) > 1 and need == len(terms)
    if dialect == "postgresql":
        return _ranked_postgres(names, terms, need, params, every=every)
    if flagged:
        params.update(zip(names, (fts_match(t) for t in terms), strict=True))
    # The index holds only live questions and answers (migration 0015), and each key carries
    # its thread, so no posts row is read here. Materialized: bm25() works only in the query
    # that scans posts_search by MATCH, which flattening the subquery would undo.
    relevance = f"-bm25(posts_search, {_BM25_WEIGHTS}) * {_KEY_FACTOR}"
    having = ""
    if flagged and not every:
        # Each term's own scan, saying which term a row holds. bm25 adds up over a query's
        # terms (each term's weight in a row depends on that term alone), so a post's scores
        # for its terms add up to its score for all of them.
        scans = " UNION ALL ".join(
            f"SELECT rowid AS key, {relevance} AS rel, {i} AS term"
            f" FROM posts_search WHERE posts_search MATCH :{name}"
            for i, name in enumerate(names)
        )
        matches = f"h AS MATERIALIZED ({scans}),"
        having = "HAVING COUNT(DISTINCT h.term) >= :need"
    else:
        params["any_term"] = " OR ".join(fts_match(t) for t in terms)
        threads = within = ""
        if every:
            # The threads holding every term, from the index's keys alone: each term's
            # threads, intersected; bm25 is then computed only for the rows of those threads,
            # with the index-wide statistics.
            also = "".join(
                f" AND {THREAD_OF_KEY} IN (SELECT {THREAD_OF_KEY} FROM posts_search"
                f" WHERE posts_search MATCH :{name})"
                for name in names[1:]
            )
            threads = f"""
                c AS MATERIALIZED (
                    SELECT {THREAD_OF_KEY} AS thread FROM posts_search
                    WHERE posts_search MATCH :{names[0]}{also}
                ),
            """
            within = f" AND {THREAD_OF_KEY} IN c"
        matches = f"""{threads}
            h AS MATERIALIZED (
                SELECT rowid AS key, {relevance} AS rel
                FROM posts_search
                WHERE posts_search MATCH :any_term{within}
            ),
        """
    return _with_m(
        matches,
        f"""
        SELECT h.key >> 32 AS question_id, SUM(h.rel) AS rank
        FROM h
        GROUP BY h.key >> 32
        {having}
    """,
    )


#: A ``posts_search`` rowid's post id and thread (question id): migration 0014.
POST_OF_KEY: Final = "(rowid & 4294967295)"
THREAD_OF_KEY: Final = "(rowid >> 32)"
#: How much a ``posts_search`` entry counts toward its thread's rank: the question's (its key's
#: post is the thread) in full, an answer's ``ANSWER_FACTOR``.
_KEY_FACTOR: Final = f"CASE WHEN {POST_OF_KEY} = {THREAD_OF_KEY} THEN 1.0 ELSE {ANSWER_FACTOR} END"


def _ranked_postgres(
    names: list[str], terms: list[str], need: int, params: dict[str, Any], *, every: bool
) -> str:
    """``m`` on PostgreSQL; terms that must all occur first find their threads in
    ``thread_search`` (a superset: the posts counted are checked here)."""
    queries = [_ts_query(name, term, params) for name, term in zip(names, terms, strict=True)]
    any_term = "(" + " || ".join(queries) + ")"
    matched = " + ".join(f"bool_or(p.search_vector @@ {q})::int" for q in queries)
    having = f"HAVING {matched} >= :need" if len(terms) > 1 and need > 0 else ""
    threads = in_threads = ""
    if every:
        threads = f"""
            c AS MATERIALIZED (
                SELECT array_agg(question_id) AS ids FROM thread_search
                WHERE lexemes @@ ({" && ".join(queries)})
            ),
        """
        # By the posts' thread index (migration 0014): a few thousand posts, rather than
        # every post holding either term from the GIN index.
        in_threads = " AND COALESCE(p.question_id, p.id) = ANY((SELECT ids FROM c)::bigint[])"
    return _with_m(
        threads,
        f"""
        SELECT COALESCE(p.question_id, p.id) AS question_id,
               SUM(ts_rank(p.search_vector, {any_term})::float8 * {_ANSWER_FACTOR_SQL})
                   AS rank
        FROM posts AS p
        WHERE p.search_vector @@ {any_term} AND {_POST_FILTERS}{in_threads}
        GROUP BY COALESCE(p.question_id, p.id)
        {having}
    """,
    )


def _ts_query(name: str, term: str, params: dict[str, Any]) -> str:
    """PostgreSQL's ``tsquery`` of one term in any of its normal forms (parameters ``name_i``
    added to ``params``)."""
    # Each distinct normal form once: an OR of equal forms would only blur the planner's
    # estimate (it then prefers a guild index to the GIN index).
    forms = list(dict.fromkeys(term_forms(term)))
    params.update({f"{name}_{i}": form for i, form in enumerate(forms)})
    return (
        "("
        + " || ".join(f"plainto_tsquery('english', :{name}_{i})" for i in range(len(forms)))
        + ")"
    )


def term_posts(dialect: str, terms: list[str], cap: int) -> tuple[str, dict[str, Any]]:
    """SQL and parameters reading, in one row, how many posts of the index hold each of
    ``terms`` (column ``n<i>``), counted up to ``cap`` at most: a bounded look, whatever the
    size of the community. Any post of any guild counts (what ranking the term would read)."""
    params: dict[str, Any] = {"cap": cap}
    counts = []
    for i, term in enumerate(terms):
        if dialect == "postgresql":
            found = f"SELECT 1 FROM posts WHERE search_vector @@ {_ts_query(f'c{i}', term, params)}"
        else:
            params[f"c{i}"] = fts_match(term)
            found = f"SELECT 1 FROM posts_search WHERE posts_search MATCH :c{i}"
        counts.append(f"(SELECT count(*) FROM ({found} LIMIT :cap) AS x{i}) AS n{i}")
    return "SELECT " + ", ".join(counts), params


def estimated_common(terms: list[str], over: int) -> tuple[str, dict[str, Any]]:
    """PostgreSQL: SQL and parameters reading which of ``terms`` its statistics of
    ``posts.search_vector`` (``ANALYZE``'s most common lexemes and their share of the rows)
    estimate to be held by more than ``over`` posts: rows ``(i, posts)``, ``i`` a term's place.
    Cheap whatever the size of the table; a word that became common since the last ``ANALYZE``
    is not among them (counting it then costs what ``term_posts`` bounds)."""
    params: dict[str, Any] = {"over": over}
    forms = []
    for i, term in enumerate(terms):
        for j, form in enumerate(dict.fromkeys(term_forms(term))):
            params[f"e{i}_{j}"] = form
            forms.append(f"({i}, CAST(:e{i}_{j} AS text))")
    sql = f"""
        SELECT t.i, max(f.freq) * max(c.reltuples) AS posts
        FROM (VALUES {", ".join(forms)}) AS t (i, form)
        CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector('english', t.form))) AS l (lexeme)
        CROSS JOIN (
            SELECT s.most_common_elems::text::text[] AS elems, s.most_common_elem_freqs AS freqs
            FROM pg_stats AS s
            WHERE s.schemaname = current_schema() AND s.tablename = 'posts'
              AND s.attname = 'search_vector'
        ) AS st
        CROSS JOIN LATERAL unnest(st.elems, st.freqs) AS f (elem, freq)
        JOIN pg_class AS c ON c.oid = 'posts'::regclass
        WHERE f.elem = l.lexeme
        GROUP BY t.i
        HAVING max(f.freq) * max(c.reltuples) > :over
    """
    return sql, params


def _with_m(before: str, grouped: str) -> str:
    # Materialized: read twice by ``find_statement`` (its rank cut-off, then the join).
    return f"WITH {before} m AS MATERIALIZED ({grouped})"


#: The columns of a result line (``SearchHit``), read from ``q``.
HIT_COLUMNS: Final = (
    "q.id AS question_id, q.thread_id, q.message_id, COALESCE(q.title, '') AS title,"
    " q.score, q.answer_count, q.status, q.accepted_answer_id"
)


@dataclass(frozen=True, slots=True)
class Find:
    """What a search asks for: at most ``limit`` of the guild's questions in ``visible`` forums
    in which at least ``need`` of ``terms`` occur (open or closed as asked, ``exclude_id`` left
    out)."""

    guild_id: int
    visible: VisibleForums
    terms: list[str]
    need: int
    limit: int
    include_closed: bool
    exclude_id: int | None = None


def find_statement(
    dialect: str, find: Find, *, window: int | None = None
) -> tuple[str, dict[str, Any]]:
    """SQL and parameters finding the questions ``find`` asks for (the terms in the question or
    its live answers), most relevant first. The SQL text depends on the number of terms alone
    (on PostgreSQL, on how many distinct normal forms each has).

    ``matched``: how many threads the ranking covered (``m``'s rows), in any forum, of any
    status; on SQLite also other guilds' threads and those of a deleted or hidden question with
    a live answer, which the index shares (the scope leaves them out of the results).
    ``window`` looks only at the questions ranked at least as high as the ``window``-th (ties
    kept), sparing the look-up of every other question's row: the result is exact when it holds
    ``limit`` rows; with fewer, run it again without."""
    scope, params = question_scope(
        find.guild_id,
        find.visible,
        include_closed=find.include_closed,
        exclude_id=find.exclude_id,
        need=find.need,
        limit=find.limit,
    )
    with_m = ranked_questions(dialect, find.terms, find.need, params)
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
