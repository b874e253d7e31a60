"""Migrations build exactly the schema the models declare, on both backends."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from bot.db import migrate
from bot.db.engine import create_engine
from bot.db.models import Base
from tests.db_support import BACKENDS


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection,
        opts={"include_object": migrate.include_object, "compare_type": True},
    )
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> list[str]:
    return sorted(inspect(connection).get_table_names())


@pytest.mark.parametrize("empty_db_url", BACKENDS, indirect=True)
async def test_upgrade_head_matches_models_and_downgrade_leaves_nothing(empty_db_url: str) -> None:
    await migrate.upgrade(empty_db_url)
    engine = create_engine(empty_db_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
            tables = await conn.run_sync(_tables)
        assert set(Base.metadata.tables) <= set(tables)

        await migrate.upgrade(empty_db_url)  # idempotent: nothing pending
        await migrate.downgrade(empty_db_url, "base")
        async with engine.connect() as conn:
            remaining = [t for t in await conn.run_sync(_tables) if t != "alembic_version"]
        assert remaining == []
    finally:
        await engine.dispose()


@pytest.mark.parametrize("empty_db_url", BACKENDS, indirect=True)
async def test_concurrent_upgrades_do_not_race(empty_db_url: str) -> None:
    """Processes starting together: the lock serializes them and both succeed."""
    import asyncio

    await asyncio.gather(*(migrate.upgrade(empty_db_url) for _ in range(3)))
    engine = create_engine(empty_db_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await engine.dispose()
