"""``/mod log``: the audit trail, newest first, a page at a time; its buttons carry the page in
their ``custom_id`` (a ``Paginator``), so they keep working after a restart."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import discord

from bot.forum import audit
from bot.transactions import run_read
from bot.ui.moderation import audit_page
from bot.ui.views import Page, Paginator

if TYPE_CHECKING:
    from bot.client import QABot

#: Entries a page shows.
PER_PAGE = 10


class AuditPages(Paginator, kind="modlog"):
    """``/mod log`` pages. Only a moderator ever holds them: the pages are ephemeral."""

    @classmethod
    async def fetch_page(
        cls, interaction: discord.Interaction[Any], guild_id: int, page: int, extra: str | None
    ) -> Page:
        bot = cast("QABot", interaction.client)
        shown = await run_read(
            bot, lambda s: audit.page(s, guild_id, number=page, per_page=PER_PAGE)
        )
        return Page(embed=audit_page(shown), number=shown.number, pages=shown.pages)
