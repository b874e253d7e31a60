"""MessageRetry in isolation: what it keeps, in which order, and what it lets through.

The end-to-end outage (a real locked SQLite file, a PostgreSQL database refusing connections)
is in ``tests/cogs/test_database_gone.py``; here the live path is a stand-in that fails as told.
"""

from __future__ import annotations

import asyncio
import sqlite3
from types import SimpleNamespace
from typing import Any, cast

import discord
import pytest
from sqlalchemy.exc import OperationalError

from bot.backoff import BackoffPolicy
from bot.workers.backoff import Backoff
from bot.workers.message_retry import MessageRetry

THREAD = 500


def _message(message_id: int) -> discord.Message:
    return cast(
        discord.Message,
        SimpleNamespace(
            id=message_id, guild=SimpleNamespace(id=1), channel=SimpleNamespace(id=THREAD)
        ),
    )


def _locked() -> OperationalError:
    return OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))


class Live:
    """The live path: fails with ``error`` while it is set, records message ids otherwise."""

    def __init__(self) -> None:
        self.error: Exception | None = None
        self.recorded: list[int] = []

    async def __call__(self, message: discord.Message) -> None:
        if self.error is not None:
            raise self.error
        self.recorded.append(message.id)


def _retry(max_kept: int = 10) -> MessageRetry:
    retry = MessageRetry(cast(Any, None), cast(Any, None))
    retry.max_kept = max_kept
    retry.backoff = Backoff(BackoffPolicy(0.001, 0.002))
    return retry


async def test_messages_met_by_an_outage_are_kept_and_recorded_in_order() -> None:
    retry, live = _retry(), Live()
    live.error = _locked()
    await retry.record(_message(1), live)
    live.error = None
    await retry.record(_message(2), live)  # behind the kept one, though the database is back
    assert retry.kept == 2 and live.recorded == []
    retry.start()
    try:
        async with asyncio.timeout(5):
            await retry.wait_idle()
    finally:
        await retry.stop()
    assert live.recorded == [1, 2] and retry.kept == 0


async def test_another_failure_is_raised_and_nothing_is_kept() -> None:
    retry, live = _retry(), Live()
    live.error = RuntimeError("a bug")
    with pytest.raises(RuntimeError):
        await retry.record(_message(1), live)
    assert retry.kept == 0
    live.error = None  # the twin: nothing kept, the next message goes straight through
    await retry.record(_message(2), live)
    assert live.recorded == [2]


async def test_beyond_the_bound_a_message_is_dropped_and_counted() -> None:
    retry, live = _retry(max_kept=1), Live()
    live.error = _locked()
    await retry.record(_message(1), live)
    await retry.record(_message(2), live)
    assert (retry.kept, retry.dropped) == (1, 1)


async def test_an_edit_or_delete_waits_for_its_messages_recording_under_way() -> None:
    retry = _retry()
    gate = asyncio.Event()
    done: list[str] = []

    async def slow_live(message: discord.Message) -> None:  # a batch still being written
        await gate.wait()
        done.append(f"recorded {message.id}")

    async def change(name: str) -> None:
        done.append(name)

    recording = asyncio.create_task(retry.record(_message(1), slow_live))
    await asyncio.sleep(0)
    edit = asyncio.create_task(retry.apply("message edit", 1, 1, lambda: change("edit 1")))
    thread = asyncio.create_task(
        retry.apply("thread delete", THREAD, 1, lambda: change("thread delete"))
    )
    other = asyncio.create_task(retry.apply("message edit", 2, 1, lambda: change("edit 2")))
    async with asyncio.timeout(5):
        await other  # another message's edit does not wait
        assert done == ["edit 2"]
        gate.set()
        await asyncio.gather(recording, edit, thread)
    assert done == ["edit 2", "recorded 1", "edit 1", "thread delete"]
