"""Finding questions again: ``/search`` and ``/unanswered``.

Both show a member only the questions of forums they can read (``bot.visibility``).

- ``/search query:<text>``: up to ``SEARCH_LIMIT`` questions of this guild, most relevant first
  (``bot.forum.search``: titles, details and answers; deleted questions never match), each with
  its score, answers, solved or closed mark and a jump link; ephemeral. Nothing found says so and
  points to ``/ask``. The ``query`` option completes with matching titles.
- ``/unanswered [category]``: open questions without answers, oldest first, ``PAGE_SIZE`` a
  page (``bot.forum.listing``), with previous / next buttons whose state lives in their
  ``custom_id`` (``UnansweredPages``, a ``Paginator``), so they keep working after a restart.
  The category travels in the buttons as its id.

Autocompletes answer within ``AUTOCOMPLETE_BUDGET`` seconds (Discord waits 3 s): a slower lookup
offers no choices rather than letting the interaction fail. The similar questions shown while
asking are the asking feature's (``cogs.asking.gate``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

import discord
from discord import app_commands

from bot.autocomplete import Choices, category_choices, choice
from bot.client import bot_of
from bot.feature_cog import FeatureCog, Interaction
from bot.forum import listing, search
from bot.forum.visibility import VisibleForums
from bot.guilds import guild_id_of
from bot.question_option import typed_titles
from bot.transactions import run_read
from bot.ui import question_lists
from bot.ui.imported import continue_buttons
from bot.ui.mentions import NO_PINGS
from bot.ui.text import AUTOCOMPLETE_CHOICES
from bot.ui.views import Page, Paginator
from bot.visibility import visible_forums

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)


#: Results ``/search`` shows.
SEARCH_LIMIT: Final = 10
#: Seconds an autocomplete may take before it answers with no choices.
AUTOCOMPLETE_BUDGET: Final = 2.0
NOTHING_FOUND: Final = "Nothing found. Try other or fewer words, or ask the community with /ask."


# --------------------------------------------------------------------------- /unanswered pages


class UnansweredPages(Paginator, kind="unans"):
    """``/unanswered`` pages; ``extra`` is the category's id when one was picked."""

    @classmethod
    async def fetch_page(
        cls, interaction: discord.Interaction[Any], guild_id: int, page: int, extra: str | None
    ) -> Page:
        category_id = int(extra) if extra is not None and extra.isdigit() else None
        visible = visible_forums(interaction)
        shown = await run_read(
            bot_of(interaction),
            lambda s: listing.unanswered_questions(
                s, guild_id=guild_id, visible=visible, page=page, category_id=category_id
            ),
        )
        return _page(shown, guild_id)


def _page(shown: listing.QuestionPage, guild_id: int) -> Page:
    embed = question_lists.unanswered_page(
        shown.questions,
        guild_id,
        page=shown.number,
        pages=shown.pages,
        total=shown.total,
        category=shown.category.name if shown.category is not None else None,
    )
    return Page(embed=embed, number=shown.number, pages=shown.pages)


# --------------------------------------------------------------------------- the replies


async def _deferred(interaction: Interaction) -> tuple[int, VisibleForums]:
    """A list's reply deferred (it comes as a follow-up, seen only by the member), and what it
    is read for: the guild and the forums the member can read."""
    guild_id = guild_id_of(interaction)
    await interaction.response.defer(ephemeral=True, thinking=True)
    return guild_id, visible_forums(interaction)


async def _follow_up(
    interaction: Interaction, embed: discord.Embed, view: discord.ui.View | None
) -> None:
    """The deferred reply: the list, with its buttons when it has any."""
    await interaction.followup.send(
        embed=embed,
        view=view if view is not None else discord.utils.MISSING,
        ephemeral=True,
        allowed_mentions=NO_PINGS,
    )


# --------------------------------------------------------------------------- the cog


class Discovery(FeatureCog):
    dynamic_items = (UnansweredPages,)

    def __init__(self, bot: QABot) -> None:
        super().__init__(bot)
        #: Seconds an autocomplete may take (tests shorten it).
        self.autocomplete_budget = AUTOCOMPLETE_BUDGET

    async def _within_budget(
        self, what: str, interaction: Interaction, lookup: Callable[[int], Awaitable[Choices]]
    ) -> Choices:
        """The choices ``lookup`` finds in the interaction's guild (none outside a guild), or
        none when the lookup misses the budget (logged with ids)."""
        guild_id = interaction.guild_id
        if guild_id is None:
            return []
        try:
            async with asyncio.timeout(self.autocomplete_budget):
                return (await lookup(guild_id))[:AUTOCOMPLETE_CHOICES]
        except TimeoutError:
            log.warning(
                "%s autocomplete took over %ss (guild %s, interaction %s)",
                what,
                self.autocomplete_budget,
                interaction.guild_id,
                interaction.id,
            )
            return []

    # ------------------------------------------------------------------ /search

    @app_commands.command(name="search", description="Search this server's questions and answers")
    @app_commands.describe(query="Words to look for in titles, details and answers")
    @app_commands.guild_only()
    async def search_command(self, interaction: Interaction, query: str) -> None:
        guild_id, visible = await _deferred(interaction)
        hits = await run_read(
            self.bot,
            lambda s: search.search_questions(
                s,
                guild_id=guild_id,
                visible=visible,
                query=query,
                limit=SEARCH_LIMIT,
                common=self.bot.common_terms,
            ),
        )
        log.info(
            "search in guild %s found %d (interaction %s)", guild_id, len(hits), interaction.id
        )
        found = question_lists.search_results(hits, guild_id, query=query, empty=NOTHING_FOUND)
        await _follow_up(interaction, found, continue_buttons(hits))

    @search_command.autocomplete("query")
    async def search_choices(self, interaction: Interaction, current: str) -> Choices:
        async def lookup(guild_id: int) -> Choices:
            matches = await typed_titles(self.bot, interaction, guild_id, current)
            return [choice(m.title, m.title) for m in matches if m.title.strip()]

        return await self._within_budget("search", interaction, lookup)

    # ------------------------------------------------------------------ /unanswered

    @app_commands.command(
        name="unanswered", description="Open questions nobody has answered yet, oldest first"
    )
    @app_commands.describe(category="Only questions of this category")
    @app_commands.guild_only()
    async def unanswered_command(
        self, interaction: Interaction, category: str | None = None
    ) -> None:
        guild_id, visible = await _deferred(interaction)
        shown = await run_read(
            self.bot,
            lambda s: listing.unanswered_questions(
                s, guild_id=guild_id, visible=visible, category=category
            ),
        )
        extra = str(shown.category.id) if shown.category is not None else None
        page = _page(shown, guild_id)
        view = UnansweredPages.view_for(guild_id, page, extra) if page.pages > 1 else None
        await _follow_up(interaction, page.embed, view)

    @unanswered_command.autocomplete("category")
    async def category_choices(self, interaction: Interaction, current: str) -> Choices:
        return await self._within_budget(
            "category", interaction, lambda guild_id: category_choices(self.bot, guild_id, current)
        )


async def setup(bot: QABot) -> None:
    await bot.add_cog(Discovery(bot))
