"""The moderator rule as every moderation command and button checks it in code: Discord's
default permission (Manage Threads) only hints at it, and a server can change it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import discord

from bot.forum.errors import PermissionDenied
from bot.guilds import Acting, acting

if TYPE_CHECKING:
    from bot.client import QABot

NOT_A_MODERATOR: Final = "Only this server's moderators can use /mod."
NOT_A_MODERATOR_HERE: Final = "Only this server's moderators can do that."


async def moderator(
    bot: QABot, interaction: discord.Interaction[Any], *, refusal: str = NOT_A_MODERATOR
) -> Acting:
    """The acting member, refused with ``refusal`` unless they moderate the guild (Manage
    Threads in the Q&A forum, or the guild's moderator role)."""
    actor = await acting(bot, interaction)
    if not actor.moderator:
        raise PermissionDenied(refusal)
    return actor
