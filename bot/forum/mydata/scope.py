"""Which rows are a member's, in one server or in every server: the one scope rule that
``export_member`` and ``erase_member`` share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement


def in_scope(guild_column: Any, guild_id: int | None) -> list[ColumnElement[bool]]:
    """The condition on a ``guild_id`` column: none for every server (``guild_id=None``)."""
    return [] if guild_id is None else [guild_column == guild_id]


def members_rows(column: Any, user_id: int, guild_id: int | None) -> list[ColumnElement[bool]]:
    """The rows of ``column``'s table whose ``column`` names the member, in the scope (the
    table's own ``guild_id`` column says the server)."""
    return [column == user_id, *in_scope(column.class_.guild_id, guild_id)]
