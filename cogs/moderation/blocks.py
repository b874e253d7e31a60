"""``/mod blocks``: the blocks in force, soonest end first (bounded), each with the post it was
made through and its end, and an Unblock button that keeps working after a restart (the block's
id in its ``custom_id``). Nothing names the member."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

import discord

from bot.client import bot_of
from bot.forum import blocks
from bot.transactions import run_read, run_transaction
from bot.ui.mentions import NO_PINGS
from bot.ui.mod_actions import blocks_embed, unblocked_text
from cogs.moderation.moderators import ModeratorButton

if TYPE_CHECKING:
    from bot.client import QABot
    from bot.guilds import Acting

log = logging.getLogger(__name__)

#: Blocks ``/mod blocks`` shows (each with its button: at most 25 fit a message).
SHOWN: Final = 10
PER_ROW: Final = 5


class UnblockButton(ModeratorButton, template=r"qa:unblock:(?P<id>[0-9]{1,20})"):
    """Lift one block."""

    def button(self, target_id: int) -> discord.ui.Button[discord.ui.View]:
        return discord.ui.Button(
            label=f"Unblock #{target_id}",
            style=discord.ButtonStyle.secondary,
            custom_id=f"qa:unblock:{target_id}",
        )

    async def act(self, interaction: discord.Interaction[Any], actor: Acting) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        bot, block_id = bot_of(interaction), self.target_id
        lifted = await run_transaction(
            bot,
            lambda s: blocks.lift_block(
                s, block_id=block_id, moderator_id=actor.actor.member_id, guild_id=actor.guild.id
            ),
        )
        log.info("block %s lifted (interaction %s)", block_id, interaction.id)
        await interaction.followup.send(
            unblocked_text(lifted), ephemeral=True, allowed_mentions=NO_PINGS
        )


async def show_blocks(bot: QABot, interaction: discord.Interaction[Any], actor: Acting) -> None:
    """``/mod blocks`` for a moderator (already checked): the list and its buttons."""
    guild_id = actor.guild.id
    shown, total = await run_read(bot, lambda s: blocks.blocks_in_force(s, guild_id, limit=SHOWN))
    view = discord.ui.View(timeout=None)
    for n, block in enumerate(shown):
        view.add_item(UnblockButton(block.id, row=n // PER_ROW))
    await interaction.response.send_message(
        embed=blocks_embed(shown, total),
        view=view if shown else discord.utils.MISSING,
        ephemeral=True,
        allowed_mentions=NO_PINGS,
    )
