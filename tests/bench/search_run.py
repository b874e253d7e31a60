"""``python -m tests.bench --scenario search``: run, summarise and show issue 21's search figures
(``tests.bench.search_bench`` measures, ``tests.bench.search_fixture`` builds the database)."""

from __future__ import annotations

import asyncio
import statistics
import sys
from dataclasses import asdict
from typing import Any, Final

from tests.bench.search_bench import (
    CLASSES,
    ROUNDS,
    ClassFigures,
    measure,
    quality,
    sqlite_url,
    tops,
)
from tests.bench.search_fixture import FULL_SIZE

#: The highest p95 ratio (domain / baseline) per class (issue 21).
TARGETS: Final = {"rare": 2.0, "mid": 2.0, "two-word": 2.0, "common": 0.2}
#: Quality on common terms: the least overlap@10 with the reference.
MIN_OVERLAP: Final = 0.8


def _spread(samples: list[float]) -> dict[str, float]:
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples)}


def _summarise(runs: list[dict[str, ClassFigures]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in CLASSES:
        figures = [run[name] for run in runs]
        out[name] = {
            "domain p50 (ms)": _spread([f.domain_p50 * 1000 for f in figures]),
            "domain p95 (ms)": _spread([f.domain_p95 * 1000 for f in figures]),
            "baseline p50 (ms)": _spread([f.baseline_p50 * 1000 for f in figures]),
            "baseline p95 (ms)": _spread([f.baseline_p95 * 1000 for f in figures]),
            "p95 ratio": _spread([f.domain_p95 / f.baseline_p95 for f in figures]),
        }
        if all(f.plain_p95 for f in figures):
            out[name] |= {
                "plain sqlite3 p50 (ms)": _spread([(f.plain_p50 or 0.0) * 1000 for f in figures]),
                "plain sqlite3 p95 (ms)": _spread([(f.plain_p95 or 0.0) * 1000 for f in figures]),
                "p95 ratio to plain": _spread(
                    [f.domain_p95 / (f.plain_p95 or 1.0) for f in figures]
                ),
            }
        out[name] |= {
            "target": TARGETS[name],
        }
    return out


def run_search(runs: int, quick: bool, backends: list[str], head: dict[str, Any]) -> dict[str, Any]:
    """Every run's figures and the quality check, per backend (the PostgreSQL fixture is not
    built yet: that leg is reported as skipped)."""
    report = head | {"scale": asdict(FULL_SIZE), "backends": {}}
    rounds = ROUNDS // 4 if quick else ROUNDS
    for backend in backends:
        if backend != "sqlite":
            print(f"search, {backend}: no fixture for this backend yet, skipped", file=sys.stderr)
            continue
        url = sqlite_url()
        measured = []
        for i in range(runs):
            print(f"search, {backend}: run {i + 1}/{runs}", file=sys.stderr)
            measured.append(asyncio.run(measure(url, rounds)))
        checked = quality(asyncio.run(tops(url)))
        report["backends"][backend] = {
            "classes": _summarise(measured),
            "quality": checked,
            "quality met": all(
                q["top in top 3"] and (q["class"] != "common" or q["overlap@10"] >= MIN_OVERLAP)
                for q in checked.values()
            ),
            "runs": [{k: asdict(v) for k, v in run.items()} for run in measured],
        }
    return report


def _fmt(value: dict[str, float]) -> str:
    return f"{value['median']:.3g} (min {value['min']:.3g}, max {value['max']:.3g})"


_COLUMNS: Final = (
    "domain p50 (ms)",
    "domain p95 (ms)",
    "baseline p50 (ms)",
    "baseline p95 (ms)",
    "p95 ratio",
    "plain sqlite3 p50 (ms)",
    "plain sqlite3 p95 (ms)",
    "p95 ratio to plain",
)


def search_markdown(report: dict[str, Any]) -> str:
    lines = [
        "",
        "## Search at scale (issue 21)",
        "",
        f"- date: {report['date']} ({report['mode']}; {report['runs']} runs per figure,"
        f" median (min, max))",
        f"- fixture: {report['scale']['questions']} questions, {report['scale']['answers']}"
        " answers (`tests/bench/search_fixture.py`)",
    ]
    for backend, summary in report["backends"].items():
        lines += [
            "",
            f"### {backend}",
            "",
            "| class | " + " | ".join(_COLUMNS) + " | target (p95 ratio) |",
            "|---" * (len(_COLUMNS) + 2) + "|",
        ]
        for name, row in summary["classes"].items():
            cells = " | ".join(_fmt(row[c]) if c in row else "-" for c in _COLUMNS)
            lines.append(f"| {name} | {cells} | <= {row['target']} |")
        lines += ["", "Ranking quality against `tests/bench/search_reference.json`:", ""]
        lines += ["| query | class | overlap@10 | reference's top in top 3 |", "|---|---|---|---|"]
        for query, q in summary["quality"].items():
            lines.append(
                f"| {query} | {q['class']} | {q['overlap@10']:.2f} | {q['top in top 3']} |"
            )
        lines.append(f"\nQuality target met: {summary['quality met']}.")
    return "\n".join(lines) + "\n"


def search_console(report: dict[str, Any]) -> str:
    return search_markdown(report)
