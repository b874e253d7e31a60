"""The stats benchmark's fixture and its plain ``sqlite3`` reference: on a small copy of the
search fixture, the plain queries and the domain's ``health_report`` agree figure by figure,
and a changed figure is caught."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3

from bot.forum.health_stats import PERIODS
from tests.bench import stats_bench
from tests.bench.search_fixture import Size

SMALL = Size(questions=300, answers=1_500)


def test_the_plain_queries_and_the_domain_agree() -> None:
    path, now = stats_bench.stats_fixture(SMALL)
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    try:
        for weeks in PERIODS[:2]:
            _, report = asyncio.run(stats_bench._domain(path, weeks, now, 1))
            found = stats_bench.plain(connection, weeks, now)
            assert report.stats.overall is not None and report.stats.overall.questions > 0
            assert stats_bench.agrees(report, found)
            week = report.stats.weeks[-1]
            changed = dataclasses.replace(week, answered=week.answered + 1)
            stats = dataclasses.replace(report.stats, weeks=[*report.stats.weeks[:-1], changed])
            assert not stats_bench.agrees(dataclasses.replace(report, stats=stats), found)
    finally:
        connection.close()
