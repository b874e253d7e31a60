"""The moderators' lists, a page at a time: ``/mod log`` (the audit trail, newest first) and
``/mod queue`` (posts with open reports, newest report first). Their buttons carry the page in
their ``custom_id`` (a ``Paginator``), so they keep working after a restart. Only a moderator
ever holds them: the pages are ephemeral."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Final, Protocol

import discord

from bot.client import bot_of
from bot.forum import audit, report_queue
from bot.forum.paging import EntryPage
from bot.transactions import run_read
from bot.ui.moderation import audit_page
from bot.ui.reports import queue_page
from bot.ui.views import Page, Paginator

#: Entries (or reported posts) a page shows.
PER_PAGE: Final = 10


class PageSource(Protocol):
    """The domain's page of a list: ``audit.page``, ``report_queue.queue_page``."""

    def __call__(
        self, session: Any, guild_id: int, *, number: int, per_page: int
    ) -> Awaitable[EntryPage[Any]]: ...


class ListPages(Paginator):
    """A moderators' list a page at a time; a subclass gives its ``kind``, the domain's page
    (``read``) and how a page looks (``render``, given the page and the guild's id)."""

    read: ClassVar[PageSource]
    render: ClassVar[Callable[[Any, int], discord.Embed]]

    def __init_subclass__(
        cls,
        *,
        read: PageSource,
        render: Callable[[Any, int], discord.Embed],
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        cls.read = read
        cls.render = render

    @classmethod
    async def fetch_page(
        cls, interaction: discord.Interaction[Any], guild_id: int, page: int, extra: str | None
    ) -> Page:
        shown = await run_read(
            bot_of(interaction),
            lambda s: cls.read(s, guild_id, number=page, per_page=PER_PAGE),
        )
        return Page(embed=cls.render(shown, guild_id), number=shown.number, pages=shown.pages)


class AuditPages(
    ListPages, kind="modlog", read=audit.page, render=lambda shown, _guild_id: audit_page(shown)
):
    """``/mod log`` pages."""


class QueuePages(ListPages, kind="modqueue", read=report_queue.queue_page, render=queue_page):
    """``/mod queue`` pages."""
