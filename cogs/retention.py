"""Servers that remove the bot: their departure recorded, and forgotten if the bot returns.

- ``on_guild_remove`` (the bot was kicked or the server deleted) records the departure: the
  retention worker (``bot.workers.retention``) purges the server's data once its
  ``departed_retention_days`` have passed.
- ``on_shard_ready`` (a new session; not a resume) compares the servers the database holds for
  this shard with those in the shard's READY: one missing removed the bot while it was down and
  is recorded the same way; a departed one present is back.
- ``on_guild_join``: the bot is back before the purge, so the departure is forgotten and the
  server's data is kept untouched.

Each dispatches ``qa_guild_departed(guild_id, recorded)``, ``qa_guild_returned(guild_id,
returned)`` or ``qa_guilds_reconciled(shard_id, ShardReconciled)`` once its transaction is done.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.forum import retention
from bot.transactions import run_transaction

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)


class Departures(commands.Cog):
    def __init__(self, bot: QABot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        guild_id = guild.id
        recorded = await run_transaction(
            self.bot, lambda s: retention.record_departure(s, guild_id=guild_id)
        )
        log.info("guild %s removed the bot: departure recorded (%s)", guild_id, recorded)
        self.bot.dispatch("qa_guild_departed", guild_id, recorded)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        guild_id = guild.id
        returned = await run_transaction(
            self.bot, lambda s: retention.record_return(s, guild_id=guild_id)
        )
        if returned:
            log.info("guild %s added the bot back before its data was purged", guild_id)
        self.bot.dispatch("qa_guild_returned", guild_id, returned)

    @commands.Cog.listener()
    async def on_shard_ready(self, shard_id: int) -> None:
        present = {guild.id for guild in self.bot.guilds}
        shard_count = self.bot.shard_count or 1
        result = await run_transaction(
            self.bot,
            lambda s: retention.reconcile_shard(
                s, shard_id=shard_id, shard_count=shard_count, present=present
            ),
        )
        if result.departed or result.returned:
            log.info(
                "shard %s: %d stored guilds missing from READY (departures recorded), "
                "%d departed guilds back",
                shard_id,
                result.departed,
                result.returned,
            )
        self.bot.dispatch("qa_guilds_reconciled", shard_id, result)


async def setup(bot: QABot) -> None:
    await bot.add_cog(Departures(bot))
