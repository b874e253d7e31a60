"""The display names this process last stored, so an unchanged name costs no write."""

from __future__ import annotations

from typing import Final

import discord

from bot.bounded import BoundedMap

#: How many members' last stored display names are kept in memory (the oldest are forgotten).
NAMES_REMEMBERED: Final = 10_000


class StoredNames:
    """The display name this process last stored per (guild, member), bounded. Another path (a
    vote, /leaderboard) may store a newer one meanwhile; the next name that differs from this
    memory is stored again."""

    def __init__(self, limit: int = NAMES_REMEMBERED) -> None:
        self._names: BoundedMap[tuple[int, int], str] = BoundedMap(limit)

    def unstored(self, guild_id: int, member: discord.abc.User) -> str | None:
        """The member's display name when it is not the one last stored, else None."""
        return self.unstored_name(guild_id, member.id, member.display_name)

    def unstored_name(self, guild_id: int, user_id: int, name: str | None) -> str | None:
        """``name`` when it is not the one last stored for the member, else None."""
        return None if self._names.get((guild_id, user_id)) == name else name

    def stored(self, guild_id: int, user_id: int, name: str | None, *, named: bool) -> None:
        """After a transaction: remember ``name`` when the domain stored it (``named``)."""
        if named and name is not None:
            self._names.put((guild_id, user_id), name)
