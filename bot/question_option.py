"""The ``question`` option several commands take (``/close``, ``/reopen``, ``/answer``,
``/reply``): the question it names (an id from the autocomplete, or a thread's mention or link;
the thread the command is used in by default), and the choices its autocomplete offers. With it
a member acts on a question without being in (or visible in) its thread. Only questions in
forums the member can read are offered or found (``bot.visibility``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypedDict, TypeVar, Unpack

import discord
from discord import app_commands

from bot import references
from bot.client import bot_of
from bot.forum import lookups, title_search
from bot.forum.errors import NotFound, ValidationError
from bot.forum.post_rows import QUESTION_GONE
from bot.forum.title_search import TitleMatch
from bot.guilds import guild_id_of
from bot.transactions import HasTransactionRunner, run_read
from bot.ui.text import AUTOCOMPLETE_CHOICE_NAME, AUTOCOMPLETE_CHOICES, label
from bot.visibility import visible_forums

NO_QUESTION_HERE: Final = (
    "This is not a question's thread: use the command in one, or pick a question in the "
    "`question` option."
)
PICK_A_QUESTION: Final = "Pick the question from the list (or use the command in its thread)."

F = TypeVar("F")


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
    link), else the question of the thread the command is used in. A question in a forum the
    member cannot read is refused exactly as one that does not exist."""
    guild_id = guild_id_of(interaction)
    visible = visible_forums(interaction)
    text = (raw or "").strip()
    thread_id = references.thread_id(text) if text else interaction.channel_id
    if text and thread_id is None:
        question_id = question_id_of(text, PICK_A_QUESTION)
        named = await run_read(
            bot,
            lambda s: lookups.readable_question(
                s, guild_id=guild_id, visible=visible, question_id=question_id
            ),
        )
        if named is None:
            raise NotFound(QUESTION_GONE)
        return named.id
    if thread_id is None:
        raise NotFound(NO_QUESTION_HERE)
    found = await run_read(
        bot,
        lambda s: lookups.readable_thread_question(
            s, guild_id=guild_id, visible=visible, thread_id=thread_id
        ),
    )
    if found is None:
        raise NotFound(NO_QUESTION_HERE if not text else PICK_A_QUESTION)
    return found.id


def _choice_name(question_id: int, title: str) -> str:
    suffix = f" (#{question_id})"
    return label(title, AUTOCOMPLETE_CHOICE_NAME - len(suffix)) + suffix


class TitleFilters(TypedDict, total=False):
    """Which questions an autocomplete offers (``title_search.title_matches`` gives the
    defaults: open and closed ones, none left out)."""

    include_closed: bool
    closed_only: bool
    exclude_id: int | None


async def typed_titles(
    bot: HasTransactionRunner,
    interaction: discord.Interaction[Any],
    guild_id: int,
    current: str,
    **which: Unpack[TitleFilters],
) -> list[TitleMatch]:
    """The guild's questions whose titles match what the member has typed (``current``), among
    those in forums they can read: as many as an autocomplete offers."""
    visible = visible_forums(interaction)
    return await run_read(
        bot,
        lambda s: title_search.title_matches(
            s,
            guild_id=guild_id,
            visible=visible,
            prefix=current,
            limit=AUTOCOMPLETE_CHOICES,
            **which,
        ),
    )


async def question_choices(
    bot: HasTransactionRunner,
    interaction: discord.Interaction[Any],
    current: str,
    **which: Unpack[TitleFilters],
) -> list[app_commands.Choice[str]]:
    """The guild's questions whose title starts as typed, among those in forums the member can
    read, as autocomplete choices."""
    guild_id = interaction.guild_id
    if guild_id is None:
        return []
    found = await typed_titles(bot, interaction, guild_id, current, **which)
    return [
        app_commands.Choice(name=_choice_name(m.question_id, m.title), value=str(m.question_id))
        for m in found[:AUTOCOMPLETE_CHOICES]
    ]


def question_option(description: str, **which: Unpack[TitleFilters]) -> Callable[[F], F]:
    """Declares the ``question`` option of a command: its ``description`` and its autocomplete
    (the questions ``which`` lets the command name)."""

    async def choices(
        interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return await question_choices(bot_of(interaction), interaction, current, **which)

    def declare(command: F) -> F:
        described = app_commands.describe(question=description)(command)
        return app_commands.autocomplete(question=choices)(described)

    return declare
