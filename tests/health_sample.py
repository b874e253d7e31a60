"""Draw the sample chart of the README (``docs/stats-chart.png``) with the bot's own code, from
the generated community of ``tests.health_community``::

    .venv/bin/python -m tests.health_sample docs/stats-chart.png
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from bot.charts.renderer import ChartRenderer
from bot.db import migrate
from bot.db.engine import create_engine, create_sessionmaker
from bot.forum.health_attention import health_report
from bot.forum.uow import run_in_transaction
from bot.ui.health import alt_text, chart_data
from tests import health_community as community

WEEKS = 12


async def draw() -> tuple[bytes, str]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/sample.sqlite3"
        await migrate.upgrade(url)
        engine = create_engine(url)
        try:
            sessionmaker = create_sessionmaker(engine)
            await community.insert(sessionmaker, 1, community.generated(weeks=WEEKS))
            report = await run_in_transaction(
                sessionmaker,
                lambda s: health_report(s, guild_id=1, weeks=WEEKS, now=community.NOW),
            )
        finally:
            await engine.dispose()
    renderer = ChartRenderer()
    try:
        drawn = await renderer.render(chart_data(report))
    finally:
        await renderer.close()
    return drawn.png, alt_text(report)


if __name__ == "__main__":
    png, described = asyncio.run(draw())
    Path(sys.argv[1] if len(sys.argv) > 1 else "docs/stats-chart.png").write_bytes(png)
    print(described)
