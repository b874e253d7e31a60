"""/mod stats' chart: drawn in a helper process (another pid), never importing matplotlib in the
bot's; what it plots, read back from the figure, equals the generated community's known
figures (bars, lines, reference lines, week labels, axis labels)."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.charts import health as chart
from bot.charts.renderer import ChartRenderer
from bot.forum.health_attention import health_report
from bot.forum.health_stats import period_bounds
from bot.forum.uow import run_in_transaction
from bot.ui.health import alt_text, chart_data
from tests import health_community as community

GUILD = 1


def test_the_bot_and_its_cogs_never_import_matplotlib() -> None:
    code = (
        "import importlib, sys\n"
        "import bot.client, bot.__main__, bot.charts.renderer, bot.ui.health\n"
        "for name in bot.client.EXTENSIONS: importlib.import_module(name)\n"
        "assert 'cogs.moderation.stats' in sys.modules\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"


async def test_the_chart_plots_the_known_figures_in_another_process(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    specs = community.generated(weeks=12)
    await community.insert(sessionmaker, GUILD, specs)
    report = await run_in_transaction(
        sessionmaker,
        lambda s: health_report(s, guild_id=GUILD, weeks=12, now=community.NOW),
    )
    truth = [community.expected(specs, lo, hi) for lo, hi in period_bounds(community.NOW, 12)]
    renderer = ChartRenderer()
    try:
        drawn = await renderer.render(chart_data(report))
    finally:
        await renderer.close()
    assert drawn.pid != os.getpid()
    assert drawn.png.startswith(b"\x89PNG\r\n\x1a\n")
    plotted = drawn.plotted
    assert plotted["bars"] == [float(t.questions) for t in truth]
    assert plotted["lines"][chart.ANSWERED_LABEL] == [
        round(t.answered_24h / t.questions * 100, 1) for t in truth
    ]
    assert plotted["lines"][chart.MEDIAN_LABEL] == [
        None if t.median_seconds is None else round(t.median_seconds / 3600, 2) for t in truth
    ]
    assert plotted["lines"][chart.QUESTIONS_BAR_LABEL] == [105.0, 105.0]
    assert plotted["lines"][chart.ANSWERED_BAR_LABEL] == [90.0, 90.0]
    starts = [lo.strftime("%d %b") for lo, _ in period_bounds(community.NOW, 12)]
    assert plotted["weeks"] == starts
    assert plotted["ylabels"] == [chart.QUESTIONS_LABEL, chart.MEDIAN_LABEL, chart.ANSWERED_LABEL]
    assert plotted["legend"] == [
        chart.QUESTIONS_BAR_LABEL,
        chart.QUESTIONS_LABEL,
        chart.ANSWERED_LABEL,
        chart.ANSWERED_BAR_LABEL,
    ]
    assert plotted["title"] == "Community health, the last 12 weeks (weeks starting)"
    described = alt_text(report)
    assert len(described) <= 1024 and starts[0] in described and starts[-1] in described
