"""One ``qa-bot run`` per SQLite file: a second is refused, a SIGKILLed one restarts, read-only
commands pass (``bot.db.sqlite_guard``)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.db import sqlite_guard
from tests.db_support import drop_postgres_database, new_postgres_database
from tests.fakediscord.fixtures import BotProcess
from tests.fakediscord.server import FakeDiscord


def _database(url: str) -> Path:
    database = make_url(url).database
    assert database is not None
    return Path(database)


def test_a_second_hold_on_the_same_file_is_refused(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'qa.sqlite3'}"
    with sqlite_guard.hold(url):
        assert (tmp_path / "data" / "qa.sqlite3.lock").stat().st_mode & 0o077 == 0
        with pytest.raises(sqlite_guard.AlreadyRunning) as refused, sqlite_guard.hold(url):
            pass  # pragma: no cover - never entered
        assert str(refused.value) == sqlite_guard.refusal(tmp_path / "data" / "qa.sqlite3")
        # Another file is another community: held beside it without a refusal.
        with sqlite_guard.hold(f"sqlite+aiosqlite:///{tmp_path / 'other.sqlite3'}"):
            pass
    with sqlite_guard.hold(url):  # released with the block
        pass


@pytest.mark.parametrize(
    "url", ["sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:", "postgresql+asyncpg://h/db"]
)
def test_in_memory_and_postgres_are_not_guarded(url: str) -> None:
    with sqlite_guard.hold(url), sqlite_guard.hold(url):
        pass


def test_the_refusal_names_the_way_out(tmp_path: Path) -> None:
    sentence = sqlite_guard.refusal(tmp_path / "qa.sqlite3")
    assert sentence.count(". ") == 0 and sentence.endswith('").')
    assert "PostgreSQL" in sentence and "`qa-bot migrate-data`" in sentence


# The process tests below start a Python process each (about a second).
@pytest.mark.slow
async def test_a_second_run_is_refused_and_a_killed_one_restarts(
    fake_discord: FakeDiscord, bot_process: BotProcess
) -> None:
    await bot_process.start()
    (first,) = await bot_process.wait_ready()
    code, output = await bot_process.run_command("run")
    assert code == 2, output
    assert output.strip().splitlines()[-1] == (
        f"qa-bot: {sqlite_guard.refusal(_database(bot_process.database_url))}"
    )
    assert "Traceback" not in output
    assert first.conn is not None and len(fake_discord.gateway.identifies) == 1

    assert await bot_process.kill() == -signal.SIGKILL
    await fake_discord.wait_until(lambda: first.conn is None, what="the dead connection to close")
    mark = len(fake_discord.gateway.identifies)
    await bot_process.start()
    (second,) = await bot_process.wait_ready(since_identify=mark)
    assert second.id != first.id
    assert await bot_process.terminate() == 0


@pytest.mark.slow
async def test_read_only_commands_pass_while_the_bot_runs(
    fake_discord: FakeDiscord, bot_process: BotProcess
) -> None:
    await bot_process.start()
    await bot_process.wait_ready()
    code, output = await bot_process.run_command("sync-commands", "--global")
    assert code == 0, output
    target = await new_postgres_database()
    try:
        code, output = await bot_process.run_command(
            "migrate-data", "--from", bot_process.database_url, "--to", target
        )
    finally:
        await drop_postgres_database(target)
    assert code == 0, output
    assert "Row counts equal in all" in output
    assert bot_process.running
    assert await bot_process.terminate() == 0
