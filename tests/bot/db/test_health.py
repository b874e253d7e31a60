"""Telling a database outage (and a full disk) from any other failure; the URL redacted."""

from __future__ import annotations

import random
import sqlite3

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from bot.backoff import BackoffPolicy
from bot.db import health
from bot.db.engine import create_engine
from bot.workers.backoff import Backoff


class _PgError(Exception):
    """What asyncpg's errors carry: a SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def _wrapped(orig: Exception, cls: type[DBAPIError] = OperationalError) -> DBAPIError:
    return cls("SELECT 1", {}, orig)


@pytest.mark.parametrize(
    "error",
    [
        _wrapped(sqlite3.OperationalError("database is locked")),
        _wrapped(sqlite3.OperationalError("unable to open database file")),
        _wrapped(sqlite3.OperationalError("disk I/O error")),
        _wrapped(_PgError("57P01"), DBAPIError),  # admin_shutdown: a terminated session
        _wrapped(_PgError("08006"), DBAPIError),  # connection_failure
        _wrapped(_PgError("55000"), DBAPIError),  # the database takes no connections
        _wrapped(_PgError("53300"), DBAPIError),  # too_many_connections
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
    ],
)
def test_an_outage_is_told_to_try_again(error: Exception) -> None:
    assert health.is_unavailable(error)
    assert health.sentence_for(error) == health.UNAVAILABLE_SENTENCE
    assert health.outage(error) == "database unavailable"


@pytest.mark.parametrize(
    "error",
    [
        _wrapped(sqlite3.OperationalError("database or disk is full")),
        _wrapped(_PgError("53100"), DBAPIError),  # disk_full
    ],
)
def test_a_full_disk_is_its_own_sentence(error: Exception) -> None:
    assert health.is_disk_full(error) and not health.is_unavailable(error)
    assert health.sentence_for(error) == health.FULL_SENTENCE
    assert health.outage(error) == "database full"


@pytest.mark.parametrize(
    "error",
    [
        _wrapped(sqlite3.IntegrityError("UNIQUE constraint failed"), IntegrityError),
        _wrapped(_PgError("23505"), IntegrityError),  # unique_violation
        _wrapped(_PgError("40001"), DBAPIError),  # serialization failure: retried, not an outage
        _wrapped(sqlite3.OperationalError("no such table: posts")),
        RuntimeError("boom"),
        # Not raised by the database stack: a Discord request that timed out or was reset.
        TimeoutError(),
        ConnectionResetError(104, "Connection reset by peer"),
    ],
)
def test_other_failures_are_not_an_outage(error: Exception) -> None:
    assert health.sentence_for(error) is None
    assert health.outage(error) is None


async def test_a_refused_connect_is_an_outage_even_unwrapped() -> None:
    engine = create_engine("postgresql+asyncpg://qa:pw@127.0.0.1:1/qa")
    try:
        with pytest.raises(OSError) as refused:
            async with engine.connect():
                pass
    finally:
        await engine.dispose()
    assert health.sentence_for(refused.value) == health.UNAVAILABLE_SENTENCE
    wrapped = RuntimeError("the pass failed")
    wrapped.__cause__ = refused.value
    assert health.is_unavailable(wrapped)


def test_the_url_is_shown_without_its_password() -> None:
    url = "postgresql+asyncpg://qa:hunter2@db.example:5432/qa"
    assert health.redacted(url) == "postgresql+asyncpg://qa:***@db.example:5432/qa"
    assert health.redacted("not a url") == "(a value that is not a database URL)"
    assert health.password(url) == "hunter2"
    assert health.password("sqlite+aiosqlite:///qa.sqlite3") is None
    sentence = health.startup_sentence(url, ConnectionRefusedError())
    assert "hunter2" not in sentence and "DATABASE_URL=postgresql+asyncpg://qa:***@" in sentence


def test_backoff_doubles_up_to_the_most_and_starts_over() -> None:
    backoff = Backoff(BackoffPolicy(0.5, 3.0), rng=random.Random(7))
    pauses = [backoff.next() for _ in range(6)]
    ceilings = [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert all(0.75 * c <= p <= c for p, c in zip(pauses, ceilings, strict=True))
    assert backoff.failures == 6
    backoff.reset()
    assert backoff.failures == 0 and backoff.next() <= 0.5
