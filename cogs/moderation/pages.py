"""The moderators' lists, a page at a time: ``/mod log`` (the audit trail, newest first) and
``/mod queue`` (posts with open reports, newest report first). Their buttons carry the page in
their ``custom_id`` (a ``Paginator``), so they keep working after a restart. Only a moderator
ever holds them: the pages are ephemeral."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

import discord

from bot.client import bot_of
from bot.forum import audit, report_queue
from bot.forum.paging import EntryPage
from bot.transactions import Operation, run_read
from bot.ui.moderation import audit_page
from bot.ui.reports import queue_page
from bot.ui.views import Page, Paginator

#: Entries (or reported posts) a page shows.
PER_PAGE: Final = 10

E = TypeVar("E")


async def _shown(
    interaction: discord.Interaction[Any],
    read: Operation[EntryPage[E]],
    render: Callable[[EntryPage[E]], discord.Embed],
) -> Page:
    shown = await run_read(bot_of(interaction), read)
    return Page(embed=render(shown), number=shown.number, pages=shown.pages)


class AuditPages(Paginator, kind="modlog"):
    """``/mod log`` pages."""

    @classmethod
    async def fetch_page(
        cls, interaction: discord.Interaction[Any], guild_id: int, page: int, extra: str | None
    ) -> Page:
        return await _shown(
            interaction,
            lambda s: audit.page(s, guild_id, number=page, per_page=PER_PAGE),
            audit_page,
        )


class QueuePages(Paginator, kind="modqueue"):
    """``/mod queue`` pages."""

    @classmethod
    async def fetch_page(
        cls, interaction: discord.Interaction[Any], guild_id: int, page: int, extra: str | None
    ) -> Page:
        return await _shown(
            interaction,
            lambda s: report_queue.queue_page(s, guild_id, number=page, per_page=PER_PAGE),
            lambda shown: queue_page(shown, guild_id),
        )
