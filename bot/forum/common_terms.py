"""Precomputed top lists for very common search terms (issue 21).

Ranking a word found in a third of all posts means mapping every matching post to its question
and summing (``bot.forum.search_sql``): seconds on a community of 100,000 questions. For the few
such words members search for, ``CommonTerms`` keeps each one's top list, computed in the
background (``bot.workers.search_tops``) with the same ranking over all the guild's forums:
the ``PER_FORUM`` best questions of each forum, so a reader seeing any set of forums gets the
same top ``MAX_LIMIT`` as the full ranking had at that time.

How a term gets one: a one-term search that still runs the full ranking counts the threads it
ranked (what the ranking costs; on SQLite every guild's threads holding the term, as the index
is shared); past ``COMMON_QUESTIONS`` it asks for the term's list (``want``) and the worker
computes it soon after. Later one-term searches for it read the list, keyed by the guild and
the term as ``search_terms`` gives it (lower case, NFC).

What it gives up: freshness. A list is as of its last refresh, so a new post or an edit that
adds the word, or an answer deleted since, changes the ranking only at the next refresh. A
question deleted, hidden, moved out of the reader's forums or closed (when closed ones are left
out) leaves the results at once: each read checks every listed question against the reader's
scope; when so many have left that fewer than asked for remain while a forum's list was full,
the search ranks in full instead. Queries of two or more terms always run the full ranking.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from bot.bounded import BoundedMap
from bot.clock import utc_now
from bot.db.dialect import dialect_name
from bot.forum.search_sql import HIT_COLUMNS, LIVE_QUESTION, question_scope, ranked_questions
from bot.forum.visibility import VisibleForums

#: A one-term search whose ranking covers at least this many threads asks for a precomputed list.
COMMON_QUESTIONS: Final = 5_000
#: Each forum's best questions a list keeps (the most hits a search returns).
PER_FORUM: Final = 100
#: The most terms with a list (the least recently searched are forgotten past it).
KEPT_TERMS: Final = 24

Key = tuple[int, str]


@dataclass(frozen=True, slots=True)
class Ranked:
    """A question of a top list: its forum at the refresh and its rank."""

    question_id: int
    forum_id: int | None
    rank: float


@dataclass(frozen=True, slots=True)
class TopList:
    """A term's top list in a guild, most relevant first, as of ``refreshed_at``; ``matched``:
    how many threads the ranking covered then (``search_sql.find_statement``'s ``matched``)."""

    questions: tuple[Ranked, ...]
    matched: int
    refreshed_at: datetime
    #: The most questions kept per forum.
    per_forum: int = PER_FORUM

    def candidates(self, visible: VisibleForums) -> list[Ranked]:
        """The listed questions whose forum (at the refresh) the reader sees, in rank order. A
        question without a forum is kept: the scope's check decides it."""
        return [r for r in self.questions if r.forum_id is None or r.forum_id in visible.ids]

    def cut_short(self, visible: VisibleForums) -> bool:
        """Whether a forum the reader sees had more matching questions than the list keeps."""
        kept = Counter(r.forum_id for r in self.candidates(visible))
        return any(count >= self.per_forum for count in kept.values())


class CommonTerms:
    """The top lists of a process's very common terms (in memory; rebuilt after a restart as
    members search). ``on_wanted`` is called when a term first asks for a list."""

    def __init__(
        self,
        *,
        threshold: int = COMMON_QUESTIONS,
        kept: int = KEPT_TERMS,
        per_forum: int = PER_FORUM,
    ) -> None:
        self.threshold = threshold
        self.per_forum = per_forum
        self._lists: BoundedMap[Key, TopList] = BoundedMap(kept)
        self._wanted: BoundedMap[Key, None] = BoundedMap(kept)
        self.on_wanted: Callable[[], None] = lambda: None

    def top(self, guild_id: int, term: str) -> TopList | None:
        """The term's list, if it has one (it then counts as searched now)."""
        key = (guild_id, term)
        found = self._lists.get(key)
        if found is not None:
            self._lists.put(key, found)
        return found

    def want(self, guild_id: int, term: str, matched: int) -> None:
        """A full ranking of ``term`` covered ``matched`` threads: past the threshold, ask
        for its list."""
        key = (guild_id, term)
        if matched >= self.threshold and key not in self._lists and self._wanted.add(key, None):
            self.on_wanted()

    def due(self) -> list[Key]:
        """Every term to compute a list for: those asked for, then those held."""
        held = [key for key in self._lists.oldest_first() if key not in self._wanted]
        return [*self._wanted.oldest_first(), *held]

    def record(self, key: Key, top: TopList) -> bool:
        """Keep ``top`` as the term's list, or drop the term when it no longer matches enough
        questions (False)."""
        self._wanted.pop(key)
        if top.matched < self.threshold:
            self._lists.pop(key)
            return False
        self._lists.put(key, top)
        return True


async def rank_term(
    session: AsyncSession, *, guild_id: int, term: str, per_forum: int = PER_FORUM
) -> TopList:
    """The full ranking of one term over all the guild's live questions: each forum's
    ``per_forum`` best (the ranking ``search_questions`` runs, every forum at once)."""
    params: dict[str, Any] = {"guild_id": guild_id, "per_forum": per_forum}
    with_m = ranked_questions(dialect_name(session), [term], 1, params)
    sql = f"""{with_m}
        SELECT question_id, forum_id, rank, matched FROM (
            SELECT q.id AS question_id, q.forum_id, m.rank, (SELECT COUNT(*) FROM m) AS matched,
                   ROW_NUMBER() OVER (
                       PARTITION BY q.forum_id ORDER BY m.rank DESC, q.score DESC, q.id DESC
                   ) AS place
            FROM m
            JOIN posts AS q ON q.id = m.question_id
            WHERE {LIVE_QUESTION}
        ) AS placed
        WHERE place <= :per_forum
        ORDER BY rank DESC, question_id DESC
    """
    rows = (await session.execute(text(sql), params)).all()
    return TopList(
        questions=tuple(Ranked(r.question_id, r.forum_id, float(r.rank)) for r in rows),
        matched=rows[0].matched if rows else 0,
        refreshed_at=utc_now(),
        per_forum=per_forum,
    )


async def listed_rows(
    session: AsyncSession,
    top: TopList,
    *,
    guild_id: int,
    visible: VisibleForums,
    limit: int,
    include_closed: bool,
) -> list[tuple[Row[Any], float]]:
    """The first ``limit`` questions of ``top`` still in the reader's scope (their result-line
    columns, ``HIT_COLUMNS``) with their listed rank, in list order."""
    candidates = top.candidates(visible)
    chunk = max(3 * limit, 30)
    found: list[tuple[Row[Any], float]] = []
    for start in range(0, len(candidates), chunk):
        part = candidates[start : start + chunk]
        names = {f"c{i}": r.question_id for i, r in enumerate(part)}
        scope, params = question_scope(
            guild_id, visible, include_closed=include_closed, exclude_id=None
        )
        params.update(names)
        listed = ", ".join(f":{name}" for name in names)
        rows = await session.execute(
            text(f"SELECT {HIT_COLUMNS} FROM posts AS q WHERE q.id IN ({listed}) AND {scope}"),
            params,
        )
        by_id = {row.question_id: row for row in rows}
        found += [(by_id[r.question_id], r.rank) for r in part if r.question_id in by_id]
        if len(found) >= limit:
            break
    return found[:limit]
