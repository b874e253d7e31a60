"""The IDENTIFY gate (``bot.db.identify_gate``): on PostgreSQL two processes (two gates on two
engines) never get a turn in the same bucket within the window, buckets do not wait for each
other; on SQLite (one process) the gate lets every IDENTIFY through at once."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import create_engine
from bot.db.identify_gate import IdentifyGate

WINDOW = 0.3


class Concurrency:
    """What ``GET /gateway/bot`` says of ``max_concurrency``; counts the questions."""

    def __init__(self, value: int) -> None:
        self.value = value
        self.asked = 0

    async def __call__(self) -> int:
        self.asked += 1
        return self.value


async def test_one_turn_per_bucket_and_window_across_processes(engine: AsyncEngine) -> None:
    ask = Concurrency(2)
    first = IdentifyGate(engine, WINDOW, ask)
    other_engine = create_engine(engine.url.render_as_string(hide_password=False))
    second = IdentifyGate(other_engine, WINDOW, Concurrency(2))
    loop = asyncio.get_running_loop()
    try:
        if not first.enabled:  # SQLite: one process, discord.py spaces its own shards
            started = loop.time()
            await first.wait_turn(0)
            await first.wait_turn(2)
            assert loop.time() - started < WINDOW
            assert ask.asked == 0
            return
        await first.wait_turn(0)
        turn = loop.time()
        await second.wait_turn(1)  # bucket 1 of 2: no wait for bucket 0
        assert loop.time() - turn < WINDOW
        await second.wait_turn(2)  # bucket 0 again: after the first process's window
        assert loop.time() - turn >= WINDOW
        assert await first.bucket(5) == 1
        assert ask.asked == 1
    finally:
        await first.close()
        await second.close()
        await other_engine.dispose()


async def test_a_database_gone_lets_the_identify_through_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gone = create_engine("postgresql+asyncpg://qa:secret@127.0.0.1:9/qa")
    gate = IdentifyGate(gone, WINDOW, Concurrency(1))
    try:
        with caplog.at_level(logging.WARNING, logger="bot.db.identify_gate"):
            async with asyncio.timeout(10):
                await gate.wait_turn(0)
    finally:
        await gate.close()
        await gone.dispose()
    (record,) = caplog.records
    assert record.getMessage() == (
        "database unavailable (ConnectionRefusedError): shard 0 identifies unguarded"
    )
    assert "secret" not in caplog.text and record.exc_info is None
