"""The ``question`` option several commands take (``/close``, ``/reopen``, ``/answer``,
``/reply``): the question it names (an id from the autocomplete, or a thread's mention or link;
the thread the command is used in by default), and the choices its autocomplete offers. With it
a member acts on a question without being in (or visible in) its thread."""

from __future__ import annotations

from typing import Any, Final

import discord
from discord import app_commands

from bot import references
from bot.forum import lookups, title_search
from bot.forum.errors import NotFound, ValidationError
from bot.transactions import HasTransactionRunner, run_transaction
from bot.ui.text import AUTOCOMPLETE_CHOICE_NAME, AUTOCOMPLETE_CHOICES, label

NO_QUESTION_HERE: Final = (
    "This is not a question's thread: use the command in one, or pick a question in the "
    "`question` option."
)
PICK_A_QUESTION: Final = "Pick the question from the list (or use the command in its thread)."


def question_id_of(raw: str, refusal: str) -> int:
    """The question id ``raw`` names (``12``, ``#12``), else ``refusal`` (ValidationError)."""
    question_id = references.question_id(raw)
    if question_id is None:
        raise ValidationError(refusal)
    return question_id


async def target_question(
    bot: HasTransactionRunner, interaction: discord.Interaction[Any], raw: str | None
) -> int:
    """The question an option names (an id from the autocomplete, or a thread's mention or
    link), else the question of the thread the command is used in."""
    guild_id = interaction.guild_id
    assert guild_id is not None  # guild_only
    text = (raw or "").strip()
    thread_id: int | None = None
    if text:
        thread_id = references.thread_id(text)
        if thread_id is None:
            return question_id_of(text, PICK_A_QUESTION)
    else:
        thread_id = interaction.channel_id
    if thread_id is None:
        raise NotFound(NO_QUESTION_HERE)
    found = await run_transaction(
        bot,
        lambda s: lookups.find_question_by_thread(s, thread_id=thread_id, guild_id=guild_id),
    )
    if found is None:
        raise NotFound(NO_QUESTION_HERE if not text else PICK_A_QUESTION)
    return found.id


def _choice_name(question_id: int, title: str) -> str:
    suffix = f" (#{question_id})"
    return label(title, AUTOCOMPLETE_CHOICE_NAME - len(suffix)) + suffix


async def question_choices(
    bot: HasTransactionRunner,
    interaction: discord.Interaction[Any],
    current: str,
    *,
    include_closed: bool = True,
    closed_only: bool = False,
    exclude_id: int | None = None,
) -> list[app_commands.Choice[str]]:
    """The guild's questions whose title starts as typed, as autocomplete choices."""
    guild_id = interaction.guild_id
    if guild_id is None:
        return []
    found = await run_transaction(
        bot,
        lambda s: title_search.title_matches(
            s,
            guild_id=guild_id,
            prefix=current,
            limit=AUTOCOMPLETE_CHOICES,
            include_closed=include_closed,
            closed_only=closed_only,
            exclude_id=exclude_id,
        ),
    )
    return [
        app_commands.Choice(name=_choice_name(m.question_id, m.title), value=str(m.question_id))
        for m in found[:AUTOCOMPLETE_CHOICES]
    ]
