"""The `qa-bot` command line, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from bot.db.engine import create_engine
from bot.db.models import Base
from tests.db_support import BACKENDS

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_"))}
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**base, "PYTHONPATH": str(ROOT)},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("command", [[], ["run"], ["migrate"], ["sync-commands"]])
def test_help(command: list[str], tmp_path: Path) -> None:
    result = _run([*command, "--help"], {}, tmp_path)
    assert result.returncode == 0
    assert "usage: qa-bot" in result.stdout


def test_run_without_token_is_one_sentence(tmp_path: Path) -> None:
    result = _run(["run"], {"DISCORD_TOKEN": ""}, tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "qa-bot: DISCORD_TOKEN is not set: copy .env.example to .env and set DISCORD_TOKEN "
        "to your bot's token."
    ]


def test_unreachable_api_is_one_sentence_and_token_never_logged(tmp_path: Path) -> None:
    token = "MTIzNDU2Nzg5.secret.token-value"
    result = _run(
        ["run"],
        {
            "DISCORD_TOKEN": token,
            "DISCORD_API_BASE_URL": "http://127.0.0.1:9/api/v10",
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}",
            "LOG_LEVEL": "DEBUG",
        },
        tmp_path,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "Discord's API cannot be reached at http://127.0.0.1:9/api/v10" in result.stderr
    assert token not in result.stderr + result.stdout


def _tables(conn: object) -> set[str]:
    return set(inspect(conn).get_table_names())  # type: ignore[call-overload]


@pytest.mark.parametrize("empty_db_url", BACKENDS, indirect=True)
async def test_migrate_command_builds_the_model_schema(empty_db_url: str, tmp_path: Path) -> None:
    result = _run(["migrate"], {"DATABASE_URL": empty_db_url}, tmp_path)
    assert result.returncode == 0, result.stderr
    engine = create_engine(empty_db_url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(_tables)
    finally:
        await engine.dispose()
    assert set(Base.metadata.tables) <= tables
