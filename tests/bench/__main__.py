"""``python -m tests.bench`` (``make bench``): what a user lives through, against baselines.

Each run starts a fresh fake Discord (this process) and ``qa-bot run`` (its own process) on a
fresh database (``tests.bench.scenario``): answer ingestion, then a reaction burst with /profile
asked for throughout, then SIGTERM and an exactness check. The baselines commit the same rows
with plain ``sqlite3`` / ``asyncpg`` in the same run (``tests.bench.baselines``). Each figure is
the median of ``--runs`` runs (min and max beside it); the results go to stdout and to
``tests/bench/results/`` as JSON. ``--profile`` adds one run of the bot under cProfile and
prints its hottest functions. The PostgreSQL leg runs when ``QA_TEST_POSTGRES_URL`` names a
server (``make bench`` starts one); ``docs/benchmarks.md`` is rewritten from the results.
``--scenario load`` (or ``all``, the default) adds the load of issue 20 (``tests.bench.load_run``):
reactions and new answers across ten servers, ``/profile`` run throughout, exactness against a
recomputation from the fake's world; its results go to ``results/*-load-<mode>.json``, and the
docs show the latest recorded run of each scenario. ``--scenario web``: the web archive's
question page at 100,000 questions against plain ``sqlite3`` plus the template alone
(``tests.bench.web_bench``).
The older in-process figures: ``python -m tests.bench.micro``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

from tests.bench.baselines import (
    AnswerMessage,
    asyncpg_votes,
    sqlite_answers,
    sqlite_votes,
    vote_events,
)
from tests.bench.dms_bench import dms_markdown, run_dms
from tests.bench.load import ANSWER, LOAD_FULL, LOAD_SCALED
from tests.bench.load_run import LoadFigures, LoadRun
from tests.bench.page_bench import page_markdown, run_page
from tests.bench.process_bench import process_markdown, run_footprint, run_startup
from tests.bench.report import (
    DOCS,
    console,
    load_console,
    load_markdown,
    machine,
    markdown,
    profile_text,
)
from tests.bench.scenario import (
    FULL,
    QUICK,
    BenchRun,
    RunFigures,
    Scale,
    percentile,
    workload_for,
)
from tests.bench.search_run import run_search, search_console, search_markdown
from tests.bench.stats_bench import run_stats, stats_console, stats_markdown, stats_ok
from tests.bench.web_bench import run_web, web_console, web_markdown
from tests.db_support import drop_postgres_database, new_postgres_database

RESULTS = Path(__file__).with_name("results")
T = TypeVar("T")
TARGETS = {"sqlite votes": 0.3, "postgresql votes": 2.0, "sqlite answers": 0.1}


def _baselines(backend: str, scale: Scale, workdir: Path, dsn: str | None) -> dict[str, float]:
    """Votes/s (and on SQLite answers/s) of the plain baselines for the run's workload."""
    authors = [10_000 + t % scale.answerers for t in range(scale.targets)]
    events = vote_events(workload_for(scale), authors)
    if backend != "sqlite":
        assert dsn is not None
        return {"votes": asyncio.run(asyncpg_votes(dsn, events))}
    messages = [
        AnswerMessage(
            100 + i % scale.threads, 1_000_000 + i, 10_000 + i % scale.answerers, ANSWER.format(i)
        )
        for i in range(scale.answers)
    ]
    askers = {100 + t: 1 + t for t in range(scale.threads)}
    return {
        "votes": sqlite_votes(workdir / "baseline-votes.sqlite3", events),
        "answers": sqlite_answers(workdir / "baseline-answers.sqlite3", askers, messages),
    }


async def _one_run(
    backend: str, scale: Scale, workdir: Path, patience: float, profile_out: Path | None
) -> tuple[RunFigures, dict[str, float]]:
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'bot.sqlite3'}"
        figures = await BenchRun(url, scale, workdir, profile_out).run(patience)
        base = await asyncio.to_thread(_baselines, "sqlite", scale, workdir, None)
        return figures, base
    url = await new_postgres_database()
    base_url = await new_postgres_database()
    try:
        figures = await BenchRun(url, scale, workdir, profile_out).run(patience)
        from sqlalchemy.engine import make_url

        dsn = make_url(base_url).set(drivername="postgresql").render_as_string(hide_password=False)
        base = await asyncio.to_thread(_baselines, "postgresql", scale, workdir, dsn)
    finally:
        await drop_postgres_database(url)
        await drop_postgres_database(base_url)
    return figures, base


async def _one_load_run(backend: str, quick: bool, workdir: Path, patience: float) -> LoadFigures:
    scale = LOAD_SCALED if quick else LOAD_FULL
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'bot.sqlite3'}"
        return await LoadRun(url, scale, workdir).run(patience)
    url = await new_postgres_database()
    try:
        return await LoadRun(url, scale, workdir).run(patience)
    finally:
        await drop_postgres_database(url)


