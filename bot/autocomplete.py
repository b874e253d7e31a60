"""Autocomplete choices several commands offer: the guild's categories (``/ask``, ``/unanswered``).

A choice's name is cut to Discord's limit for display and its value to the limit for values.
"""

from __future__ import annotations

from discord import app_commands

from bot.forum import categories
from bot.forum.text_rules import fold
from bot.transactions import HasTransactionRunner, run_read
from bot.ui.text import AUTOCOMPLETE_CHOICE_NAME, AUTOCOMPLETE_CHOICE_VALUE, label, truncate

Choices = list[app_commands.Choice[str]]


def choice(name: str, value: str) -> app_commands.Choice[str]:
    """A choice showing ``name`` and sending ``value``, each within Discord's limits."""
    return app_commands.Choice(
        name=label(name, AUTOCOMPLETE_CHOICE_NAME) or "…",
        value=truncate(value, AUTOCOMPLETE_CHOICE_VALUE, ellipsis=""),
    )


async def category_choices(bot: HasTransactionRunner, guild_id: int, current: str) -> Choices:
    """The guild's categories matching what is typed (compared as ``text_rules.fold`` compares
    names): names starting with it first, then names containing it. The caller caps how many."""
    known = await run_read(bot, lambda s: categories.list_categories(s, guild_id))
    typed = fold(current)
    names = [c.name for c in known]
    starts = [n for n in names if fold(n).startswith(typed)]
    contains = [n for n in names if typed in fold(n) and n not in starts]
    return [choice(n, n) for n in starts + contains]
