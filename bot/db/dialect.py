"""Dialect-aware SQL helpers shared by the domain (``INSERT ... ON CONFLICT``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_name(session: AsyncSession) -> str:
    bind = session.get_bind()
    return bind.dialect.name


def insert(session: AsyncSession, table: Any) -> Any:
    """An INSERT with ``on_conflict_do_update/nothing`` for the session's backend."""
    if dialect_name(session) == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
