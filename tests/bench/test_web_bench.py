"""The web archive's benchmark (issue 24, item 4) end to end on the small fixture: every page
it times answers, and the report holds each figure."""

from __future__ import annotations

from tests.bench.search_fixture import Size
from tests.bench.web_bench import run_web, web_markdown

SMALL = Size(questions=300, answers=1_500)


def test_the_web_scenario_measures_the_question_page() -> None:
    report = run_web(1, True, {"date": "now", "mode": "quick", "runs": 1}, SMALL, samples=20)
    figures = report["backends"]["sqlite"]
    assert figures["sample"] == 20 and 250 < figures["questions"] < 300
    for name in ("web p95 (ms)", "baseline p95 (ms)", "render p95 (ms)", "requests/s"):
        assert figures[name] > 0, name
    assert figures["p95 ratio"] == figures["web p95 (ms)"] / figures["baseline p95 (ms)"]
    assert "| requests per second" in web_markdown(report)
