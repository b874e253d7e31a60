"""``python -m tests.bench --scenario stats`` (issue 25, item 6): ``/mod stats``' figures over the
search benchmark's community of 100,000 questions and 500,000 answers, against plain ``sqlite3``
aggregate queries computing the same figures; and the chart's rendering time, apart.

The fixture is the search fixture (``tests.bench.search_fixture``), copied once into
``.bench-cache/`` and given what health figures need: each answer posted 0 to 72 hours after
its question (its creation time there equals the question's), a third of the answered questions
with an accepted answer, a category per question. ``now`` is a day after the last question, so
52 weeks hold nearly every question.

For each period (4, 12, 52 weeks) the domain's ``health_report`` (one read-only transaction
through the bot's engine, as ``/mod stats`` runs it) and the plain queries (``sqlite3``, week
by ``julianday`` arithmetic, medians by window functions) each run ``ROUNDS`` times; their
medians and ratio are reported, and the two results are compared figure by figure. The chart:
the first render (starting the helper process and importing matplotlib) and the median of the
next ``ROUNDS``, for 52 weeks.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from bot.charts.renderer import ChartRenderer
from bot.db.engine import create_engine, create_sessionmaker
from bot.forum.health_attention import HealthReport, health_report
from bot.forum.health_stats import PERIODS
from bot.forum.uow import run_in_transaction
from bot.ui.health import chart_data
from tests.bench.search_fixture import CACHE, FULL_SIZE, GUILD, Size, sqlite_fixture

ROUNDS: Final = 5
#: The highest ratio (domain / plain sqlite3) per period (issue 25).
TARGET: Final = 2.0
QUICK_SIZE: Final = Size(questions=10_000, answers=50_000)
_STATS_VERSION: Final = 2
_FIRST: Final = datetime(2021, 1, 1, tzinfo=UTC)

_PREPARE: Final = (
    # The index as migration 0011 now makes it (a search fixture cached before may differ).
    "DROP INDEX IF EXISTS ix_posts_guild_kind_created",
    """CREATE INDEX ix_posts_guild_kind_created ON posts (guild_id, kind, created_at)
       WHERE created_at IS NOT NULL""",
    # Answers 0-72 h after their question (a spread that depends only on the id).
    """UPDATE posts SET created_at = strftime('%Y-%m-%d %H:%M:%f000',
           (SELECT q.created_at FROM posts AS q WHERE q.id = posts.question_id),
           '+' || ((id * 7919) % 4320) || ' minutes')
       WHERE kind = 'answer'""",
    """UPDATE posts SET accepted_answer_id = (SELECT MIN(a.id) FROM posts AS a
           WHERE a.question_id = posts.id AND a.kind = 'answer' AND a.deleted_at IS NULL)
       WHERE kind = 'question' AND id % 3 = 0""",
    """UPDATE posts SET category = CASE id % 4 WHEN 0 THEN 'Sleep' WHEN 1 THEN 'Anxiety'
           WHEN 2 THEN 'Work' ELSE NULL END WHERE kind = 'question'""",
    "ANALYZE",
)


def stats_fixture(size: Size) -> tuple[Path, datetime]:
    """The prepared copy of the search fixture (cached), and the benchmark's ``now``."""
    source = sqlite_fixture(size)
    path = CACHE / f"stats-v{_STATS_VERSION}-{source.name}"
    if not path.exists():
        partial = path.with_suffix(".partial")
        shutil.copyfile(source, partial)
        connection = sqlite3.connect(partial)
        try:
            with connection:
                for statement in _PREPARE:
                    connection.execute(statement)
            connection.execute("PRAGMA journal_mode = DELETE")  # no WAL left beside the copy
        finally:
            connection.close()
        partial.replace(path)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        (last,) = connection.execute("SELECT MAX(created_at) FROM posts WHERE kind = 'question'")
        stamp = datetime.fromisoformat(last[0]).replace(tzinfo=UTC)
    return path, stamp + timedelta(days=1, seconds=150)


