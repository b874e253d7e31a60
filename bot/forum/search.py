"""Full-text search: /search, similar questions while asking, title autocomplete.

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
Deleted and pending posts, comments and other guilds' posts never match. A question's rank is
the sum of its matching posts' relevance, an answer counting half; ties go to the higher score.

Query text is user input and is never handed to either engine's query syntax. It is split
here into words (runs of Unicode letters and digits, which is also how FTS5's ``unicode61``
splits), English stop words are dropped (PostgreSQL's ``english`` list, so both engines see the
same terms), and each word becomes one quoted FTS5 string or one ``plainto_tsquery`` - bound
parameters, never SQL text. Quotes, operators (AND OR NOT NEAR - * ^ :), column filters,
parentheses, emoji and SQL match nothing special; text with no words finds nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Any, Final, NamedTuple, cast

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.dialect import dialect_name
from bot.forum.results import QuestionStatus

# PostgreSQL's english.stop (Snowball's English stop words); a test checks the two agree.
_STOP_WORDS_TEXT: Final = """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself
    she her hers herself it its itself they them their theirs themselves what which who whom
    this that these those am is are was were be been being have has had having do does did
    doing a an the and but if or because as until while of at by for with about against between
    into through during before after above below to from up down in out on off over under again
    further then once here there when where why how all any both each few more most other some
    such no nor not only own same so than too very s t can will just don should now
"""
STOP_WORDS: Final = frozenset(_STOP_WORDS_TEXT.split())

# A word: a run of letters and digits (not "_", which \\w would include).
_WORD: Final = re.compile(r"[^\W_]+")
# The most terms a query uses (the first ones typed); more rarely match anything anyway.
MAX_TERMS: Final = 32
# Similar questions look for this many of the new question's words at most.
MAX_SIMILAR_TERMS: Final = 24
# A longer "word" is no word anyone searches for; a query needing one finds nothing.
MAX_TERM_CHARS: Final = 200
MAX_LIMIT: Final = 100
AUTOCOMPLETE_MAX: Final = 25

# Relevance weights. FTS5 bm25 column weights (title, text); PostgreSQL's ts_rank uses its
# default weights, A (title) = 1.0 and B (text) = 0.4, the same ratio.
_BM25_WEIGHTS: Final = "10.0, 4.0"
_BM25_TITLE_ONLY: Final = "1.0, 0.0"
# An answer's relevance counts this much toward its question's rank.
ANSWER_FACTOR: Final = 0.5


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A question found by a search (``rank``: higher is more relevant, comparable only within
    one result list)."""

    question_id: int
    thread_id: int | None
    message_id: int | None
    title: str
    score: int
    answer_count: int
    status: QuestionStatus
    rank: float
    # An accepted answer exists (``status`` says "closed" while a solved question is closed).
    solved: bool = False

    @property
    def id(self) -> int:
        """The question's id (as on ``PostSnapshot``, for code showing either)."""
        return self.question_id

    @property
    def closed(self) -> bool:
        return self.status == "closed"


class TitleMatch(NamedTuple):
    """An autocomplete choice: the question's id and its title."""

    question_id: int
    title: str


# --------------------------------------------------------------------------- tokenizing


def words(query: str) -> list[str]:
    """The words of ``query`` in order, lower-cased (letters and digits; everything else
    separates)."""
    normalized = unicodedata.normalize("NFC", query)
    return [match.group().lower() for match in _WORD.finditer(normalized)]


def search_terms(query: str) -> list[str]:
    """The terms a search for ``query`` requires: its words without stop words, each once, at
    most ``MAX_TERMS``. Empty when nothing searchable is left."""
    terms: list[str] = []
    for word in words(query):
        if word in STOP_WORDS or word in terms:
            continue
        terms.append(word)
        if len(terms) == MAX_TERMS:
            break
    return terms


def _rough_stem(word: str) -> str:
    """A crude English stem, only to count "exam" and "exams" as one term of a new question."""
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def significant_terms(title: str, details: str = "") -> list[str]:
    """The words that characterise a new question: the title's first, then the details' most
    frequent; no stop words, no single letters, one per rough stem, at most
    ``MAX_SIMILAR_TERMS``."""

    def keep(word: str) -> bool:
        return word not in STOP_WORDS and 2 <= len(word) <= MAX_TERM_CHARS

    title_words = [w for w in words(title) if keep(w)]
    detail_counts = Counter(w for w in words(details) if keep(w))
    ordered = title_words + [w for w, _ in detail_counts.most_common()]
    terms: list[str] = []
    stems: set[str] = set()
    for word in ordered:
        stem = _rough_stem(word)
        if stem in stems:
            continue
        stems.add(stem)
        terms.append(word)
        if len(terms) == MAX_SIMILAR_TERMS:
            break
    return terms


def _fts_string(term: str) -> str:
    """One FTS5 string (a phrase of the words ``unicode61`` finds in it); never an operator."""
    return '"' + term.replace('"', '""') + '"'


# --------------------------------------------------------------------------- queries


