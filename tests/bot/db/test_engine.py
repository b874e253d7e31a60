"""The engine keeps statement parameters out of error messages, on both backends.

Known limit, outside SQLAlchemy's reach: asyncpg itself quotes a value it cannot encode
("invalid input for query argument $1: <value> (...)") in its own exception text.
"""

from __future__ import annotations

import traceback

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

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
