"""The moderator rule every moderation command and button checks in code (Discord's default
permission only hides a command; a server can change it, and buttons have none)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import discord

from bot.forum.errors import PermissionDenied
from bot.guilds import Acting, acting

if TYPE_CHECKING:
    from bot.client import QABot

NOT_A_MODERATOR: Final = "Only this server's moderators can use /mod."


async def moderator(
    bot: QABot, interaction: discord.Interaction[QABot], refusal: str = NOT_A_MODERATOR
) -> Acting:
    """The acting member, refused with ``refusal`` unless they moderate the guild (the check
    Discord's default permission only hints at)."""
    actor = await acting(bot, interaction)
    if not actor.moderator:
        raise PermissionDenied(refusal)
    return actor
