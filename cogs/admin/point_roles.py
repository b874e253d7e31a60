"""``/qa roles add|remove|show``: roles members hold while their points reach a threshold.

The mapping is the domain's (``bot.forum.roles``); the bot's ``RoleSync``
(``bot.workers.role_sync``) gives and takes the roles. A new point role goes at once to the
members who already reach it; a removed one stays with whoever holds it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from bot.forum import roles
from bot.forum.errors import ValidationError
from bot.permissions import point_role_problems
from bot.transactions import run_transaction
from bot.ui import point_roles
from bot.ui.mentions import NO_PINGS

if TYPE_CHECKING:
    from bot.client import QABot


async def add_role(
    bot: QABot,
    interaction: discord.Interaction[Any],
    guild: discord.Guild,
    threshold: int,
    role: discord.Role,
) -> None:
    if role.is_default():
        raise ValidationError("The @everyone role cannot be a point role.")
    if role.managed:
        raise ValidationError(
            f"{role.mention} belongs to an integration, so nobody can be given it."
        )
    await interaction.response.defer(ephemeral=True, thinking=True)
    added = await run_transaction(
        bot, lambda s: roles.add_point_role(s, guild.id, threshold, role.id)
    )
    bot.role_sync.forget(guild.id)
    bot.role_sync.request(guild.id, added.reaching)
    embed = point_roles.role_added(
        threshold,
        role.id,
        reaching=len(added.reaching),
        mapping=added.mapping,
        problems=point_role_problems(guild, added.mapping),
    )
    await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)


async def remove_role(
    bot: QABot, interaction: discord.Interaction[Any], guild: discord.Guild, role: discord.Role
) -> None:
    mapping = await run_transaction(bot, lambda s: roles.remove_point_role(s, guild.id, role.id))
    bot.role_sync.forget(guild.id)
    await interaction.response.send_message(
        embed=point_roles.role_removed(role.id, mapping),
        ephemeral=True,
        allowed_mentions=NO_PINGS,
    )


async def show_roles(
    bot: QABot, interaction: discord.Interaction[Any], guild: discord.Guild
) -> None:
    mapping = await run_transaction(bot, lambda s: roles.point_roles(s, guild.id))
    await interaction.response.send_message(
        embed=point_roles.roles_shown(mapping, point_role_problems(guild, mapping)),
        ephemeral=True,
        allowed_mentions=NO_PINGS,
    )
