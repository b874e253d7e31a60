"""SQLite statements that run in one step: rows go in as one JSON array and come out as one.

Python's ``sqlite3`` lets the GIL go around every step of a statement: each row an
``executemany`` writes and each row a ``SELECT`` returns. The writing thread
(``bot.db.writes``) runs while the main thread parses a burst of gateway frames, so each step
then waits up to a switch interval to take the GIL back, with SQLite's write lock held. Measured
on this machine with the main thread busy: 600 upserts by ``executemany`` 4-540 ms, the same
rows as one ``INSERT ... SELECT ... FROM json_each(?)`` 6 ms; 600 rows read one by one 65-167 ms,
as one ``json_group_array`` 3 ms. A statement fed a JSON array or returning one JSON value is
one step, whatever the number of rows.

Only for values JSON carries exactly (integers, text, booleans as 0/1, NULL); times are bound as
ordinary parameters with their column type, or packed as the text that type binds
(``packed_time``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine


def pack(rows: Iterable[Sequence[object]]) -> str:
    """Rows as one JSON array of arrays, the parameter a ``json_each`` statement reads."""
    return json.dumps([list(row) for row in rows], separators=(",", ":"))


def field(index: int) -> str:
    """The SQL reading item ``index`` of a ``json_each`` row."""
    return f"json_extract(value, '$[{index}]')"


def fields(count: int) -> str:
    """The SQL reading items 0 to ``count - 1`` of a ``json_each`` row, comma separated."""
    return ", ".join(field(i) for i in range(count))


def packed_select(columns: Sequence[str], from_where: str) -> TextClause:
    """``SELECT`` of ``columns`` returned as one JSON array of arrays (one step)."""
    return text(f"SELECT json_group_array(json_array({', '.join(columns)})) {from_where}")


async def fetch_packed(
    session: AsyncSession, statement: TextClause, params: dict[str, Any]
) -> list[list[Any]]:
    """The rows of a ``packed_select`` statement, as lists in the order of its columns."""
    value = (await session.execute(statement, params)).scalar_one()
    rows: list[list[Any]] = json.loads(value) if value else []
    return rows


def pack_values(values: Iterable[object]) -> str:
    """Values as one JSON array (``... IN (SELECT value FROM json_each(:values))``)."""
    return json.dumps(sorted(set(values)))


def packed_time(
    session: AsyncSession, type_: TypeEngine[datetime]
) -> Callable[[datetime | None], object]:
    """What a time column of ``type_`` stores for a time (on SQLite its text), for a packed row:
    the column type's own conversion, as when the time is bound as a parameter."""
    dialect = session.get_bind().dialect
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return lambda value: value
    return process
