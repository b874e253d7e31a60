"""Dialect-aware SQL helpers shared by the domain (``INSERT ... ON CONFLICT``, id lists)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam
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


def among(session: AsyncSession, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN values``, written so its SQL text does not depend on how many values there
    are: on PostgreSQL ``column = ANY(:array)``, one prepared statement per connection for a
    hot path whatever the batch's size (an ``IN`` list is a new statement, so a new prepare
    round trip, for every length); elsewhere a plain ``IN`` (SQLite prepares locally)."""
    listed = sorted(set(values))
    if dialect_name(session) == "postgresql":
        array = bindparam(None, listed, type_=postgresql.ARRAY(column.type))
        result: ColumnElement[bool] = column == any_(array)
    else:
        result = column.in_(listed)
    return result


_BUILT: dict[tuple[Callable[[AsyncSession], Any], str], Any] = {}


def built_once(session: AsyncSession, build: Callable[[AsyncSession], Any]) -> Any:
    """The statement ``build`` makes for the session's backend, built once per backend and
    kept: on a hot path building an ``INSERT ... ON CONFLICT`` costs more than running it
    (SQLAlchemy caches the compiled form, not the construct)."""
    key = (build, dialect_name(session))
    if key not in _BUILT:
        _BUILT[key] = build(session)
    return _BUILT[key]
