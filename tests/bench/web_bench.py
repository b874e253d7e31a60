"""``python -m tests.bench --scenario web`` (issue 24): the archive's question page at 100,000
questions.

The search benchmark's fixture (``tests.bench.search_fixture``: 100,000 questions, 500,000
answers) is copied and opened to the archive with plain ``sqlite3``: publishing on, one chosen
category holding every question, every author's default a yes. Then, for a seeded sample of
publishable questions:

- **web**: the page through the real app (``bot.web.app``) on a read-only engine, over HTTP on
  loopback; the *server time* is measured inside the app, from the request's arrival at the
  first middleware to the rendered response;
- **baseline**: the same rows read with plain ``sqlite3`` (the setting, the question with its
  consent joins, its answers and comments), plus ``question.html`` rendered alone from values
  built beforehand; the two are timed separately and added per question.

The target is web p95 ≤ 5 × baseline p95. Requests per second: the whole sample again, four
requests in flight at a time, over the wall-clock time of the batch.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Final

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.typedefs import Handler
from sqlalchemy import event

from bot.db.engine import create_engine, create_sessionmaker
from bot.forum import archive_pages
from bot.web.app import build_app
from bot.web.context import SITE
from bot.web.pages import PER_PAGE, question_path, question_values
from tests.bench.scenario import percentile
from tests.bench.search_fixture import FULL_SIZE, GUILD, Size, sqlite_fixture

TARGET: Final = 5.0
CATEGORY: Final = "General"
SAMPLES: Final = {"full": 400, "quick": 60}
IN_FLIGHT: Final = 4
#: The list pages timed besides (each ``LIST_READS`` times after one warming request).
LIST_PAGES: Final = {
    "home (categories, recently solved)": f"/s/{GUILD}/",
    "category, page 1": f"/s/{GUILD}/c/{CATEGORY}/",
    "category, a deep page (40, or the last)": f"/s/{GUILD}/c/{CATEGORY}/?page={{deep}}",
    "category feed (Atom)": f"/s/{GUILD}/c/{CATEGORY}/feed.atom",
    "search": f"/s/{GUILD}/search?q=why",
    "sitemap.xml (10,000 URLs)": "/sitemap.xml",
}
LIST_READS: Final = 5

_QUESTION_SQL: Final = """
SELECT p.*, ap.named, m.display_name FROM posts AS p
JOIN categories AS c ON c.guild_id = p.guild_id AND c.name = p.category AND c.archived = 1
LEFT JOIN archive_prefs AS ap ON ap.guild_id = p.guild_id AND ap.user_id = p.author_id
LEFT JOIN members AS m ON m.guild_id = p.guild_id AND m.user_id = p.author_id
WHERE p.id = ? AND p.kind = 'question' AND p.state = 'live' AND p.deleted_at IS NULL
  AND p.removed_at IS NULL AND coalesce(p.publish_consent, ap.by_default, 0) = 1
"""
_POSTS_SQL: Final = """
SELECT p.*, ap.named, m.display_name, coalesce(p.publish_consent, ap.by_default, 0)
FROM posts AS p
LEFT JOIN archive_prefs AS ap ON ap.guild_id = p.guild_id AND ap.user_id = p.author_id
LEFT JOIN members AS m ON m.guild_id = p.guild_id AND m.user_id = p.author_id
WHERE p.question_id = ? AND p.kind <> 'question' AND p.state = 'live'
  AND p.deleted_at IS NULL AND p.removed_at IS NULL
ORDER BY p.created_at, p.id
"""


def open_archive(path: Path) -> list[int]:
    """Open the copied fixture's archive; the publishable question ids."""
    db = sqlite3.connect(path)
    try:
        with db:
            db.execute(
                "INSERT INTO guild_settings (guild_id, key, value, updated_at)"
                " VALUES (?, 'publishing', 'true', '2021-01-01 00:00:00.000000')",
                (GUILD,),
            )
            db.execute(
                "INSERT INTO categories (guild_id, name, archived, created_at)"
                " VALUES (?, ?, 1, '2021-01-01 00:00:00.000000')",
                (GUILD, CATEGORY),
            )
            db.execute("UPDATE posts SET category = ? WHERE kind = 'question'", (CATEGORY,))
            db.execute(
                "INSERT INTO archive_prefs (guild_id, user_id, by_default, named, updated_at)"
                " SELECT DISTINCT guild_id, author_id, 1, 0, '2021-01-01 00:00:00.000000'"
                " FROM posts"
            )
        db.execute("ANALYZE")
        rows = db.execute(
            "SELECT id FROM posts WHERE kind = 'question' AND state = 'live'"
            " AND deleted_at IS NULL ORDER BY id"
        )
        return [qid for (qid,) in rows]
    finally:
        db.close()