#: The index is partial to ``created_at IS NOT NULL``: the plain queries say it too, to use it.
_LIVE: Final = "{t}.state = 'live' AND {t}.removed_at IS NULL AND {t}.deleted_at IS NULL"

_PER_QUESTION: Final = f"""
    WITH q AS (
        SELECT id, category, created_at, accepted_answer_id IS NOT NULL AS accepted,
               CAST((julianday(created_at) - julianday(:start)) / 7 AS INTEGER) AS week
        FROM posts AS p
        WHERE guild_id = :guild AND kind = 'question'
          AND created_at IS NOT NULL AND created_at >= :start
          AND created_at < :end AND {_LIVE.format(t="p")}
    ), pq AS (
        SELECT q.week, q.category, q.accepted, COUNT(a.id) AS n,
               MAX(q.accepted OR COALESCE(a.score > 0, 0)) AS answered,
               ROUND((julianday(MIN(a.created_at)) - julianday(q.created_at)) * 86400.0, 3)
                   AS delay
        FROM q LEFT JOIN posts AS a ON a.question_id = q.id AND a.kind = 'answer'
             AND {_LIVE.format(t="a")}
        GROUP BY q.id
    )
"""

PLAIN: Final = {
    "weeks": _PER_QUESTION
    + """
        SELECT week, COUNT(*), SUM(answered), SUM(delay <= 86400), COUNT(delay), SUM(n),
               SUM(accepted)
        FROM pq GROUP BY week ORDER BY week""",
    "ranks": _PER_QUESTION
    + """, r AS (
            SELECT week, delay, ROW_NUMBER() OVER (PARTITION BY week ORDER BY delay) AS rn,
                   COUNT(*) OVER (PARTITION BY week) AS cnt FROM pq WHERE delay IS NOT NULL
            UNION ALL
            SELECT -1, delay, ROW_NUMBER() OVER (ORDER BY delay), COUNT(*) OVER ()
            FROM pq WHERE delay IS NOT NULL)
        SELECT week, rn, cnt, delay FROM r
        WHERE rn IN ((cnt + 1) / 2, (cnt + 2) / 2, (9 * cnt + 9) / 10)""",
    "members": f"""
        SELECT kind, CAST((julianday(created_at) - julianday(:start)) / 7 AS INTEGER),
               COUNT(DISTINCT author_id)
        FROM posts AS p WHERE guild_id = :guild AND kind IN ('question', 'answer')
             AND created_at IS NOT NULL AND created_at >= :start AND created_at < :end
             AND {_LIVE.format(t="p")}
        GROUP BY 1, 2
        UNION ALL
        SELECT kind, -1, COUNT(DISTINCT author_id)
        FROM posts AS p WHERE guild_id = :guild AND kind IN ('question', 'answer')
             AND created_at IS NOT NULL AND created_at >= :start AND created_at < :end
             AND {_LIVE.format(t="p")}
        GROUP BY 1""",
    "backlog": """
        SELECT COUNT(*), MIN(created_at) FROM posts WHERE guild_id = :guild
            AND kind = 'question' AND answer_count = 0 AND status = 'open'
            AND deleted_at IS NULL AND state = 'live' AND removed_at IS NULL""",
    "oldest": """
        SELECT id FROM posts WHERE guild_id = :guild AND kind = 'question' AND answer_count = 0
            AND status = 'open' AND deleted_at IS NULL AND state = 'live' AND removed_at IS NULL
        ORDER BY created_at, id LIMIT 5""",
    "categories": _PER_QUESTION
    + """
        SELECT category, week >= :half, COUNT(*), SUM(answered) FROM pq
        WHERE category IS NOT NULL GROUP BY 1, 2""",
}


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def plain(connection: sqlite3.Connection, weeks: int, now: datetime) -> dict[str, list[Any]]:
    """Every figure of the period by the plain queries, in one read transaction."""
    params = {
        "guild": GUILD,
        "start": _stamp(now - timedelta(weeks=weeks)),
        "end": _stamp(now),
        "half": weeks // 2,
    }
    connection.execute("BEGIN")
    try:
        return {name: connection.execute(sql, params).fetchall() for name, sql in PLAIN.items()}
    finally:
        connection.execute("COMMIT")


