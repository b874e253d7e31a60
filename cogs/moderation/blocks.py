"""``/mod blocks``: the blocks in force, soonest end first (bounded), each with the post it was
made through and its end, and an Unblock button that keeps working after a restart (the block's
id in its ``custom_id``). Nothing names the member."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Final, Self, cast

import discord

from bot.errors import handle_interaction_error
from bot.forum import blocks
from bot.references import custom_id_number
from bot.transactions import run_read, run_transaction
from bot.ui.mentions import NO_PINGS
from bot.ui.mod_actions import blocks_embed, unblocked_text
from cogs.moderation.moderators import NOT_A_MODERATOR_HERE, moderator

if TYPE_CHECKING:
    from bot.client import QABot
    from bot.guilds import Acting

log = logging.getLogger(__name__)

#: Blocks ``/mod blocks`` shows (each with its button: at most 25 fit a message).
SHOWN: Final = 10
PER_ROW: Final = 5


class UnblockButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"qa:unblock:(?P<block>[0-9]{1,20})",
):
    """Lift one block; the moderator rule is checked again on every press."""

    def __init__(self, block_id: int, row: int | None = None) -> None:
        self.block_id = block_id
        super().__init__(
            discord.ui.Button(
                label=f"Unblock #{block_id}",
                style=discord.ButtonStyle.secondary,
                custom_id=f"qa:unblock:{block_id}",
                row=row,
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: Any, match: re.Match[str], /
    ) -> Self:
        return cls(custom_id_number(match["block"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot = cast("QABot", interaction.client)
        try:
            actor = await moderator(bot, interaction, refusal=NOT_A_MODERATOR_HERE)
            await interaction.response.defer(ephemeral=True, thinking=True)
            block_id = self.block_id
            lifted = await run_transaction(
                bot,
                lambda s: blocks.lift_block(
                    s, block_id=block_id, moderator_id=actor.actor_id, guild_id=actor.guild.id
                ),
            )
            log.info("block %s lifted (interaction %s)", block_id, interaction.id)
            await interaction.followup.send(
                unblocked_text(lifted), ephemeral=True, allowed_mentions=NO_PINGS
            )
        except Exception as exc:  # a refusal's sentence, or a logged apology
            await handle_interaction_error(interaction, exc)


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
