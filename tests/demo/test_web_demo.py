"""``make web``'s database: the demo's conversation with consent given, served by the archive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.db.engine import create_engine, create_sessionmaker
from bot.web.app import build_app
from tests.demo.scenario import ANON_TITLE, TITLE
from tests.demo.web import build


async def test_make_web_builds_a_published_demo_archive(tmp_path: Path) -> None:
    database = tmp_path / "web.sqlite3"
    assert await build(database) == 3
    engine = create_engine(f"sqlite+aiosqlite:///{database}", read_only=True)
    client: TestClient[Any, Any] = TestClient(
        TestServer(build_app(create_sessionmaker(engine), "http://demo"))
    )
    await client.start_server()
    try:
        sitemap = await (await client.get("/sitemap.xml")).text()
        assert sitemap.count("<url>") == 3
        page = await client.get("/q/1/how-do-i-sleep-better")
        html = await page.text()
        assert page.status == 200 and TITLE in html and "Accepted answer" in html
        anonymous = await (await client.get("/q/4/x")).text()  # redirected to its slug
        assert ANON_TITLE in anonymous and "asked by Anonymous" in anonymous
        assert "Dave" not in anonymous  # the anonymous asker, named nowhere
    finally:
        await client.close()
        await engine.dispose()
