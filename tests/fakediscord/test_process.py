"""``qa-bot run`` as its own process against the fake: start, reconnect, SIGTERM, kill, restart."""

from __future__ import annotations

import signal

import pytest

from tests.fakediscord.fixtures import BotProcess
from tests.fakediscord.server import FakeDiscord

pytestmark = pytest.mark.slow  # a Python process start-up each (about a second)


async def test_sigterm_closes_the_gateway_and_exits_0(
    fake_discord: FakeDiscord, bot_process: BotProcess
) -> None:
    await bot_process.start()
    (session,) = await bot_process.wait_ready()
    code = await bot_process.terminate(signal.SIGTERM)
    assert code == 0, bot_process.output
    assert "Traceback" not in bot_process.output
    closes = [c for c in fake_discord.gateway.closes if c.session_id == session.id]
    assert [(c.code, c.by_client) for c in closes] == [(1000, True)]
    assert session.invalid  # a normal close ends the session


async def test_dropped_gateway_is_reconnected(
    fake_discord: FakeDiscord, bot_process: BotProcess
) -> None:
    fake = fake_discord
    await bot_process.start()
    (session,) = await bot_process.wait_ready()
    await fake.drop(0)
    await fake.wait_until(lambda: session.resumes == 1 and session.conn is not None, timeout=10)
    assert fake.gateway.session_for(0) is session
    assert fake.owner is not None and fake.general is not None
    await fake.owner.send(fake.general, "still there?")
    assert session.conn is not None and not session.conn.closed
    assert await bot_process.terminate() == 0


async def test_killed_bot_identifies_again_on_restart(
    fake_discord: FakeDiscord, bot_process: BotProcess
) -> None:
    fake = fake_discord
    await bot_process.start()
    (first,) = await bot_process.wait_ready()
    assert await bot_process.kill() == -signal.SIGKILL
    await fake.wait_until(lambda: first.conn is None, what="the dead connection to close")
    mark = len(fake.gateway.identifies)
    await bot_process.start()
    (second,) = await bot_process.wait_ready(since_identify=mark)
    assert second.id != first.id
    assert first.invalid  # replaced by the new IDENTIFY on the same shard
    assert await bot_process.terminate() == 0
    assert "Traceback" not in bot_process.output


async def test_a_process_that_cannot_start_is_reported_at_once(
    fake_discord: FakeDiscord, bot_process: BotProcess
) -> None:
    bot_process.env_overrides["DATABASE_URL"] = "mysql://nope"
    await bot_process.start()
    with pytest.raises(AssertionError, match="qa-bot run exited"):
        await bot_process.wait_ready(timeout=15)
    assert bot_process.returncode == 2
    assert "DATABASE_URL" in bot_process.output and "Traceback" not in bot_process.output