def _summarise_load(runs: list[LoadFigures]) -> dict[str, Any]:
    acks = [x for f in runs for x in f.command_acks]
    answers = [x for f in runs for x in f.command_answers]
    timed = [f for f in runs if f.seconds is not None]
    return {
        "load": {
            "events/s (reactions + answers, until all committed)": _spread(
                [f.events_per_s for f in timed] or [0.0]
            ),
            "seconds until all committed": _spread([f.seconds or 0.0 for f in timed] or [0.0]),
        },
        "command during the load (s)": {
            "commands": len(acks) + sum(f.unanswered for f in runs),
            "acknowledged after 3 s": sum(f.acks_late for f in runs),
            "unanswered within 15 s": sum(f.unanswered for f in runs),
            "ack p50": percentile(acks, 50),
            "ack p99": percentile(acks, 99),
            "ack max": max(acks, default=None),
            "answer p50": percentile(answers, 50),
            "answer p99": percentile(answers, 99),
            "answer max": max(answers, default=None),
        },
        "exact": all(f.exact for f in runs),
        "runs": [asdict(f) for f in runs],
    }


def _run_load(args: argparse.Namespace, backends: list[str]) -> dict[str, Any]:
    report = _report_head(args, LOAD_SCALED if args.quick else LOAD_FULL)
    for backend in backends:
        runs = _repeat(
            f"load, {backend}",
            args.runs,
            lambda tmp, b=backend: _one_load_run(b, args.quick, tmp, args.timeout),
        )
        if runs:
            report["backends"][backend] = _summarise_load(runs)
    return report


def _report_head(args: argparse.Namespace, scale: object) -> dict[str, Any]:
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "mode": "quick" if args.quick else "full",
        "scale": asdict(scale),  # type: ignore[call-overload]
        "machine": machine(),
        "runs": args.runs,
        "backends": {},
    }


def _repeat(label: str, count: int, one: Callable[[Path], Coroutine[Any, Any, T]]) -> list[T]:
    """``count`` runs, each in a fresh temporary directory and event loop; a broken run is
    reported and left out (the others still count)."""
    runs = []
    for i in range(count):
        with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
            print(f"{label}: run {i + 1}/{count}", file=sys.stderr)
            try:
                runs.append(asyncio.run(one(Path(tmp))))
            except Exception as exc:
                print(f"{label}: run {i + 1} failed: {exc!r}", file=sys.stderr)
    return runs


def _record(report: dict[str, Any], kind: str) -> None:
    """``results/<date>-<kind><mode>.json`` and ``results/latest-<kind><mode>.json``."""
    RESULTS.mkdir(exist_ok=True)
    name = f"{report['date'].replace(':', '')}-{kind}{report['mode']}.json"
    for path in (RESULTS / name, RESULTS / f"latest-{kind}{report['mode']}.json"):
        path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"recorded in {RESULTS / name}")


def _latest(kind: str) -> dict[str, Any] | None:
    """The newest recorded report of a scenario (full or quick), if any."""
    found = []
    for mode in ("full", "quick"):
        path = RESULTS / f"latest-{kind}{mode}.json"
        if path.exists():
            found.append(json.loads(path.read_text()))
    return max(found, key=lambda r: str(r["date"]), default=None)


def _spread(samples: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
    }


