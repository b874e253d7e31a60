"""Retention: how long the bot keeps what it no longer needs, each a per-server setting.

Each sweep is one named operation returning counts (the worker logs counts only):

- ``purge_notifications``: DM notifications that are finished (sent, failed, undeliverable,
  cancelled) for longer than ``notification_retention_days`` (default 30). Pending ones are
  never touched here: reconciliation finishes or discards them.
- ``purge_drafts``: ``/ask`` drafts expired or used longer ago than ``draft_retention_hours``
  (default 24); until then a late press of their buttons still gets its sentence.
- ``purge_departed``: every row of a server that removed the bot longer ago than its
  ``departed_retention_days`` (default 30). A departure is recorded by ``record_departure``
  (``on_guild_remove``) or by ``reconcile_shard`` (a stored server of the shard missing from its
  READY: removed while the bot was down); ``record_return`` forgets it when the bot comes back
  earlier, so the server's data is restored untouched.

Votes are not swept: they live as long as their post (deleted with it by the foreign key).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, Table, and_, delete, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.dialect import insert
from bot.db.models import AskDraft, Base, DepartedGuild, GuildSetting, Notification
from bot.forum import settings
from bot.forum.shards import ALL_SERVERS, ServerScope, shard_of

#: Notification statuses that are done with: kept ``notification_retention_days``, then purged.
FINISHED: Final = ("sent", "failed", "undeliverable", "cancelled")

#: The tables holding a server's data (every table with a ``guild_id``), dependants first.
GUILD_TABLES: Final[tuple[Table, ...]] = tuple(
    table
    for table in reversed(Base.metadata.sorted_tables)
    if "guild_id" in table.c and table.name != DepartedGuild.__tablename__
)


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def _cutoffs(
    session: AsyncSession, key: str, now: datetime, unit: timedelta
) -> tuple[datetime, dict[int, datetime]]:
    """The cutoff of ``key``'s default, and of every server that overrides it."""
    default = now - unit * getattr(settings.DEFAULTS, key)
    rows = await session.execute(
        select(GuildSetting.guild_id, GuildSetting.value).where(GuildSetting.key == key)
    )
    overridden: dict[int, datetime] = {}
    for guild_id, raw in rows:
        try:
            value = json.loads(raw)
        except ValueError:
            continue
        config = settings.config_from_overrides({key: value})
        overridden[guild_id] = now - unit * getattr(config, key)
    return default, overridden


async def _delete_older(
    session: AsyncSession,
    table: Any,
    older: Callable[[datetime], ColumnElement[bool]],
    key: str,
    now: datetime,
    unit: timedelta,
    scope: ServerScope,
) -> int:
    """Delete ``table``'s rows that ``older(cutoff)`` selects, with each server's cutoff of
    ``key``: one statement for the servers on the default, one per server overriding it; only
    the servers of ``scope``."""
    default, overridden = await _cutoffs(session, key, now, unit)
    overridden = {g: cutoff for g, cutoff in overridden.items() if scope.owns(g)}
    on_default = table.guild_id.not_in(list(overridden)) if overridden else None
    statements = [
        delete(table).where(
            older(default),
            scope.where(table.guild_id),
            *([] if on_default is None else [on_default]),
        )
    ]
    statements += [
        delete(table).where(table.guild_id == guild_id, older(cutoff))
        for guild_id, cutoff in overridden.items()
    ]
    removed = 0
    for statement in statements:
        result = await session.execute(statement.execution_options(synchronize_session=False))
        removed += _rowcount(result)
    return removed


async def purge_notifications(
    session: AsyncSession, *, now: datetime | None = None, scope: ServerScope = ALL_SERVERS
) -> int:
    """Delete notifications finished (sent, or failed, undeliverable or cancelled: their last
    attempt) more than each server's ``notification_retention_days`` ago (the servers of
    ``scope``); the number deleted."""
    finished_at = func.coalesce(Notification.sent_at, Notification.next_attempt_at)

    def older(cutoff: datetime) -> ColumnElement[bool]:
        return and_(Notification.status.in_(FINISHED), finished_at < cutoff)

    when = now or utc_now()
    day = timedelta(days=1)
    return await _delete_older(
        session, Notification, older, "notification_retention_days", when, day, scope
    )


