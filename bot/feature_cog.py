"""The base of the bot's cogs that bring persistent components or context menus.

A feature's buttons whose state is their ``custom_id`` (``discord.ui.DynamicItem`` classes:
``dynamic_items``) and its context menus (``add_menu`` in ``__init__``) are the cog's while it
is loaded: ``cog_load`` registers them with the bot, ``cog_unload`` takes them away again. A cog
with more to do on load calls ``super().cog_load()`` first (``super().cog_unload()`` likewise).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import discord
from discord import app_commands
from discord.ext import commands

if TYPE_CHECKING:
    from bot.client import QABot

#: The interactions the bot's cogs receive.
Interaction = discord.Interaction["QABot"]


class FeatureCog(commands.Cog):
    """A cog whose ``dynamic_items`` and context menus are registered while it is loaded."""

    dynamic_items: ClassVar[tuple[type[discord.ui.DynamicItem[Any]], ...]] = ()

    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        self._menus: list[app_commands.ContextMenu] = []

    def add_menu(self, menu: app_commands.ContextMenu) -> app_commands.ContextMenu:
        """Registers ``menu`` with the cog (added to the command tree while it is loaded)."""
        self._menus.append(menu)
        return menu

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*self.dynamic_items)
        for menu in self._menus:
            self.bot.tree.add_command(menu)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*self.dynamic_items)
        for menu in self._menus:
            self.bot.tree.remove_command(menu.name, type=menu.type)
