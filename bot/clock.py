"""The one clock of the project: the current time as an aware UTC ``datetime``.

Every layer asks it for "now": the ORM's column defaults (``bot.db.models``), the domain's
operations when the caller passes no ``now``, the workers and the cogs. It sits below them all
(it imports only the standard library), so the database layer, which must not import the
domain, can use it too.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)
