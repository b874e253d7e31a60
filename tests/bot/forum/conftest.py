"""The domain tests' shared fixtures: ``forum``, a ``Forum`` driver over the test database, and
``runner``, the bot's transaction runner over it (planned writes run as the bot runs them)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db.engine import create_sessionmaker
from bot.transactions import TransactionRunner
from tests.bot.forum.core_support import Forum


@pytest.fixture
def forum(sessionmaker: async_sessionmaker[AsyncSession]) -> Forum:
    return Forum(sessionmaker)


@pytest.fixture
async def runner(engine: AsyncEngine) -> AsyncIterator[TransactionRunner]:
    made = TransactionRunner(create_sessionmaker(engine), lambda *_: None)
    try:
        yield made
    finally:
        await made.close()
