"""The archive's pages. Each asks the domain in one read-only unit per request (a function of
a connection, ``Site.read``: on SQLite one hand-off to a reading thread) and shows only what
``bot.forum.publishing`` returns: an unpublishable question is a 404."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

from aiohttp import web
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from bot.forum import archive_pages, publishing
from bot.forum.archive_pages import ArchiveHome
from bot.forum.publishing import PublishedPost, PublishedQuestion, PublishedThread
from bot.forum.search import SearchHit
from bot.web import jsonld
from bot.web.context import Site, site_of
from bot.web.render import slug

PER_PAGE: Final = 20
RECENT: Final = 10
#: The most questions a sitemap lists per server (a sitemap file holds 50,000 URLs at most).
SITEMAP_MAX: Final = 10_000
FEED_ENTRIES: Final = 30
SEARCH_MAX: Final = 20
QUERY_MAX_CHARS: Final = 200
#: An empty feed's ``updated``.
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def question_path(question: PublishedQuestion) -> str:
    return f"/q/{question.id}/{slug(question.title)}"


def category_path(guild_id: int, name: str) -> str:
    return f"/s/{guild_id}/c/{quote(name, safe='')}/"


def thread_link(question: PublishedQuestion) -> str | None:
    if question.thread_id is None:
        return None
    return f"https://discord.com/channels/{question.guild_id}/{question.thread_id}"


def _page_number(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
        raise web.HTTPNotFound()
    return int(raw)


def _home_of(home: ArchiveHome | None) -> ArchiveHome:
    """The server's front matter (404 when it does not publish)."""
    if home is None:
        raise web.HTTPNotFound()
    return home


def _chosen(home: ArchiveHome | None, category: str) -> ArchiveHome:
    """The server's front matter, when ``category`` is one it publishes (else 404)."""
    if home is None or category not in home.categories:
        raise web.HTTPNotFound()
    return home


async def _listing(
    site: Site, guild_id: int, listed: Callable[[Connection], list[PublishedQuestion]]
) -> tuple[ArchiveHome | None, list[PublishedQuestion]]:
    """The server's front matter and a list of its questions, in one read."""
    return await site.read(lambda c: (archive_pages.archive_home(c, guild_id), listed(c)))


def not_found(request: web.Request) -> web.Response:
    return site_of(request).page("not_found.html", status=404, title="Not found", noindex=True)


async def index(request: web.Request) -> web.Response:
    site = site_of(request)
    guilds = await site.read(archive_pages.publishing_guilds)
    return site.page("index.html", title="Communities", guilds=guilds, canonical=site.url("/"))


async def home(request: web.Request) -> web.Response:
    site = site_of(request)
    guild_id = int(request.match_info["guild"])
    found, recent = await _listing(
        site,
        guild_id,
        lambda c: publishing.publishable_questions(c, guild_id, solved=True, limit=RECENT),
    )
    return site.page(
        "home.html",
        title="Solved questions",
        home=_home_of(found),
        recent=recent,
        category_path=category_path,
        question_path=question_path,
        canonical=site.url(f"/s/{guild_id}/"),
    )


async def category(request: web.Request) -> web.Response:
    site = site_of(request)
    guild_id = int(request.match_info["guild"])
    name = request.match_info["category"]
    number = _page_number(request)
    front, found = await _listing(
        site,
        guild_id,
        lambda c: publishing.publishable_questions(
            c, guild_id, category=name, limit=PER_PAGE + 1, offset=(number - 1) * PER_PAGE
        ),
    )
    home = _chosen(front, name)
    if number > 1 and not found:
        raise web.HTTPNotFound()
    path = category_path(guild_id, name)
    return site.page(
        "category.html",
        title=name,
        home=home,
        name=name,
        questions=found[:PER_PAGE],
        number=number,
        has_next=len(found) > PER_PAGE,
        path=path,
        question_path=question_path,
        canonical=site.url(path),
        noindex=number > 1,
    )


