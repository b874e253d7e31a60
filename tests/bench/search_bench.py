"""Search at scale (issue 21, item 1): ``/search``'s domain query on the generated fixture.

For each term class (``QUERIES``: rare, mid-frequency, two-word, very common) every query runs
``ROUNDS`` times through ``search.search_questions`` (as ``/search`` calls it: the reader's
visible forums, ``SEARCH_LIMIT`` hits, one read-only transaction) and, in the same run and
through the same engine, the plain engine query over all matches (``BASELINE_SQL``: FTS5
``MATCH`` ordered by ``bm25``, top ``SEARCH_LIMIT``). p50 and p95 per class, and their ratio.

Ranking quality against ``search_reference.json`` (full-bm25 top 10 of each query, recorded
before any ranking change by ``python -m tests.bench.search_bench --record-reference``):
overlap@10 per query and whether the reference's top result is in the top 3.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import random
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import create_engine, create_sessionmaker
from bot.forum import common_terms, search
from bot.forum.common_terms import CommonTerms
from bot.forum.query_terms import significant_terms
from bot.forum.uow import run_in_transaction
from bot.forum.visibility import VisibleForums
from tests.bench.scenario import percentile
from tests.bench.search_fixture import (
    COMMON,
    GUILD,
    SEED,
    VERSION,
    VISIBLE,
    Vocabulary,
    sqlite_fixture,
)

REFERENCE: Final = Path(__file__).with_name("search_reference.json")
SEARCH_LIMIT: Final = 10
#: Who searches: the fixture's guild, reading two of its three forums.
READER: Final[dict[str, Any]] = {"guild_id": GUILD, "visible": VisibleForums.of(VISIBLE)}
#: Similar questions the gate of /ask shows (``cogs.asking.gate.SIMILAR_LIMIT``).
SIMILAR_LIMIT: Final = 5
ROUNDS: Final = 20
CLASSES: Final = ("rare", "mid", "two-word", "common")

BASELINE_SQL: Final = {
    "sqlite": (
        "SELECT rowid FROM posts_search WHERE posts_search MATCH :q"
        " ORDER BY bm25(posts_search, 10.0, 4.0) LIMIT :limit"
    ),
    "postgresql": (
        "SELECT id FROM posts WHERE search_vector @@ plainto_tsquery('english', :q)"
        " ORDER BY ts_rank(search_vector, plainto_tsquery('english', :q)) DESC LIMIT :limit"
    ),
}


#: The same over every post holding any of the words (``MATCH 'a OR b'``; a tsquery ``a | b``):
#: the posts a two-word search can count, since its words may be in different posts of a thread
#: (``BASELINE_SQL`` with two words finds only posts holding both).
ANY_WORD_SQL: Final = {
    "sqlite": BASELINE_SQL["sqlite"],
    "postgresql": (
        "SELECT id FROM posts WHERE search_vector @@ replace(plainto_tsquery('english', :q)::text,"
        " '&', '|')::tsquery ORDER BY ts_rank(search_vector, replace(plainto_tsquery('english',"
        " :q)::text, '&', '|')::tsquery) DESC LIMIT :limit"
    ),
}


def any_word(dialect: str, query: str) -> str:
    """``query`` as ``ANY_WORD_SQL`` takes it."""
    return " OR ".join(query.split()) if dialect == "sqlite" else query


def queries() -> dict[str, list[str]]:
    """The fixed queries of each class (words of the fixture's vocabulary by rank)."""
    vocabulary = Vocabulary(random.Random(SEED))
    word = vocabulary.rank
    return {
        "rare": [word(r) for r in (20_000, 24_000, 28_000, 32_000, 36_000)],
        "mid": [word(r) for r in (800, 1_000, 1_200, 1_400, 1_600)],
        "two-word": [
            f"{word(a)} {word(b)}" for a, b in ((200, 300), (250, 350), (220, 400), (260, 330))
        ],
        "common": list(COMMON),
    }


async def domain_top(
    session: AsyncSession, query: str, common: CommonTerms | None = None
) -> list[int]:
    hits = await search.search_questions(
        session, **READER, query=query, limit=SEARCH_LIMIT, common=common
    )
    return [hit.question_id for hit in hits]


async def _domain_top_of(
    query: str, common: CommonTerms | None, session: AsyncSession
) -> list[int]:
    return await domain_top(session, query, common)


async def prepared_lists(sm: async_sessionmaker[AsyncSession]) -> tuple[CommonTerms, list[float]]:
    """The top lists ``/search`` reads, as the bot has them: every query searched once (a very
    common term asks for its list), then the refresh pass of ``bot.workers.search_tops`` (each
    term ranked in full in a read-only transaction). Also the seconds each refresh took."""
    common = CommonTerms()
    for texts in queries().values():
        for query in texts:
            await run_in_transaction(
                sm, functools.partial(_domain_top_of, query, common), read_only=True
            )
    took = []
    for key in common.due():
        start = time.perf_counter()
        top = await run_in_transaction(
            sm,
            functools.partial(common_terms.rank_term, guild_id=key[0], term=key[1]),
            read_only=True,
        )
        took.append(time.perf_counter() - start)
        common.record(key, top)
    return common, took


async def _baseline(session: AsyncSession, dialect: str, query: str) -> None:
    await session.execute(text(BASELINE_SQL[dialect]), {"q": query, "limit": SEARCH_LIMIT})


async def _any_word_baseline(session: AsyncSession, dialect: str, query: str) -> None:
    await session.execute(
        text(ANY_WORD_SQL[dialect]), {"q": any_word(dialect, query), "limit": SEARCH_LIMIT}
    )


async def _time(
    sm: async_sessionmaker[AsyncSession], work: Any, query: str, rounds: int
) -> list[float]:
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        await run_in_transaction(sm, lambda s: work(s, query), read_only=True)
        out.append(time.perf_counter() - start)
    return out


@dataclass(frozen=True, slots=True)
class ClassFigures:
    """One run's latencies (seconds) of one term class."""

    domain_p50: float
    domain_p95: float
    baseline_p50: float
    baseline_p95: float
    #: The baseline through plain ``sqlite3`` (no driver, session or transaction around it).
    plain_p50: float | None = None
    plain_p95: float | None = None
    #: Two-word queries: the baseline over the posts holding either word (``ANY_WORD_SQL``).
    any_word_p50: float | None = None
    any_word_p95: float | None = None
    #: Seconds each refresh of a precomputed top list took (very common terms: background work).
    refresh: tuple[float, ...] = ()

    @classmethod
    def of(
        cls,
        domain: list[float],
        base: list[float],
        plain: list[float],
        either: list[float] | None = None,
        refresh: tuple[float, ...] = (),
    ) -> ClassFigures:
        """The figures of these latencies (seconds): the domain's, the baseline's, plain
        ``sqlite3``'s and the any-word baseline's (either may be empty)."""
        return cls(
            domain_p50=percentile(domain, 50) or 0.0,
            domain_p95=percentile(domain, 95) or 0.0,
            baseline_p50=percentile(base, 50) or 0.0,
            baseline_p95=percentile(base, 95) or 0.0,
            plain_p50=percentile(plain, 50),
            plain_p95=percentile(plain, 95),
            any_word_p50=percentile(either or [], 50),
            any_word_p95=percentile(either or [], 95),
            refresh=refresh,
        )


def _plain_sqlite(path: str, query: str, rounds: int) -> list[float]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        out = []
        for _ in range(rounds + 2):
            start = time.perf_counter()
            connection.execute(
                BASELINE_SQL["sqlite"], {"q": query, "limit": SEARCH_LIMIT}
            ).fetchall()
            out.append(time.perf_counter() - start)
        return out[2:]
    finally:
        connection.close()


#: How many fixture questions the /ask gate's look-up is timed for.
SIMILAR_CASES: Final = 12


def similar_cases() -> list[tuple[int, str, str]]:
    """Fixture questions spread over the table (id, title, details), each looked up as a new
    question would be by the similar-questions gate of /ask."""
    connection = sqlite3.connect(f"file:{sqlite_fixture()}?mode=ro", uri=True)
    try:
        rows = connection.execute(
            "SELECT id, title, body FROM posts WHERE kind = 'question' AND state = 'live'"
            " AND deleted_at IS NULL AND id % 9973 = 1 ORDER BY id LIMIT ?",
            (SIMILAR_CASES,),
        )
        return [(int(i), str(title), str(body)) for i, title, body in rows]
    finally:
        connection.close()


async def _gate(
    session: AsyncSession, _: str, *, case: tuple[int, str, str]
) -> list[search.SearchHit]:
    question_id, title, details = case
    return await search.similar_questions(
        session, **READER, title=title, details=details, limit=SIMILAR_LIMIT, exclude_id=question_id
    )


async def _similar_figures(
    sm: async_sessionmaker[AsyncSession], path: str, dialect: str, rounds: int
) -> ClassFigures:
    """``search.similar_questions`` as the gate of /ask calls it (the question's title and
    details, ``SIMILAR_LIMIT`` hits), and as its baseline the plain engine query over the posts
    holding any of the terms it kept (``ANY_WORD_SQL``)."""
    domain: list[float] = []
    base: list[float] = []
    plain: list[float] = []
    for question_id, title, details in similar_cases():
        terms = significant_terms(title, details)
        kept = await run_in_transaction(
            sm, functools.partial(search.telling_terms, terms=terms), read_only=True
        )
        if not kept:
            continue  # nothing to look for: no baseline either

        similar = functools.partial(_gate, case=(question_id, title, details))
        query = " ".join(kept)
        await _time(sm, similar, query, 1)  # warm the cache
        domain += await _time(sm, similar, query, rounds)
        base += await _time(sm, lambda s, q: _any_word_baseline(s, dialect, q), query, rounds)
        if dialect == "sqlite":
            plain += _plain_sqlite(path, any_word(dialect, query), rounds)
    return ClassFigures.of(domain, base, plain)


async def measure(url: str, rounds: int = ROUNDS) -> dict[str, ClassFigures]:
    """One run: per class, p50/p95 of the domain query and of the baseline."""
    engine = create_engine(url)
    sm = create_sessionmaker(engine)
    dialect = engine.dialect.name
    try:
        out = {}
        common, refresh = await prepared_lists(sm)

        async def searched(session: AsyncSession, query: str) -> list[int]:
            return await domain_top(session, query, common)

        for name, texts in queries().items():
            domain: list[float] = []
            base: list[float] = []
            plain: list[float] = []
            either: list[float] = []
            for query in texts:
                await _time(sm, searched, query, 2)  # warm the cache
                await _time(sm, lambda s, q: _baseline(s, dialect, q), query, 2)
                domain += await _time(sm, searched, query, rounds)
                base += await _time(sm, lambda s, q: _baseline(s, dialect, q), query, rounds)
                if dialect == "sqlite":
                    plain += _plain_sqlite(str(engine.url.database), query, rounds)
                if len(query.split()) > 1:
                    either += await _time(
                        sm, lambda s, q: _any_word_baseline(s, dialect, q), query, rounds
                    )
            out[name] = ClassFigures.of(
                domain, base, plain, either, tuple(refresh) if name == "common" else ()
            )
        out["similar"] = await _similar_figures(sm, str(engine.url.database), dialect, rounds)
        return out
    finally:
        await engine.dispose()


async def tops(url: str, *, lists: bool = True) -> dict[str, dict[str, list[int]]]:
    """Each query's top ``SEARCH_LIMIT`` question ids through the domain, by class (with the
    precomputed top lists as ``/search`` has them, unless not ``lists``: the full ranking)."""
    engine = create_engine(url)
    sm = create_sessionmaker(engine)
    try:
        common = (await prepared_lists(sm))[0] if lists else None
        out: dict[str, dict[str, list[int]]] = {}
        for name, texts in queries().items():
            out[name] = {}
            for query in texts:
                out[name][query] = await run_in_transaction(
                    sm, functools.partial(_domain_top_of, query, common), read_only=True
                )
        return out
    finally:
        await engine.dispose()


def reference() -> dict[str, dict[str, list[int]]]:
    recorded = json.loads(REFERENCE.read_text())
    if recorded["fixture version"] != VERSION:
        raise RuntimeError("search_reference.json was recorded on another fixture version")
    result: dict[str, dict[str, list[int]]] = recorded["top 10"]
    return result


def quality(found: dict[str, dict[str, list[int]]]) -> dict[str, dict[str, Any]]:
    """Per query: overlap@10 with the reference and whether its top result is in the top 3."""
    out: dict[str, dict[str, Any]] = {}
    for name, by_query in reference().items():
        for query, ref in by_query.items():
            got = found[name][query]
            out[query] = {
                "class": name,
                "overlap@10": len(set(ref) & set(got)) / len(ref) if ref else 1.0,
                "top in top 3": not ref or ref[0] in got[:3],
            }
    return out


def sqlite_url() -> str:
    return f"sqlite+aiosqlite:///{sqlite_fixture()}"


def _record_reference() -> None:
    found = asyncio.run(tops(sqlite_url(), lists=False))
    REFERENCE.write_text(
        json.dumps(
            {
                "fixture version": VERSION,
                "what": "full-bm25 top 10 of search_questions before the capped ranking",
                "top 10": found,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"recorded {REFERENCE}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m tests.bench.search_bench")
    parser.add_argument("--record-reference", action="store_true")
    if parser.parse_args().record_reference:
        _record_reference()
    else:
        for name, figures in asyncio.run(measure(sqlite_url())).items():
            print(name, figures)
