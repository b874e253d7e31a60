"""``python -m tests.bench`` (``make bench``): what a user lives through, against baselines.

Each run starts a fresh fake Discord (this process) and ``qa-bot run`` (its own process) on a
fresh database (``tests.bench.scenario``): answer ingestion, then a reaction burst with /profile
asked for throughout, then SIGTERM and an exactness check. The baselines commit the same rows
with plain ``sqlite3`` / ``asyncpg`` in the same run (``tests.bench.baselines``). Each figure is
the median of ``--runs`` runs (min and max beside it); the results go to stdout and to
``tests/bench/results/`` as JSON. ``--profile`` adds one run of the bot under cProfile and
prints its hottest functions. The PostgreSQL leg runs when ``QA_TEST_POSTGRES_URL`` names a
server (``make bench`` starts one); ``docs/benchmarks.md`` is rewritten from the results.
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
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tests.bench.baselines import (
    AnswerMessage,
    asyncpg_votes,
    sqlite_answers,
    sqlite_votes,
    vote_events,
)
from tests.bench.report import DOCS, console, machine, markdown, profile_text
from tests.bench.scenario import (
    ANSWER,
    FULL,
    QUICK,
    BenchRun,
    RunFigures,
    Scale,
    percentile,
    workload_for,
)
from tests.db_support import drop_postgres_database, new_postgres_database

RESULTS = Path(__file__).with_name("results")
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
    parser.add_argument("--profile", action="store_true", help="one more run under cProfile")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per phase")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    scale = QUICK if args.quick else FULL
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "postgresql" in backends and not os.environ.get("QA_TEST_POSTGRES_URL"):
        print("no QA_TEST_POSTGRES_URL: the PostgreSQL leg is skipped", file=sys.stderr)
        backends.remove("postgresql")
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "mode": "quick" if args.quick else "full",
        "scale": asdict(scale),
        "machine": machine(),
        "runs": args.runs,
        "backends": {},
    }
    for backend in backends:
        runs = []
        for i in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
                print(f"{backend}: run {i + 1}/{args.runs}", file=sys.stderr)
                try:
                    runs.append(
                        asyncio.run(_one_run(backend, scale, Path(tmp), args.timeout, None))
                    )
                except Exception as exc:  # a broken run is reported; the others still count
                    print(f"{backend}: run {i + 1} failed: {exc!r}", file=sys.stderr)
        if runs:
            report["backends"][backend] = _summarise(backend, runs)
    if args.profile:
        with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
            out = Path(tmp) / "bot.prof"
            print("sqlite: profiled run", file=sys.stderr)
            asyncio.run(_one_run("sqlite", scale, Path(tmp), args.timeout, out))
            report["profile"] = profile_text(out)
    print(console(report))
    RESULTS.mkdir(exist_ok=True)
    name = f"{report['date'].replace(':', '')}-{report['mode']}.json"
    for path in (RESULTS / name, RESULTS / f"latest-{report['mode']}.json"):
        path.write_text(json.dumps(report, indent=2) + "\n")
    DOCS.parent.mkdir(exist_ok=True)
    DOCS.write_text(markdown(report))
    print(f"recorded in {RESULTS / name} and {DOCS}")
    complete = len(report["backends"]) == len(backends)
    return 0 if complete and all(s["exact"] for s in report["backends"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