async def search_questions(
    session: AsyncSession,
    *,
    guild_id: int,
    query: str,
    limit: int = 10,
    include_closed: bool = True,
) -> list[SearchHit]:
    """The guild's questions matching every term of ``query``, most relevant first."""
    terms = search_terms(query)
    if any(len(t) > MAX_TERM_CHARS for t in terms):
        return []
    return await _find(
        session, guild_id, terms, need=len(terms), limit=limit, include_closed=include_closed
    )


async def similar_questions(
    session: AsyncSession,
    *,
    guild_id: int,
    title: str,
    details: str = "",
    limit: int = 5,
    exclude_id: int | None = None,
    include_closed: bool = True,
) -> list[SearchHit]:
    """Questions of the guild like a new one (title and details as typed), most relevant first.

    Any of the new question's significant terms may match, but a question must share at least
    two of them (one, when the new question has only one) to count as similar.
    ``exclude_id`` leaves out the new question itself once it is stored.
    """
    terms = significant_terms(title, details)
    return await _find(
        session,
        guild_id,
        terms,
        need=min(2, len(terms)),
        limit=limit,
        include_closed=include_closed,
        exclude_id=exclude_id,
    )


async def title_matches(
    session: AsyncSession,
    *,
    guild_id: int,
    prefix: str,
    limit: int = AUTOCOMPLETE_MAX,
    include_closed: bool = True,
    exclude_id: int | None = None,
    closed_only: bool = False,
) -> list[TitleMatch]:
    """Autocomplete: the guild's questions whose titles match what has been typed so far.

    Every typed word must be in the title, the last one possibly unfinished ("therap" finds
    "Therapist"). A number is also taken as a question id (``/close duplicate_of``). Nothing
    typed yet: the most recently active questions. ``closed_only``: closed questions alone
    (``/reopen``).
    """
    limit = min(limit, AUTOCOMPLETE_MAX)
    if limit < 1:
        return []
    typed = words(prefix)
    found: list[TitleMatch] = []
    stripped = prefix.strip()
    if stripped.isascii() and stripped.isdigit() and len(stripped) <= 18:
        by_id = await _question_by_id(
            session,
            guild_id=guild_id,
            question_id=int(stripped),
            include_closed=include_closed,
            exclude_id=exclude_id,
            closed_only=closed_only,
        )
        if by_id is not None:
            found.append(by_id)
    if not typed:
        found += await _recent_titles(
            session,
            guild_id=guild_id,
            limit=limit,
            include_closed=include_closed,
            exclude_id=exclude_id,
            closed_only=closed_only,
        )
    else:
        *complete, last = typed
        complete = [w for w in dict.fromkeys(complete) if w not in STOP_WORDS][: MAX_TERMS - 1]
        # "sleep bef" may be "sleep before" on its way: a stop word is in no PostgreSQL index,
        # so a last word that may be an unfinished stop word is not required after others.
        prefix_term: str | None = last
        if complete and (last in complete or any(w.startswith(last) for w in STOP_WORDS)):
            prefix_term = None
        too_long = [w for w in [*complete, last] if len(w) > MAX_TERM_CHARS]
        if not too_long:
            found += await _title_search(
                session,
                guild_id=guild_id,
                complete=complete,
                last=prefix_term,
                limit=limit,
                include_closed=include_closed,
                exclude_id=exclude_id,
                closed_only=closed_only,
            )
    unique: dict[int, TitleMatch] = {}
    for match in found:
        unique.setdefault(match.question_id, match)
    return list(unique.values())[:limit]


# --------------------------------------------------------------------------- SQL


def _question_filters(
    include_closed: bool, exclude_id: int | None, closed_only: bool = False
) -> str:
    sql = (
        "q.kind = 'question' AND q.guild_id = :guild_id AND q.deleted_at IS NULL"
        " AND q.state = 'live'"
    )
    if not include_closed:
        sql += " AND q.status <> 'closed'"
    elif closed_only:
        sql += " AND q.status = 'closed'"
    if exclude_id is not None:
        sql += " AND q.id <> :exclude_id"
    return sql


# A post that may count toward its question: a live, undeleted question or answer of the guild.
_POST_FILTERS: Final = (
    "p.guild_id = :guild_id AND p.kind IN ('question', 'answer')"
    " AND p.deleted_at IS NULL AND p.state = 'live'"
)
_ANSWER_FACTOR_SQL: Final = f"CASE WHEN p.kind = 'answer' THEN {ANSWER_FACTOR} ELSE 1.0 END"


async def _find(
    session: AsyncSession,
    guild_id: int,
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
        terms=terms,
        need=need,
        limit=min(limit, MAX_LIMIT),
        include_closed=include_closed,
        exclude_id=exclude_id,
    )
    rows = await session.execute(text(sql), params)
    return [
        SearchHit(
            question_id=row[0],
            thread_id=row[1],
            message_id=row[2],
            title=row[3],
            score=row[4],
            answer_count=row[5],
            status=cast(QuestionStatus, row[6]),
            rank=float(row[7]),
            solved=row[8] is not None,
        )
        for row in rows
    ]


