"""Whether a DM's recipient is still a member of the server it is about, asked at send time.

qa-bot has no Server Members intent, so it hears of nobody leaving; bans do reach it (the
moderation intent; ``cogs.notifications`` calls ``gone``). Before a DM the notifier asks
``Memberships.is_member``: one request by id (``GET /guilds/{guild}/members/{user}``, so
members the client never cached work too), bounded by ``timeout``, and the answer, yes or no,
is remembered for ``MEMBERSHIP_TTL`` seconds (at most ``MEMBERSHIP_CACHE`` answers), so a burst of
DMs to one member costs one look-up and one who left costs one per ``MEMBERSHIP_TTL``. A member
the bot saw write in the server (``seen``) is known for as long without a look-up.

404 Unknown Member (10007), or Unknown User (10013): not a member (left, kicked or banned).
Anything else (a 5xx discord.py gave up on, a 429, a timeout, a lost connection) propagates and
is remembered not at all: the notifier retries the DM as it does any transient failure.

``server_name`` names the server a private DM is about. Every shard process drains the whole
outbox, so the server may be one of another process's shards, absent from this client's cache:
then it is asked once (``GET /guilds/{guild}``) and remembered for ``ttl``; a failure leaves
the DM to say "a server".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Final

import discord

from bot.bounded import ExpiringMap
from bot.rest import UNKNOWN_MEMBER, UNKNOWN_USER
from bot.workers.pacing import Pace

#: How long a look-up's answer holds (seconds): a member who left may get DMs this long at most.
MEMBERSHIP_TTL: Final = 600.0
#: Answers remembered at most (the oldest are forgotten first).
MEMBERSHIP_CACHE: Final = 20_000


class Memberships:
    """Member look-ups for the notifier, each answer remembered for ``ttl`` seconds."""

    def __init__(
        self,
        bot: discord.Client,
        *,
        timeout: float,
        ttl: float = MEMBERSHIP_TTL,
        limit: int = MEMBERSHIP_CACHE,
        clock: Callable[[], float] = time.monotonic,
        pace: Pace | None = None,
    ) -> None:
        self.bot = bot
        self.timeout = timeout
        #: Each look-up takes a token first (the notifier's pace of requests), when given.
        self.pace = pace
        #: Requests made to Discord (health counts and tests).
        self.lookups = 0
        self._known: ExpiringMap[tuple[int, int], bool] = ExpiringMap(limit, ttl, clock=clock)
        self._names: ExpiringMap[int, str] = ExpiringMap(limit, ttl, clock=clock)

    @property
    def ttl(self) -> float:
        return self._known.ttl

    @ttl.setter
    def ttl(self, seconds: float) -> None:
        self._known.ttl = seconds

    async def is_member(self, guild_id: int, user_id: int) -> bool:
        """Whether ``user_id`` is a member of ``guild_id``: remembered, else asked (within
        ``timeout``); transient failures raise (see the module docstring)."""
        key = (guild_id, user_id)
        known = self._known.get(key)
        if known is not None:
            return known
        self.lookups += 1
        if self.pace is not None:
            await self.pace.take()
        try:
            async with asyncio.timeout(self.timeout):
                await self.bot.http.get_member(guild_id, user_id)
        except discord.NotFound as exc:
            if exc.code not in (UNKNOWN_MEMBER, UNKNOWN_USER):  # anything but "not a member"
                raise
            member = False
        else:
            member = True
        if self._known.get(key) is False:
            return False  # a ban arrived while Discord was asked: it wins
        self._known.put(key, member)
        return member

    async def server_name(self, guild_id: int) -> str | None:
        """The server's name: from the cache of this process's shards, else asked once (see
        the module docstring); None when Discord does not say."""
        guild = self.bot.get_guild(guild_id)
        if guild is not None:
            return guild.name
        name = self._names.get(guild_id)
        if name is None:
            self.lookups += 1
            try:
                async with asyncio.timeout(self.timeout):
                    name = (await self.bot.http.get_guild(guild_id))["name"]
            except (discord.HTTPException, TimeoutError):
                return None
            self._names.put(guild_id, name)
        return name

    def known(self, guild_id: int, user_id: int) -> bool | None:
        """What is remembered of the member (None: nothing, the next DM asks Discord)."""
        return self._known.get((guild_id, user_id))

    def seen(self, guild_id: int, user_id: int) -> None:
        """The member just wrote in the server (a message the gateway delivered): a member now,
        so their next DM within ``ttl`` needs no look-up."""
        self._known.put((guild_id, user_id), True)

    def gone(self, guild_id: int, user_id: int) -> None:
        """The member was banned (or is known gone): no DM about the server, no look-up."""
        self._known.put((guild_id, user_id), False)

    def forget(self, guild_id: int, user_id: int) -> None:
        """What was known may be wrong now (an unban): the next DM asks Discord again."""
        self._known.pop((guild_id, user_id))
