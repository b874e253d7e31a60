"""The web archive's fixtures: a database on each backend with a published thread, and the
archive's app on a read-only engine of that database behind aiohttp's test client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import create_engine, create_sessionmaker
from bot.forum.results import PostSnapshot
from bot.forum.settings import set_setting
from bot.web.app import build_app
from tests.bot.forum.core_support import ANSWERER, ASKER, GUILD, OTHER, VOTER, Forum
from tests.bot.forum.test_publishing import allow, open_archive, prefs

BASE = "https://archive.example.org"
INVITE = "https://discord.gg/calmcorner"
TITLE = "How do I sleep before an exam?"
ACCEPTED = "Try a **fixed** wind-down routine: [sleep hygiene](https://example.org/sleep)."
LATER = "Keep the phone out of the bedroom, it helps a lot."


@dataclass
class Archive:
    forum: Forum
    client: TestClient[Any, Any]
    question: PostSnapshot
    accepted: PostSnapshot
    later: PostSnapshot

    async def get(self, path: str) -> tuple[int, str, Any]:
        response = await self.client.get(path, allow_redirects=False)
        return response.status, await response.text(), response


@pytest.fixture
def forum(sessionmaker: async_sessionmaker[AsyncSession]) -> Forum:
    return Forum(sessionmaker)


async def published_thread(forum: Forum) -> tuple[PostSnapshot, PostSnapshot, PostSnapshot]:
    """A question in Sleep with two answers, the second one accepted, all consented; the
    answerer chose to be named."""
    await open_archive(forum)
    await forum.run(lambda s: set_setting(s, GUILD, "archive_invite", INVITE))
    question = await forum.ask(title=TITLE, category="Sleep")
    later = await forum.answer(question, OTHER, LATER)
    accepted = await forum.answer(question, ANSWERER, ACCEPTED)
    await forum.vote(later, VOTER)
    await forum.accept(accepted)
    await allow(forum, question)
    await prefs(forum, ANSWERER, by_default=True, named=True)
    await prefs(forum, OTHER, by_default=True)
    assert question.author_id == ASKER
    return question, accepted, later


@pytest.fixture
async def archive(db_url: str, forum: Forum) -> AsyncIterator[Archive]:
    question, accepted, later = await published_thread(forum)
    engine = create_engine(db_url, read_only=True)
    client: TestClient[Any, Any] = TestClient(
        TestServer(build_app(create_sessionmaker(engine), BASE))
    )
    await client.start_server()
    try:
        yield Archive(forum, client, question, accepted, later)
    finally:
        await client.close()
        await engine.dispose()
