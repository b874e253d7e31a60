"""``FakeDiscord``: the loopback server, world building, and the waits tests use.

async with FakeDiscord() as fake:
    guild = fake.add_guild("Test Guild")
    general = fake.add_text_channel(guild, "general")
    alice = fake.add_member(guild, "alice")
    ...  # point discord.py at fake.api_base / fake.gateway_url and start the bot
    msg = await alice.send(general, "hello")
    call = await fake.wait_for_call("POST", "/channels/{channel_id}/messages")
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

from tests.fakediscord import permissions as P
from tests.fakediscord.actors import Member
from tests.fakediscord.automod import AutoMod, AutoModRule
from tests.fakediscord.clock import AdjustableClock
from tests.fakediscord.faults import Faults
from tests.fakediscord.gateway import Gateway, Session
from tests.fakediscord.model import (
    CATEGORY,
    CHANNEL_FLAG_REQUIRE_TAG,
    FORUM,
    JSON,
    TEXT,
    Channel,
    Command,
    Guild,
    Message,
    Role,
    User,
)
from tests.fakediscord.ratelimits import RateLimits
from tests.fakediscord.recorder import Call, DispatchedEvent, Recorder
from tests.fakediscord.rest import API_PREFIX, Rest
from tests.fakediscord.rules import Rules
from tests.fakediscord.snowflake import Clock, SnowflakeGenerator
from tests.fakediscord.world import World

T = TypeVar("T")


class FakeDiscord:
    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        clock: Clock | None = None,
        bot_name: str = "qa-bot",
    ) -> None:
        self.token = token
        # Wall time that a test may move forward (``clock.advance_clock``) to age interactions.
        self.clock: Clock = clock or AdjustableClock()
        self.ids = SnowflakeGenerator(self.clock)
        self.recorder = Recorder()
        self.world = World(self.clock, self.ids, bot_name=bot_name)
        self.gateway = Gateway(self.world, self.recorder, token=token)
        self.world.emit = self.gateway.emit
        self.world.on_change = self.recorder.signal.pulse
        self.rest = Rest(self)
        # REST interceptors in this order: injected faults, rate limits, then Discord's rules.
        self.faults = Faults(self)
        self.ratelimits = RateLimits(self)
        self.rules = Rules(self)
        #: The guilds' AutoMod rules (``add_automod_rule``), their route and events.
        self.automod = AutoMod(self)
        self.port = 0
        self._runner: web.AppRunner | None = None
        # Filled by ``build_default_scene`` (the fixtures call it).
        self.guild: Guild | None = None
        self.general: Channel | None = None
        self.forum: Channel | None = None
        self.owner: Member | None = None
        self.moderator_role: Role | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> Self:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._entry)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self.world.cdn_base = self.base_url
        self.gateway.url = f"ws://127.0.0.1:{self.port}/gateway"
        self.gateway.resume_url = f"ws://127.0.0.1:{self.port}/gateway-resume"
        return self

    async def stop(self) -> None:
        self.faults.clear()  # held or delayed calls would keep the server from stopping
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _entry(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self.gateway.handle(request)
        return await self.rest.handle(request)

    def loop_time(self) -> float:
        return asyncio.get_running_loop().time()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """What ``discord.http.Route.BASE`` / ``DISCORD_API_BASE_URL`` must be."""
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """What ``DISCORD_GATEWAY_URL`` must be (also returned by ``GET /gateway/bot``)."""
        return self.gateway.url

    # ------------------------------------------------------------------ the bot and the app

    @property
    def bot_user(self) -> User:
        return self.world.bot

    @property
    def application_id(self) -> int:
        return self.world.application_id

    @property
    def recommended_shards(self) -> int:
        return self.gateway.recommended_shards

    @recommended_shards.setter
    def recommended_shards(self, count: int) -> None:
        self.gateway.recommended_shards = count

    def set_portal_intents(
        self, *, members: bool = True, presences: bool = True, message_content: bool = True
    ) -> None:
        """The privileged intents switched on in the developer portal."""
        from tests.fakediscord.model import (
            INTENT_GUILD_MEMBERS,
            INTENT_GUILD_PRESENCES,
            INTENT_MESSAGE_CONTENT,
        )

        self.world.portal_intents = (
            (INTENT_GUILD_MEMBERS if members else 0)
            | (INTENT_GUILD_PRESENCES if presences else 0)
            | (INTENT_MESSAGE_CONTENT if message_content else 0)
        )

    def install_commands(
        self, tree_or_payloads: Any, *, guild: Guild | None = None
    ) -> list[Command]:
        """Register commands as if ``qa-bot sync-commands`` had run (no REST call recorded).

        Pass the bot's ``CommandTree`` (its commands are serialised exactly as ``sync`` would)
        or a list of command payloads.
        """
        if hasattr(tree_or_payloads, "_get_all_commands"):
            tree = tree_or_payloads
            target = None
            if guild is not None:
                import discord

                target = discord.Object(id=guild.id)
            payloads = [c.to_dict(tree) for c in tree._get_all_commands(guild=target)]
        else:
            payloads = list(tree_or_payloads)
        return self.world.overwrite_commands(guild.id if guild else None, payloads)

    def commands(self, guild: Guild | None = None) -> list[Command]:
        return self.world.find_commands(guild.id if guild else None)

    # ------------------------------------------------------------------ building the world

    def add_guild(
        self,
        name: str = "Test Guild",
        *,
        owner: str = "owner",
        shard: tuple[int, int] | None = None,
    ) -> Guild:
        """A guild with @everyone, the bot (and its managed role) and an owner member.

        ``shard=(id, count)`` picks a guild id that Discord's formula routes to that shard. A
        guild added while the bot is connected is announced with GUILD_CREATE.
        """
        owner_user = self.world.add_user(owner)
        gid = self.ids.for_shard(*shard) if shard else None
        g = self.world.add_guild(name, owner_id=owner_user.id, guild_id=gid)
        self.world.announce_guild(g)
        return g

    def remove_bot(self, guild: Guild) -> None:
        """The bot is kicked from ``guild``: GUILD_DELETE (no ``unavailable``), and the guild is
        left out of READY and REST until ``readd_bot``."""
        self.world.remove_bot(guild)

    def readd_bot(self, guild: Guild) -> None:
        """The bot is invited back to a guild ``remove_bot`` took it from: GUILD_CREATE."""
        self.world.readd_bot(guild)

    def owner_of(self, guild: Guild) -> Member:
        return Member(self, self.world.users[guild.owner_id], guild)

    def add_role(
        self,
        guild: Guild,
        name: str,
        *,
        perms: object = 0,
        position: int | None = None,
        mentionable: bool = False,
    ) -> Role:
        return self.world.add_role(
            guild, name, permissions=P.to_bits(perms), position=position, mentionable=mentionable
        )

    def add_member(
        self,
        guild: Guild,
        name: str,
        *,
        roles: Iterable[Role] = (),
        perms: object = None,
        nick: str | None = None,
        user: User | Member | None = None,
        bot: bool = False,
    ) -> Member:
        """A member (a new user unless ``user`` is given) with ``roles``; ``perms`` adds a role
        named "<name> perms" granting exactly those permissions."""
        if isinstance(user, Member):
            user = user.user
        u = user or self.world.add_user(name, bot=bot)
        role_ids = [r.id for r in roles]
        if perms is not None:
            role_ids.append(self.add_role(guild, f"{name} perms", perms=perms).id)
        self.world.add_member(guild, u, roles=role_ids, nick=nick)
        return Member(self, u, guild)

    def add_user(self, name: str) -> Member:
        """Someone who shares no guild with the bot (DMs only)."""
        return Member(self, self.world.add_user(name), None)

    def install_app(self, who: Member | User) -> None:
        """``who`` adds the app to their account (a user install): its commands declared for
        user installs reach them in DMs even when they share no server with the bot."""
        self.world.user_installs.add(who.id)

    def member(self, guild: Guild, user_id: int) -> Member:
        self.world.member(guild.id, user_id)
        return Member(self, self.world.users[user_id], guild)

    def set_roles(self, member: Member, roles: Iterable[Role]) -> None:
        if member.guild is None:
            raise ValueError("this member is in no guild")
        self.world.set_member_roles(member.guild, member.id, [r.id for r in roles])

    def time_out(self, member: Member, seconds: float | None) -> float | None:
        """Time ``member`` out for ``seconds`` from the fake's now (None lifts the timeout), as a
        moderator does; returns the end (epoch seconds). GUILD_MEMBER_UPDATE carries it, and so
        does every interaction's ``member.communication_disabled_until``."""
        if member.guild is None:
            raise ValueError("this member is in no guild")
        until = None if seconds is None else self.world.now() + seconds
        self.world.set_timeout(member.guild, member.id, until)
        return until

    def remove_member(self, member: Member) -> None:
        """The member leaves (or is kicked): GUILD_MEMBER_REMOVE (members intent only), and
        GET /guilds/{g}/members/{u} answers 404 10007 Unknown Member from then on."""
        if member.guild is None:
            raise ValueError("this member is in no guild")
        self.world.remove_member(member.guild, member.id)

    def ban(self, member: Member, reason: str | None = None) -> None:
        """A moderator bans ``member`` from their guild: GUILD_BAN_ADD (moderation intent), then
        the member is removed as by ``remove_member``; they cannot be added again until
        ``unban``."""
        if member.guild is None:
            raise ValueError("this member is in no guild")
        self.world.ban_member(member.guild, member.id, reason=reason)

    def unban(self, member: Member) -> None:
        """Lift ``member``'s ban from their guild: GUILD_BAN_REMOVE (moderation intent)."""
        if member.guild is None:
            raise ValueError("this member is in no guild")
        self.world.unban_member(member.guild, member.id)

    def add_text_channel(
        self,
        guild: Guild,
        name: str,
        *,
        category: Channel | None = None,
        topic: str | None = None,
        overwrites: Iterable[JSON] = (),
    ) -> Channel:
        return self.world.add_channel(
            guild, name, type=TEXT, parent=category, topic=topic, overwrites=overwrites
        )

    def add_forum(
        self,
        guild: Guild,
        name: str,
        *,
        tags: Iterable[str] = (),
        require_tag: bool = False,
        category: Channel | None = None,
        overwrites: Iterable[JSON] = (),
    ) -> Channel:
        return self.world.add_channel(
            guild,
            name,
            type=FORUM,
            parent=category,
            tags=tags,
            overwrites=overwrites,
            flags=CHANNEL_FLAG_REQUIRE_TAG if require_tag else 0,
        )

    def add_category(self, guild: Guild, name: str, *, overwrites: Iterable[JSON] = ()) -> Channel:
        return self.world.add_channel(guild, name, type=CATEGORY, overwrites=overwrites)

    @staticmethod
    def overwrite(target: Role | Member | User, *, allow: object = 0, deny: object = 0) -> JSON:
        """A permission overwrite for a role or a member, for ``overwrites=``."""
        kind = 0 if isinstance(target, Role) else 1
        return {
            "id": str(target.id),
            "type": kind,
            "allow": str(P.to_bits(allow)),
            "deny": str(P.to_bits(deny)),
        }

    def edit_channel(self, channel: Channel, **changes: Any) -> Channel:
        """Change a channel as a server admin would (CHANNEL_UPDATE / THREAD_UPDATE)."""
        if channel.is_thread:
            return self.world.update_thread(channel, changes)
        if "available_tags" in changes:
            changes["available_tags"] = [
                t if isinstance(t, dict) else {"name": t} for t in changes["available_tags"]
            ]
        return self.world.update_channel(channel, changes)

    def add_automod_rule(self, guild: Guild, **rule: Any) -> AutoModRule:
        """A KEYWORD rule (``name=``, ``keywords=``, ``regex=``, ``allow=``, ``exempt_roles=``,
        ``exempt_channels=``, ``actions=`` (default: block), ``custom_message=``,
        ``enabled=``); AUTO_MODERATION_RULE_CREATE goes out. ``fake.automod.update(rule, ...)``
        and ``fake.automod.delete(rule)`` send UPDATE and DELETE."""
        return self.automod.add(guild, **rule)

    def build_default_scene(self) -> Self:
        """One guild with #general, a forum "questions" with tags, a Moderator role, an owner."""
        g = self.add_guild("Test Guild")
        self.guild = g
        self.owner = self.owner_of(g)
        self.general = self.add_text_channel(g, "general")
        self.forum = self.add_forum(
            g, "questions", tags=["General", "Anxiety", "Depression", "Relationships"]
        )
        self.moderator_role = self.add_role(
            g, "Moderator", perms=["manage_threads", "manage_messages"]
        )
        return self

    async def bulk_delete(self, channel: Channel, messages: Iterable[Message]) -> None:
        """Another bot (or a moderation tool) deletes messages at once: MESSAGE_DELETE_BULK."""
        self.world.bulk_delete(channel, list(messages))
        await self.flush()

    # ------------------------------------------------------------------ reading state

    def channel(self, channel_id: int) -> Channel:
        return self.world.channel(channel_id)

    def message(self, message_id: int) -> Message:
        return self.world.messages[message_id]

    def messages_in(self, channel: Channel) -> list[Message]:
        """Visible messages of a channel or thread, oldest first (what history returns)."""
        return self.world.history(channel)

    def threads_in(self, parent: Channel) -> list[Channel]:
        return self.world.threads_of(parent)

    def dm_channel(self, member: Member | User) -> Channel:
        user_id = member.id
        return self.world.open_dm(user_id)

    def dms_to(self, member: Member | User) -> list[Message]:
        """Messages in the DM channel between the bot and ``member``."""
        cid = self.world.dm_channels.get(member.id)
        return self.world.history(self.world.channels[cid]) if cid is not None else []

    def permissions_in(self, channel: Channel, who: Member | User) -> int:
        return self.world.permissions_in(channel, who.id)

    # ------------------------------------------------------------------ recorded calls & events

    @property
    def calls(self) -> list[Call]:
        return self.recorder.calls

    @property
    def events(self) -> list[DispatchedEvent]:
        return self.recorder.events

    @property
    def unknown_calls(self) -> list[Call]:
        return self.recorder.unknown_calls

    @property
    def failed_calls(self) -> list[Call]:
        return self.recorder.failed_calls

    def mark(self) -> int:
        """The current number of calls; pass as ``since=`` to look only at later calls."""
        return len(self.recorder.calls)

    def event_mark(self) -> int:
        return len(self.recorder.events)

    def find_calls(
        self,
        method: str | None = None,
        route: str | re.Pattern[str] | None = None,
        *,
        where: Callable[[Call], bool] | None = None,
        since: int = 0,
    ) -> list[Call]:
        return self.recorder.find_calls(method, route, where=where, since=since)

    def find_events(
        self,
        name: str | None = None,
        *,
        where: Callable[[DispatchedEvent], bool] | None = None,
        since: int = 0,
    ) -> list[DispatchedEvent]:
        return self.recorder.find_events(name, where=where, since=since)

    async def wait_for_call(
        self,
        method: str | None,
        route: str | re.Pattern[str] | None = None,
        *,
        where: Callable[[Call], bool] | None = None,
        since: int = 0,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Call:
        """The next matching REST call of the bot (each call is returned once).

        ``route`` is a template ("/channels/{channel_id}/messages"), a glob on the path
        ("/channels/123/*") or a compiled regex; ``method`` "*" or None matches any method.
        """
        return await self.recorder.wait_for_call(
            method, route, where=where, since=since, timeout=timeout
        )

    async def wait_for_event(
        self,
        name: str | None,
        *,
        where: Callable[[DispatchedEvent], bool] | None = None,
        since: int = 0,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> DispatchedEvent:
        """The next matching gateway event the fake sent to a session (each returned once)."""
        return await self.recorder.wait_for_event(name, where=where, since=since, timeout=timeout)

    async def wait_until(
        self,
        check: Callable[[], T | None],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
        what: str = "a condition",
    ) -> T:
        """Re-check ``check`` after every change in the fake until it returns a truthy value."""
        return await self.recorder.signal.wait_for(check, timeout=timeout, describe=lambda: what)

    async def wait_for_message(
        self,
        channel: Channel | None = None,
        *,
        author: Member | User | None = None,
        where: Callable[[Message], bool] | None = None,
        after: Message | int | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Message:
        """The first visible message (by the bot unless ``author``) matching, newer than ``after``.

        ``after`` defaults to "messages sent from now on".
        """
        author_id = author.id if author is not None else self.world.bot.id
        if after is None:
            floor = max(self.world.messages, default=0)
        else:
            floor = after if isinstance(after, int) else after.id

        def check() -> Message | None:
            for mid in sorted(self.world.messages):
                m = self.world.messages[mid]
                if (
                    mid > floor
                    and not m.deleted
                    and m.visible_to is None
                    and m.author_id == author_id
                    and (channel is None or m.channel_id == channel.id)
                    and (where is None or where(m))
                ):
                    return m
            return None

        where_txt = f" in #{channel.name}" if channel is not None else ""
        return await self.wait_until(
            check, timeout=timeout, what=f"a message by {author_id}{where_txt}"
        )

    # ------------------------------------------------------------------ the gateway

    async def wait_for_session(self, shard_id: int = 0, *, timeout: float = 5.0) -> Session:  # noqa: ASYNC109
        """Until the shard has a live session whose READY and GUILD_CREATEs are on the wire."""

        def check() -> Session | None:
            s = self.gateway.current.get(shard_id)
            return s if s is not None and s.conn is not None and not s.invalid else None

        session = await self.wait_until(
            check, timeout=timeout, what=f"a session on shard {shard_id}"
        )
        await self.flush()
        return session

    async def flush(self) -> None:
        """Until every gateway frame queued so far is written to its socket."""
        await self.gateway.flush()

    async def reaction_burst(
        self,
        gestures: Iterable[tuple[Member, Message, str, bool]],
        *,
        timeout: float = 30.0,  # noqa: ASYNC109 - how long the frames may take to be written
    ) -> int:
        """Members' reactions added (True) or removed (False), sent back to back: each gesture
        changes the world and queues its MESSAGE_REACTION_ADD / _REMOVE at once, with no wait
        between them (a popular post in a big server); returns once every frame is written,
        with how many events were sent. As on Discord, adding a reaction the member already
        has, or removing one they do not have, sends nothing. The Discord client's own checks
        (Add Reactions for a new emoji, timeouts) are the caller's: use ``Member.react`` for them.
        """
        world = self.world
        sent = 0
        for member, message, emoji, on in gestures:
            if on:
                sent += world.add_reaction(message, emoji, member.id)
            else:
                sent += world.remove_reaction(message, emoji, member.id)
        await self.gateway.flush(timeout=timeout)
        return sent

    def paused(self) -> Any:
        """``async with fake.paused():`` holds new gateway connections before HELLO."""
        return self.gateway.paused()

    async def drop(self, shard_id: int = 0, *, code: int | None = None) -> None:
        await self.gateway.drop(shard_id, code=code)

    def reconnect(self, shard_id: int = 0) -> None:
        self.gateway.reconnect(shard_id)

    def invalidate_session(self, shard_id: int = 0, *, resumable: bool = False) -> None:
        self.gateway.invalidate(shard_id, resumable=resumable)

    # ------------------------------------------------------------------ teardown checks

    def problems(self) -> Sequence[str]:
        out = [f"unknown route: {c.method} {c.path}" for c in self.unknown_calls]
        out += [f"fake failed on {c.method} {c.path}:\n{c.error}" for c in self.failed_calls]
        return out

    def assert_clean(self) -> None:
        """No unknown route was hit and the fake never failed on a call."""
        problems = self.problems()
        if problems:
            raise AssertionError("fake Discord saw problems:\n" + "\n".join(problems))
