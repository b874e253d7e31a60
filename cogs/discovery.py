"""Finding questions again: ``/search``, ``/unanswered``, and similar questions while asking.

- ``/search query:<text>``: up to ``SEARCH_LIMIT`` questions of this guild, most relevant first
  (``bot.forum.search``: titles, details and answers; deleted questions never match), each with
  its score, answers, solved or closed mark and a jump link; ephemeral. Nothing found says so and
  points to ``/ask``. The ``query`` option completes with matching titles.
- ``/unanswered [category]``: open questions without answers, oldest first, ``PAGE_SIZE`` a
  page (``bot.forum.listing``), with previous / next buttons whose state lives in their
  ``custom_id`` (``UnansweredPages``, a ``Paginator``), so they keep working after a restart.
  The category travels in the buttons as its id.

Similar questions while asking (the gate). The /ask modal's submission (cogs.asking) first calls
``Discovery.hold_if_similar``: when up to ``SIMILAR_LIMIT`` similar questions exist, the question
is held as a draft (``bot.forum.drafts``, kept 15 minutes in the database) and the asker sees
them with "Post my question anyway" and "Cancel". Both buttons are ``DynamicItem``s whose
``custom_id`` carries the draft's id, so they work after a restart; the draft decides (once)
whether a press still counts, and an expired or used one gets its sentence and loses its buttons.
"Post anyway" hands the draft to cogs.asking's posting path, with up to ``RELATED_LIMIT``
similar questions for the post's "Related questions" line. Without similar questions the
question is posted at once, as before. Drafts expired or used a day ago are deleted by the bot's
``DraftPurger`` (``bot.workers.draft_purger``).

Autocompletes answer within ``AUTOCOMPLETE_BUDGET`` seconds (Discord waits 3 s): a slower lookup
offers no choices rather than letting the interaction fail.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol, Self, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import handle_interaction_error
from bot.forum import categories, drafts, listing, search, title_search
from bot.forum.drafts import AskDraftSnapshot
from bot.forum.errors import ForumError, InvalidState, PermissionDenied
from bot.forum.search import SearchHit
from bot.forum.text_rules import fold
from bot.transactions import run_transaction
from bot.ui import emoji, question_lists
from bot.ui.mentions import NO_PINGS
from bot.ui.text import (
    AUTOCOMPLETE_CHOICE_NAME,
    AUTOCOMPLETE_CHOICE_VALUE,
    AUTOCOMPLETE_CHOICES,
    label,
    truncate,
)
from bot.ui.views import Page, Paginator

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)

Interaction = discord.Interaction["QABot"]
Choices = list[app_commands.Choice[str]]

#: Results ``/search`` shows.
SEARCH_LIMIT: Final = 10
#: Seconds an autocomplete may take before it answers with no choices.
AUTOCOMPLETE_BUDGET: Final = 2.0
#: Similar questions the gate shows, and how many of them a new post calls related.
SIMILAR_LIMIT: Final = 5
RELATED_LIMIT: Final = 3
GATE_TEXT: Final = (
    "Before you post: similar questions were asked already. If none of them helps, post yours."
)
POSTED_ANYWAY: Final = f"{emoji.SUCCESS} You posted your question anyway."
CANCELLED: Final = "Cancelled: your question was not posted."
ASKING_OFF: Final = "Questions cannot be posted right now; please try /ask again later."
NOTHING_FOUND: Final = "Nothing found. Try other or fewer words, or ask the community with /ask."


def _bot(interaction: discord.Interaction[Any]) -> QABot:
    return cast("QABot", interaction.client)


def _choice(name: str, value: str) -> app_commands.Choice[str]:
    return app_commands.Choice(
        name=label(name, AUTOCOMPLETE_CHOICE_NAME) or "…",
        value=truncate(value, AUTOCOMPLETE_CHOICE_VALUE, ellipsis=""),
    )


# --------------------------------------------------------------------------- /unanswered pages


class UnansweredPages(Paginator, kind="unans"):
    """``/unanswered`` pages; ``extra`` is the category's id when one was picked."""

    @classmethod
    async def fetch_page(
        cls, interaction: discord.Interaction[Any], guild_id: int, page: int, extra: str | None
    ) -> Page:
        category_id = int(extra) if extra is not None and extra.isdigit() else None
        shown = await run_transaction(
            _bot(interaction),
            lambda s: listing.unanswered_questions(
                s, guild_id=guild_id, page=page, category_id=category_id
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


# --------------------------------------------------------------------------- the /ask gate


class DraftPoster(Protocol):
    """What cogs.asking offers the gate: post a held question (``ask_draft`` + its posting)."""

    async def post_draft(
        self,
        interaction: discord.Interaction[Any],
        draft: AskDraftSnapshot,
        *,
        related: Sequence[SearchHit],
    ) -> None: ...


async def _drop_buttons(interaction: discord.Interaction[Any], content: str | None = None) -> None:
    """Take the buttons off the gate's prompt (best effort: it may be gone)."""
    with contextlib.suppress(discord.HTTPException):
        if content is None:
            await interaction.edit_original_response(view=None)
        else:
            await interaction.edit_original_response(content=content, view=None)


class _DraftButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    abc.ABC,
    template=r"qa:ask:(?P<action>[a-z]+):(?P<draft>[0-9]{1,20})",
):
    """What both gate buttons share: the button, the draft id from its ``custom_id``
    (``qa:ask:<_ACTION>:<draft id>``) and error handling. Only its subclasses are registered."""

    _ACTION: ClassVar[str]
    _LABEL: ClassVar[str]
    _STYLE: ClassVar[discord.ButtonStyle]

    def __init__(self, draft_id: int) -> None:
        self.draft_id = draft_id
        super().__init__(
            discord.ui.Button(
                label=self._LABEL,
                style=self._STYLE,
                custom_id=f"qa:ask:{self._ACTION}:{draft_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        return cls(int(match["draft"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer()
        try:
            await self._act(interaction)
        except Exception as exc:  # a refusal's sentence, or a logged apology
            if not await self._still_usable(interaction):
                await _drop_buttons(interaction)  # expired or used: it never works again
            await handle_interaction_error(interaction, exc)

    async def _still_usable(self, interaction: discord.Interaction[Any]) -> bool:
        user_id, draft_id = interaction.user.id, self.draft_id
        try:
            await run_transaction(
                _bot(interaction),
                lambda s: drafts.get_draft(s, draft_id=draft_id, user_id=user_id),
            )
        except PermissionDenied:
            return True  # someone else's press changes nothing for the asker
        except ForumError:
            return False
        return True

    @abc.abstractmethod
    async def _act(self, interaction: discord.Interaction[Any]) -> None:
        """What a press does (its interaction is deferred; a failure is reported by callback)."""


class PostAnywayButton(_DraftButton, template=r"qa:ask:post:(?P<draft>[0-9]{1,20})"):
    """ "Post my question anyway": the held question is posted as /ask would."""

    _ACTION = "post"
    _LABEL = "Post my question anyway"
    _STYLE = discord.ButtonStyle.primary

    async def _act(self, interaction: discord.Interaction[Any]) -> None:
        bot, user_id, draft_id = _bot(interaction), interaction.user.id, self.draft_id
        draft = await run_transaction(
            bot, lambda s: drafts.get_draft(s, draft_id=draft_id, user_id=user_id)
        )
        poster = cast("DraftPoster | None", bot.get_cog("Asking"))
        if poster is None:
            raise InvalidState(ASKING_OFF)
        related = await run_transaction(
            bot,
            lambda s: search.similar_questions(
                s,
                guild_id=draft.guild_id,
                title=draft.title,
                details=draft.details,
                limit=RELATED_LIMIT,
            ),
        )
        await poster.post_draft(interaction, draft, related=related)
        await _drop_buttons(interaction, POSTED_ANYWAY)


class CancelAskButton(_DraftButton, template=r"qa:ask:cancel:(?P<draft>[0-9]{1,20})"):
    """ "Cancel": the held question is dropped."""

    _ACTION = "cancel"
    _LABEL = "Cancel"
    _STYLE = discord.ButtonStyle.secondary

    async def _act(self, interaction: discord.Interaction[Any]) -> None:
        user_id, draft_id = interaction.user.id, self.draft_id
        await run_transaction(
            _bot(interaction),
            lambda s: drafts.cancel_draft(s, draft_id=draft_id, user_id=user_id),
        )
        log.info("ask draft %s cancelled (interaction %s)", draft_id, interaction.id)
        await _drop_buttons(interaction, CANCELLED)


def gate_view(draft_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(PostAnywayButton(draft_id))
    view.add_item(CancelAskButton(draft_id))
    return view


# --------------------------------------------------------------------------- the cog


class Discovery(commands.Cog):
    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        #: Seconds an autocomplete may take (tests shorten it).
        self.autocomplete_budget = AUTOCOMPLETE_BUDGET

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(UnansweredPages, PostAnywayButton, CancelAskButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(UnansweredPages, PostAnywayButton, CancelAskButton)

    async def _within_budget(
        self, what: str, interaction: Interaction, lookup: Callable[[], Awaitable[Choices]]
    ) -> Choices:
        """The choices, or none when the lookup misses the budget (logged with ids)."""
        try:
            async with asyncio.timeout(self.autocomplete_budget):
                return (await lookup())[:AUTOCOMPLETE_CHOICES]
        except TimeoutError:
            log.warning(
                "%s autocomplete took over %ss (guild %s, interaction %s)",
                what,
                self.autocomplete_budget,
                interaction.guild_id,
                interaction.id,
            )
            return []

    # ------------------------------------------------------------------ the /ask gate

    async def hold_if_similar(
        self,
        interaction: discord.Interaction[Any],
        *,
        title: str,
        details: str,
        category: str | None,
        anonymous: bool = False,
        display_name: str | None = None,
    ) -> bool:
        """The gate before a question submitted through /ask (already deferred) is posted.

        When similar questions exist: holds the question as a draft, shows them with the two
        buttons, and returns True (the caller posts nothing). Otherwise False: post it now.
        """
        guild_id = interaction.guild_id
        assert guild_id is not None
        user_id = interaction.user.id

        async def look(session: Any) -> tuple[list[SearchHit], AskDraftSnapshot | None]:
            hits = await search.similar_questions(
                session, guild_id=guild_id, title=title, details=details, limit=SIMILAR_LIMIT
            )
            if not hits:
                return hits, None
            draft = await drafts.create_draft(
                session,
                guild_id=guild_id,
                user_id=user_id,
                title=title,
                details=details,
                category=category,
                anonymous=anonymous,
                display_name=display_name,
            )
            return hits, draft

        hits, draft = await run_transaction(self.bot, look)
        if draft is None:
            return False
        log.info(
            "ask draft %s held for %d similar questions (guild %s, interaction %s)",
            draft.id,
            len(hits),
            guild_id,
            interaction.id,
        )
        await interaction.followup.send(
            GATE_TEXT,
            embed=question_lists.similar_questions(hits, guild_id),
            view=gate_view(draft.id),
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )
        return True

    # ------------------------------------------------------------------ /search

    @app_commands.command(name="search", description="Search this server's questions and answers")
    @app_commands.describe(query="Words to look for in titles, details and answers")
    @app_commands.guild_only()
    async def search_command(self, interaction: Interaction, query: str) -> None:
        guild_id = interaction.guild_id
        assert guild_id is not None  # guild_only
        await interaction.response.defer(ephemeral=True, thinking=True)
        hits = await run_transaction(
            self.bot,
            lambda s: search.search_questions(
                s, guild_id=guild_id, query=query, limit=SEARCH_LIMIT
            ),
        )
        log.info(
            "search in guild %s found %d (interaction %s)", guild_id, len(hits), interaction.id
        )
        await interaction.followup.send(
            embed=question_lists.search_results(hits, guild_id, query=query, empty=NOTHING_FOUND),
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )

    @search_command.autocomplete("query")
    async def search_choices(self, interaction: Interaction, current: str) -> Choices:
        guild_id = interaction.guild_id
        if guild_id is None:
            return []

        async def lookup() -> Choices:
            matches = await run_transaction(
                self.bot,
                lambda s: title_search.title_matches(
                    s, guild_id=guild_id, prefix=current, limit=AUTOCOMPLETE_CHOICES
                ),
            )
            return [_choice(m.title, m.title) for m in matches if m.title.strip()]

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
        guild_id = interaction.guild_id
        assert guild_id is not None  # guild_only
        await interaction.response.defer(ephemeral=True, thinking=True)
        shown = await run_transaction(
            self.bot,
            lambda s: listing.unanswered_questions(s, guild_id=guild_id, category=category),
        )
        extra = str(shown.category.id) if shown.category is not None else None
        page = _page(shown, guild_id)
        view = UnansweredPages.view_for(guild_id, page, extra) if page.pages > 1 else None
        await interaction.followup.send(
            embed=page.embed,
            view=view if view is not None else discord.utils.MISSING,
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )

    @unanswered_command.autocomplete("category")
    async def category_choices(self, interaction: Interaction, current: str) -> Choices:
        guild_id = interaction.guild_id
        if guild_id is None:
            return []

        async def lookup() -> Choices:
            known = await run_transaction(
                self.bot, lambda s: categories.list_categories(s, guild_id)
            )
            typed = fold(current)
            names = [c.name for c in known]
            starts = [n for n in names if fold(n).startswith(typed)]
            contains = [n for n in names if typed in fold(n) and n not in starts]
            return [_choice(n, n) for n in starts + contains]

        return await self._within_budget("category", interaction, lookup)


async def setup(bot: QABot) -> None:
    await bot.add_cog(Discovery(bot))
