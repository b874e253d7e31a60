"""The Q2A source: the throwaway MariaDB of ``scripts/with-test-mariadb``.

Under ``pytest -n`` (pytest-xdist) each worker gets a database of its own beside the script's
``q2a_test`` (``q2a_test_gw0``, ...): the tests create and drop Q2A tables, and two workers on
one database would drop each other's."""

from __future__ import annotations

import asyncio
import os

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine


async def _create_database(url: str, name: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql(
                f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4"
            )
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def _q2a_worker_url() -> str | None:
    url = os.environ.get("QA_TEST_MARIADB_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    asyncio.run(_create_database(url, name))
    return parsed.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def q2a_url(_q2a_worker_url: str | None) -> str:
    """The test MariaDB's URL; skips when MariaDB is not installed here (fails in CI)."""
    if not _q2a_worker_url:
        if os.environ.get("CI") == "true":
            pytest.fail("QA_TEST_MARIADB_URL is not set: CI must run the Q2A import's tests")
        pytest.skip("no MariaDB here (install mariadb-server; `make test` starts it)")
    return _q2a_worker_url
