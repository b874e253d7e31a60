"""`qa-bot run` / `migrate` with a database that does not answer: one sentence, exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.__main__ import _secrets
from bot.settings import load_settings
from tests.bot.test_cli import _run
from tests.db_support import _admin_execute, drop_postgres_database, new_postgres_database

PASSWORD = "s3cret-Pw0rd"
CLOSED_PORT_URL = f"postgresql+asyncpg://qa:{PASSWORD}@127.0.0.1:1/qa"
#: A directory that can never be created: its parent is a character device.
UNCREATABLE_SQLITE_URL = "sqlite+aiosqlite:////dev/null/qa-bot/qa-bot.sqlite3"
TOKEN = "MTIzNDU2Nzg5.secret.token-value"


def _one_sentence(result: object, *, contains: str) -> str:
    assert result.returncode == 2, result.stderr  # type: ignore[attr-defined]
    stderr: str = result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    # Log lines may come before it (INFO goes to stderr); the sentence is the one last line.
    assert [line for line in lines if line.startswith("qa-bot: ")] == lines[-1:], stderr
    assert contains in lines[-1]
    assert PASSWORD not in stderr + result.stdout  # type: ignore[attr-defined]
    return lines[-1]


@pytest.mark.parametrize("command", ["run", "migrate"])
def test_postgres_on_a_closed_port(command: str, tmp_path: Path) -> None:
    result = _run([command], {"DISCORD_TOKEN": TOKEN, "DATABASE_URL": CLOSED_PORT_URL}, tmp_path)
    line = _one_sentence(
        result, contains="The database at DATABASE_URL=postgresql+asyncpg://qa:***@127.0.0.1:1/qa"
    )
    assert line.endswith(
        "does not answer: check that the server is running and that the host, "
        "port, database name and credentials are right."
    )


def test_the_installed_qa_bot_command_says_the_same(tmp_path: Path) -> None:
    """The console script itself (``qa-bot run``), not ``python -m bot``."""
    script = Path(sys.executable).parent / "qa-bot"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_"))}
    env.update({"DISCORD_TOKEN": TOKEN, "DATABASE_URL": CLOSED_PORT_URL})
    result = subprocess.run(
        [str(script), "run"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    _one_sentence(result, contains="DATABASE_URL=postgresql+asyncpg://qa:***@127.0.0.1:1/qa")


@pytest.mark.parametrize("command", ["run", "migrate"])
def test_sqlite_in_a_directory_that_cannot_be_created(command: str, tmp_path: Path) -> None:
    result = _run(
        [command], {"DISCORD_TOKEN": TOKEN, "DATABASE_URL": UNCREATABLE_SQLITE_URL}, tmp_path
    )
    _one_sentence(
        result,
        contains=f"The SQLite database at DATABASE_URL={UNCREATABLE_SQLITE_URL} cannot be opened",
    )


def test_run_with_a_working_database_gets_past_it(tmp_path: Path) -> None:
    """The twin: a good SQLite URL passes the probe; the start then fails on Discord."""
    result = _run(
        ["run"],
        {
            "DISCORD_TOKEN": TOKEN,
            "DISCORD_API_BASE_URL": "http://127.0.0.1:9/api/v10",
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ok' / 'db.sqlite3'}",
        },
        tmp_path,
    )
    _one_sentence(result, contains="Discord's API cannot be reached")


async def test_postgres_database_refusing_connections(tmp_path: Path) -> None:
    """A server that answers but whose database takes no connections (ALLOW_CONNECTIONS false)."""
    url = await new_postgres_database()
    name = make_url(url).database
    try:
        await _admin_execute(url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        with_password = make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)
        result = _run(["migrate"], {"DATABASE_URL": with_password}, tmp_path)
        _one_sentence(result, contains=f"/{name} does not answer")
    finally:
        await _admin_execute(url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await drop_postgres_database(url)


def test_the_database_password_is_a_secret_the_logs_redact(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env read
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("DATABASE_URL", CLOSED_PORT_URL)
    assert _secrets(load_settings()) == [TOKEN, PASSWORD]
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:////tmp/qa.sqlite3")  # the twin
    assert _secrets(load_settings()) == [TOKEN]
