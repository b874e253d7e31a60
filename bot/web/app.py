"""The archive's aiohttp application: routes, security headers, and no write endpoint.

Every response carries a Content-Security-Policy that allows no script at all (the JSON-LD
block is data, not a script), ``X-Content-Type-Options: nosniff``, a ``Referrer-Policy`` and
``Cache-Control: public, max-age=60`` at most: the archive keeps no cache of its own, so a
withdrawn consent or a deletion is gone at the next request and from any proxy within 60 s.
Any method other than GET and HEAD answers 405 before routing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db.reads import ReadRunner
from bot.web import pages
from bot.web.context import SITE, Site
from bot.web.render import environment

STATIC: Final = Path(__file__).with_name("static")
#: The longest any response may be kept (issue 23: a withdrawn consent is gone within 60 s).
MAX_AGE: Final = 60
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}
READ_METHODS: Final = frozenset({"GET", "HEAD"})


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """405 for every write method; the security and cache headers on every answer."""
    if request.method not in READ_METHODS:
        response: web.StreamResponse = web.Response(
            status=405, text="This archive is read-only.", headers={"Allow": "GET, HEAD"}
        )
    else:
        try:
            response = await handler(request)
        except web.HTTPNotFound:
            response = pages.not_found(request)
        except web.HTTPException as exc:  # a redirect: raised on, with the same headers
            _protect(exc)
            raise
    _protect(response)
    return response


def _protect(response: web.StreamResponse | web.HTTPException) -> None:
    response.headers.update(SECURITY_HEADERS)
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"


def build_app(
    sessionmaker: async_sessionmaker[AsyncSession], base_url: str, *, name: str = "Q&A archive"
) -> web.Application:
    """The archive on the database behind ``sessionmaker`` (a read-only engine), with absolute
    links under ``base_url`` (e.g. ``https://archive.example.org``), called ``name``."""
    app = web.Application(middlewares=[guard])
    bind = sessionmaker.kw["bind"]
    if not isinstance(bind, AsyncEngine):
        raise TypeError("the archive's sessionmaker must be bound to an async engine")
    reads = ReadRunner(bind)
    app[SITE] = Site(sessionmaker, reads, base_url.rstrip("/"), environment(), name)

    async def close_reads(_app: web.Application) -> None:
        await reads.close()

    app.on_cleanup.append(close_reads)
    app.router.add_get("/", pages.index)
    app.router.add_get("/robots.txt", pages.robots)
    app.router.add_get("/sitemap.xml", pages.sitemap)
    app.router.add_get("/s/{guild:\\d+}/", pages.home)
    app.router.add_get("/s/{guild:\\d+}/search", pages.search)
    app.router.add_get("/s/{guild:\\d+}/c/{category}/", pages.category)
    app.router.add_get("/s/{guild:\\d+}/c/{category}/feed.atom", pages.feed)
    app.router.add_get("/q/{question:\\d+}/{slug}", pages.question)
    app.router.add_get("/q/{question:\\d+}", pages.question)
    app.router.add_static("/static/", STATIC, append_version=False)
    return app
