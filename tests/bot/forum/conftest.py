"""The domain tests' shared fixture: ``forum``, a ``Forum`` driver over the test database."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.bot.forum.core_support import Forum


@pytest.fixture
def forum(sessionmaker: async_sessionmaker[AsyncSession]) -> Forum:
    return Forum(sessionmaker)
