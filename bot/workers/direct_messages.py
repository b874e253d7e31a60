"""The Discord side of a notification DM: where it goes, how it is sent, what a refusal means.

``DirectMessages`` (one per ``Notifier``) sends one DM, each Discord request of it within
``timeout`` seconds (discord.py sets no request timeout), with the notification's stable nonce so
Discord drops a resent duplicate. A DM costs one request: DM channel ids are kept in memory (the
``DM_CHANNEL_CACHE`` most recent) and in ``user_prefs``; a cached channel Discord no longer knows
is opened again, once.

Paced (``bot.workers.pacing``): every request first takes a turn of ``requests`` (the
notifier's share of Discord's global 50 requests per second, so a backlog drains without a storm
of global 429s), and opening a DM channel also one of ``opens`` (a slow bucket: Discord refuses
new DM channels opened too fast with 403 / 40003, at a rate it does not publish). Such a refusal
is retried later like any transient failure, and holds ``opens`` for ``OPENS_HOLD`` seconds.

A refusal that will never change is ``Undeliverable``: 403 / 50007 (the user's DMs are closed,
or they blocked the bot) and an unknown user. Anything else (discord.py gave up on a 5xx, a 429,
a timeout, a lost connection) propagates for the notifier to retry; ``describe`` words it for
``last_error`` (status and code, never message text).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta
from typing import Final

import discord

from bot.bounded import BoundedMap
from bot.forum import outbox, prefs
from bot.forum.dm_content import NotifiedPost
from bot.forum.outbox import OutboxItem
from bot.rest import DMS_CLOSED, OPENING_DMS_TOO_FAST, UNKNOWN_CHANNEL, UNKNOWN_USER
from bot.transactions import TransactionRunner
from bot.ui.dms import carries_dm_key
from bot.ui.mentions import NO_PINGS
from bot.workers.pacing import Pace, TokenBucket

log = logging.getLogger(__name__)

#: Seconds without opening a DM channel after Discord said 40003.
OPENS_HOLD: Final = 10.0
#: DM channel ids kept in memory (the rest are one database read away).
DM_CHANNEL_CACHE: Final = 50_000
#: Recent messages of a DM channel searched for a DM's key (one page of history).
DM_LOOKBACK: Final = 50


class Undeliverable(Exception):
    """Discord will never deliver this DM (DMs closed, bot blocked, unknown user)."""


def describe(error: BaseException, timeout: float) -> str:
    """``last_error`` for a failed send: status and code, never message text."""
    if isinstance(error, TimeoutError):
        return f"no answer from Discord within {timeout:g} s"
    if isinstance(error, discord.RateLimited):
        return f"rate limited for {error.retry_after:.0f} s"
    if isinstance(error, discord.HTTPException):
        return f"HTTP {error.status} (code {error.code})"
    return f"connection error ({type(error).__name__})"


@dataclass(eq=False)
class DirectMessages:
    """Sends DMs for the notifier: DM channels cached, a nonce on each, within ``timeout``."""

    bot: discord.Client
    runner: TransactionRunner
    _: KW_ONLY
    timeout: float
    requests: Pace
    opens: TokenBucket
    _channels: BoundedMap[int, int] = field(
        init=False, default_factory=lambda: BoundedMap(DM_CHANNEL_CACHE)
    )

    async def send(
        self,
        user_id: int,
        stored_channel_id: int | None,
        embed: discord.Embed,
        view: discord.ui.View | None,
        nonce: str,
    ) -> discord.Message:
        """Send the DM: one request when the DM channel is known (in memory, else
        ``stored_channel_id``), each request paced and within ``timeout``."""
        channel_id = self._channels.get(user_id) or stored_channel_id
        fresh = channel_id is None
        if channel_id is None:
            channel_id = await self._open(user_id)
        else:
            self._channels.put(user_id, channel_id)
        try:
            return await self._post(channel_id, embed, view, nonce)
        except discord.NotFound as exc:
            if fresh or exc.code != UNKNOWN_CHANNEL:
                raise
        # The cached DM channel is gone: open the DM again, once.
        channel_id = await self._open(user_id)
        return await self._post(channel_id, embed, view, nonce)

    async def find_sent(
        self, user_id: int, stored_channel_id: int | None, key: str
    ) -> discord.Message | None:
        """The bot's DM carrying ``key`` among the last ``DM_LOOKBACK`` messages of the DM
        channel (one request, within ``timeout``); None when there is none, or no DM channel was
        ever opened (so nothing was sent)."""
        channel_id = self._channels.get(user_id) or stored_channel_id
        me = self.bot.user
        if channel_id is None or me is None:
            return None
        channel = self.bot.get_partial_messageable(channel_id, type=discord.ChannelType.private)
        await self.requests.take()
        try:
            async with asyncio.timeout(self.timeout):
                async for message in channel.history(limit=DM_LOOKBACK):
                    if message.author.id == me.id and carries_dm_key(message, key):
                        return message
        except discord.NotFound:
            return None
        return None

    async def find_unrecorded(
        self,
        group: Sequence[OutboxItem],
        stored_channel_id: int | None,
        now: datetime,
        lease: timedelta,
    ) -> discord.Message | None:
        """A DM of ``group`` that a dead worker sent but never recorded, found by its key in the
        DM channel (``find_sent``); only looked for when its nonce no longer protects a resend
        (``outbox.may_be_sent_unprotected``)."""
        if not outbox.may_be_sent_unprotected(group, now=now, lease=lease):
            return None
        first = group[0]
        found = await self.find_sent(first.recipient_id, stored_channel_id, first.nonce)
        if found is not None:
            log.info("notifications %s: found already sent", ",".join(str(i.id) for i in group))
        return found

    def forget(self, user_id: int) -> None:
        """The user cannot get DMs: drop their DM channel from memory."""
        self._channels.pop(user_id)

    def cached_name(self, post: NotifiedPost) -> str | None:
        """A named author's display name from the client's caches (no request): the post's
        message (its author, or the author line of the bot's embed for them), the guilds'
        members, the users."""
        user_id = post.author_id
        if user_id is None:
            return None
        if post.message_id is not None:
            message = discord.utils.get(self.bot.cached_messages, id=post.message_id)
            if message is not None and message.author.id == user_id:
                return message.author.display_name
            me = self.bot.user
            if message is not None and me is not None and message.author.id == me.id:
                # Posted by the bot for the member (/answer): its embed's author line names them.
                shown = message.embeds[0].author.name if message.embeds else None
                if shown:
                    return shown
        for guild in self.bot.guilds:
            member = guild.get_member(user_id)
            if member is not None:
                return member.display_name
        user = self.bot.get_user(user_id)
        return user.display_name if user is not None else None

    async def _post(
        self, channel_id: int, embed: discord.Embed, view: discord.ui.View | None, nonce: str
    ) -> discord.Message:
        channel = self.bot.get_partial_messageable(channel_id, type=discord.ChannelType.private)
        await self.requests.take()
        try:
            async with asyncio.timeout(self.timeout):
                return await channel.send(
                    embed=embed,
                    view=view if view is not None else discord.utils.MISSING,
                    nonce=nonce,
                    allowed_mentions=NO_PINGS,
                )
        except discord.Forbidden as exc:
            if exc.code == DMS_CLOSED:
                raise Undeliverable(f"403 ({DMS_CLOSED}): the recipient's DMs are closed") from None
            raise

    async def _open(self, user_id: int) -> int:
        """Open (or find) the DM channel with the user and remember its id."""
        await self.opens.take()
        await self.requests.take()
        try:
            async with asyncio.timeout(self.timeout):
                data = await self.bot.http.start_private_message(user_id)
        except discord.NotFound as exc:
            if exc.code == UNKNOWN_USER:
                raise Undeliverable(f"404 ({UNKNOWN_USER}): unknown user") from None
            raise
        except discord.Forbidden as exc:
            if exc.code == DMS_CLOSED:
                raise Undeliverable(f"403 ({DMS_CLOSED}): the recipient's DMs are closed") from None
            if exc.code == OPENING_DMS_TOO_FAST:
                self.opens.hold(OPENS_HOLD)
            raise
        channel_id = int(data["id"])
        await self.runner.write(lambda s: prefs.remember_dm_channel(s, user_id, channel_id))
        self._channels.put(user_id, channel_id)
        return channel_id
