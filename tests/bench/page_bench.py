"""The question page at scale (issue 21, item 2): ``question_page`` on the 100,000-question fixture.

``QUESTIONS`` live questions of the fixture (seeded sample, each with at least ``PAGE_ANSWERS``
answers) are read ``rounds`` times each, in three ways, in the same run:

- the domain: ``question_page.question_page`` in one read-only transaction through the bot's
  engine (SQLAlchemy async + aiosqlite), as a reader of the question gets it;
- the ORM read it replaces (``lookups.get_question`` and the answers as ORM rows), for scale;
- the baseline: the same two statements with plain ``sqlite3`` on one connection.

p50 and p95 of each; the figure is p95 domain / p95 plain ``sqlite3`` (target <= 5).
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import create_engine, create_sessionmaker
from bot.db.models import Post
from bot.forum import lookups
from bot.forum.question_page import PAGE_ANSWERS, question_page
from bot.forum.results import post_snapshot
from bot.forum.uow import run_in_transaction
from tests.bench.scenario import percentile
from tests.bench.search_bench import sqlite_url
from tests.bench.search_fixture import sqlite_fixture

QUESTIONS: Final = 50
ROUNDS: Final = 40
TARGET: Final = 5.0

PLAIN_QUESTION: Final = "SELECT * FROM posts WHERE id = ?"
PLAIN_ANSWERS: Final = (
    "SELECT * FROM posts WHERE question_id = ? AND kind = 'answer' AND state = 'live'"
    " AND deleted_at IS NULL AND removed_at IS NULL ORDER BY score DESC, id LIMIT ?"
)


def _sample(path: str) -> list[int]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        ids = [
            row[0]
            for row in connection.execute(
                "SELECT id FROM posts WHERE kind = 'question' AND state = 'live'"
                " AND deleted_at IS NULL AND answer_count >= ? ORDER BY id",
                (PAGE_ANSWERS,),
            )
        ]
    finally:
        connection.close()
    return sorted(random.Random(21).sample(ids, min(QUESTIONS, len(ids))))


def _plain(path: str, ids: list[int], rounds: int) -> list[float]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        out = []
        for _ in range(rounds):
            for qid in ids:
                start = time.perf_counter()
                connection.execute(PLAIN_QUESTION, (qid,)).fetchall()
                connection.execute(PLAIN_ANSWERS, (qid, PAGE_ANSWERS)).fetchall()
                out.append(time.perf_counter() - start)
        return out
    finally:
        connection.close()


async def orm_page(session: AsyncSession, question_id: int) -> Any:
    """The read as ORM rows: the question as the status line reads it, the answers as rows."""
    question = await lookups.get_question(session, question_id=question_id)
    stmt = (
        select(Post)
        .where(
            Post.question_id == question_id,
            Post.kind == "answer",
            Post.state == "live",
            Post.deleted_at.is_(None),
            Post.removed_at.is_(None),
        )
        .order_by(Post.score.desc(), Post.id)
        .limit(PAGE_ANSWERS)
        .execution_options(populate_existing=True)
    )
    return question, [post_snapshot(row) for row in (await session.execute(stmt)).scalars()]


async def _domain_page(session: AsyncSession, question_id: int) -> Any:
    return await question_page(session, question_id=question_id)


async def _timed(
    url: str, read: Callable[[AsyncSession, int], Awaitable[Any]], ids: list[int], rounds: int
) -> list[float]:
    engine = create_engine(url)
    sm = create_sessionmaker(engine)
    try:
        out = []
        for r in range(rounds + 1):
            for qid in ids:
                start = time.perf_counter()
                await run_in_transaction(sm, lambda s, q=qid: read(s, q), read_only=True)
                if r:  # the first round warms the caches
                    out.append(time.perf_counter() - start)
        return out
    finally:
        await engine.dispose()


def _figures(samples: list[float]) -> dict[str, float]:
    return {
        "p50 (ms)": (percentile(samples, 50) or 0.0) * 1000,
        "p95 (ms)": (percentile(samples, 95) or 0.0) * 1000,
    }


def one_run(rounds: int) -> dict[str, Any]:
    path = str(sqlite_fixture())
    ids = _sample(path)
    plain = _plain(path, ids, rounds)
    domain = asyncio.run(_timed(sqlite_url(), _domain_page, ids, rounds))
    orm = asyncio.run(_timed(sqlite_url(), orm_page, ids, rounds))
    return {
        "questions": len(ids),
        "reads": len(domain),
        "domain": _figures(domain),
        "orm": _figures(orm),
        "plain sqlite3": _figures(plain),
    }


def _spread(samples: list[float]) -> dict[str, float]:
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples)}


def run_page(runs: int, quick: bool, head: dict[str, Any]) -> dict[str, Any]:
    rounds = ROUNDS // 4 if quick else ROUNDS
    measured = []
    for i in range(runs):
        print(f"page, sqlite: run {i + 1}/{runs}", file=sys.stderr)
        measured.append(one_run(rounds))
    summary: dict[str, Any] = {}
    for way in ("domain", "orm", "plain sqlite3"):
        for key in ("p50 (ms)", "p95 (ms)"):
            summary[f"{way} {key}"] = _spread([m[way][key] for m in measured])
    ratio = [m["domain"]["p95 (ms)"] / m["plain sqlite3"]["p95 (ms)"] for m in measured]
    orm_ratio = [m["orm"]["p95 (ms)"] / m["plain sqlite3"]["p95 (ms)"] for m in measured]
    summary["p95 ratio (domain / plain)"] = _spread(ratio)
    summary["p95 ratio (orm / plain)"] = _spread(orm_ratio)
    summary["target"] = TARGET
    summary["met"] = statistics.median(ratio) <= TARGET
    return head | {"backends": {"sqlite": summary | {"runs": measured}}}


def _fmt(value: dict[str, float]) -> str:
    return f"{value['median']:.3g} (min {value['min']:.3g}, max {value['max']:.3g})"


_ABOUT: Final = """
`python -m tests.bench --scenario page` (`tests/bench/page_bench.py`), on the search fixture
(100,000 questions, 500,000 answers, cached in `.bench-cache/`). 50 live questions with at least
20 answers (seeded sample) are each read 40 times (10 with `--quick`) after one warming round:
the domain (`bot.forum.question_page.question_page`: the question and its top 20 live answers by
stored score, Core selects of the snapshot's columns, one read-only transaction through the bot's
engine: SQLAlchemy async + aiosqlite), the ORM read it replaced (`lookups.get_question` and the
answers as ORM rows with `populate_existing`), and the baseline: the same two `SELECT`s with plain
`sqlite3` on one connection. The ratio is p95 domain / p95 plain `sqlite3`; most of what is left
is the transaction (BEGIN, COMMIT) and aiosqlite's hop to its thread for each statement.
"""


def page_markdown(report: dict[str, Any]) -> str:
    summary = report["backends"]["sqlite"]
    lines = [
        "",
        "## The question page (issue 21)",
        _ABOUT,
        f"- date: {report['date']} ({report['mode']}; {report['runs']} runs per figure,"
        " median (min, max))",
        "",
        "| figure | value |",
        "|---|---|",
    ]
    for key, value in summary.items():
        if isinstance(value, dict) and "median" in value:
            lines.append(f"| {key} | {_fmt(value)} |")
    lines.append(f"| target (p95 ratio) | <= {summary['target']} |")
    lines.append(f"\nTarget met: {summary['met']}.")
    return "\n".join(lines) + "\n"
