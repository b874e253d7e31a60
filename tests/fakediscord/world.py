"""The fake Discord's world: every state change, and the gateway events it causes.

REST handlers (the bot's actions) and actors (members' gestures) both change state only through
``World``, so what the REST API returns and what the gateway announces always agree. Each
change calls ``emit`` with the event Discord would send; the gateway layer decides which shard
session receives it and applies intents.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from tests.fakediscord import permissions as P
from tests.fakediscord.model import (
    CATEGORY,
    CHANNEL_FLAG_PINNED,
    DM,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    FLAG_SUPPRESS_EMBEDS,
    FORUM,
    INTENT_DIRECT_MESSAGE_REACTIONS,
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MEMBERS,
    INTENT_GUILD_MESSAGE_REACTIONS,
    INTENT_GUILD_MESSAGES,
    INTENT_GUILD_MODERATION,
    INTENT_GUILDS,
    INTENT_MESSAGE_CONTENT,
    IX_APPLICATION_COMMAND,
    IX_AUTOCOMPLETE,
    IX_COMPONENT,
    IX_MODAL_SUBMIT,
    JSON,
    MSG_CHANNEL_PINNED,
    MSG_CHAT_INPUT_COMMAND,
    MSG_CONTEXT_MENU_COMMAND,
    MSG_DEFAULT,
    MSG_REPLY,
    PRIVILEGED_INTENTS,
    PUBLIC_THREAD,
    TEXT,
    Attachment,
    Callback,
    Channel,
    Command,
    ForumTag,
    Guild,
    GuildMember,
    InteractionRecord,
    Message,
    Reaction,
    Role,
    User,
    number_components,
)
from tests.fakediscord.snowflake import Clock, SnowflakeGenerator, iso

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
#: Discord refuses a forum with more tags than this (PATCH /channels/{id} available_tags).
MAX_FORUM_TAGS = 20
_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
_CUSTOM_EMOJI = re.compile(r"^<?(a?):?([A-Za-z0-9_~]+):(\d+)>?$")


class FakeError(Exception):
    """A Discord API error: HTTP status, JSON error code and message."""

    def __init__(self, status: int, code: int, message: str, errors: JSON | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> JSON:
        data: JSON = {"message": self.message, "code": self.code}
        if self.errors is not None:
            data["errors"] = self.errors
        return data


def not_found(kind: str, code: int) -> FakeError:
    return FakeError(404, code, f"Unknown {kind}")


#: An event's data, or a function of the receiving session's intents that builds it.
EventData = JSON | Callable[[int], JSON]


class Emitter(Protocol):
    def __call__(
        self,
        name: str,
        data: EventData,
        *,
        guild_id: int | None,
        intent: int | None,
        content_exempt: bool | None = None,
    ) -> None: ...


def parse_emoji(text: str) -> tuple[str, JSON]:
    """``"👍"``, ``"name:id"``, ``"<:name:id>"`` or ``"<a:name:id>"`` -> (key, emoji payload)."""
    m = _CUSTOM_EMOJI.match(text)
    if m:
        animated, name, eid = m.groups()
        return f"{name}:{eid}", {"id": eid, "name": name, "animated": bool(animated)}
    if not text:
        raise FakeError(400, 10014, "Unknown Emoji")
    return text, {"id": None, "name": text}


def _snowflake_list(values: Iterable[Any]) -> list[int]:
    return [int(v) for v in values]


class World:
    def __init__(self, clock: Clock, ids: SnowflakeGenerator, *, bot_name: str = "qa-bot") -> None:
        self.clock = clock
        self.ids = ids
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        self.commands: list[Command] = []
        self.interactions: dict[int, InteractionRecord] = {}
        self.interactions_by_token: dict[str, InteractionRecord] = {}
        self.files: dict[int, Attachment] = {}
        self.dm_channels: dict[int, int] = {}  # user id -> DM channel with the bot
        # Guilds the bot was removed from (``remove_bot``): absent from READY and REST.
        self.removed_guilds: dict[int, Guild] = {}
        #: Users who installed the app to their account (a user install).
        self.user_installs: set[int] = set()
        self.cdn_base = "http://127.0.0.1"
        self.bot = self._new_user(bot_name, bot=True)
        self.owner = self._new_user("app-owner")
        self.application_id = self.bot.id
        #: Intents switched on in the developer portal (privileged ones need this).
        self.portal_intents = PRIVILEGED_INTENTS
        self.emit: Emitter = _no_emit
        self.on_change: Callable[[], None] = lambda: None

    # ------------------------------------------------------------------ helpers

    def now(self) -> float:
        return self.clock.time()

    def _new_user(self, name: str, *, bot: bool = False, global_name: str | None = None) -> User:
        user = User(id=self.ids.next(), username=name, global_name=global_name, bot=bot)
        self.users[user.id] = user
        return user

    def changed(self) -> None:
        self.on_change()

    @property
    def message_content_enabled(self) -> bool:
        return bool(self.portal_intents & INTENT_MESSAGE_CONTENT)

    # ------------------------------------------------------------------ lookups

    def user(self, user_id: int) -> User:
        try:
            return self.users[int(user_id)]
        except (KeyError, ValueError):
            raise not_found("User", 10013) from None

    def guild(self, guild_id: int) -> Guild:
        try:
            return self.guilds[int(guild_id)]
        except (KeyError, ValueError):
            raise not_found("Guild", 10004) from None

    def channel(self, channel_id: int) -> Channel:
        try:
            ch = self.channels[int(channel_id)]
        except (KeyError, ValueError):
            raise not_found("Channel", 10003) from None
        if ch.deleted:
            raise not_found("Channel", 10003)
        return ch

    def message(self, channel_id: int, message_id: int) -> Message:
        try:
            msg = self.messages[int(message_id)]
        except (KeyError, ValueError):
            raise not_found("Message", 10008) from None
        if msg.deleted or msg.channel_id != int(channel_id) or msg.visible_to is not None:
            raise not_found("Message", 10008)
        return msg

    def member(self, guild_id: int, user_id: int) -> GuildMember:
        g = self.guild(guild_id)
        try:
            return g.members[int(user_id)]
        except (KeyError, ValueError):
            raise not_found("Member", 10007) from None

    def role(self, guild_id: int, role_id: int) -> Role:
        g = self.guild(guild_id)
        try:
            return g.roles[int(role_id)]
        except (KeyError, ValueError):
            raise not_found("Role", 10011) from None

    def history(self, channel: Channel) -> list[Message]:
        """Visible messages of a channel, oldest first (ephemeral and deleted ones left out)."""
        out = []
        for mid in channel.message_ids:
            m = self.messages[mid]
            if not m.deleted and m.visible_to is None:
                out.append(m)
        return out

    def last_post_time(self, channel: Channel, user_id: int) -> float | None:
        """When the user last posted where ``channel``'s slowmode counts: their newest post
        (thread) in a forum, else their newest message (deleted ones too); None if none."""
        if channel.is_forum:
            times = [
                t.create_timestamp or t.archive_timestamp
                for t in self.threads_of(channel)
                if t.owner_id == user_id
            ]
        else:
            times = [
                self.messages[m].timestamp
                for m in channel.message_ids
                if self.messages[m].author_id == user_id
            ]
        return max(times, default=None)

    def threads_of(self, parent: Channel) -> list[Channel]:
        return [
            c
            for c in self.channels.values()
            if c.is_thread and c.parent_id == parent.id and not c.deleted
        ]

    def shard_of(self, guild_id: int | None, shard_count: int) -> int:
        if guild_id is None:
            return 0
        return (guild_id >> 22) % shard_count

    # ------------------------------------------------------------------ permissions

    def base_permissions(self, guild: Guild, user_id: int) -> int:
        gm = guild.members.get(user_id)
        if gm is None:
            return 0
        everyone = guild.roles[guild.id].permissions
        return P.compute_base(
            everyone=everyone,
            role_perms=[guild.roles[r].permissions for r in gm.roles if r in guild.roles],
            is_owner=guild.owner_id == user_id,
        )

    def permissions_in(self, channel: Channel, user_id: int) -> int:
        if channel.guild_id is None:
            return (
                P.VIEW_CHANNEL
                | P.SEND_MESSAGES
                | P.READ_MESSAGE_HISTORY
                | P.ADD_REACTIONS
                | P.EMBED_LINKS
                | P.ATTACH_FILES
                | P.USE_EXTERNAL_EMOJIS
                | P.USE_APPLICATION_COMMANDS
            )
        guild = self.guild(channel.guild_id)
        base = self.base_permissions(guild, user_id)
        target = channel
        if channel.is_thread and channel.parent_id is not None:
            target = self.channels[channel.parent_id]
        overwrites = list(target.overwrites)
        # A channel in a category without its own overwrites is "synced" with the category.
        if not overwrites and target.parent_id is not None and not target.is_thread:
            parent = self.channels.get(target.parent_id)
            if parent is not None and parent.type == CATEGORY:
                overwrites = list(parent.overwrites)
        gm = guild.members.get(user_id)
        bits = P.apply_overwrites(
            base,
            guild_id=guild.id,
            member_id=user_id,
            member_roles=gm.roles if gm else [],
            overwrites=overwrites,
        )
        if base != P.ALL and self.timed_out(guild, user_id):
            # Timed out: every permission but View Channel and Read Message History is lost
            # (owners and Administrators are exempt).
            bits &= P.VIEW_CHANNEL | P.READ_MESSAGE_HISTORY
        return bits

    def timed_out(self, guild: Guild, user_id: int) -> bool:
        """Whether the member's timeout has not ended yet."""
        gm = guild.members.get(user_id)
        until = gm.communication_disabled_until if gm is not None else None
        return until is not None and until > self.now()

    # ------------------------------------------------------------------ payloads

    def user_payload(self, user_id: int) -> JSON:
        return self.user(user_id).payload()

    def member_payload(
        self,
        guild_id: int,
        user_id: int,
        *,
        with_user: bool = True,
        permissions_in: Channel | None = None,
    ) -> JSON:
        gm = self.member(guild_id, user_id)
        data: JSON = {
            "nick": gm.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(r) for r in gm.roles],
            "joined_at": iso(gm.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": (
                iso(gm.communication_disabled_until)
                if gm.communication_disabled_until is not None
                else None
            ),
            "avatar_decoration_data": None,
        }
        if with_user:
            data["user"] = self.user_payload(user_id)
        if permissions_in is not None:
            data["permissions"] = str(self.permissions_in(permissions_in, user_id))
        return data

    def thread_member_payload(self, thread: Channel, user_id: int) -> JSON:
        return {
            "id": str(thread.id),
            "user_id": str(user_id),
            "join_timestamp": iso(thread.members.get(user_id, self.now())),
            "flags": 0,
        }

    def channel_payload(self, ch: Channel, *, for_user: int | None = None) -> JSON:
        data: JSON
        if ch.type == DM:
            return {
                "id": str(ch.id),
                "type": DM,
                "last_message_id": _opt_id(ch.last_message_id),
                "recipients": [self.user_payload(u) for u in ch.recipient_ids],
                "flags": 0,
            }
        if ch.is_thread:
            data = {
                "id": str(ch.id),
                "type": ch.type,
                "guild_id": str(ch.guild_id),
                "parent_id": str(ch.parent_id),
                "owner_id": str(ch.owner_id),
                "name": ch.name,
                "last_message_id": _opt_id(ch.last_message_id),
                "last_pin_timestamp": iso(ch.last_pin_timestamp) if ch.last_pin_timestamp else None,
                "rate_limit_per_user": ch.rate_limit_per_user,
                "message_count": ch.message_count,
                "member_count": min(len(ch.members), 50),
                "total_message_sent": ch.total_message_sent,
                "flags": ch.flags,
                "applied_tags": [str(t) for t in ch.applied_tags],
                "thread_metadata": {
                    "archived": ch.archived,
                    "auto_archive_duration": ch.auto_archive_duration,
                    "archive_timestamp": iso(ch.archive_timestamp),
                    "locked": ch.locked,
                    "create_timestamp": iso(ch.create_timestamp or ch.archive_timestamp),
                },
            }
            if ch.type != PUBLIC_THREAD:
                data["thread_metadata"]["invitable"] = ch.invitable
            if for_user is not None and for_user in ch.members:
                data["member"] = self.thread_member_payload(ch, for_user)
            return data
        data = {
            "id": str(ch.id),
            "type": ch.type,
            "guild_id": str(ch.guild_id),
            "name": ch.name,
            "position": ch.position,
            "permission_overwrites": [dict(o) for o in ch.overwrites],
            "parent_id": _opt_id(ch.parent_id),
            "nsfw": ch.nsfw,
            "flags": ch.flags,
        }
        if ch.type != CATEGORY:
            data.update(
                {
                    "topic": ch.topic,
                    "last_message_id": _opt_id(ch.last_message_id),
                    "rate_limit_per_user": ch.rate_limit_per_user,
                    "default_auto_archive_duration": ch.default_auto_archive_duration,
                    "default_thread_rate_limit_per_user": ch.default_thread_rate_limit_per_user,
                }
            )
        if ch.type == FORUM:
            data.update(
                {
                    "available_tags": [t.payload() for t in ch.available_tags],
                    "default_reaction_emoji": None,
                    "default_sort_order": None,
                    "default_forum_layout": 0,
                }
            )
        return data

    def guild_payload(self, g: Guild) -> JSON:
        return {
            "id": str(g.id),
            "name": g.name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(g.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [r.payload() for r in g.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": list(g.features),
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": str(g.rules_channel_id) if g.rules_channel_id else None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "max_members": 500000,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": g.locale,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
        }

    def guild_create_payload(self, g: Guild, *, intents: int, joined: bool = False) -> JSON:
        """GUILD_CREATE: ``joined`` (the bot was just added) carries no ``unavailable`` key,
        which is how discord.py tells ``on_guild_join`` from ``on_guild_available``."""
        data = self.guild_payload(g)
        if intents & INTENT_GUILD_MEMBERS:
            member_ids = list(g.members)
        else:
            member_ids = [self.bot.id] if self.bot.id in g.members else []
        channels = [self.channels[c] for c in g.channel_ids]
        data.update(
            {
                "joined_at": iso(g.joined_at),
                "large": False,
                "unavailable": False,
                "member_count": len(g.members),
                "voice_states": [],
                "members": [self.member_payload(g.id, u) for u in member_ids],
                "channels": [self._guild_create_channel(c) for c in channels if not c.deleted],
                "threads": [
                    self.channel_payload(t, for_user=self.bot.id)
                    for t in self.channels.values()
                    if t.is_thread and t.guild_id == g.id and not t.archived and not t.deleted
                ],
                "presences": [],
                "stage_instances": [],
                "guild_scheduled_events": [],
                "soundboard_sounds": [],
            }
        )
        if joined:
            del data["unavailable"]
        return data

    def _guild_create_channel(self, ch: Channel) -> JSON:
        data = self.channel_payload(ch)
        data.pop("guild_id", None)
        return data

    def message_payload(self, msg: Message, *, gateway: bool = False) -> JSON:
        author = self.user(msg.author_id)
        data: JSON = {
            "id": str(msg.id),
            "channel_id": str(msg.channel_id),
            "type": msg.type,
            "content": msg.content,
            "author": author.payload(),
            "attachments": [a.payload(ephemeral=msg.ephemeral) for a in msg.attachments],
            "embeds": [dict(e) for e in msg.embeds],
            "components": [dict(c) for c in msg.components],
            "mentions": [self._mention_payload(msg, u) for u in msg.mentions],
            "mention_roles": [str(r) for r in msg.mention_roles],
            "mention_everyone": msg.mention_everyone,
            "pinned": msg.pinned,
            "tts": msg.tts,
            "timestamp": iso(msg.timestamp),
            "edited_timestamp": iso(msg.edited_timestamp) if msg.edited_timestamp else None,
            "flags": msg.flags,
        }
        if msg.reactions:
            data["reactions"] = [
                {
                    "emoji": dict(r.emoji),
                    "count": len(r.user_ids) + len(r.burst_user_ids),
                    "count_details": {"burst": len(r.burst_user_ids), "normal": len(r.user_ids)},
                    "me": self.bot.id in r.user_ids,
                    "me_burst": self.bot.id in r.burst_user_ids,
                    "burst_colors": ["#ff0000"] if r.burst_user_ids else [],
                }
                for r in msg.reactions.values()
                if r.user_ids or r.burst_user_ids
            ]
        if msg.nonce is not None:
            data["nonce"] = msg.nonce
        if msg.webhook_id is not None:
            data["webhook_id"] = str(msg.webhook_id)
        if msg.application_id is not None:
            data["application_id"] = str(msg.application_id)
        if msg.interaction_metadata is not None:
            data["interaction_metadata"] = dict(msg.interaction_metadata)
        if msg.interaction_legacy is not None:
            data["interaction"] = dict(msg.interaction_legacy)
        if msg.position is not None:
            data["position"] = msg.position
        if msg.poll is not None:
            data["poll"] = dict(msg.poll)
        if msg.reference is not None:
            data["message_reference"] = dict(msg.reference)
            ref_id = msg.reference.get("message_id")
            if msg.type == MSG_REPLY and ref_id is not None:
                ref = self.messages.get(int(ref_id))
                data["referenced_message"] = (
                    None if ref is None or ref.deleted else self.message_payload(ref)
                )
        if msg.thread_id is not None and msg.thread_id != msg.channel_id:
            thread = self.channels.get(msg.thread_id)
            if thread is not None and not thread.deleted:
                data["thread"] = self.channel_payload(thread)
        if gateway and msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
            if msg.webhook_id is None or msg.interaction_id is not None:
                g = self.guilds.get(msg.guild_id)
                if g is not None and msg.author_id in g.members:
                    data["member"] = self.member_payload(
                        msg.guild_id, msg.author_id, with_user=False
                    )
        return data

    def _mention_payload(self, msg: Message, user_id: int) -> JSON:
        data = self.user_payload(user_id)
        if msg.guild_id is not None and user_id in self.guild(msg.guild_id).members:
            data["member"] = self.member_payload(msg.guild_id, user_id, with_user=False)
        return data

    def interaction_message_payload(self, msg: Message) -> JSON:
        """A message as embedded in an interaction (``message`` / ``resolved.messages``)."""
        data = self.message_payload(msg)
        if msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
        return data

    def content_exempt(self, msg: Message) -> bool:
        """Fields that carry content reach an app without the intent only in these cases."""
        return (
            msg.guild_id is None
            or msg.author_id == self.bot.id
            or self.bot.id in msg.mentions
            or msg.interaction_id is not None
        )

    def rest_message_payload(self, msg: Message) -> JSON:
        data = self.message_payload(msg)
        if not self.message_content_enabled and not self.content_exempt(msg):
            data.update(content="", embeds=[], attachments=[], components=[])
            data.pop("poll", None)
        return data

    # ------------------------------------------------------------------ guild set-up

    def add_guild(self, name: str, *, owner_id: int, guild_id: int | None = None) -> Guild:
        gid = guild_id if guild_id is not None else self.ids.next()
        g = Guild(id=gid, name=name, owner_id=owner_id, joined_at=self.now())
        g.roles[gid] = Role(id=gid, guild_id=gid, name="@everyone", permissions=P.DEFAULT_EVERYONE)
        self.guilds[gid] = g
        g.members[owner_id] = GuildMember(owner_id, gid, [], self.now())
        self._add_bot_member(g)
        return g

    def _add_bot_member(self, g: Guild) -> None:
        """The bot joins ``g`` with its managed role (Discord creates the role on each join)."""
        bot_role = Role(
            id=self.ids.next(),
            guild_id=g.id,
            name=self.bot.username,
            permissions=P.DEFAULT_BOT,
            position=1,
            managed=True,
            bot_id=self.bot.id,
        )
        g.roles[bot_role.id] = bot_role
        g.members[self.bot.id] = GuildMember(self.bot.id, g.id, [bot_role.id], self.now())
        g.joined_at = self.now()

    def remove_bot(self, g: Guild) -> None:
        """The bot is kicked from ``g`` (or ``g`` is deleted): GUILD_DELETE carrying only the
        id, no ``unavailable`` key, which is how Discord tells a removal from an outage
        (discord.py: ``on_guild_remove``); the bot's managed role goes with it. The guild is then
        unknown to the bot's REST calls (404 10004) and missing from its READY until
        ``readd_bot``."""
        self.emit("GUILD_DELETE", {"id": str(g.id)}, guild_id=g.id, intent=INTENT_GUILDS)
        del self.guilds[g.id]
        self.removed_guilds[g.id] = g
        del g.members[self.bot.id]
        for role_id in [r.id for r in g.roles.values() if r.bot_id == self.bot.id]:
            del g.roles[role_id]
        self.changed()

    def readd_bot(self, g: Guild) -> None:
        """The bot is invited back to ``g``: a new managed role, GUILD_CREATE as for a join."""
        del self.removed_guilds[g.id]
        self.guilds[g.id] = g
        self._add_bot_member(g)
        self.announce_guild(g)

    def announce_guild(self, g: Guild) -> None:
        """GUILD_CREATE for a guild the bot joined while connected."""
        self.emit(
            "GUILD_CREATE",
            lambda intents: self.guild_create_payload(g, intents=intents, joined=True),
            guild_id=g.id,
            intent=INTENT_GUILDS,
        )
        self.changed()

    def add_role(
        self,
        guild: Guild,
        name: str,
        *,
        permissions: int = 0,
        position: int | None = None,
        mentionable: bool = False,
    ) -> Role:
        top = max(r.position for r in guild.roles.values())
        pos = position if position is not None else top + 1
        role = Role(
            id=self.ids.next(),
            guild_id=guild.id,
            name=name,
            permissions=permissions,
            position=pos,
            mentionable=mentionable,
        )
        guild.roles[role.id] = role
        self.emit(
            "GUILD_ROLE_CREATE",
            {"guild_id": str(guild.id), "role": role.payload()},
            guild_id=guild.id,
            intent=INTENT_GUILDS,
        )
        self.changed()
        return role

    def update_role(self, role: Role, **changes: Any) -> Role:
        for key, value in changes.items():
            if not hasattr(role, key):
                raise TypeError(f"roles have no field {key!r}")
            setattr(role, key, value)
        self.emit(
            "GUILD_ROLE_UPDATE",
            {"guild_id": str(role.guild_id), "role": role.payload()},
            guild_id=role.guild_id,
            intent=INTENT_GUILDS,
        )
        self.changed()
        return role

    def add_user(self, name: str, *, bot: bool = False, global_name: str | None = None) -> User:
        return self._new_user(name, bot=bot, global_name=global_name)

    def shares_guild_with_bot(self, user_id: int) -> bool:
        """Whether the user and the bot are members of one guild (a guild install reaches them)."""
        return any(user_id in g.members and self.bot.id in g.members for g in self.guilds.values())

    def add_member(
        self, guild: Guild, user: User, *, roles: Iterable[int] = (), nick: str | None = None
    ) -> GuildMember:
        if user.id in guild.bans:
            raise ValueError(f"{user.username} is banned from {guild.name}: unban them first")
        gm = GuildMember(user.id, guild.id, list(roles), self.now(), nick=nick)
        guild.members[user.id] = gm
        data = self.member_payload(guild.id, user.id)
        data["guild_id"] = str(guild.id)
        self.emit("GUILD_MEMBER_ADD", data, guild_id=guild.id, intent=INTENT_GUILD_MEMBERS)
        self.changed()
        return gm

    def set_member_roles(self, guild: Guild, user_id: int, roles: Iterable[int]) -> GuildMember:
        gm = self.member(guild.id, user_id)
        gm.roles = [int(r) for r in roles]
        self._member_update(guild, gm)
        return gm

    def set_timeout(self, guild: Guild, user_id: int, until: float | None) -> GuildMember:
        """Time a member out until ``until`` (epoch seconds; None lifts it): GUILD_MEMBER_UPDATE
        with ``communication_disabled_until``."""
        gm = self.member(guild.id, user_id)
        gm.communication_disabled_until = until
        self._member_update(guild, gm)
        return gm

    def _member_update(self, guild: Guild, gm: GuildMember) -> None:
        data = self.member_payload(guild.id, gm.user_id)
        data["guild_id"] = str(guild.id)
        self.emit("GUILD_MEMBER_UPDATE", data, guild_id=guild.id, intent=INTENT_GUILD_MEMBERS)
        self.changed()

    def remove_member(self, guild: Guild, user_id: int) -> None:
        self.member(guild.id, user_id)
        self._drop_member(guild, user_id)

    def ban_member(self, guild: Guild, user_id: int, *, reason: str | None = None) -> None:
        """As Discord does: the ban is recorded, GUILD_BAN_ADD goes to apps with the moderation
        intent, then the member (if they were one) is removed: GUILD_MEMBER_REMOVE, members
        intent only. discord.py expects the ban before the removal (``parse_guild_ban_add``)."""
        self.user(user_id)
        guild.bans[user_id] = reason
        self.emit(
            "GUILD_BAN_ADD",
            {"guild_id": str(guild.id), "user": self.user_payload(user_id)},
            guild_id=guild.id,
            intent=INTENT_GUILD_MODERATION,
        )
        if user_id in guild.members:
            self._drop_member(guild, user_id)
        else:
            self.changed()

    def unban_member(self, guild: Guild, user_id: int) -> None:
        """Lift a ban: GUILD_BAN_REMOVE (moderation intent); the user may be added again."""
        if user_id not in guild.bans:
            raise not_found("Ban", 10026)
        del guild.bans[user_id]
        self.emit(
            "GUILD_BAN_REMOVE",
            {"guild_id": str(guild.id), "user": self.user_payload(user_id)},
            guild_id=guild.id,
            intent=INTENT_GUILD_MODERATION,
        )
        self.changed()

    def _drop_member(self, guild: Guild, user_id: int) -> None:
        del guild.members[user_id]
        self.emit(
            "GUILD_MEMBER_REMOVE",
            {"guild_id": str(guild.id), "user": self.user_payload(user_id)},
            guild_id=guild.id,
            intent=INTENT_GUILD_MEMBERS,
        )
        self.changed()

    def add_channel(
        self,
        guild: Guild,
        name: str,
        *,
        type: int = TEXT,
        parent: Channel | None = None,
        topic: str | None = None,
        tags: Iterable[str | ForumTag] = (),
        overwrites: Iterable[JSON] = (),
        flags: int = 0,
    ) -> Channel:
        ch = Channel(
            id=self.ids.next(),
            type=type,
            guild_id=guild.id,
            name=name,
            position=len(guild.channel_ids),
            parent_id=parent.id if parent else None,
            topic=topic,
            overwrites=[dict(o) for o in overwrites],
            flags=flags,
        )
        for t in tags:
            ch.available_tags.append(
                t if isinstance(t, ForumTag) else ForumTag(id=self.ids.next(), name=t)
            )
        self.channels[ch.id] = ch
        guild.channel_ids.append(ch.id)
        self.emit(
            "CHANNEL_CREATE", self.channel_payload(ch), guild_id=guild.id, intent=INTENT_GUILDS
        )
        self.changed()
        return ch

    def update_channel(self, ch: Channel, body: JSON) -> Channel:
        """PATCH /channels/{id} on a guild channel (not a thread)."""
        simple = (
            "name",
            "topic",
            "nsfw",
            "rate_limit_per_user",
            "default_thread_rate_limit_per_user",
            "position",
        )
        for key in simple:
            if key in body:
                setattr(ch, key, body[key])
        if "flags" in body:
            ch.flags = int(body["flags"])
        if "parent_id" in body:
            ch.parent_id = int(body["parent_id"]) if body["parent_id"] else None
        if "default_auto_archive_duration" in body:
            ch.default_auto_archive_duration = int(body["default_auto_archive_duration"])
        if "permission_overwrites" in body:
            ch.overwrites = [
                {
                    "id": str(o["id"]),
                    "type": int(o["type"]),
                    "allow": str(o.get("allow", "0")),
                    "deny": str(o.get("deny", "0")),
                }
                for o in body["permission_overwrites"]
            ]
        if "available_tags" in body:
            if not ch.is_forum:
                raise FakeError(400, 50035, "Invalid Form Body: available_tags needs a forum")
            if len(body["available_tags"]) > MAX_FORUM_TAGS:
                raise FakeError(
                    400, 50035, "Invalid Form Body: available_tags: Must be 20 or fewer"
                )
            tags = []
            for t in body["available_tags"]:
                tid = int(t["id"]) if t.get("id") else self.ids.next()
                tags.append(
                    ForumTag(
                        id=tid,
                        name=t["name"],
                        moderated=bool(t.get("moderated", False)),
                        emoji_id=int(t["emoji_id"]) if t.get("emoji_id") else None,
                        emoji_name=t.get("emoji_name"),
                    )
                )
            ch.available_tags = tags
        self.emit(
            "CHANNEL_UPDATE", self.channel_payload(ch), guild_id=ch.guild_id, intent=INTENT_GUILDS
        )
        self.changed()
        return ch

    def delete_channel(self, ch: Channel) -> JSON:
        payload = self.channel_payload(ch)
        if ch.is_thread:
            self.delete_thread(ch)
            return payload
        ch.deleted = True
        for t in self.threads_of(ch):
            t.deleted = True
        self.emit("CHANNEL_DELETE", payload, guild_id=ch.guild_id, intent=INTENT_GUILDS)
        self.changed()
        return payload

    def open_dm(self, user_id: int) -> Channel:
        """The bot's DM channel with a user (created on first use)."""
        existing = self.dm_channels.get(user_id)
        if existing is not None:
            return self.channels[existing]
        self.user(user_id)
        ch = Channel(id=self.ids.next(), type=DM, recipient_ids=[user_id])
        self.channels[ch.id] = ch
        self.dm_channels[user_id] = ch.id
        self.changed()
        return ch

    # ------------------------------------------------------------------ threads

    def create_thread(
        self,
        parent: Channel,
        *,
        name: str,
        owner_id: int,
        applied_tags: Iterable[int] = (),
        auto_archive_duration: int | None = None,
        type: int = PUBLIC_THREAD,
        thread_id: int | None = None,
        rate_limit_per_user: int | None = None,
        invitable: bool = True,
    ) -> Channel:
        """A thread; its slowmode is ``rate_limit_per_user``, by default the parent's
        ``default_thread_rate_limit_per_user`` (copied now, not kept in step, as on Discord)."""
        now = self.now()
        if rate_limit_per_user is None:
            rate_limit_per_user = parent.default_thread_rate_limit_per_user
        tags = _snowflake_list(applied_tags)
        if parent.is_forum:
            known = {t.id for t in parent.available_tags}
            unknown = [t for t in tags if t not in known]
            if unknown:
                raise FakeError(400, 50035, f"Invalid Form Body: unknown tags {unknown}")
        thread = Channel(
            id=thread_id if thread_id is not None else self.ids.next(),
            type=type,
            guild_id=parent.guild_id,
            name=name,
            parent_id=parent.id,
            owner_id=owner_id,
            applied_tags=tags,
            auto_archive_duration=auto_archive_duration or parent.default_auto_archive_duration,
            archive_timestamp=now,
            create_timestamp=now,
            rate_limit_per_user=rate_limit_per_user,
            invitable=invitable,
        )
        thread.members[owner_id] = now
        self.channels[thread.id] = thread
        parent.last_message_id = thread.id if parent.is_forum else parent.last_message_id
        data = self.channel_payload(thread, for_user=self.bot.id)
        data["newly_created"] = True
        self.emit("THREAD_CREATE", data, guild_id=thread.guild_id, intent=INTENT_GUILDS)
        self.changed()
        return thread

    def update_thread(self, thread: Channel, body: JSON, *, by: int | None = None) -> Channel:
        """PATCH /channels/{thread}: name, archived, locked, applied_tags, flags, ..."""
        if "name" in body:
            thread.name = str(body["name"])
        if "locked" in body:
            thread.locked = bool(body["locked"])
        if "archived" in body and bool(body["archived"]) != thread.archived:
            thread.archived = bool(body["archived"])
            thread.archive_timestamp = self.now()
        if "auto_archive_duration" in body:
            thread.auto_archive_duration = int(body["auto_archive_duration"])
        if "rate_limit_per_user" in body:
            thread.rate_limit_per_user = int(body["rate_limit_per_user"])
        if "invitable" in body:
            thread.invitable = bool(body["invitable"])
        if "flags" in body:
            thread.flags = int(body["flags"]) & CHANNEL_FLAG_PINNED
        if "applied_tags" in body:
            tags = _snowflake_list(body["applied_tags"] or [])
            parent = self.channels.get(thread.parent_id or 0)
            if parent is not None and parent.is_forum:
                known = {t.id for t in parent.available_tags}
                unknown = [t for t in tags if t not in known]
                if unknown:
                    raise FakeError(400, 50035, f"Invalid Form Body: unknown tags {unknown}")
            thread.applied_tags = tags
        self._thread_update(thread)
        return thread

    def _thread_update(self, thread: Channel) -> None:
        self.emit(
            "THREAD_UPDATE",
            self.channel_payload(thread, for_user=self.bot.id),
            guild_id=thread.guild_id,
            intent=INTENT_GUILDS,
        )
        self.changed()

    def delete_thread(self, thread: Channel) -> None:
        thread.deleted = True
        self.emit(
            "THREAD_DELETE",
            {
                "id": str(thread.id),
                "guild_id": str(thread.guild_id),
                "parent_id": str(thread.parent_id),
                "type": thread.type,
            },
            guild_id=thread.guild_id,
            intent=INTENT_GUILDS,
        )
        self.changed()

    def join_thread(self, thread: Channel, user_id: int) -> None:
        if user_id in thread.members:
            return
        thread.members[user_id] = self.now()
        self.emit(
            "THREAD_MEMBERS_UPDATE",
            {
                "id": str(thread.id),
                "guild_id": str(thread.guild_id),
                "member_count": min(len(thread.members), 50),
                "added_members": [self.thread_member_payload(thread, user_id)],
            },
            guild_id=thread.guild_id,
            intent=INTENT_GUILDS,
        )
        self.changed()

    def leave_thread(self, thread: Channel, user_id: int) -> None:
        if thread.members.pop(user_id, None) is None:
            return
        self.emit(
            "THREAD_MEMBERS_UPDATE",
            {
                "id": str(thread.id),
                "guild_id": str(thread.guild_id),
                "member_count": min(len(thread.members), 50),
                "removed_member_ids": [str(user_id)],
            },
            guild_id=thread.guild_id,
            intent=INTENT_GUILDS,
        )
        self.changed()

    # ------------------------------------------------------------------ messages

    def store_file(
        self,
        channel_id: int,
        filename: str,
        data: bytes,
        content_type: str | None,
        description: str | None = None,
    ) -> Attachment:
        aid = self.ids.next()
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename) or "file"
        att = Attachment(
            id=aid,
            filename=filename,
            data=data,
            content_type=content_type,
            url=f"{self.cdn_base}/attachments/{channel_id}/{aid}/{safe}",
            description=description,
        )
        self.files[aid] = att
        return att

    def _mentions(
        self,
        channel: Channel,
        author_id: int,
        content: str,
        allowed: JSON | None,
        reply_to: Message | None,
    ) -> tuple[list[int], list[int], bool]:
        users = [int(u) for u in _USER_MENTION.findall(content)]
        roles = [int(r) for r in _ROLE_MENTION.findall(content)]
        everyone = "@everyone" in content or "@here" in content
        author_is_bot = author_id == self.bot.id
        if allowed is not None:
            parse = set(allowed.get("parse", []))
            allowed_users = {int(u) for u in allowed.get("users", [])}
            allowed_roles = {int(r) for r in allowed.get("roles", [])}
            users = [u for u in users if "users" in parse or u in allowed_users]
            roles = [r for r in roles if "roles" in parse or r in allowed_roles]
            everyone = everyone and "everyone" in parse
            replied = allowed.get("replied_user", not author_is_bot)
        else:
            replied = True
        if reply_to is not None and replied and reply_to.author_id not in users:
            users.append(reply_to.author_id)
        if channel.guild_id is not None:
            g = self.guild(channel.guild_id)
            roles = [r for r in roles if r in g.roles]
            if everyone and not self.permissions_in(channel, author_id) & P.MENTION_EVERYONE:
                everyone = False
        users = [u for u in dict.fromkeys(users) if u in self.users]
        return users, roles, everyone

    def attachments_from_body(
        self,
        channel_id: int,
        body: JSON,
        files: list[tuple[str, bytes, str | None]],
        existing: list[Attachment] | None = None,
    ) -> list[Attachment] | None:
        """``attachments`` refer to uploaded ``files[n]`` by index or keep existing ids."""
        spec = body.get("attachments")
        if spec is None:
            if not files:
                return None
            return [self.store_file(channel_id, n, d, ct) for n, d, ct in files]
        out: list[Attachment] = []
        kept = {a.id: a for a in existing or []}
        for item in spec:
            ident = int(item["id"])
            if ident in kept:
                out.append(kept[ident])
            elif 0 <= ident < len(files):
                name, data, ct = files[ident]
                out.append(
                    self.store_file(
                        channel_id, item.get("filename") or name, data, ct, item.get("description")
                    )
                )
            else:
                raise FakeError(400, 50035, f"Invalid Form Body: attachment {ident} not uploaded")
        return out

    def post_message(
        self,
        channel: Channel,
        author_id: int,
        body: JSON,
        *,
        files: list[tuple[str, bytes, str | None]] | None = None,
        type: int | None = None,
        message_id: int | None = None,
        webhook_id: int | None = None,
        application_id: int | None = None,
        interaction: InteractionRecord | None = None,
        visible_to: int | None = None,
        extra_flags: int = 0,
        allow_empty: bool = False,
    ) -> Message:
        """Create a message from a REST-shaped body; announce it unless it is ephemeral."""
        if not channel.is_messageable:
            raise FakeError(400, 50008, "Cannot send messages in a non-text channel")
        content = body.get("content") or ""
        embeds = list(body.get("embeds") or [])
        components = list(body.get("components") or [])
        flags = int(body.get("flags") or 0) | extra_flags
        atts = self.attachments_from_body(channel.id, body, files or []) or []
        poll = body.get("poll")
        if (
            not allow_empty
            and not content
            and not embeds
            and not components
            and not atts
            and not body.get("sticker_ids")
            and not poll
        ):
            raise FakeError(400, 50006, "Cannot send an empty message")
        reference = body.get("message_reference")
        reply_to: Message | None = None
        msg_type = type if type is not None else MSG_DEFAULT
        if reference:
            ref_channel = int(reference.get("channel_id") or channel.id)
            ref_id = int(reference["message_id"])
            try:
                reply_to = self.message(ref_channel, ref_id)
            except FakeError:
                if reference.get("fail_if_not_exists", True):
                    raise FakeError(
                        400, 50035, "Invalid Form Body: message_reference: Unknown message"
                    ) from None
                reference = None
            if reference is not None and int(reference.get("type", 0)) == 0:
                msg_type = MSG_REPLY if type is None else type
                reference = {
                    "type": 0,
                    "message_id": str(ref_id),
                    "channel_id": str(ref_channel),
                    **({"guild_id": str(channel.guild_id)} if channel.guild_id else {}),
                }
            elif reference is not None:
                reply_to = None
        if channel.is_thread:
            self._unarchive_for_message(channel, author_id)
        allowed = body.get("allowed_mentions")
        users, roles, everyone = self._mentions(channel, author_id, content, allowed, reply_to)
        mid = message_id if message_id is not None else self.ids.next()
        msg = Message(
            id=mid,
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author_id=author_id,
            timestamp=self.now(),
            content=content,
            embeds=embeds,
            components=components,
            attachments=atts,
            type=msg_type,
            flags=flags,
            tts=bool(body.get("tts", False)),
            nonce=body.get("nonce"),
            reference=reference,
            webhook_id=webhook_id,
            application_id=application_id,
            mentions=users,
            mention_roles=roles,
            mention_everyone=everyone,
            allowed_mentions=allowed,
            visible_to=visible_to,
            poll=poll,
        )
        if interaction is not None:
            self._attach_interaction(msg, interaction)
        self.messages[msg.id] = msg
        if visible_to is None:
            channel.message_ids.append(msg.id)
            channel.last_message_id = msg.id
            if channel.is_thread:
                msg.position = channel.total_message_sent
                if msg.id != channel.id:
                    channel.message_count += 1
                channel.total_message_sent += 1
            self._emit_message("MESSAGE_CREATE", msg)
        self.changed()
        return msg

    def _attach_interaction(self, msg: Message, ix: InteractionRecord) -> None:
        msg.interaction_id = ix.id
        user = self.user_payload(ix.user_id)
        owners = {"0": str(ix.guild_id)} if ix.guild_id else {"1": str(ix.user_id)}
        meta: JSON = {
            "id": str(ix.id),
            "type": ix.type,
            "user": user,
            "authorizing_integration_owners": owners,
        }
        if ix.type == IX_APPLICATION_COMMAND:
            meta["name"] = ix.data.get("name", "")
            meta["command_type"] = ix.data.get("type", 1)
            if ix.data.get("type") == 3:
                meta["target_message_id"] = str(ix.data["target_id"])
            if ix.data.get("type") == 2:
                meta["target_user"] = self.user_payload(int(ix.data["target_id"]))
        if ix.type == IX_COMPONENT and ix.message_id is not None:
            meta["interacted_message_id"] = str(ix.message_id)
        if ix.original_message_id is not None and ix.original_message_id != msg.id:
            meta["original_response_message_id"] = str(ix.original_message_id)
        msg.interaction_metadata = meta
        legacy: JSON = {
            "id": str(ix.id),
            "type": ix.type,
            "name": ix.data.get("name", ""),
            "user": user,
        }
        if ix.guild_id is not None and ix.user_id in self.guild(ix.guild_id).members:
            legacy["member"] = self.member_payload(ix.guild_id, ix.user_id, with_user=False)
        msg.interaction_legacy = legacy

    def _unarchive_for_message(self, thread: Channel, author_id: int) -> None:
        if not thread.archived:
            return
        if thread.locked and not self.permissions_in(thread, author_id) & P.MANAGE_THREADS:
            raise FakeError(400, 50083, "Thread is archived")
        thread.archived = False
        thread.archive_timestamp = self.now()
        self._thread_update(thread)

    def _emit_message(self, name: str, msg: Message) -> None:
        dm = msg.guild_id is None
        self.emit(
            name,
            self.message_payload(msg, gateway=True),
            guild_id=msg.guild_id,
            intent=INTENT_DIRECT_MESSAGES if dm else INTENT_GUILD_MESSAGES,
            content_exempt=self.content_exempt(msg),
        )

    def edit_message(
        self,
        msg: Message,
        body: JSON,
        *,
        files: list[tuple[str, bytes, str | None]] | None = None,
    ) -> Message:
        channel = self.channels[msg.channel_id]
        if "content" in body:
            msg.content = body["content"] or ""
        if "embeds" in body:
            msg.embeds = list(body["embeds"] or [])
        if "components" in body:
            msg.components = list(body["components"] or [])
        if "flags" in body and body["flags"] is not None:
            keep = msg.flags & ~FLAG_SUPPRESS_EMBEDS & ~FLAG_LOADING
            msg.flags = keep | (int(body["flags"]) & FLAG_SUPPRESS_EMBEDS)
        msg.flags &= ~FLAG_LOADING
        atts = self.attachments_from_body(channel.id, body, files or [], msg.attachments)
        if atts is not None:
            msg.attachments = atts
        if "allowed_mentions" in body:
            msg.allowed_mentions = body["allowed_mentions"]
        if "content" in body:
            users, roles, everyone = self._mentions(
                channel, msg.author_id, msg.content, msg.allowed_mentions, None
            )
            msg.mentions, msg.mention_roles, msg.mention_everyone = users, roles, everyone
        msg.edited_timestamp = self.now()
        if msg.visible_to is None:
            self._emit_message("MESSAGE_UPDATE", msg)
        self.changed()
        return msg

    def delete_message(self, msg: Message) -> None:
        msg.deleted = True
        channel = self.channels[msg.channel_id]
        if channel.is_thread and msg.id != channel.id and msg.visible_to is None:
            channel.message_count = max(0, channel.message_count - 1)
        channel.pins = [(m, t) for m, t in channel.pins if m != msg.id]
        if msg.visible_to is None:
            data: JSON = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
            if msg.guild_id is not None:
                data["guild_id"] = str(msg.guild_id)
            self.emit(
                "MESSAGE_DELETE",
                data,
                guild_id=msg.guild_id,
                intent=INTENT_GUILD_MESSAGES if msg.guild_id else INTENT_DIRECT_MESSAGES,
            )
        self.changed()

    def bulk_delete(self, channel: Channel, messages: list[Message]) -> None:
        for msg in messages:
            msg.deleted = True
            channel.pins = [(m, t) for m, t in channel.pins if m != msg.id]
            if channel.is_thread and msg.id != channel.id:
                channel.message_count = max(0, channel.message_count - 1)
        data: JSON = {"ids": [str(m.id) for m in messages], "channel_id": str(channel.id)}
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
        self.emit(
            "MESSAGE_DELETE_BULK", data, guild_id=channel.guild_id, intent=INTENT_GUILD_MESSAGES
        )
        self.changed()

    def pin(self, channel: Channel, msg: Message, *, by: int) -> None:
        if msg.pinned:
            return
        msg.pinned = True
        now = self.now()
        channel.pins.insert(0, (msg.id, now))
        channel.last_pin_timestamp = now
        self._emit_message("MESSAGE_UPDATE", msg)
        self._pins_update(channel)
        self.post_message(
            channel,
            by,
            {
                "content": "",
                "message_reference": {
                    "type": 0,
                    "message_id": str(msg.id),
                    "channel_id": str(channel.id),
                },
            },
            type=MSG_CHANNEL_PINNED,
            allow_empty=True,
        )

    def unpin(self, channel: Channel, msg: Message) -> None:
        if not msg.pinned:
            return
        msg.pinned = False
        channel.pins = [(m, t) for m, t in channel.pins if m != msg.id]
        self._emit_message("MESSAGE_UPDATE", msg)
        self._pins_update(channel)

    def _pins_update(self, channel: Channel) -> None:
        data: JSON = {
            "channel_id": str(channel.id),
            "last_pin_timestamp": iso(channel.pins[0][1]) if channel.pins else None,
        }
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
        self.emit(
            "CHANNEL_PINS_UPDATE",
            data,
            guild_id=channel.guild_id,
            intent=INTENT_GUILDS if channel.guild_id else INTENT_DIRECT_MESSAGES,
        )
        self.changed()

    # ------------------------------------------------------------------ reactions

    def add_reaction(self, msg: Message, emoji: str, user_id: int, *, burst: bool = False) -> bool:
        """A normal reaction, or a super reaction (``burst``: type 1, counted apart)."""
        key, payload = parse_emoji(emoji)
        reaction = msg.reactions.setdefault(key, Reaction(emoji=payload))
        users = reaction.users(burst)
        if user_id in users:
            return False
        users.append(user_id)
        data: JSON = {
            "user_id": str(user_id),
            "channel_id": str(msg.channel_id),
            "message_id": str(msg.id),
            "emoji": dict(payload),
            "message_author_id": str(msg.author_id),
            "burst": burst,
            "burst_colors": ["#ff0000"] if burst else [],
            "type": 1 if burst else 0,
        }
        if msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
            if user_id in self.guild(msg.guild_id).members:
                data["member"] = self.member_payload(msg.guild_id, user_id)
        self.emit(
            "MESSAGE_REACTION_ADD",
            data,
            guild_id=msg.guild_id,
            intent=self._reaction_intent(msg),
        )
        self.changed()
        return True

    def remove_reaction(
        self, msg: Message, emoji: str, user_id: int, *, burst: bool = False
    ) -> bool:
        key, _ = parse_emoji(emoji)
        reaction = msg.reactions.get(key)
        if reaction is None or user_id not in reaction.users(burst):
            return False
        reaction.users(burst).remove(user_id)
        if not reaction.user_ids and not reaction.burst_user_ids:
            del msg.reactions[key]
        data: JSON = {
            "user_id": str(user_id),
            "channel_id": str(msg.channel_id),
            "message_id": str(msg.id),
            "emoji": dict(reaction.emoji),
            "burst": burst,
            "type": 1 if burst else 0,
        }
        if msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
        self.emit(
            "MESSAGE_REACTION_REMOVE",
            data,
            guild_id=msg.guild_id,
            intent=self._reaction_intent(msg),
        )
        self.changed()
        return True

    def clear_reactions(self, msg: Message) -> None:
        msg.reactions.clear()
        data: JSON = {"channel_id": str(msg.channel_id), "message_id": str(msg.id)}
        if msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
        self.emit(
            "MESSAGE_REACTION_REMOVE_ALL",
            data,
            guild_id=msg.guild_id,
            intent=self._reaction_intent(msg),
        )
        self.changed()

    def clear_emoji(self, msg: Message, emoji: str) -> None:
        key, payload = parse_emoji(emoji)
        reaction = msg.reactions.pop(key, None)
        data: JSON = {
            "channel_id": str(msg.channel_id),
            "message_id": str(msg.id),
            "emoji": dict(reaction.emoji if reaction else payload),
        }
        if msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
        self.emit(
            "MESSAGE_REACTION_REMOVE_EMOJI",
            data,
            guild_id=msg.guild_id,
            intent=self._reaction_intent(msg),
        )
        self.changed()

    def _reaction_intent(self, msg: Message) -> int:
        if msg.guild_id is None:
            return INTENT_DIRECT_MESSAGE_REACTIONS
        return INTENT_GUILD_MESSAGE_REACTIONS

    # ------------------------------------------------------------------ application commands

    def find_commands(self, guild_id: int | None) -> list[Command]:
        return [c for c in self.commands if c.guild_id == guild_id]

    def command(self, command_id: int, guild_id: int | None) -> Command:
        for c in self.commands:
            if c.id == int(command_id) and c.guild_id == guild_id:
                return c
        raise not_found("application command", 10063)

    def overwrite_commands(self, guild_id: int | None, payloads: list[JSON]) -> list[Command]:
        """Bulk overwrite (``PUT``): commands keep their id when name and type match."""
        old = {(c.name, c.type): c for c in self.find_commands(guild_id)}
        new: list[Command] = []
        seen: set[tuple[str, int]] = set()
        for data in payloads:
            key = (str(data["name"]), int(data.get("type", 1)))
            if key in seen:
                raise FakeError(400, 50035, f"Invalid Form Body: duplicate command {key[0]!r}")
            seen.add(key)
            prev = old.get(key)
            cmd = Command(
                id=prev.id if prev else self.ids.next(),
                application_id=self.application_id,
                guild_id=guild_id,
                data=dict(data),
                version=self.ids.next(),
            )
            new.append(cmd)
        self.commands = [c for c in self.commands if c.guild_id != guild_id] + new
        self.changed()
        return new

    def upsert_command(self, guild_id: int | None, data: JSON) -> Command:
        key = (str(data["name"]), int(data.get("type", 1)))
        for i, c in enumerate(self.commands):
            if c.guild_id == guild_id and (c.name, c.type) == key:
                self.commands[i] = Command(
                    c.id, self.application_id, guild_id, dict(data), self.ids.next()
                )
                self.changed()
                return self.commands[i]
        cmd = Command(self.ids.next(), self.application_id, guild_id, dict(data), self.ids.next())
        self.commands.append(cmd)
        self.changed()
        return cmd

    def edit_command(self, cmd: Command, data: JSON) -> Command:
        cmd.data = {**cmd.data, **data}
        cmd.version = self.ids.next()
        self.changed()
        return cmd

    def delete_command(self, cmd: Command) -> None:
        self.commands = [c for c in self.commands if c is not cmd]
        self.changed()

    def resolve_command(self, guild_id: int | None, name: str, type: int) -> Command:
        for gid in ([guild_id] if guild_id is not None else []) + [None]:
            for c in self.commands:
                if c.guild_id == gid and c.name == name and c.type == type:
                    return c
        kinds = {1: "slash command", 2: "user command", 3: "message command"}
        known = sorted(
            c.name for c in self.commands if c.type == type and c.guild_id in (guild_id, None)
        )
        raise LookupError(
            f"no {kinds.get(type, 'command')} {name!r} is registered (known: {known}); install "
            "the bot's commands first (fake.install_commands(bot.tree) or a PUT sync)"
        )

    # ------------------------------------------------------------------ interactions

    def _dm_owners(self, user_id: int) -> JSON:
        """Who authorised an interaction in the bot's DM: the guild install ("0": "0", as Discord
        sends it in the bot's DM) when the user shares a guild with the bot, the user's own
        install ("1": their id) when they installed the app."""
        owners: JSON = {}
        if self.shares_guild_with_bot(user_id):
            owners["0"] = "0"
        if user_id in self.user_installs:
            owners["1"] = str(user_id)
        return owners

    def new_interaction(
        self,
        *,
        type: int,
        user_id: int,
        channel: Channel,
        data: JSON,
        message: Message | None = None,
        parent: InteractionRecord | None = None,
    ) -> InteractionRecord:
        guild_id = channel.guild_id
        iid = self.ids.next()
        token = "ix." + secrets.token_urlsafe(24)
        payload: JSON = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": type,
            "data": data,
            "channel_id": str(channel.id),
            "token": token,
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        channel_data = self.channel_payload(channel)
        channel_data["permissions"] = str(self.permissions_in(channel, user_id))
        payload["channel"] = channel_data
        if guild_id is not None:
            g = self.guild(guild_id)
            payload.update(
                {
                    "guild_id": str(guild_id),
                    "guild": {"id": str(guild_id), "locale": g.locale, "features": g.features},
                    "guild_locale": g.locale,
                    "member": self.member_payload(guild_id, user_id, permissions_in=channel),
                    "app_permissions": str(self.permissions_in(channel, self.bot.id)),
                    "authorizing_integration_owners": {"0": str(guild_id)},
                    "context": 0,
                }
            )
        else:
            payload.update(
                {
                    "user": self.user_payload(user_id),
                    "app_permissions": str(self.permissions_in(channel, self.bot.id)),
                    "authorizing_integration_owners": self._dm_owners(user_id),
                    "context": 1,
                }
            )
        if message is not None:
            payload["message"] = self.interaction_message_payload(message)
        record = InteractionRecord(
            id=iid,
            token=token,
            type=type,
            data=data,
            guild_id=guild_id,
            channel_id=channel.id,
            user_id=user_id,
            created_at=self.now(),
            payload=payload,
            message_id=message.id if message is not None else None,
            parent_id=parent.id if parent is not None else None,
        )
        self.interactions[iid] = record
        self.interactions_by_token[token] = record
        self.emit("INTERACTION_CREATE", payload, guild_id=guild_id, intent=None)
        self.changed()
        return record

    def interaction_by_token(self, application_id: int, token: str) -> InteractionRecord:
        if int(application_id) != self.application_id:
            raise not_found("Webhook", 10015)
        record = self.interactions_by_token.get(token)
        if record is None:
            raise not_found("Webhook", 10015)
        return record

    def interaction_callback(
        self,
        interaction_id: int,
        token: str,
        body: JSON,
        files: list[tuple[str, bytes, str | None]],
    ) -> JSON:
        record = self.interactions.get(int(interaction_id))
        if record is None:
            raise FakeError(404, 10062, "Unknown interaction")
        if record.token != token:
            raise FakeError(401, 50027, "Invalid Webhook Token")
        if record.responded:
            raise FakeError(400, 40060, "Interaction has already been acknowledged.")
        rtype = int(body.get("type", 0))
        data = body.get("data") or {}
        channel = self.channels[record.channel_id]
        resource: JSON = {"type": rtype}
        ephemeral = False
        loading = False
        response_id: int | None = None
        if rtype == 1:
            raise FakeError(400, 50035, "Invalid Form Body: PONG answers only a PING")
        elif rtype in (4, 5):
            if record.type == IX_AUTOCOMPLETE:
                raise FakeError(400, 50035, "Invalid Form Body: autocomplete needs type 8")
            ephemeral = bool(int(data.get("flags") or 0) & FLAG_EPHEMERAL)
            loading = rtype == 5
            body_for_message = dict(data) if rtype == 4 else {"content": ""}
            if rtype == 5:
                body_for_message["flags"] = int(data.get("flags") or 0) & FLAG_EPHEMERAL
            record.callbacks.append(Callback(rtype, dict(data), self.now()))
            msg = self.post_message(
                channel,
                self.bot.id,
                body_for_message,
                files=files,
                type=self._response_message_type(record),
                webhook_id=self.application_id,
                application_id=self.application_id,
                interaction=record,
                visible_to=record.user_id if ephemeral else None,
                extra_flags=FLAG_LOADING if loading else 0,
                allow_empty=loading,
            )
            record.original_message_id = msg.id
            response_id = msg.id
            resource["message"] = self.message_payload(msg)
        elif rtype in (6, 7):
            if record.message_id is None:
                raise FakeError(400, 50035, "Invalid Form Body: this interaction has no message")
            msg = self.messages[record.message_id]
            record.callbacks.append(Callback(rtype, dict(data), self.now()))
            record.original_message_id = msg.id
            ephemeral = msg.ephemeral
            if rtype == 7:
                self.edit_message(msg, data, files=files)
                resource["message"] = self.message_payload(msg)
                response_id = msg.id
        elif rtype == 8:
            if record.type != IX_AUTOCOMPLETE:
                raise FakeError(400, 50035, "Invalid Form Body: type 8 answers only autocomplete")
            record.callbacks.append(Callback(rtype, dict(data), self.now()))
            record.choices = list(data.get("choices") or [])
        elif rtype == 9:
            if record.type in (IX_MODAL_SUBMIT, IX_AUTOCOMPLETE):
                raise FakeError(400, 50035, "Invalid Form Body: a modal cannot answer this")
            record.callbacks.append(Callback(rtype, dict(data), self.now()))
            components = data.get("components") or []
            record.modal = {**data, "components": number_components(components)}
        else:
            raise FakeError(400, 50035, f"Invalid Form Body: unsupported callback type {rtype}")
        self.changed()
        interaction: JSON = {"id": str(record.id), "type": record.type}
        if response_id is not None:
            interaction.update(
                response_message_id=str(response_id),
                response_message_loading=loading,
                response_message_ephemeral=ephemeral,
            )
        return {"interaction": interaction, "resource": resource}

    def _response_message_type(self, record: InteractionRecord) -> int:
        if record.type == IX_APPLICATION_COMMAND:
            return (
                MSG_CHAT_INPUT_COMMAND
                if record.data.get("type", 1) == 1
                else (MSG_CONTEXT_MENU_COMMAND)
            )
        return MSG_DEFAULT

    def webhook_message(self, record: InteractionRecord, message_id: str) -> Message:
        if message_id == "@original":
            if record.original_message_id is None:
                raise not_found("Message", 10008)
            mid = record.original_message_id
        else:
            mid = int(message_id)
            if mid != record.original_message_id and mid not in record.followup_ids:
                raise not_found("Message", 10008)
        msg = self.messages.get(mid)
        if msg is None or msg.deleted:
            raise not_found("Message", 10008)
        return msg

    def followup(
        self, record: InteractionRecord, body: JSON, files: list[tuple[str, bytes, str | None]]
    ) -> Message:
        if not record.responded or record.callback is None or record.callback.type in (8, 9):
            raise not_found("Webhook", 10015)
        original = (
            self.messages.get(record.original_message_id) if record.original_message_id else None
        )
        if original is not None and original.loading and not original.deleted:
            # The first followup after a "thinking" deferral replaces the loading message.
            return self.edit_message(original, body, files=files)
        channel = self.channels[record.channel_id]
        ephemeral = bool(int(body.get("flags") or 0) & FLAG_EPHEMERAL)
        msg = self.post_message(
            channel,
            self.bot.id,
            body,
            files=files,
            type=self._response_message_type(record),
            webhook_id=self.application_id,
            application_id=self.application_id,
            interaction=record,
            visible_to=record.user_id if ephemeral else None,
        )
        record.followup_ids.append(msg.id)
        self.changed()
        return msg


def _opt_id(value: int | None) -> str | None:
    return str(value) if value is not None else None


def _no_emit(
    name: str,
    data: EventData,
    *,
    guild_id: int | None,
    intent: int | None,
    content_exempt: bool | None = None,
) -> None:
    return None


__all__ = ["Emitter", "EventData", "FakeError", "World", "not_found", "parse_emoji"]
