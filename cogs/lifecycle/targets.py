"""The question a ``/close`` or ``/reopen`` option names (``bot.question_option``: an id from
the autocomplete, or a thread's mention or link; the thread the command is used in by default),
and the question a ``duplicate_of`` option names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import discord

from bot.forum.errors import NotFound, ValidationError
from bot.question_option import (
    NO_QUESTION_HERE,
    PICK_A_QUESTION,
    question_choices,
    question_id_of,
    target_question,
)

if TYPE_CHECKING:
    from bot.client import QABot

__all__ = [
    "NO_QUESTION_HERE",
    "PICK_A_QUESTION",
    "PICK_THE_ORIGINAL",
    "original_id",
    "question_being_closed",
    "question_choices",
    "target_question",
]

PICK_THE_ORIGINAL: Final = "Pick the question it duplicates from the list in `duplicate_of`."


def original_id(raw: str | None) -> int | None:
    """The question ``duplicate_of`` names (None when empty)."""
    return question_id_of(raw, PICK_THE_ORIGINAL) if raw and raw.strip() else None


async def question_being_closed(bot: QABot, interaction: discord.Interaction[QABot]) -> int | None:
    """The question the ``question`` option (or the thread) names, None when unclear."""
    raw = getattr(interaction.namespace, "question", None)
    try:
        return await target_question(bot, interaction, raw if isinstance(raw, str) else None)
    except (NotFound, ValidationError):
        return None
