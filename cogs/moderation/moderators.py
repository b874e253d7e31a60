"""The moderator rule as every moderation command and button checks it in code: Discord's
default permission (Manage Threads) only hints at it, and a server can change it; and the shape
of a moderator's restart-proof button (``ModeratorButton``)."""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any, ClassVar, Final

import discord

from bot.client import bot_of
from bot.forum.errors import PermissionDenied
from bot.guilds import Acting, acting
from bot.ui.views import IdButton

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
    if not actor.actor.is_moderator:
        raise PermissionDenied(refusal)
    return actor


class ModeratorButton(IdButton, template=r"qa:[a-z:]+:(?P<id>[0-9]{1,20})"):
    """A restart-proof button (an ``IdButton``: a post's or a block's id in its ``custom_id``)
    only moderators may press: every press checks the moderator rule again (refused with
    ``REFUSAL``); a refusal or an error is answered ephemerally."""

    REFUSAL: ClassVar[str] = NOT_A_MODERATOR_HERE

    async def pressed(self, interaction: discord.Interaction[Any]) -> None:
        bot = bot_of(interaction)
        await self.act(interaction, await moderator(bot, interaction, refusal=self.REFUSAL))

    @abc.abstractmethod
    async def act(self, interaction: discord.Interaction[Any], actor: Acting) -> None:
        """What a press by a moderator does."""
