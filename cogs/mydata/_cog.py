"""``/mydata``: wiring of the export and the erase (see the package's docstring)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import discord
from discord import app_commands
from discord.ext import commands

from bot.feature_cog import Interaction
from bot.forum import mydata
from bot.transactions import run_transaction
from bot.ui import embeds
from bot.ui.mentions import NO_PINGS
from bot.ui.mydata import (
    ERASE_CANCELLED,
    ERASE_PROMPT,
    ERASED,
    EXPORT_DM,
    EXPORT_HERE,
    EXPORT_SENT,
    NOTHING_LEFT_NOTE,
    export_files,
    scope_text,
)
from bot.ui.views import confirm
from cogs.mydata.effects import carry_out

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)


#: Files one message may carry (Discord's limit).
FILES_PER_MESSAGE: Final = 10
#: A bot's upload limit in a DM (a server's boost raises the interaction's limit, not a DM's).
DM_FILE_LIMIT: Final = 10 * 1024 * 1024
#: The export's work ends well inside the 15 minutes an interaction token lives.
EXPORT_DEADLINE: Final = 13 * 60.0


def _batches(files: Sequence[discord.File]) -> list[list[discord.File]]:
    return [list(files[i : i + FILES_PER_MESSAGE]) for i in range(0, len(files), FILES_PER_MESSAGE)]


class MyData(commands.Cog):
    def __init__(self, bot: QABot) -> None:
        self.bot = bot

    @app_commands.command(name="mydata", description="Export or erase your own data")
    @app_commands.describe(
        action="export: a JSON file of what qa-bot stores about you; erase: remove it"
    )
    @app_commands.choices(
        action=[
            app_commands.Choice(name="export", value="export"),
            app_commands.Choice(name="erase", value="erase"),
        ]
    )
    @app_commands.allowed_installs(guilds=True, users=True)
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    async def mydata(self, interaction: Interaction, action: app_commands.Choice[str]) -> None:
        if action.value == "export":
            await self._export(interaction)
        else:
            await self._erase(interaction)

    # ------------------------------------------------------------------ export

    async def _export(self, interaction: Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id, user_id = interaction.guild_id, interaction.user.id
        scope = scope_text(guild_id)
        async with asyncio.timeout(EXPORT_DEADLINE):
            data = await run_transaction(
                self.bot,
                lambda s: mydata.export_member(s, user_id=user_id, guild_id=guild_id),
            )
            limit = interaction.filesize_limit
            dm_limit = min(limit, DM_FILE_LIMIT)
            if await self._send_dm(interaction.user, data, dm_limit, EXPORT_DM.format(scope=scope)):
                await interaction.followup.send(
                    embed=embeds.success(EXPORT_SENT.format(scope=scope)),
                    ephemeral=True,
                    allowed_mentions=NO_PINGS,
                )
                where = "dm"
            else:
                files = export_files(data, limit=limit)
                for n, batch in enumerate(_batches(files)):
                    await interaction.followup.send(
                        EXPORT_HERE.format(scope=scope) if n == 0 else discord.utils.MISSING,
                        files=batch,
                        ephemeral=True,
                        allowed_mentions=NO_PINGS,
                    )
                where = "ephemeral"
        log.info("exported member data (interaction %s, %s)", interaction.id, where)

    async def _send_dm(
        self, user: discord.User | discord.Member, data: dict[str, object], limit: int, text: str
    ) -> bool:
        """Send the export by DM; False when their DMs are closed to the bot."""
        for n, batch in enumerate(_batches(export_files(data, limit=limit))):
            try:
                await user.send(
                    text if n == 0 else discord.utils.MISSING,
                    files=batch,
                    allowed_mentions=NO_PINGS,
                )
            except discord.Forbidden:
                if n == 0:
                    return False
                raise
        return True

    # ------------------------------------------------------------------ erase

    async def _erase(self, interaction: Interaction) -> None:
        guild_id, user = interaction.guild_id, interaction.user
        scope = scope_text(guild_id)
        view = await confirm(
            interaction,
            ERASE_PROMPT.format(scope=scope),
            confirm_label="Erase my data",
            destructive=True,
        )
        if view.value is not True:
            await interaction.followup.send(
                embed=embeds.info(ERASE_CANCELLED), ephemeral=True, allowed_mentions=NO_PINGS
            )
            return
        plan = await run_transaction(
            self.bot, lambda s: mydata.erase_member(s, user_id=user.id, guild_id=guild_id)
        )
        failed = await carry_out(self.bot, plan, user)
        text = ERASED.format(scope=scope)
        if failed:
            text += "\n" + NOTHING_LEFT_NOTE.format(count=failed)
        await interaction.followup.send(
            embed=embeds.success(text), ephemeral=True, allowed_mentions=NO_PINGS
        )
