"""Point roles on Discord: members gain and lose the mapped roles as their public points move.

One ``RoleSync`` per bot (``bot.role_sync``). The profiles cog asks it to sync members when
``on_qa_points_changed`` says their public points moved (``bot.transactions``) and when a new
point role may reach many members at once. Role edits are coalesced per member
(``bot.workers.coalesce.Coalescer``): the first change is applied at once, later ones within
``ROLE_SYNC_INTERVAL`` seconds are gathered into one more edit, which reads the points then. A
role the bot cannot give (above its highest role, managed by an integration, or the bot lacks
Manage Roles) is skipped and logged once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterable
from typing import Final

import discord

from bot.db import health
from bot.forum import roles
from bot.forum.roles import PointRole
from bot.permissions import role_problem
from bot.transactions import TransactionRunner
from bot.workers.coalesce import CoalescedService

log = logging.getLogger(__name__)

#: Seconds between two role edits of one member.
ROLE_SYNC_INTERVAL: Final = 10.0
ROLE_SYNC_CONCURRENCY: Final = 4
ROLE_REASON: Final = "qa-bot: point roles"


class RoleSync(CoalescedService[tuple[int, int]]):
    """Gives and takes members' point roles; edits are coalesced per member.

    ``request`` for a member who is idle syncs at once; further requests within ``interval``
    seconds after a sync are gathered into one more sync when the interval ends (it reads the
    points at that moment, so the last change always wins). ``sleep`` is settable (tests).
    """

    name = "point roles"
    work_name = "point roles"
    default_interval = ROLE_SYNC_INTERVAL

    def __init__(self, bot: discord.Client, runner: TransactionRunner) -> None:
        super().__init__(bot, runner)
        self._mappings: dict[int, list[PointRole]] = {}
        self._warned: set[tuple[int, int]] = set()
        # Members synced at once (a new point role may reach many): gentle on the REST limits.
        self._concurrency = asyncio.Semaphore(ROLE_SYNC_CONCURRENCY)

    def forget(self, guild_id: int) -> None:
        """The guild's mapping changed: read it again next time."""
        self._mappings.pop(guild_id, None)
        self._warned = {w for w in self._warned if w[0] != guild_id}

    def request(self, guild_id: int, user_ids: Iterable[int]) -> None:
        if self._mappings.get(guild_id) == []:
            return
        for user_id in user_ids:
            self._request((guild_id, user_id))

    async def _work(self, key: tuple[int, int]) -> None:
        guild_id, user_id = key
        try:
            async with self._concurrency:
                await self.sync_member(guild_id, user_id)
        except Exception as exc:
            msg = "point roles of member %s in guild %s failed"
            health.log_failure(log, exc, msg, user_id, guild_id)

    async def mapping(self, guild_id: int) -> list[PointRole]:
        cached = self._mappings.get(guild_id)
        if cached is None:
            cached = await self.runner.run(lambda s: roles.point_roles(s, guild_id))
            self._mappings[guild_id] = cached
        return cached

    def _warn_once(self, guild_id: int, role_id: int, what: str) -> None:
        if (guild_id, role_id) in self._warned:
            return
        self._warned.add((guild_id, role_id))
        log.warning("point role %s in guild %s skipped: %s", role_id, guild_id, what)

    def _usable_roles(
        self, guild: discord.Guild, role_ids: Collection[int]
    ) -> dict[int, discord.Role]:
        usable: dict[int, discord.Role] = {}
        for role_id in sorted(role_ids):
            role = guild.get_role(role_id)
            if role is None:
                self._warn_once(guild.id, role_id, "the role no longer exists")
            elif role_problem(guild, role) is not None:
                self._warn_once(guild.id, role_id, "the bot cannot give it (hierarchy/managed)")
            else:
                usable[role_id] = role
        return usable

    async def sync_member(self, guild_id: int, user_id: int) -> None:
        """Give and take this member's point roles to match their public points now."""
        guild = self.bot.get_guild(guild_id)
        if guild is None or not await self.mapping(guild_id):
            return
        if not guild.me.guild_permissions.manage_roles:
            self._warn_once(guild_id, 0, "the bot lacks Manage Roles")
            return
        state = await self.runner.run(
            lambda s: roles.roles_of_member(s, guild_id=guild_id, user_id=user_id)
        )
        usable = self._usable_roles(guild, state.managed)
        if not usable:
            return
        try:
            member = guild.get_member(user_id) or await guild.fetch_member(user_id)
        except discord.NotFound:
            return  # no longer in the guild
        if member.bot:
            return
        held = {role.id for role in member.roles}
        grant = [role for rid, role in usable.items() if rid in state.wanted and rid not in held]
        revoke = [role for rid, role in usable.items() if rid not in state.wanted and rid in held]
        try:
            if grant:
                await member.add_roles(*grant, reason=ROLE_REASON)
            if revoke:
                await member.remove_roles(*revoke, reason=ROLE_REASON)
        except discord.HTTPException as exc:
            log.warning(
                "point roles of member %s in guild %s not edited (status %s)",
                user_id,
                guild_id,
                exc.status,
            )
            return
        if grant or revoke:
            log.info(
                "point roles of member %s in guild %s: %d given, %d taken",
                user_id,
                guild_id,
                len(grant),
                len(revoke),
            )
