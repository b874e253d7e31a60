"""How ``make bench`` shows its figures: the console summary and ``docs/benchmarks.md``."""

from __future__ import annotations

import io
import platform
import pstats
import sqlite3
from importlib.metadata import version
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"


def machine() -> dict[str, Any]:
    import os

    packages = ("discord.py", "SQLAlchemy", "aiosqlite", "asyncpg", "aiohttp")
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "load average": os.getloadavg(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        **{name: version(name) for name in packages},
    }


def profile_text(path: Path, top: int = 30) -> str:
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    return out.getvalue()


def fmt(value: Any) -> str:
    if isinstance(value, dict) and "median" in value:
        return f"{value['median']:.4g} (min {value['min']:.4g}, max {value['max']:.4g})"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _workload_line(run: dict[str, Any]) -> str:
    return (
        f"{run['events']} events, {run['distinct_keys']} distinct (answer, member) keys, "
        f"{run['duplicates']} delivered twice, at most {run['most_active']} voters per answer; "
        f"rows at the end: {run['vote_rows']} votes, {run['member_rows']} members with points, "
        f"{run['outbox_rows']} outbox rows"
    )


def console(report: dict[str, Any]) -> str:
    lines = []
    for backend, summary in report["backends"].items():
        lines.append(f"== {backend}")
        for section in ("votes", "answers", "profile during burst (s)"):
            for key, value in summary[section].items():
                lines.append(f"  {section}: {key}: {fmt(value)}")
        runs = summary["runs"]
        lines.append(f"  workload: {_workload_line(runs[-1])}")
        lines.append(f"  exact: {summary['exact']}; exit codes: {[r['exit_code'] for r in runs]}")
        notes = [n for r in runs for n in r["exactness_notes"]]
        if notes:
            lines.append(f"  exactness problems: {notes}")
        longest = [line for r in runs for line in r["longest_lines"]]
        lines.append(f"  longest transaction logged by the bot: {longest or 'not logged'}")
    if report.get("profile"):
        lines.append("== cProfile of qa-bot run during one SQLite run (top by own time)")
        lines.append(report["profile"])
    return "\n".join(lines)


METHOD = """\
`make bench` (`python -m tests.bench`; `--runs N`, default 3; `--quick`: a tenth of the
workload; `--profile`: one more SQLite run of the bot under cProfile). Each run starts a fresh
loopback fake Discord (in the benchmark's process) and `qa-bot run` as its own process on a fresh
database (a real SQLite file, or a new PostgreSQL database), pointed at the fake by environment
variables, with its commands synced by `qa-bot sync-commands`.

1. **Answer ingestion.** Members create the forum posts (adopted as questions), then post the
   answer messages back to back in those threads. Answers/s = messages until every answer row
   is committed (read from outside: SQLite read-only, WAL). The answer's counters and outbox
   row are written in the same transaction. Baseline: plain `sqlite3` (WAL,
   `synchronous=NORMAL`) writing the same rows (answer, question's answer count, author's
   counters and points, the asker's outbox row), one transaction per answer.
2. **Reaction burst** (`tests/bench/burst.py`, reusable: `reaction_workload` and
   `drive_reactions(fake, messages, voters, workload)`). The fake's world applies each reaction
   and sends MESSAGE_REACTION_ADD / _REMOVE over the bot's WebSocket, back to back; a share is
   delivered twice (its own sequence numbers, as after a redelivery). Events/s = events until
   every vote row, flag and point is committed, then confirmed through `/profile` of the first
   answer's author (the points shown equal the base plus what the workload implies). Meanwhile
   that member asks `/profile` again and again (0.25 s apart): acknowledgement and full-answer
   latencies are reported. Baseline: the same events committed by plain `sqlite3` (WAL,
   `synchronous=NORMAL`) or `asyncpg` on one connection: read the flags, upsert or delete the
   vote, move the answer's counts and score, move the author's capped points; one transaction
   per event.
3. **Exactness.** After SIGTERM (exit code reported): every stored vote equals the workload's
   final state, every member's points equal what the workload implies, and
   `points.recompute_points` finds nothing to fix.

Targets (issue 18): votes ratio >= 0.3 on SQLite and >= 2 on PostgreSQL; answers ratio >= 0.1.
The older in-process figures (a gesture vs a one-row write, search, start-up) are still
available as `python -m tests.bench.micro`.
"""


def markdown(report: dict[str, Any]) -> str:
    out = ["# Benchmarks", "", METHOD, "## Last recorded run", ""]
    out.append(f"- date: {report['date']} ({report['mode']} workload: {report['scale']})")
    for key, value in report["machine"].items():
        out.append(f"- {key}: {value}")
    out.append(f"- runs per figure: {report['runs']} (median, min and max)")
    if report["mode"] == "quick":
        out.append("- a `--quick` run: a tenth of the workload; the targets are for the full one")
    out.append("")
    for backend, summary in report["backends"].items():
        votes, answers = summary["votes"], summary["answers"]
        latency = summary["profile during burst (s)"]
        out += [f"### {backend}", "", "| figure | median (min, max) | target |", "|---|---|---|"]
        out.append(f"| bot reaction events/s | {fmt(votes['bot events/s'])} | |")
        out.append(f"| baseline votes/s | {fmt(votes['baseline votes/s'])} | |")
        out.append(f"| votes ratio | {fmt(votes['ratio'])} | >= {votes['target']} |")
        out.append(f"| bot answers/s | {fmt(answers['bot answers/s'])} | |")
        if "ratio" in answers:
            out.append(f"| baseline answers/s | {fmt(answers['baseline answers/s'])} | |")
            out.append(f"| answers ratio | {fmt(answers['ratio'])} | >= {answers['target']} |")
        out += ["", "`/profile` during the burst (seconds, all runs pooled):", ""]
        out += [f"- {key}: {fmt(value)}" for key, value in latency.items()]
        runs = summary["runs"]
        out += [
            "",
            f"Workload: {_workload_line(runs[-1])}.",
            f"Exact in every run: {summary['exact']}; exit codes after SIGTERM: "
            f"{[r['exit_code'] for r in runs]}.",
            "Longest write-lock hold: "
            + (
                "; ".join(line for r in runs for line in r["longest_lines"])
                or "not observable (the bot logs no transaction durations)."
            ),
            "",
        ]
    if report.get("profile"):
        out += [
            "## Profile of the hot path",
            "",
            "cProfile of `qa-bot run` during one SQLite run (ingestion and burst), "
            "top by own time:",
            "",
            "```",
            report["profile"].strip(),
            "```",
            "",
        ]
    return "\n".join(out)
