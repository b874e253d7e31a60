"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# A surrogate key: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
PK = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC on every backend.

    SQLite has no time zones and PostgreSQL's ``timestamptz`` converts on the way out; storing
    naive UTC everywhere keeps comparisons in SQL identical on both.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else stored_utc(value)


def stored_utc(value: str | datetime) -> datetime:
    """A stored time (naive UTC; on SQLite its text, as a JSON-packed row carries it too,
    ``bot.db.packed``) as an aware UTC time."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC)


#: Keyword arguments making an index on posts partial to ``created_at IS NOT NULL`` (true of
#: every row): a query can use it only when it compares ``created_at`` (a range of days), so a
#: query that only orders by it (``/unanswered``) keeps its own partial index.
DATED_ONLY: dict[str, Any] = {
    f"{dialect}_where": text("created_at IS NOT NULL") for dialect in ("sqlite", "postgresql")
}