async def purge_drafts(
    session: AsyncSession, *, now: datetime | None = None, scope: ServerScope = ALL_SERVERS
) -> int:
    """Delete ``/ask`` drafts expired or used more than each server's
    ``draft_retention_hours`` ago (the servers of ``scope``); the number deleted."""

    def older(cutoff: datetime) -> ColumnElement[bool]:
        return or_(AskDraft.expires_at < cutoff, AskDraft.consumed_at < cutoff)

    when = now or utc_now()
    hour = timedelta(hours=1)
    return await _delete_older(session, AskDraft, older, "draft_retention_hours", when, hour, scope)


# --------------------------------------------------------------------------- departed servers


@dataclass(frozen=True, slots=True)
class ShardReconciled:
    """What a shard's READY told: stored servers missing from it (``departed``, newly
    recorded) and departed servers back in it (``returned``)."""

    departed: int
    returned: int


@dataclass(frozen=True, slots=True)
class DepartedPurged:
    """Servers whose data was purged, and how many rows their deletes counted (rows a
    foreign key cascaded to, such as a question's answers, are not counted)."""

    guilds: int
    rows: int


async def stored_guild_ids(session: AsyncSession) -> set[int]:
    """Every server the database holds any row of."""
    query = union(*(select(table.c.guild_id).distinct() for table in GUILD_TABLES))
    return {int(guild_id) for (guild_id,) in await session.execute(query)}


async def departures(session: AsyncSession) -> dict[int, datetime]:
    """The recorded departures: server id -> when the bot was removed."""
    rows = await session.execute(select(DepartedGuild.guild_id, DepartedGuild.departed_at))
    return {row.guild_id: row.departed_at for row in rows}


async def record_departure(
    session: AsyncSession, *, guild_id: int, now: datetime | None = None
) -> bool:
    """The server removed the bot: its data is purged once its retention has passed. False
    when its departure was already recorded (the first one counts)."""
    stmt = (
        insert(session, DepartedGuild)
        .values(guild_id=guild_id, departed_at=now or utc_now())
        .on_conflict_do_nothing(index_elements=[DepartedGuild.guild_id])
        .returning(DepartedGuild.guild_id)
    )
    return (await session.execute(stmt)).first() is not None


async def record_return(session: AsyncSession, *, guild_id: int) -> bool:
    """The bot is back in the server: its departure is forgotten and its data kept as it is.
    False when no departure was recorded."""
    stmt = (
        delete(DepartedGuild)
        .where(DepartedGuild.guild_id == guild_id)
        .returning(DepartedGuild.guild_id)
    )
    return (await session.execute(stmt)).first() is not None


async def reconcile_shard(
    session: AsyncSession,
    *,
    shard_id: int,
    shard_count: int,
    present: Collection[int],
    now: datetime | None = None,
) -> ShardReconciled:
    """After a shard's READY: a stored server of this shard missing from ``present`` (the
    servers the bot is in) removed the bot while it was down; a departed one present is back."""
    here = set(present)
    ours = {g for g in await stored_guild_ids(session) if shard_of(g, shard_count) == shard_id}
    known = await departures(session)
    departed = 0
    for guild_id in sorted(ours - here - set(known)):
        departed += await record_departure(session, guild_id=guild_id, now=now)
    returned = 0
    for guild_id in sorted(here & set(known)):
        if shard_of(guild_id, shard_count) == shard_id:
            returned += await record_return(session, guild_id=guild_id)
    return ShardReconciled(departed=departed, returned=returned)


async def purge_departed(
    session: AsyncSession, *, now: datetime | None = None, scope: ServerScope = ALL_SERVERS
) -> DepartedPurged:
    """Delete every row of each server (of ``scope``) that removed the bot more than its
    ``departed_retention_days`` ago, and its departure."""
    when = now or utc_now()
    guilds = rows = 0
    for guild_id, departed_at in sorted((await departures(session)).items()):
        if not scope.owns(guild_id):
            continue
        config = await settings.load_config(session, guild_id)
        if departed_at >= when - timedelta(days=config.departed_retention_days):
            continue
        for table in GUILD_TABLES:
            result = await session.execute(delete(table).where(table.c.guild_id == guild_id))
            rows += _rowcount(result)
        await record_return(session, guild_id=guild_id)
        guilds += 1
    return DepartedPurged(guilds=guilds, rows=rows)
