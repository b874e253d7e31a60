"""What an adapter asks about a guild before it calls the domain: its settings, its Q&A forum
channel, and whether the member acting moderates it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

from bot.forum.errors import NotConfigured
from bot.forum.rights import Actor
from bot.forum.settings import GuildConfig, load_config
from bot.permissions import is_moderator
from bot.transactions import HasTransactionRunner, run_read

NOT_SET_UP = "This server has no Q&A forum yet: a server manager can set one up with /qa setup."
FORUM_GONE = (
    "This server's Q&A forum no longer exists: a server manager can choose another with /qa setup."
)


OTHER_SERVER = "This belongs to another server."


def guild_of(interaction: discord.Interaction[Any]) -> discord.Guild:
    """The guild of a guild-only interaction; ``NoPrivateMessage`` (one sentence) anywhere else -
    a real check, which ``python -O`` keeps, not an assert."""
    if interaction.guild is None:
        raise app_commands.NoPrivateMessage()
    return interaction.guild


def guild_id_of(interaction: discord.Interaction[Any]) -> int:
    """The guild id of a guild-only interaction; ``NoPrivateMessage`` anywhere else."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return interaction.guild_id


async def guild_config(bot: HasTransactionRunner, guild_id: int) -> GuildConfig:
    return await run_read(bot, lambda s: load_config(s, guild_id))


def qa_forum(guild: discord.Guild, config: GuildConfig) -> discord.ForumChannel:
    """The guild's Q&A forum; refuses with a sentence when none is set or it was deleted."""
    if config.forum_channel_id is None:
        raise NotConfigured(NOT_SET_UP)
    channel = guild.get_channel(config.forum_channel_id)
    if not isinstance(channel, discord.ForumChannel):
        raise NotConfigured(FORUM_GONE)
    return channel


def actor_is_moderator(
    member: discord.Member | discord.User, guild: discord.Guild | None, config: GuildConfig
) -> bool:
    if guild is None:
        return False
    forum = guild.get_channel(config.forum_channel_id) if config.forum_channel_id else None
    return is_moderator(member, forum, config)


@dataclass(frozen=True, slots=True)
class Acting:
    """Who acts in a guild interaction, as the domain is told (``actor``: the member's id and
    whether they moderate, judged by the guild's settings ``config``)."""

    guild: discord.Guild
    config: GuildConfig
    actor: Actor


async def acting(bot: HasTransactionRunner, interaction: discord.Interaction[Any]) -> Acting:
    """The member acting in a guild-only interaction and whether they moderate the guild."""
    guild = guild_of(interaction)
    config = await guild_config(bot, guild.id)
    moderator = actor_is_moderator(interaction.user, guild, config)
    return Acting(guild, config, Actor(interaction.user.id, moderator, guild.id))
