"""``StatsDigests``: the weekly community-health digest, one per bot (``bot.stats_digests``).

A daily pass (``Periodic``: a ``discord.ext.tasks`` loop, the first pass at start) looks at the
servers this process runs (those in ``bot.guilds``: a shard's servers are posted to by the
process that runs the shard) with ``stats_digest`` on, claims each one due (its last digest a
week old or more: ``bot.forum.digests``, stored, so a restart changes nothing) and posts the
last four weeks' figures to its moderator channel, counts under 5 shown as "fewer than 5".
A digest Discord refused gives its claim back; the next pass tries again. Logs carry ids and
counts only.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Final

import discord

from bot.db import health
from bot.forum import digests
from bot.forum.health_attention import health_report
from bot.transactions import TransactionRunner
from bot.ui.health import digest_embed
from bot.ui.mentions import NO_PINGS
from bot.workers.periodic import Periodic

log = logging.getLogger(__name__)

#: Seconds between two passes: the digest is checked daily.
CHECK_INTERVAL: Final = 86_400.0
#: The weeks a digest looks back over.
DIGEST_WEEKS: Final = 4


class StatsDigests(Periodic):
    name = "weekly digest"

    def __init__(
        self, bot: discord.Client, runner: TransactionRunner, *, interval: float = CHECK_INTERVAL
    ) -> None:
        super().__init__(bot, runner, interval=interval)

    async def run_pass(self, now: datetime) -> None:
        # The servers arrive with the shards' READY: the pass at start waits for them, or a bot
        # restarted every day would never find one due.
        await self.bot.wait_until_ready()
        served = [guild.id for guild in self.bot.guilds]
        try:
            wanted = await self.runner.run(
                lambda s: digests.digest_guilds(s, served=served), read_only=True
            )
        except Exception as exc:
            health.log_failure(log, exc, "the weekly digest check failed")
            return
        posted = 0
        for guild_id in wanted:
            try:
                posted += await self._digest(guild_id, now)
            except Exception as exc:
                health.log_failure(log, exc, "the weekly digest of guild %s failed", guild_id)
        if posted:
            log.info("weekly digest: posted to %d servers", posted)

    async def _digest(self, guild_id: int, now: datetime) -> bool:
        claim = await self.runner.run(lambda s: digests.claim_digest(s, guild_id=guild_id, now=now))
        if claim is None:
            return False
        channel_id, previous = claim
        try:
            report = await self.runner.run(
                lambda s: health_report(s, guild_id=guild_id, weeks=DIGEST_WEEKS, now=now),
                read_only=True,
            )
            channel = self.bot.get_channel(channel_id)
            if not isinstance(channel, discord.abc.Messageable):
                raise LookupError(f"moderator channel {channel_id} is not a text channel")
            await channel.send(embed=digest_embed(report, guild_id), allowed_mentions=NO_PINGS)
        except Exception:
            await self.runner.run(
                lambda s: digests.release_digest(
                    s, guild_id=guild_id, claimed=now, previous=previous
                )
            )
            raise
        log.info("weekly digest posted to guild %s (channel %s)", guild_id, channel_id)
        return True
