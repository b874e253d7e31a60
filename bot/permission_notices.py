"""The moderators told once which permission the bot is missing.

``bot.rest`` reports every 403 50013 Missing Permissions with the request's guild and channel.
``PermissionNotices.refused`` works out from the cache which of the bot's required permissions
(``bot.permissions``) it lacks there; each (server, permission) is announced once per process:
in the server's moderator channel (``mod_channel_id``), or, when there is none or Discord refuses
that too, in the next ``/qa setup`` reply (``take_pending``). Two refusals, one notice.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

import discord

from bot.bounded import BoundedMap
from bot.guilds import guild_config
from bot.permissions import REQUIRED_PERMISSIONS, missing_permissions, wanted_in
from bot.transactions import HasTransactionRunner
from bot.ui.admin import missing_permission_notice
from bot.ui.mentions import NO_PINGS

log = logging.getLogger(__name__)

#: (guild, permission) pairs remembered as announced; forgetting one costs one more notice.
ANNOUNCED_LIMIT: Final = 10_000
#: Servers with notices waiting for their next /qa setup.
PENDING_LIMIT: Final = 1_000


class PermissionNotices:
    """Announces each missing permission of the bot once per server."""

    def __init__(self, client: discord.Client, runner: HasTransactionRunner) -> None:
        self.client = client
        self.runner = runner
        self._announced: BoundedMap[tuple[int, str], bool] = BoundedMap(ANNOUNCED_LIMIT)
        self._pending: BoundedMap[int, tuple[str, ...]] = BoundedMap(PENDING_LIMIT)
        self._tasks: set[asyncio.Task[None]] = set()

    def refused(self, guild_id: int | None, channel_id: int | None) -> None:
        """Discord refused a request in this guild / channel with 50013 (sync: called from the
        HTTP layer; the notice is sent by a task of its own)."""
        channel = self.client.get_channel(channel_id) if channel_id is not None else None
        if isinstance(channel, discord.Thread) and channel.parent is not None:
            channel = channel.parent
        guild = getattr(channel, "guild", None) or (
            self.client.get_guild(guild_id) if guild_id is not None else None
        )
        if not isinstance(guild, discord.Guild):
            return
        if isinstance(channel, discord.abc.GuildChannel):
            have, where = channel.permissions_for(guild.me), channel.mention
            wanted = wanted_in(channel)  # a thread's refusal is its forum's
        else:
            have, where, wanted = guild.me.guild_permissions, "this server", REQUIRED_PERMISSIONS
        missing = [
            p for p in missing_permissions(have, wanted) if self._announced.add((guild.id, p), True)
        ]
        log.info(
            "guild %s channel %s refused the bot (50013); %d permission(s) newly missing",
            guild.id,
            channel_id,
            len(missing),
        )
        if not missing:
            return
        task = asyncio.get_running_loop().create_task(
            self._tell(guild.id, missing_permission_notice(where, missing)),
            name=f"permission notice {guild.id}",
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _tell(self, guild_id: int, text: str) -> None:
        try:
            await self._deliver(guild_id, text)
        except Exception:
            log.exception("the permission notice of guild %s was lost", guild_id)

    async def _deliver(self, guild_id: int, text: str) -> None:
        config = await guild_config(self.runner, guild_id)
        channel_id = config.mod_channel_id
        channel = self.client.get_channel(channel_id) if channel_id is not None else None
        if isinstance(channel, discord.TextChannel | discord.Thread):
            try:
                await channel.send(text, allowed_mentions=NO_PINGS)
            except discord.HTTPException as exc:
                log.warning(
                    "could not post a permission notice in channel %s (status %s, code %s)",
                    channel.id,
                    exc.status,
                    exc.code,
                )
            else:
                return
        self._pending.put(guild_id, (*(self._pending.get(guild_id) or ()), text))

    def take_pending(self, guild_id: int) -> list[str]:
        """The notices not delivered yet, for the /qa setup reply (then forgotten)."""
        pending = list(self._pending.get(guild_id) or ())
        self._pending.pop(guild_id)
        return pending

    async def wait_idle(self) -> None:
        """Until the notices being sent are sent (or stored for /qa setup)."""
        while self._tasks:
            await asyncio.gather(*self._tasks)