def _baseline_read(db: sqlite3.Connection, question_id: int) -> float:
    started = time.perf_counter()
    db.execute("BEGIN")
    db.execute(
        "SELECT value FROM guild_settings WHERE guild_id = ? AND key = 'publishing'", (GUILD,)
    ).fetchall()
    row = db.execute(_QUESTION_SQL, (question_id,)).fetchone()
    assert row is not None
    db.execute(_POSTS_SQL, (question_id,)).fetchall()
    db.execute("COMMIT")
    return time.perf_counter() - started


async def _measure(path: Path, sample: list[int], questions: int) -> dict[str, Any]:
    url = f"sqlite+aiosqlite:///{path}"
    engine = create_engine(url, read_only=True)
    sessionmaker = create_sessionmaker(engine)
    app = build_app(sessionmaker, "http://bench.invalid")
    site = app[SITE]
    server_times: list[float] = []
    sql_times: list[float] = []
    statements: list[int] = []
    in_sql = {"seconds": 0.0, "count": 0}

    def _before(conn: Any, *_args: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(conn: Any, *_args: Any) -> None:
        in_sql["seconds"] += time.perf_counter() - conn.info.pop("bench_started")
        in_sql["count"] += 1

    for reading in site.reads.sync_engines:
        event.listen(reading, "before_cursor_execute", _before)
        event.listen(reading, "after_cursor_execute", _after)

    @web.middleware
    async def timed(request: web.Request, handler: Handler) -> web.StreamResponse:
        in_sql.update(seconds=0.0, count=0)
        started = time.perf_counter()
        try:
            return await handler(request)
        finally:
            server_times.append(time.perf_counter() - started)
            sql_times.append(in_sql["seconds"])
            statements.append(int(in_sql["count"]))

    app.middlewares.insert(0, timed)
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA query_only = ON")
    reads: list[float] = []
    renders: list[float] = []
    try:
        paths = []
        for qid in sample:
            found = await site.read(lambda c, q=qid: archive_pages.archive_thread(c, q))
            assert found is not None
            thread, home = found
            paths.append(question_path(thread.question))
            values = question_values(site, thread, home)
            template = site.templates.get_template("question.html")
            started = time.perf_counter()
            template.render(site=site, **values)
            renders.append(time.perf_counter() - started)
            reads.append(_baseline_read(db, qid))
        for p in paths[:20]:  # warm-up
            assert (await client.get(p)).status == 200
        server_times.clear()
        for p in paths:
            response = await client.get(p)
            assert response.status == 200
            await response.read()
        page_times, page_sql = list(server_times), list(sql_times)
        page_statements = statistics.median(statements)
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def fetch(p: str) -> None:
            async with gate:
                response = await client.get(p)
                assert response.status == 200
                await response.read()

        started = time.perf_counter()
        await asyncio.gather(*(fetch(p) for p in paths))
        rps = len(paths) / (time.perf_counter() - started)
        deep = max(1, min(40, questions // PER_PAGE))
        lists = {
            name: await _list_page(client, p.format(deep=deep), server_times)
            for name, p in LIST_PAGES.items()
        }
    finally:
        db.close()
        await client.close()
        await engine.dispose()
    baseline = [r + t for r, t in zip(reads, renders, strict=True)]
    return {
        "web p50 (ms)": statistics.median(page_times) * 1000,
        "web p95 (ms)": (percentile(page_times, 95) or 0.0) * 1000,
        "web SQL execution p50 (ms)": statistics.median(page_sql) * 1000,
        "statements per page": page_statements,
        "sqlite3 read p95 (ms)": (percentile(reads, 95) or 0.0) * 1000,
        "render p95 (ms)": (percentile(renders, 95) or 0.0) * 1000,
        "baseline p95 (ms)": (percentile(baseline, 95) or 0.0) * 1000,
        "requests/s": rps,
        **{f"list: {name} p50 (ms)": ms for name, ms in lists.items()},
    }


async def _list_page(client: TestClient[Any, Any], path: str, server_times: list[float]) -> float:
    """The median server time (ms) of a list page, after one warming request."""
    server_times.clear()
    for _ in range(LIST_READS + 1):
        response = await client.get(path)
        assert response.status == 200, path
        await response.read()
    return statistics.median(server_times[1:]) * 1000


def run_web(
    runs: int, quick: bool, head: dict[str, Any], size: Size = FULL_SIZE, samples: int = 0
) -> dict[str, Any]:
    """The scenario on SQLite (``runs`` runs on one copy of the fixture of ``size``, ``samples``
    pages or the mode's number); the report."""
    fixture = sqlite_fixture(size)
    figures = []
    with tempfile.TemporaryDirectory(prefix="qa-bench-web-") as tmp:
        path = Path(tmp) / "web.sqlite3"
        shutil.copyfile(fixture, path)
        ids = open_archive(path)
        count = samples or SAMPLES["quick" if quick else "full"]
        sample = random.Random(24).sample(ids, min(count, len(ids)))
        for _ in range(max(1, runs)):
            figures.append(asyncio.run(_measure(path, sample, len(ids))))
    summary = {name: statistics.median(f[name] for f in figures) for name in figures[0]}
    summary["p95 ratio"] = summary["web p95 (ms)"] / summary["baseline p95 (ms)"]
    summary["target"] = TARGET
    summary["questions"] = len(ids)
    summary["sample"] = len(sample)
    return {**head, "backends": {"sqlite": summary}}


def web_console(report: dict[str, Any]) -> str:
    lines = [f"web archive question page ({report['mode']}, {report['runs']} runs, medians):"]
    for name, value in report["backends"]["sqlite"].items():
        lines.append(f"  {name}: {value:.2f}" if isinstance(value, float) else f"  {name}: {value}")
    return "\n".join(lines)


def web_markdown(report: dict[str, Any]) -> str:
    s = report["backends"]["sqlite"]
    met = "met" if s["p95 ratio"] <= s["target"] else "NOT met"
    return (
        "\n## Web archive: the question page (issue 24)\n\n"
        f"Recorded {report['date']} ({report['mode']}"
        f"{', --quick: a smaller sample' if report['mode'] == 'quick' else ''}), SQLite, "
        f"{s['questions']:,} publishable questions, {s['sample']} sampled pages, median of "
        f"{report['runs']} runs. `python -m tests.bench --scenario web`.\n\n"
        "| figure | value |\n|---|---|\n"
        f"| server time p50 | {s['web p50 (ms)']:.2f} ms |\n"
        f"| server time p95 | {s['web p95 (ms)']:.2f} ms |\n"
        f"| of which SQL statements executing, p50 | {s['web SQL execution p50 (ms)']:.2f} ms "
        f"({s['statements per page']:.0f} statements a page) |\n"
        f"| plain sqlite3 read p95 | {s['sqlite3 read p95 (ms)']:.2f} ms |\n"
        f"| template rendered alone p95 | {s['render p95 (ms)']:.2f} ms |\n"
        f"| baseline (read + render) p95 | {s['baseline p95 (ms)']:.2f} ms |\n"
        f"| ratio web / baseline (p95) | {s['p95 ratio']:.2f} (target ≤ {s['target']:.0f}: "
        f"{met}) |\n"
        f"| requests per second ({IN_FLIGHT} in flight, loopback) | {s['requests/s']:.0f} |\n"
        + "".join(
            f"| {name.removeprefix('list: ').removesuffix(' p50 (ms)')}: server time p50 "
            f"| {value:.1f} ms |\n"
            for name, value in s.items()
            if name.startswith("list: ")
        )
        + f"| machine load average at the start | {_load(report)} |\n"
        "\nThe server time is the request inside the app (routing, the page's one read-only"
        " unit, the JSON-LD, the template); the SQL line is the time from handing each statement"
        " to the driver until its rows came back (`BEGIN` counted as a statement). A page reads"
        " through `bot.db.reads`: its statements are one function of a connection, run on"
        " SQLite in the event loop's thread on a synchronous `query_only` connection (no"
        " hand-off to another thread; a sitemap, the one long read, runs in a reading thread)."
        " The statements are built once with bound parameters, and rows are read as columns,"
        " not ORM objects. What is left beyond the baseline is SQLAlchemy's Core execution,"
        " Markdown, the JSON-LD and aiohttp. The list pages are timed on the same fixture"
        f" ({LIST_READS} requests each after one warming request); the search page's cost is"
        " `bot.forum.archive_pages.published_search` finding the server's forums with a"
        " `DISTINCT` over every post (no index serves it). On a loaded machine (2 cores shared,"
        " the load average above) every figure moves with the load.\n"
    )


def _load(report: dict[str, Any]) -> str:
    averages = report.get("machine", {}).get("load average")
    return ", ".join(f"{a:.1f}" for a in averages) if averages else "not recorded"
