"""Which servers one bot process serves: ``ServerScope``.

Discord routes a server to shard ``(guild_id >> 22) % shard_count``. A process running every
shard (one process, the default) serves every server; a process running some shards
(``SHARD_IDS``) serves the servers of those shards only, and its background sweeps over the
database (retention, the purger) must leave the others' servers to the processes running them.
``ServerScope.where(column)`` is that choice as SQL, ``owns(guild_id)`` the same in Python.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import ColumnElement, literal_column, true

#: The bits of a snowflake below its timestamp: ``guild_id >> SHARD_SHIFT`` is what Discord
#: shards by.
SHARD_SHIFT: Final = 22


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord routes a server to."""
    return (guild_id >> SHARD_SHIFT) % shard_count


@dataclass(frozen=True, slots=True)
class ServerScope:
    """Every server (``shard_ids`` None), or the servers of ``shard_ids`` out of
    ``shard_count`` shards."""

    shard_count: int | None = None
    shard_ids: frozenset[int] | None = None

    @classmethod
    def of(cls, shard_count: int | None, shard_ids: Collection[int] | None) -> ServerScope:
        """The scope of a process running ``shard_ids`` (None: all) of ``shard_count``."""
        if shard_count is None or shard_ids is None or set(range(shard_count)) <= set(shard_ids):
            return ALL_SERVERS
        return cls(shard_count, frozenset(shard_ids))

    @property
    def everything(self) -> bool:
        return self.shard_count is None or self.shard_ids is None

    def owns(self, guild_id: int) -> bool:
        if self.shard_count is None or self.shard_ids is None:
            return True
        return shard_of(guild_id, self.shard_count) in self.shard_ids

    def where(self, guild_id: Any) -> ColumnElement[bool]:
        """A filter keeping the rows whose ``guild_id`` column is one of the scope's servers."""
        if self.shard_count is None or self.shard_ids is None:
            return true()
        # The shift written into the SQL: PostgreSQL has no ``bigint >> bigint``.
        shard = guild_id.op(">>")(literal_column(str(SHARD_SHIFT))) % self.shard_count
        return shard.in_(sorted(self.shard_ids))  # type: ignore[no-any-return]


#: One process running every shard.
ALL_SERVERS: Final = ServerScope()
