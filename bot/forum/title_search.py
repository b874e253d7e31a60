"""Title autocomplete: the guild's questions whose titles match what has been typed so far.

Every typed word must be in the title, the last one possibly unfinished ("therap" finds
"Therapist"); a number is also taken as a question id; with nothing typed yet, the most
recently active questions come first. Same engines and the same query-text rules as
``bot.forum.search``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.dialect import dialect_name
from bot.forum.query_terms import MAX_TERM_CHARS, MAX_TERMS, STOP_WORDS, fts_string, words
from bot.forum.search import question_scope
from bot.forum.visibility import VisibleForums

AUTOCOMPLETE_MAX: Final = 25
# FTS5 bm25 column weights (title, text) that rank titles alone.
_BM25_TITLE_ONLY: Final = "1.0, 0.0"


class TitleMatch(NamedTuple):
    """An autocomplete choice: the question's id and its title."""

    question_id: int
    title: str


async def title_matches(
    session: AsyncSession,
    *,
    guild_id: int,
    visible: VisibleForums,
    prefix: str,
    limit: int = AUTOCOMPLETE_MAX,
    include_closed: bool = True,
    exclude_id: int | None = None,
    closed_only: bool = False,
) -> list[TitleMatch]:
    """Autocomplete: the guild's questions in ``visible`` forums whose titles match what has
    been typed so far.

    Every typed word must be in the title, the last one possibly unfinished ("therap" finds
    "Therapist"). A number is also taken as a question id (``/close duplicate_of``). Nothing
    typed yet: the most recently active questions. ``closed_only``: closed questions alone
    (``/reopen``).
    """
    limit = min(limit, AUTOCOMPLETE_MAX)
    if limit < 1:
        return []
    scope = Scope(guild_id, visible, include_closed, exclude_id, closed_only)
    typed = words(prefix)
    found: list[TitleMatch] = []
    stripped = prefix.strip()
    if stripped.isascii() and stripped.isdigit() and len(stripped) <= 18:
        found += await _question_by_id(session, scope, int(stripped))
    if not typed:
        found += await _recent_titles(session, scope, limit)
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
            found += await _title_search(session, scope, complete, prefix_term, limit)
    unique: dict[int, TitleMatch] = {}
    for match in found:
        unique.setdefault(match.question_id, match)
    return list(unique.values())[:limit]


@dataclass(frozen=True, slots=True)
class Scope:
    """Which of the guild's questions may be offered (as ``search.question_scope`` takes it)."""

    guild_id: int
    visible: VisibleForums
    include_closed: bool
    exclude_id: int | None
    closed_only: bool

    def where(self, **params: Any) -> tuple[str, dict[str, Any]]:
        return question_scope(
            self.guild_id,
            self.visible,
            include_closed=self.include_closed,
            exclude_id=self.exclude_id,
            closed_only=self.closed_only,
            **params,
        )


async def _title_search(
    session: AsyncSession, scope: Scope, complete: list[str], last: str | None, limit: int
) -> list[TitleMatch]:
    """Questions whose titles hold every word of ``complete`` and a word starting with
    ``last`` (when given)."""
    filters, params = scope.where(limit=limit)
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
        phrases = [fts_string(w) for w in complete]
        if last is not None:
            phrases.append(fts_string(last) + "*")
        params["match"] = "{title} : (" + " AND ".join(phrases) + ")"
        sql = f"""
            SELECT q.id, COALESCE(q.title, '') FROM posts_search
            JOIN posts AS q ON q.id = posts_search.rowid & 4294967295
            WHERE posts_search MATCH :match AND {filters}
            ORDER BY bm25(posts_search, {_BM25_TITLE_ONLY}), q.score DESC, q.id DESC
            LIMIT :limit
        """
    return await _matches(session, sql, params)


async def _question_by_id(
    session: AsyncSession, scope: Scope, question_id: int
) -> list[TitleMatch]:
    """The question with this id, when it is one the scope offers."""
    filters, params = scope.where(question_id=question_id)
    sql = f"""
        SELECT q.id, COALESCE(q.title, '') FROM posts AS q
        WHERE q.id = :question_id AND {filters}
    """
    return await _matches(session, sql, params)


async def _recent_titles(session: AsyncSession, scope: Scope, limit: int) -> list[TitleMatch]:
    """The most recently active questions the scope offers."""
    filters, params = scope.where(limit=limit)
    sql = f"""
        SELECT q.id, COALESCE(q.title, '') FROM posts AS q
        WHERE {filters}
        ORDER BY q.last_activity_at DESC, q.id DESC
        LIMIT :limit
    """
    return await _matches(session, sql, params)


async def _matches(session: AsyncSession, sql: str, params: dict[str, Any]) -> list[TitleMatch]:
    rows = await session.execute(text(sql), params)
    return [TitleMatch(row[0], row[1]) for row in rows]
