"""The archive's restart-proof buttons: "Allow in the public archive" (a question's id in its
``custom_id``) and "Withdraw all" (the server's id: it acts for whoever presses it)."""

from __future__ import annotations

from typing import Any

import discord

from bot.client import bot_of
from bot.forum import consent
from bot.forum.errors import PermissionDenied
from bot.guilds import OTHER_SERVER
from bot.transactions import run_transaction
from bot.ui.archive import allow_button, choice_text, withdraw_button, withdrawn_text
from bot.ui.mentions import NO_PINGS
from bot.ui.views import IdButton


class AllowInArchive(IdButton, template=r"qa:archive:allow:(?P<id>[0-9]{1,20})"):
    """The asker's yes for their question; the domain refuses anyone else."""

    def button(self, target_id: int) -> discord.ui.Button[discord.ui.View]:
        return allow_button(target_id)

    async def pressed(self, interaction: discord.Interaction[Any]) -> None:
        bot = bot_of(interaction)
        post_id, user_id = self.target_id, interaction.user.id
        choice = await run_transaction(
            bot, lambda s: consent.allow_post(s, post_id=post_id, user_id=user_id)
        )
        await interaction.response.send_message(
            choice_text(choice), ephemeral=True, allowed_mentions=NO_PINGS
        )


class WithdrawAll(IdButton, template=r"qa:archive:withdraw:(?P<id>[0-9]{1,20})"):
    """Everything of the presser's in this server unpublished at once."""

    def button(self, target_id: int) -> discord.ui.Button[discord.ui.View]:
        return withdraw_button(target_id)

    async def pressed(self, interaction: discord.Interaction[Any]) -> None:
        if interaction.guild_id != self.target_id:
            raise PermissionDenied(OTHER_SERVER)
        bot = bot_of(interaction)
        guild_id, user_id = self.target_id, interaction.user.id
        changed = await run_transaction(bot, lambda s: consent.withdraw_all(s, guild_id, user_id))
        await interaction.response.send_message(
            withdrawn_text(changed), ephemeral=True, allowed_mentions=NO_PINGS
        )


DYNAMIC_ITEMS = (AllowInArchive, WithdrawAll)