def find_statement(
    dialect: str,
    *,
    guild_id: int,
    terms: list[str],
    need: int,
    limit: int,
    include_closed: bool,
    exclude_id: int | None,
) -> tuple[str, dict[str, Any]]:
    """SQL and parameters finding the questions in which at least ``need`` of ``terms`` occur
    (in the question or its live answers), most relevant first. Terms are only ever bound
    parameters; the SQL text depends on their number alone."""
    params: dict[str, Any] = {"guild_id": guild_id, "need": need, "limit": limit}
    if exclude_id is not None:
        params["exclude_id"] = exclude_id
    names = [f"t{i}" for i in range(len(terms))]
    prelude = ""
    if dialect == "postgresql":
        params.update(zip(names, terms, strict=True))
        queries = [f"plainto_tsquery('english', :{n})" for n in names]
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
        params.update(zip(names, (_fts_string(t) for t in terms), strict=True))
        params["any_term"] = " OR ".join(_fts_string(t) for t in terms)
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
        SELECT q.id, q.thread_id, q.message_id, COALESCE(q.title, ''), q.score,
               q.answer_count, q.status, m.rank, q.accepted_answer_id
        FROM ({grouped}) AS m
        JOIN posts AS q ON q.id = m.question_id
        WHERE {_question_filters(include_closed, exclude_id)}
        ORDER BY m.rank DESC, q.score DESC, q.id DESC
        LIMIT :limit
    """
    return sql, params


async def _title_search(
    session: AsyncSession,
    *,
    guild_id: int,
    complete: list[str],
    last: str | None,
    limit: int,
    include_closed: bool,
    exclude_id: int | None,
    closed_only: bool = False,
) -> list[TitleMatch]:
    """Questions whose titles hold every word of ``complete`` and a word starting with
    ``last`` (when given)."""
    params: dict[str, Any] = {"guild_id": guild_id, "limit": limit}
    if exclude_id is not None:
        params["exclude_id"] = exclude_id
    filters = _question_filters(include_closed, exclude_id, closed_only)
    if dialect_name(session) == "postgresql":
        # Words are letters and digits only, so they cannot form tsquery syntax; ":A" keeps
        # a term to titles, ":*" makes the last one a prefix. A stop word typed alone ("the"
        # on the way to "therapy") is a prefix of unstemmed words ('simple').
        parts = []
        if complete:
            params["complete"] = " & ".join(f"{w}:A" for w in complete)
            parts.append("to_tsquery('english', :complete)")
        if last is not None:
            params["last"] = f"{last}:*A"
            config = "simple" if last in STOP_WORDS else "english"
            parts.append(f"to_tsquery('{config}', :last)")
        tsquery = "(" + " && ".join(parts) + ")"
        sql = f"""
            SELECT q.id, COALESCE(q.title, '') FROM posts AS q
            WHERE q.search_vector @@ {tsquery} AND {filters}
            ORDER BY ts_rank(q.search_vector, {tsquery}) DESC, q.score DESC, q.id DESC
            LIMIT :limit
        """
    else:
        phrases = [_fts_string(w) for w in complete]
        if last is not None:
            phrases.append(_fts_string(last) + "*")
        params["match"] = "{title} : (" + " AND ".join(phrases) + ")"
        sql = f"""
            SELECT q.id, COALESCE(q.title, '') FROM posts_search
            JOIN posts AS q ON q.id = posts_search.rowid
            WHERE posts_search MATCH :match AND {filters}
            ORDER BY bm25(posts_search, {_BM25_TITLE_ONLY}), q.score DESC, q.id DESC
            LIMIT :limit
        """
    rows = await session.execute(text(sql), params)
    return [TitleMatch(row[0], row[1]) for row in rows]


async def _question_by_id(
    session: AsyncSession,
    *,
    guild_id: int,
    question_id: int,
    include_closed: bool,
    exclude_id: int | None,
    closed_only: bool = False,
) -> TitleMatch | None:
    params: dict[str, Any] = {"guild_id": guild_id, "question_id": question_id}
    if exclude_id is not None:
        params["exclude_id"] = exclude_id
    sql = f"""
        SELECT q.id, COALESCE(q.title, '') FROM posts AS q
        WHERE q.id = :question_id AND {_question_filters(include_closed, exclude_id, closed_only)}
    """
    row = (await session.execute(text(sql), params)).first()
    return None if row is None else TitleMatch(row[0], row[1])


async def _recent_titles(
    session: AsyncSession,
    *,
    guild_id: int,
    limit: int,
    include_closed: bool,
    exclude_id: int | None,
    closed_only: bool = False,
) -> list[TitleMatch]:
    params: dict[str, Any] = {"guild_id": guild_id, "limit": limit}
    if exclude_id is not None:
        params["exclude_id"] = exclude_id
    sql = f"""
        SELECT q.id, COALESCE(q.title, '') FROM posts AS q
        WHERE {_question_filters(include_closed, exclude_id, closed_only)}
        ORDER BY q.last_activity_at DESC, q.id DESC
        LIMIT :limit
    """
    rows = await session.execute(text(sql), params)
    return [TitleMatch(row[0], row[1]) for row in rows]
