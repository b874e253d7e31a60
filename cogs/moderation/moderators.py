"""The moderator rule as every moderation command and button checks it in code: Discord's
default permission (Manage Threads) only hints at it, and a server can change it; and the shape
of a moderator's restart-proof button (``ModeratorButton``)."""

from __future__ import annotations

import abc
import re
from typing import TYPE_CHECKING, Any, ClassVar, Final, Self, cast

import discord

from bot.errors import handle_interaction_error
from bot.forum.errors import PermissionDenied
from bot.guilds import Acting, acting
from bot.references import custom_id_number

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


class ModeratorButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    abc.ABC,
    template=r"qa:[a-z:]+:(?P<id>[0-9]{1,20})",
):
    """A button only moderators may press that keeps working after a restart: the id of what
    it acts on (a post, a block) ends its ``custom_id`` (the ``id`` group of the subclass's
    template). Every press checks the moderator rule again (refused with ``REFUSAL``); a
    refusal or an error is answered ephemerally."""

    REFUSAL: ClassVar[str] = NOT_A_MODERATOR_HERE

    def __init__(self, target_id: int, *, disabled: bool = False, row: int | None = None) -> None:
        self.target_id = target_id
        button = self.button(target_id)
        button.disabled = disabled
        super().__init__(button, row=row)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: Any, match: re.Match[str], /
    ) -> Self:
        return cls(custom_id_number(match["id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            bot = cast("QABot", interaction.client)
            await self.act(interaction, await moderator(bot, interaction, refusal=self.REFUSAL))
        except Exception as exc:  # a refusal's sentence, or a logged apology
            await handle_interaction_error(interaction, exc)

    @abc.abstractmethod
    def button(self, target_id: int) -> discord.ui.Button[discord.ui.View]:
        """The button as Discord shows it, its ``custom_id`` ending with ``target_id``."""

    @abc.abstractmethod
    async def act(self, interaction: discord.Interaction[Any], actor: Acting) -> None:
        """What a press by a moderator does."""
