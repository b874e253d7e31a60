"""The moderation cog: the ``/mod`` group, declared here once with every subcommand, wired to
the modules beside it in ``cogs.moderation``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.moderation.checks import moderator
from cogs.moderation.log import AuditPages
from cogs.moderation.premod import PREMOD_BUTTONS

if TYPE_CHECKING:
    from bot.client import QABot

Interaction = discord.Interaction["QABot"]


class Moderation(commands.Cog):
    mod = app_commands.Group(
        name="mod",
        description="Moderate the Q&A forum without unmasking anyone (moderators)",
        guild_only=True,
        default_permissions=discord.Permissions(manage_threads=True),
    )

    def __init__(self, bot: QABot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(AuditPages, *PREMOD_BUTTONS)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(AuditPages, *PREMOD_BUTTONS)

    @mod.command(name="log", description="The latest moderator actions, newest first")
    async def log(self, interaction: Interaction) -> None:
        actor = await moderator(self.bot, interaction)
        await AuditPages.start(interaction, guild_id=actor.guild.id)