def agrees(report: HealthReport, found: dict[str, list[Any]]) -> bool:
    """Whether the domain's figures equal the plain queries'."""
    weeks = {row[0]: tuple(int(v or 0) for v in row[1:]) for row in found["weeks"]}
    for f in report.stats.weeks:
        mine = (f.questions, f.answered, f.answered_24h, f.with_answer, f.answers, f.accepted)
        if weeks.get(f.week, (0,) * 6) != mine:
            return False
    ranks: dict[int, dict[int, float]] = {}
    sizes: dict[int, int] = {}
    for week, rn, cnt, delay in found["ranks"]:
        ranks.setdefault(week, {})[rn] = delay
        sizes[week] = cnt
    overall = report.stats.overall
    assert overall is not None
    for f in [*report.stats.weeks, overall]:
        key = -1 if f.week is None else f.week
        if key not in sizes:
            if f.median_seconds is not None:
                return False
            continue
        n, at = sizes[key], ranks[key]
        if (f.median_seconds, f.p90_seconds) != (
            (at[(n + 1) // 2] + at[(n + 2) // 2]) / 2,
            at[(9 * n + 9) // 10],
        ):
            return False
    members = {(kind[0], week): n for kind, week, n in found["members"]}
    for f in [*report.stats.weeks, overall]:
        key = -1 if f.week is None else f.week
        if (f.askers, f.answerers) != (members.get(("q", key), 0), members.get(("a", key), 0)):
            return False
    backlog = found["backlog"][0][0]
    oldest = [row[0] for row in found["oldest"]]
    return report.attention.backlog == backlog and [q.id for q in report.attention.oldest] == oldest


def _median_seconds(samples: list[float]) -> float:
    return statistics.median(samples)


async def _domain(path: Path, weeks: int, now: datetime, rounds: int) -> tuple[float, HealthReport]:
    """The domain alone (the bench's own test): its median time and its report."""
    domain, _, report, _ = await _interleaved(path, weeks, now, rounds, plain_too=False)
    return domain, report


async def _interleaved(
    path: Path, weeks: int, now: datetime, rounds: int, *, plain_too: bool = True
) -> tuple[float, float, HealthReport, dict[str, list[Any]]]:
    """``rounds`` of the domain and the plain queries taken in turn (a shared machine's load
    weighs on both alike): their median times, the domain's report and the plain figures."""
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    sessionmaker = create_sessionmaker(engine)
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    try:
        domain_times: list[float] = []
        plain_times: list[float] = [0.0]
        report: HealthReport | None = None
        found: dict[str, list[Any]] = {}
        for _ in range(rounds):
            began = time.perf_counter()
            report = await run_in_transaction(
                sessionmaker,
                lambda s: health_report(s, guild_id=GUILD, weeks=weeks, now=now),
                read_only=True,
            )
            domain_times.append(time.perf_counter() - began)
            if plain_too:
                began = time.perf_counter()
                found = plain(connection, weeks, now)
                plain_times.append(time.perf_counter() - began)
        assert report is not None
        plain_median = _median_seconds(plain_times[1:] if plain_too else plain_times)
        return _median_seconds(domain_times), plain_median, report, found
    finally:
        connection.close()
        await engine.dispose()


async def _chart(report: HealthReport, rounds: int) -> tuple[float, float]:
    renderer = ChartRenderer()
    try:
        began = time.perf_counter()
        await renderer.render(chart_data(report))
        first = time.perf_counter() - began
        times = []
        for _ in range(rounds):
            began = time.perf_counter()
            await renderer.render(chart_data(report))
            times.append(time.perf_counter() - began)
        return first, _median_seconds(times)
    finally:
        await renderer.close()


def run_stats(quick: bool, head: dict[str, Any]) -> dict[str, Any]:
    """The scenario's figures (SQLite), as a report for ``results/`` and the docs."""
    size = QUICK_SIZE if quick else FULL_SIZE
    path, now = stats_fixture(size)
    rounds = 2 if quick else ROUNDS
    figures: dict[str, Any] = {}
    report = None
    for weeks in PERIODS:
        domain, baseline, report, found = asyncio.run(_interleaved(path, weeks, now, rounds))
        figures[f"{weeks} weeks"] = {
            "domain (ms)": domain * 1000,
            "plain sqlite3 (ms)": baseline * 1000,
            "ratio": domain / baseline,
            "target": TARGET,
            "equal figures": agrees(report, found),
            "questions in the period": report.stats.overall.questions
            if report.stats.overall
            else 0,
        }
    assert report is not None
    first, warm = asyncio.run(_chart(report, rounds))
    head["scale"] = {"questions": size.questions, "answers": size.answers}
    head["backends"] = {
        "sqlite": {
            "figures": figures,
            "chart (52 weeks)": {
                "first render, helper start included (ms)": first * 1000,
                "render median (ms)": warm * 1000,
            },
        }
    }
    return head


def stats_ok(report: dict[str, Any]) -> bool:
    return all(
        f["equal figures"] and f["ratio"] <= f["target"]
        for backend in report["backends"].values()
        for f in backend["figures"].values()
    )


def stats_console(report: dict[str, Any]) -> str:
    lines = [f"stats ({report['mode']}, {report['scale']['questions']:,} questions):"]
    for backend, shown in report["backends"].items():
        for period, f in shown["figures"].items():
            lines.append(
                f"  {backend} {period}: domain {f['domain (ms)']:.1f} ms, plain sqlite3 "
                f"{f['plain sqlite3 (ms)']:.1f} ms, ratio {f['ratio']:.2f} (target ≤ "
                f"{f['target']:g}), equal figures: {f['equal figures']}"
            )
        for name, value in shown["chart (52 weeks)"].items():
            lines.append(f"  chart: {name}: {value:.0f}")
    return "\n".join(lines)


def stats_markdown(report: dict[str, Any]) -> str:
    scale = report["scale"]
    out = [
        "\n## Community health: `/mod stats` (issue 25; `--scenario stats`)\n",
        f"Recorded {report['date']} ({report['mode']} mode; {scale['questions']:,} questions, "
        f"{scale['answers']:,} answers; SQLite). The domain's `health_report` (one read-only "
        "transaction through the bot's engine, aiosqlite) against plain `sqlite3` queries "
        "computing the same figures (`tests/bench/stats_bench.py`), median of "
        f"{2 if report['mode'] == 'quick' else ROUNDS} rounds each, taken in turn; the two "
        "results are compared figure by figure. The machine is shared (2 cores, other jobs "
        "running): absolute times vary from run to run, the ratio less, its rounds alternating.\n",
        "| period | questions in it | domain (ms) | plain sqlite3 (ms) | ratio (target ≤ 2) "
        "| equal figures |",
        "|---|---|---|---|---|---|",
    ]
    for shown in report["backends"].values():
        for period, f in shown["figures"].items():
            out.append(
                f"| {period} | {f['questions in the period']:,} | {f['domain (ms)']:.1f} | "
                f"{f['plain sqlite3 (ms)']:.1f} | {f['ratio']:.2f} | "
                f"{'yes' if f['equal figures'] else 'NO'} |"
            )
        chart = shown["chart (52 weeks)"]
        out.append(
            "\nThe chart (52 weeks, drawn in the helper process): first render "
            f"{chart['first render, helper start included (ms)']:.0f} ms (starting the helper "
            f"and importing matplotlib included), then {chart['render median (ms)']:.0f} ms "
            "(median).\n"
        )
    return "\n".join(out)
