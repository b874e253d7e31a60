"""``make bench``'s scenario scaled down for ``make test``: 2,000 reaction events into ``qa-bot
run`` on each backend. Asserts exactness and that /profile asked during the burst is answered;
no timings (those live in ``make bench``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench.scenario import BenchRun, Scale

SCALED = Scale(
    answers=40, threads=4, events=2000, targets=20, voters=200, distinct_keys=700, answerers=4
)


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_a_scaled_burst_is_exact_and_commands_are_answered(
    db_url: str, tmp_path: Path
) -> None:
    figures = await BenchRun(db_url, SCALED, tmp_path, None).run(patience=240)

    assert figures.events == SCALED.events
    assert figures.exact, figures.exactness_notes
    assert figures.profile_confirmed  # the points /profile shows after the burst are exact
    assert figures.profile_latencies, "no /profile asked during the burst was answered"
    assert figures.exit_code == 0
