"""The base of the answering modals: labelled text inputs, errors answered by ``bot.errors``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import discord

from bot.errors import handle_interaction_error

if TYPE_CHECKING:
    from bot.client import QABot

MODAL_TIMEOUT: Final = 15 * 60.0


class FormModal(discord.ui.Modal):
    """A modal of the bot's answering forms, open for ``MODAL_TIMEOUT`` seconds."""

    def __init__(self, bot: QABot, *, title: str) -> None:
        super().__init__(title=title, timeout=MODAL_TIMEOUT)
        self.bot = bot

    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[QABot], error: Exception, /
    ) -> None:
        await handle_interaction_error(interaction, error)

    def add_field(
        self,
        text: str,
        *,
        custom_id: str,
        max_length: int,
        default: str | None = None,
        paragraph: bool = True,
        required: bool = True,
        placeholder: str | None = None,
    ) -> discord.ui.TextInput[FormModal]:
        """Add a labelled text input and return it (its ``value`` once submitted)."""
        field: discord.ui.TextInput[FormModal] = discord.ui.TextInput(
            custom_id=custom_id,
            style=discord.TextStyle.paragraph if paragraph else discord.TextStyle.short,
            max_length=max_length,
            default=default,
            required=required,
            placeholder=placeholder,
        )
        self.add_item(discord.ui.Label(text=text, component=field))
        return field
