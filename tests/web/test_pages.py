"""Every page of the web archive over HTTP, on SQLite and PostgreSQL (issue 24)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bot.web.app import SECURITY_HEADERS
from bot.web.render import LINK_REL, slug
from tests.bot.forum.core_support import GUILD
from tests.bot.forum.test_publishing import allow
from tests.web.conftest import ACCEPTED, BASE, INVITE, LATER, TITLE, Archive

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def question_path(archive: Archive) -> str:
    return f"/q/{archive.question.id}/{slug(TITLE)}"


async def test_the_index_and_the_servers_home(archive: Archive) -> None:
    status, html, _ = await archive.get("/")
    assert status == 200 and f'href="/s/{GUILD}/"' in html and '<html lang="en">' in html
    status, html, _ = await archive.get(f"/s/{GUILD}/")
    assert status == 200
    assert f'href="/s/{GUILD}/c/Sleep/"' in html and "Work" not in html  # only chosen ones
    assert TITLE in html and INVITE in html  # recently solved, and the invite
    assert '<label for="q">' in html and f'<link rel="canonical" href="{BASE}/s/{GUILD}/">' in html


async def test_the_question_page(archive: Archive) -> None:
    status, html, _ = await archive.get(question_path(archive))
    assert status == 200
    assert f"<h1>{TITLE}</h1>" in html
    # The accepted answer first, then the others by votes.
    main = html[html.index("<main") :]
    assert main.index("Accepted answer") < main.index("wind-down") < main.index("phone out")
    assert "<strong>fixed</strong>" in html
    assert f'<a href="https://example.org/sleep" rel="{LINK_REL}">' in html
    assert "Bob Answerer" in html and "Olga Other" not in html  # named only by choice
    assert "A member" in html and "Alice Asker" not in html
    thread = f"https://discord.com/channels/{GUILD}/{archive.question.thread_id}"
    assert thread in html and INVITE in html and "Continue in Discord" in html
    assert f'<link rel="canonical" href="{BASE}{question_path(archive)}">' in html
    assert '<meta property="og:title" content="How do I sleep before an exam?">' in html
    assert 'content="article"' in html and "noindex" not in html
    assert "<time datetime=" in html and "Sleep</a>" in html


async def test_a_question_url_without_its_slug_redirects_to_the_canonical_one(
    archive: Archive,
) -> None:
    for wrong in (f"/q/{archive.question.id}", f"/q/{archive.question.id}/old-title"):
        status, _, response = await archive.get(wrong)
        assert status == 301 and response.headers["Location"] == question_path(archive)
        assert response.headers["Cache-Control"] == "public, max-age=60"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    status, _, _ = await archive.get(question_path(archive))
    assert status == 200


async def test_category_pages_are_paged_and_later_pages_not_indexed(archive: Archive) -> None:
    for i in range(21):
        extra = await archive.forum.ask(1000 + i, f"Extra question {i}", category="Sleep")
        await allow(archive.forum, extra)
    status, html, _ = await archive.get(f"/s/{GUILD}/c/Sleep/")
    assert status == 200 and "Extra question 20" in html and TITLE not in html
    assert 'rel="next" href="/s/1/c/Sleep/?page=2"' in html and "noindex" not in html
    status, html, _ = await archive.get(f"/s/{GUILD}/c/Sleep/?page=2")
    assert status == 200 and TITLE in html and 'rel="next"' not in html
    assert '<meta name="robots" content="noindex, follow">' in html
    for missing in ("?page=3", "?page=0", "?page=x"):
        status, _, _ = await archive.get(f"/s/{GUILD}/c/Sleep/{missing}")
        assert status == 404
    status, _, _ = await archive.get(f"/s/{GUILD}/c/Work/")
    assert status == 404  # a category not chosen


async def test_search_goes_through_the_domain_search_and_is_not_indexed(archive: Archive) -> None:
    status, html, _ = await archive.get(f"/s/{GUILD}/search?q=exam+sleep")
    assert status == 200 and TITLE in html and question_path(archive) in html
    assert '<meta name="robots" content="noindex, follow">' in html
    status, html, _ = await archive.get(f"/s/{GUILD}/search?q=volcano")
    assert status == 200 and "No published question matches." in html


async def test_sitemap_robots_and_the_atom_feed(archive: Archive) -> None:
    status, body, response = await archive.get("/sitemap.xml")
    assert status == 200 and response.content_type == "application/xml"
    urls = ET.fromstring(body).findall(f"{SITEMAP}url")
    assert [u.findtext(f"{SITEMAP}loc") for u in urls] == [f"{BASE}{question_path(archive)}"]
    assert all((u.findtext(f"{SITEMAP}lastmod") or "").startswith("20") for u in urls)
    status, body, _ = await archive.get("/robots.txt")
    assert status == 200 and f"Sitemap: {BASE}/sitemap.xml" in body
    status, body, response = await archive.get(f"/s/{GUILD}/c/Sleep/feed.atom")
    assert status == 200 and response.content_type == "application/atom+xml"
    entries = ET.fromstring(body).findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [TITLE]
    assert [e.findtext(f"{ATOM}author/{ATOM}name") for e in entries] == ["A member"]


async def test_security_headers_and_cache_on_every_answer(archive: Archive) -> None:
    for path in ("/", f"/s/{GUILD}/", question_path(archive), "/sitemap.xml", "/nope"):
        _, _, response = await archive.get(path)
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value
        assert "script-src" not in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "public, max-age=60"
    _, css, response = await archive.get("/static/style.css")
    assert response.status == 200 and "max-age=60" in response.headers["Cache-Control"]
    assert css.startswith("/*")


async def test_no_write_endpoint(archive: Archive) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        for path in ("/", question_path(archive), "/nowhere"):
            response = await archive.client.request(method, path)
            assert response.status == 405 and response.headers["Allow"] == "GET, HEAD"
    response = await archive.client.request("HEAD", question_path(archive))
    assert response.status == 200


async def test_user_text_cannot_inject_html(archive: Archive) -> None:
    await archive.forum.answer(
        archive.question, body="<script>alert(1)</script> ![x](http://e/x.png)"
    )
    _, html, _ = await archive.get(question_path(archive))
    assert "<script>alert" not in html and "&lt;script&gt;" in html and "<img" not in html
    assert LATER in html and ACCEPTED.split("**")[0] in html