async def search(request: web.Request) -> web.Response:
    site = site_of(request)
    guild_id = int(request.match_info["guild"])
    query = request.query.get("q", "").strip()[:QUERY_MAX_CHARS]

    async def both(session: AsyncSession) -> tuple[ArchiveHome | None, list[SearchHit]]:
        front = await session.run_sync(
            lambda s: archive_pages.archive_home(s.connection(), guild_id)
        )
        found = await archive_pages.published_search(session, guild_id, query, limit=SEARCH_MAX)
        return front, found

    front, hits = await site.read_async(both)
    home = _home_of(front)
    return site.page(
        "search.html",
        title=f"Search: {query}" if query else "Search",
        home=home,
        query=query,
        hits=hits,
        question_url=lambda hit: f"/q/{hit.question_id}/{slug(hit.title)}",
        noindex=True,
    )


def _layout(
    thread: PublishedThread,
) -> tuple[list[PublishedPost], dict[int, list[PublishedPost]]]:
    """The answers in page order (the accepted one first, then by votes, then oldest) and the
    comments under each post (the question's under its own id)."""
    answers = [p for p in thread.posts if p.kind == "answer"]
    answers.sort(key=lambda a: (not a.accepted, -a.score, a.created_at, a.id))
    shown = {a.id for a in answers}
    replies: dict[int, list[PublishedPost]] = {}
    for post in thread.posts:
        if post.kind != "answer":
            parent = post.parent_id if post.parent_id in shown else thread.question.id
            replies.setdefault(parent, []).append(post)
    return answers, replies


async def question(request: web.Request) -> web.StreamResponse:
    site = site_of(request)
    question_id = int(request.match_info["question"])
    found = await site.read(lambda c: archive_pages.archive_thread(c, question_id))
    if found is None:
        raise web.HTTPNotFound()
    thread, home = found
    if request.path != question_path(thread.question):
        raise web.HTTPMovedPermanently(question_path(thread.question))
    return site.page("question.html", **question_values(site, thread, home))


def question_values(site: Site, thread: PublishedThread, home: ArchiveHome) -> dict[str, Any]:
    """What ``question.html`` shows of a published thread."""
    answers, replies = _layout(thread)
    url = site.url(question_path(thread.question))
    cat_url = site.url(category_path(home.guild_id, thread.question.category))
    return {
        "title": thread.question.title,
        "description": thread.question.body[:200],
        "home": home,
        "q": thread.question,
        "answers": answers,
        "replies": replies,
        "thread_link": thread_link(thread.question),
        "category_path": category_path,
        "canonical": url,
        "og_type": "article",
        "structured": jsonld.posting(
            thread, answers, url=url, category_url=cat_url, replies=replies
        ),
    }


async def robots(request: web.Request) -> web.Response:
    site = site_of(request)
    # Search pages are not blocked here: a crawler must fetch them to see their ``noindex``.
    text = f"User-agent: *\nAllow: /\nSitemap: {site.url('/sitemap.xml')}\n"
    return web.Response(text=text, content_type="text/plain", charset="utf-8")


async def sitemap(request: web.Request) -> web.Response:
    site = site_of(request)

    def entries(connection: Connection) -> list[tuple[str, datetime]]:
        found: list[tuple[str, datetime]] = []
        for guild_id in archive_pages.publishing_guilds(connection):
            rows = publishing.publishable_index(connection, guild_id, limit=SITEMAP_MAX)
            found += [(f"/q/{qid}/{slug(title)}", at) for qid, title, at in rows]
        return found

    # Up to SITEMAP_MAX rows a server: read in a thread, not in the event loop.
    urls = await site.read(entries, inline=False)
    return site.xml("sitemap.xml", "application/xml", urls=urls)


async def feed(request: web.Request) -> web.Response:
    site = site_of(request)
    guild_id = int(request.match_info["guild"])
    name = request.match_info["category"]
    front, found = await _listing(
        site,
        guild_id,
        lambda c: publishing.publishable_questions(c, guild_id, category=name, limit=FEED_ENTRIES),
    )
    _chosen(front, name)
    path = category_path(guild_id, name)
    return site.xml(
        "feed.xml",
        "application/atom+xml",
        name=name,
        questions=found,
        updated=max(q.last_activity_at for q in found) if found else EPOCH,
        page_url=site.url(path),
        feed_url=site.url(f"{path}feed.atom"),
        question_path=question_path,
    )