def _summarise(backend: str, runs: list[tuple[RunFigures, dict[str, float]]]) -> dict[str, Any]:
    figures = [f for f, _ in runs]
    latencies = [x for f in figures for x in f.profile_latencies]
    acks = [x for f in figures for x in f.profile_acks]
    out: dict[str, Any] = {
        "votes": {
            "bot events/s": _spread([f.events_per_s for f in figures]),
            "baseline votes/s": _spread([b["votes"] for _, b in runs]),
            "ratio": _spread([f.events_per_s / b["votes"] for f, b in runs]),
            "target": TARGETS[f"{backend} votes"],
        },
        "answers": {"bot answers/s": _spread([f.answers_per_s for f in figures])},
        "profile during burst (s)": {
            "answered": len(latencies),
            "unanswered within 15 s": sum(f.profile_unanswered for f in figures),
            "ack p50": percentile(acks, 50),
            "ack max": max(acks, default=None),
            "p50": percentile(latencies, 50),
            "p99": percentile(latencies, 99),
            "max": max(latencies, default=None),
        },
        "exact": all(f.exact for f in figures),
        "runs": [asdict(f) | {"baseline": b} for f, b in runs],
    }
    if backend == "sqlite":
        out["answers"] |= {
            "baseline answers/s": _spread([b["answers"] for _, b in runs]),
            "ratio": _spread([f.answers_per_s / b["answers"] for f, b in runs]),
            "target": TARGETS["sqlite answers"],
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (default 3)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the workload")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="one more run under cProfile (on SQLite; with --backend postgresql on PostgreSQL)",
    )
    parser.add_argument(
        "--profile-out",
        type=Path,
        default=None,
        help="with --profile: keep the cProfile statistics in this file (for pstats)",
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per phase")
    parser.add_argument(
        "--scenario",
        choices=[
            "burst",
            "load",
            "search",
            "page",
            "startup",
            "footprint",
            "dms",
            "stats",
            "web",
            "all",
        ],
        default="all",
        help="burst: issue 18's one-server burst; load: issue 20's ten servers; search: issue"
        " 21's search over 100,000 questions; page, startup, footprint, dms: issue 21's question"
        " page, start-up and footprint on that database, DM throughput; stats: issue 25's /mod"
        " stats figures over them and the chart; web: issue 24's archive question page at"
        " 100,000 questions (default: all)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "postgresql" in backends and not os.environ.get("QA_TEST_POSTGRES_URL"):
        print("no QA_TEST_POSTGRES_URL: the PostgreSQL leg is skipped", file=sys.stderr)
        backends.remove("postgresql")
    ok = True
    if args.scenario in ("burst", "all"):
        ok = _run_burst(args, backends)
    if args.scenario in ("load", "all"):
        loaded = _run_load(args, backends)
        print(load_console(loaded))
        _record(loaded, "load-")
        complete = len(loaded["backends"]) == len(backends)
        ok = ok and complete and all(s["exact"] for s in loaded["backends"].values())
    if args.scenario in ("search", "all"):
        searched = run_search(args.runs, args.quick, backends, _report_head(args, FULL))
        print(search_console(searched))
        _record(searched, "search-")
        ok = ok and all(s.get("quality met", True) for s in searched["backends"].values())
    if args.scenario in ("web", "all"):
        served = run_web(args.runs, args.quick, _report_head(args, FULL))
        print(web_console(served))
        _record(served, "web-")
    if args.scenario in ("page", "all"):
        paged = run_page(args.runs, args.quick, _report_head(args, FULL))
        print(page_markdown(paged))
        _record(paged, "page-")
        ok = ok and paged["backends"]["sqlite"]["met"]
    if args.scenario in ("startup", "all"):
        started = run_startup(args.runs, _report_head(args, FULL))
        print(process_markdown("startup", started))
        _record(started, "startup-")
        ok = ok and started["backends"]["sqlite"]["met"]
    if args.scenario in ("footprint", "all"):
        held = run_footprint(args.runs, args.quick, _report_head(args, FULL), args.timeout)
        print(process_markdown("footprint", held))
        _record(held, "footprint-")
        ok = ok and held["backends"]["sqlite"]["met"]
    if args.scenario in ("dms", "all"):
        dms = run_dms(args.runs, args.quick, _report_head(args, FULL), args.timeout)
        print(dms_markdown(dms))
        _record(dms, "dms-")
        dm_summary = dms["backends"].get("sqlite", {})
        ok = ok and dm_summary.get("complete", False) and dm_summary["known"]["met"]
    if args.scenario in ("stats", "all"):
        health = run_stats(args.quick, _report_head(args, FULL))
        print(stats_console(health))
        _record(health, "stats-")
        ok = ok and stats_ok(health)
    write_docs()
    print(f"{DOCS} rewritten from the latest recorded runs")
    return 0 if ok else 1


def write_docs() -> None:
    """``docs/benchmarks.md`` from the latest recorded run of every scenario."""
    DOCS.parent.mkdir(exist_ok=True)
    burst, load, found = _latest(""), _latest("load-"), _latest("search-")
    page, dm_report = _latest("page-"), _latest("dms-")
    started_report, held_report = _latest("startup-"), _latest("footprint-")
    archive, health_run = _latest("web-"), _latest("stats-")
    DOCS.write_text(
        (markdown(burst) if burst else "# Benchmarks\n")
        + (load_markdown(load) if load else "")
        + (search_markdown(found) if found else "")
        + (page_markdown(page) if page else "")
        + (process_markdown("startup", started_report) if started_report else "")
        + (process_markdown("footprint", held_report) if held_report else "")
        + (dms_markdown(dm_report) if dm_report else "")
        + (stats_markdown(health_run) if health_run else "")
        + (web_markdown(archive) if archive else "")
    )


def _run_burst(args: argparse.Namespace, backends: list[str]) -> bool:
    """Issue 18's scenario: print and record it; whether every run was complete and exact."""
    scale = QUICK if args.quick else FULL
    report = _report_head(args, scale)
    for backend in backends:
        runs = _repeat(
            backend,
            args.runs,
            lambda tmp, b=backend: _one_run(b, scale, tmp, args.timeout, None),
        )
        if runs:
            report["backends"][backend] = _summarise(backend, runs)
    if args.profile:
        with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
            out = args.profile_out or Path(tmp) / "bot.prof"
            profiled = "postgresql" if backends == ["postgresql"] else "sqlite"
            print(f"{profiled}: profiled run", file=sys.stderr)
            asyncio.run(_one_run(profiled, scale, Path(tmp), args.timeout, out))
            report["profile"], report["profiled"] = profile_text(out), profiled
    print(console(report))
    _record(report, "")
    complete = len(report["backends"]) == len(backends)
    return complete and all(s["exact"] for s in report["backends"].values())


if __name__ == "__main__":
    sys.exit(main())
