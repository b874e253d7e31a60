"""The engine keeps statement parameters out of error messages, on both backends; SQLite's
files are the owner's alone and deleted content is overwritten.

Known limit, outside SQLAlchemy's reach: asyncpg itself quotes a value it cannot encode
("invalid input for query argument $1: <value> (...)") in its own exception text.
"""

from __future__ import annotations

import asyncio
import stat
import traceback
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import migrate
from bot.db.compaction import checkpoint_truncate
from bot.db.engine import create_engine

SECRET_ID = 918_273_645_546_372_819
SECRET_NAME = "zq-secret-display-name"


def _all_text(err: BaseException) -> str:
    return "".join(traceback.format_exception(err)) + str(err) + repr(err)


@pytest.mark.parametrize("statement", ["syntax", "unique"])
async def test_a_failing_statement_names_no_parameter_value(
    engine: AsyncEngine, statement: str
) -> None:
    insert = text(
        "INSERT INTO guild_settings (guild_id, key, value, updated_at) "
        "VALUES (:member_id, :name, :name, CURRENT_TIMESTAMP)"
    )
    params = {"member_id": SECRET_ID, "name": SECRET_NAME}
    with pytest.raises(DBAPIError) as caught:
        async with engine.begin() as conn:
            if statement == "syntax":
                # The statement itself is wrong: the error quotes the SQL, not the values.
                await conn.execute(text("SELECT :member_id, :name FROM no_such_table"), params)
            else:
                # The values reach the database and break a constraint.
                await conn.execute(insert, params)
                await conn.execute(insert, params)
    written = _all_text(caught.value)
    assert str(SECRET_ID) not in written
    assert SECRET_NAME not in written
    assert "hide_parameters" in written  # SQLAlchemy says it left them out


def test_the_engine_hides_parameters_unless_told_otherwise() -> None:
    assert create_engine("sqlite+aiosqlite://").sync_engine.hide_parameters is True


async def test_a_new_sqlite_database_is_the_owners_alone_and_deletes_securely(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "data" / "qa"
    path = folder / "qa-bot.sqlite3"
    await migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(text("PRAGMA secure_delete")) == 1
            assert await conn.scalar(text("PRAGMA journal_mode")) == "wal"
        made = [p for p in folder.iterdir() if p.name.startswith("qa-bot.sqlite3")]
        assert {p.name for p in made} >= {"qa-bot.sqlite3", "qa-bot.sqlite3-wal"}
        assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in made} == {
            p.name: 0o600 for p in made
        }
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE((folder / "qa-bot.sqlite3.migrate.lock").stat().st_mode) == 0o600
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM guild_settings"))
            await conn.execute(
                text("INSERT INTO guild_settings VALUES (1, 'k', '1', '2030-01-01')")
            )
        wal = folder / "qa-bot.sqlite3-wal"
        assert wal.stat().st_size > 0
        assert (await asyncio.to_thread(checkpoint_truncate, path))[0] == 0
        assert wal.stat().st_size == 0 and stat.S_IMODE(wal.stat().st_mode) == 0o600
    finally:
        await engine.dispose()


async def test_an_existing_database_file_left_readable_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "qa-bot.sqlite3"
    await migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    path.chmod(0o644)  # made by an older qa-bot under the default umask
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        await engine.dispose()
