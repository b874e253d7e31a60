"""The DM throughput harness, scaled (no timing asserted): a real ``qa-bot run`` drains DMs to
known recipients with one request each and no 429 under the global limit, and opens first-time
recipients' DM channels without a 40003, while ``/profile`` is answered."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench.dms_bench import DmsRun, dms_markdown, summarise


@pytest.mark.slow
async def test_a_scaled_drain_is_one_request_per_dm_without_refusals(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    figures = await DmsRun(url, known=20, first_time=3, workdir=tmp_path).run(120)
    assert figures.complete and figures.exit_code == 0
    known, first = figures.known, figures.first_time
    assert (known.dms, known.requests_per_dm, known.responses_429) == (21, 1.0, 0)
    assert (known.dm_opens, known.member_lookups) == (0, 0)
    assert (first.dms, first.dm_opens, first.refused_40003, first.responses_429) == (4, 3, 0, 0)
    assert figures.command_unanswered == 0
    report = {"date": "now", "mode": "quick", "runs": 1, "scale": {"known": 20, "first_time": 3}}
    shown = dms_markdown(report | {"backends": {"sqlite": summarise([figures])}})
    assert "| requests per DM | 1 (min 1, max 1) |" in shown
