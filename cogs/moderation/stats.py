"""``/mod stats``: community health for a moderator (already checked), ephemeral. The embed holds
the period's figures and what needs attention; the weekly rows come as a CSV and the chart as
a PNG drawn in the helper process (``bot.charts``), its alt text the attachment's description.
A chart that fails is left out, and the reply says so."""

from __future__ import annotations

import io
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord

from bot.charts.renderer import ChartRenderer
from bot.forum.health_attention import health_report
from bot.transactions import run_read
from bot.ui.health import alt_text, chart_data, stats_embed, weekly_csv
from bot.ui.mentions import NO_PINGS

if TYPE_CHECKING:
    from bot.client import QABot
    from bot.guilds import Acting

log = logging.getLogger(__name__)

NO_CHART = "The chart could not be drawn this time; the figures and the CSV are complete."


async def show_stats(
    bot: QABot,
    interaction: discord.Interaction[Any],
    actor: Acting,
    *,
    weeks: int,
    charts: ChartRenderer,
    now: datetime,
) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    guild_id = actor.guild.id
    report = await run_read(
        bot, lambda s: health_report(s, guild_id=guild_id, weeks=weeks, now=now)
    )
    stamp = now.strftime("%Y-%m-%d")
    files = [discord.File(io.BytesIO(weekly_csv(report)), f"community-health-{stamp}.csv")]
    content = None
    try:
        chart = await charts.render(chart_data(report))
    except Exception:
        log.exception("the health chart of guild %s failed", guild_id)
        content = NO_CHART
    else:
        files.append(
            discord.File(
                io.BytesIO(chart.png), f"community-health-{stamp}.png", description=alt_text(report)
            )
        )
    log.info("guild %s: /mod stats over %d weeks (interaction %s)", guild_id, weeks, interaction.id)
    await interaction.followup.send(
        content or discord.utils.MISSING,
        embed=stats_embed(report, guild_id),
        files=files,
        ephemeral=True,
        allowed_mentions=NO_PINGS,
    )
