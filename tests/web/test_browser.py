"""A real browser on the archive: Debian's headless Chromium, driven by Playwright (never
``playwright install``), opens the home, a category and a question page of a real server on a
free port. It finds the question and the accepted answer, sees no console error, and saves a
screenshot of each page under ``test-artifacts/web/`` (gitignored)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.db.engine import create_engine, create_sessionmaker
from bot.web.app import build_app
from bot.web.render import slug
from tests.bot.forum.core_support import GUILD, Forum
from tests.web.conftest import TITLE, published_thread

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists() or shutil.which("chromium") is None,
        reason="Debian's chromium is not installed (apt-get install chromium; .ci/run does it)",
    ),
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
]


@pytest.fixture
async def served(db_url: str, forum: Forum) -> AsyncIterator[tuple[str, int]]:
    """The archive of a published thread on a real server on a free port: (base URL, id)."""
    question, _accepted, _later = await published_thread(forum)
    engine = create_engine(db_url, read_only=True)
    runner = web.AppRunner(build_app(create_sessionmaker(engine), "http://127.0.0.1"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", question.id
    finally:
        await runner.cleanup()
        await engine.dispose()


async def test_a_browser_reads_home_category_and_question(served: tuple[str, int]) -> None:
    from playwright.async_api import async_playwright

    base, question_id = served
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = await browser.new_page(viewport={"width": 900, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            await page.goto(f"{base}/s/{GUILD}/")
            assert await page.locator("h1").inner_text() == "Questions and answers"
            await page.screenshot(path=str(ARTIFACTS / "home.png"), full_page=True)
            await page.get_by_role("link", name="Sleep").first.click()
            await page.wait_for_url(f"{base}/s/{GUILD}/c/Sleep/")
            await page.screenshot(path=str(ARTIFACTS / "category.png"), full_page=True)
            await page.get_by_role("link", name=TITLE).click()
            await page.wait_for_url(f"{base}/q/{question_id}/{slug(TITLE)}")
            assert await page.locator("h1").inner_text() == TITLE
            accepted = page.locator("article.post.accepted")
            assert await accepted.count() == 1
            assert "wind-down routine" in await accepted.inner_text()
            assert await page.get_by_label("Search questions").count() == 1
            await page.screenshot(path=str(ARTIFACTS / "question.png"), full_page=True)
            # The narrow screen: the same page, laid out for a phone.
            await page.set_viewport_size({"width": 380, "height": 800})
            await page.screenshot(path=str(ARTIFACTS / "question-phone.png"), full_page=True)
        finally:
            await browser.close()
    assert problems == []
