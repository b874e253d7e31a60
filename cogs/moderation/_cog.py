"""The moderation cog: the ``/mod`` group, declared here once with every subcommand, wired to
the modules beside it in ``cogs.moderation``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.forum.errors import PermissionDenied
from bot.guilds import Acting, acting
from cogs.moderation.log import AuditPages

if TYPE_CHECKING:
    from bot.client import QABot

Interaction = discord.Interaction["QABot"]

NOT_A_MODERATOR = "Only this server's moderators can use /mod."


async def moderator(bot: QABot, interaction: Interaction) -> Acting:
    """The acting member, refused with a sentence unless they moderate the guild (the check
    Discord's default permission only hints at)."""
    actor = await acting(bot, interaction)
    if not actor.moderator:
        raise PermissionDenied(NOT_A_MODERATOR)
    return actor


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
        self.bot.add_dynamic_items(AuditPages)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(AuditPages)

    @mod.command(name="log", description="The latest moderator actions, newest first")
    async def log(self, interaction: Interaction) -> None:
        actor = await moderator(self.bot, interaction)
        await AuditPages.start(interaction, guild_id=actor.guild.id)
