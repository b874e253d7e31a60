"""Which of a guild's forums a member can read, worked out from discord.py's cache and handed to
the domain as ``VisibleForums``: every read of questions (``/search``, ``/unanswered``, the
similar-questions gate of ``/ask``, every autocomplete offering questions, a question named by
id or link, profiles) shows only questions in those forums, as Discord would.

A member reads a forum with View Channel and Read Message History there (roles and channel
overwrites, as ``channel.permissions_for`` computes them; the threads of a forum inherit its
permissions). Outside a guild, or for a user the guild's cache does not hold as a member, no
forum is readable.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.forum.visibility import VisibleForums

Reader = discord.Member | discord.Role


def can_read(channel: discord.abc.GuildChannel, reader: Reader) -> bool:
    """Whether ``reader`` (a member, or a role such as @everyone) sees the channel's messages."""
    allowed = channel.permissions_for(reader)
    return allowed.view_channel and allowed.read_message_history


def readable_forums(guild: discord.Guild, *readers: Reader) -> VisibleForums:
    """The guild's forums every one of ``readers`` can read."""
    return VisibleForums.of(
        forum.id for forum in guild.forums if all(can_read(forum, r) for r in readers)
    )


def visible_forums(interaction: discord.Interaction[Any], *, public: bool = False) -> VisibleForums:
    """The forums whose questions the member acting in ``interaction`` may be shown.

    ``public``: the reply is shown to the channel, so only forums that @everyone can read too
    (whoever sees the reply may not see a forum the member sees)."""
    guild = interaction.guild
    member = interaction.user
    if guild is None or not isinstance(member, discord.Member):
        return VisibleForums.of(())
    readers: tuple[Reader, ...] = (member, guild.default_role) if public else (member,)
    return readable_forums(guild, *readers)
