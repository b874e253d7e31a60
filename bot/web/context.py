"""What every page handler shares: the reads, the site's base URL, the templates."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from aiohttp import web
from jinja2 import Environment
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.reads import ReadRunner, SyncRead
from bot.forum.uow import run_in_transaction

T = TypeVar("T")


@dataclass(frozen=True)
class Site:
    sessionmaker: async_sessionmaker[AsyncSession]
    #: The reads of a page, each one unit written as a function of a connection.
    reads: ReadRunner
    base_url: str
    templates: Environment
    #: The archive's name in every page's header and title.
    name: str = "Q&A archive"

    async def read(self, work: SyncRead[T], *, inline: bool = True) -> T:
        """A page's reads, ``work(connection)``, in one read-only unit (``bot.db.reads``: on
        SQLite in this thread, or in a reading thread for a long read, ``inline=False``)."""
        return await self.reads.read(work, inline=inline)

    async def read_async(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """One read-only transaction of async domain calls (the search)."""
        return await run_in_transaction(self.sessionmaker, work, read_only=True)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def page(self, template: str, *, status: int = 200, **values: Any) -> web.Response:
        html = self.templates.get_template(template).render(site=self, **values)
        return web.Response(status=status, text=html, content_type="text/html", charset="utf-8")

    def xml(self, template: str, content_type: str, **values: Any) -> web.Response:
        body = self.templates.get_template(template).render(site=self, **values)
        return web.Response(text=body, content_type=content_type, charset="utf-8")


SITE: Final = web.AppKey("site", Site)


def site_of(request: web.Request) -> Site:
    return request.app[SITE]
