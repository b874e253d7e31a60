"""The moderator rule, checked in code by every moderator command and button (Discord's
default permission for ``/mod`` only hides the command; a server can change it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from bot.forum.errors import PermissionDenied
from bot.guilds import Acting, acting

if TYPE_CHECKING:
    from bot.client import QABot

NOT_A_MODERATOR = "Only this server's moderators can use /mod."


async def moderator(
    bot: QABot, interaction: discord.Interaction[Any], *, refusal: str = NOT_A_MODERATOR
) -> Acting:
    """The acting member, refused with a sentence unless they moderate the guild (the check
    Discord's default permission only hints at)."""
    actor = await acting(bot, interaction)
    if not actor.moderator:
        raise PermissionDenied(refusal)
    return actor
