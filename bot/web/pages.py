"""The archive's pages. Each asks the domain in one read-only transaction per request and
shows only what ``bot.forum.publishing`` returns: an unpublishable question is a 404."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.forum import archive_pages, publishing
from bot.forum.archive_pages import ArchiveHome
from bot.forum.publishing import PublishedPost, PublishedQuestion, PublishedThread
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


async def _home_of(site: Site, guild_id: int) -> ArchiveHome:
    home = await site.read(lambda s: archive_pages.archive_home(s, guild_id))
    if home is None:
        raise web.HTTPNotFound()
    return home


async def _chosen(site: Site, guild_id: int, category: str) -> ArchiveHome:
    """The server's front matter, when ``category`` is one it publishes (else 404)."""
    home = await _home_of(site, guild_id)
    if category not in home.categories:
        raise web.HTTPNotFound()
    return home


def not_found(request: web.Request) -> web.Response:
    return site_of(request).page("not_found.html", status=404, title="Not found", noindex=True)


async def index(request: web.Request) -> web.Response:
    site = site_of(request)
    guilds = await site.read(archive_pages.publishing_guilds)
    return site.page("index.html", title="Communities", guilds=guilds, canonical=site.url("/"))


async def home(request: web.Request) -> web.Response:
    site = site_of(request)
    guild_id = int(request.match_info["guild"])
    home = await _home_of(site, guild_id)
    recent = await site.read(
        lambda s: publishing.publishable_questions(s, guild_id, solved=True, limit=RECENT)
    )
    return site.page(
        "home.html",
        title="Solved questions",
        home=home,
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
    home = await _chosen(site, guild_id, name)
    found = await site.read(
        lambda s: publishing.publishable_questions(
            s, guild_id, category=name, limit=PER_PAGE + 1, offset=(number - 1) * PER_PAGE
        )
    )
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
    home = await _home_of(site, guild_id)
    query = request.query.get("q", "").strip()[:QUERY_MAX_CHARS]
    hits = await site.read(
        lambda s: archive_pages.published_search(s, guild_id, query, limit=SEARCH_MAX)
    )
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
    found = await site.read(lambda s: archive_pages.archive_thread(s, question_id))
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

    async def entries(session: AsyncSession) -> list[tuple[str, datetime]]:
        found: list[tuple[str, datetime]] = []
        for guild_id in await archive_pages.publishing_guilds(session):
            rows = await publishing.publishable_index(session, guild_id, limit=SITEMAP_MAX)
            found += [(f"/q/{qid}/{slug(title)}", at) for qid, title, at in rows]
        return found

    return site.xml("sitemap.xml", "application/xml", urls=await site.read(entries))


async def feed(request: web.Request) -> web.Response:
    site = site_of(request)
    guild_id = int(request.match_info["guild"])
    name = request.match_info["category"]
    await _chosen(site, guild_id, name)
    found = await site.read(
        lambda s: publishing.publishable_questions(s, guild_id, category=name, limit=FEED_ENTRIES)
    )
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
