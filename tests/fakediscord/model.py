"""The fake's state: plain records, no behaviour. ``world.World`` owns and changes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

# Channel types (API numbers).
TEXT = 0
DM = 1
CATEGORY = 4
NEWS = 5
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12
FORUM = 15
THREAD_TYPES = (10, PUBLIC_THREAD, PRIVATE_THREAD)

# Gateway intents.
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MODERATION = 1 << 2
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_GUILD_MESSAGE_REACTIONS = 1 << 10
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_DIRECT_MESSAGE_REACTIONS = 1 << 13
INTENT_MESSAGE_CONTENT = 1 << 15
INTENT_AUTO_MODERATION_CONFIGURATION = 1 << 20
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT

# Message flags.
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_COMPONENTS_V2 = 1 << 15

# Channel flags.
CHANNEL_FLAG_PINNED = 1 << 1
CHANNEL_FLAG_REQUIRE_TAG = 1 << 4

# Message types.
MSG_DEFAULT = 0
MSG_CHANNEL_PINNED = 6
MSG_THREAD_CREATED = 18
MSG_REPLY = 19
MSG_CHAT_INPUT_COMMAND = 20
MSG_THREAD_STARTER = 21
MSG_CONTEXT_MENU_COMMAND = 23

# Interaction types.
IX_PING = 1
IX_APPLICATION_COMMAND = 2
IX_COMPONENT = 3
IX_AUTOCOMPLETE = 4
IX_MODAL_SUBMIT = 5


@dataclass
class User:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False

    def payload(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "username": self.username,
            "global_name": self.global_name,
            "discriminator": "0",
            "avatar": None,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "collectibles": None,
            "primary_guild": None,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False
    bot_id: int | None = None
    mentionable: bool = False
    hoist: bool = False
    color: int = 0

    def payload(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass
class GuildMember:
    user_id: int
    guild_id: int
    roles: list[int]
    joined_at: float
    nick: str | None = None
    #: The end of a timeout (epoch seconds); a time in the past means no timeout, as on Discord.
    communication_disabled_until: float | None = None


def number_components(components: list[Any]) -> list[Any]:
    """Copies of ``components`` (nested ones too) each with an ``id``, as Discord numbers them:
    an id left out (or 0) becomes the next number, in order, that no other component uses."""
    used: set[int] = set()

    def children(c: JSON) -> list[JSON]:
        inner = [x for x in c.get("components") or [] if isinstance(x, dict)]
        return inner + [c[k] for k in ("accessory", "component") if isinstance(c.get(k), dict)]

    def collect(items: list[JSON]) -> None:
        for c in items:
            if isinstance(c.get("id"), int) and c["id"]:
                used.add(c["id"])
            collect(children(c))

    counter = 0

    def number(c: JSON) -> JSON:
        nonlocal counter
        out = dict(c)
        if not (isinstance(out.get("id"), int) and out["id"]):
            counter += 1
            while counter in used:
                counter += 1
            out["id"] = counter
        if isinstance(c.get("components"), list):
            out["components"] = [number(x) if isinstance(x, dict) else x for x in c["components"]]
        for key in ("accessory", "component"):
            if isinstance(c.get(key), dict):
                out[key] = number(c[key])
        return out

    tops = [c for c in components if isinstance(c, dict)]
    collect(tops)
    return [number(c) for c in tops]


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, GuildMember] = field(default_factory=dict)
    #: Banned user ids and the ban's reason (GET /guilds/{g}/bans is not faked: qa-bot never
    #: asks; the bans reach it as GUILD_BAN_ADD).
    bans: dict[int, str | None] = field(default_factory=dict)
    channel_ids: list[int] = field(default_factory=list)
    features: list[str] = field(default_factory=lambda: ["COMMUNITY"])
    locale: str = "en-US"
    joined_at: float = 0.0
    #: A community server's rules channel (set it before the bot connects: its GUILD_CREATE
    #: carries it).
    rules_channel_id: int | None = None


@dataclass
class ForumTag:
    id: int
    name: str
    moderated: bool = False
    emoji_id: int | None = None
    emoji_name: str | None = None

    def payload(self) -> JSON:
        return {
            "id": str(self.id),
            "name": self.name,
            "moderated": self.moderated,
            "emoji_id": str(self.emoji_id) if self.emoji_id else None,
            "emoji_name": self.emoji_name,
        }


@dataclass
class Channel:
    id: int
    type: int
    guild_id: int | None = None
    name: str = ""
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    overwrites: list[JSON] = field(default_factory=list)
    nsfw: bool = False
    flags: int = 0
    rate_limit_per_user: int = 0  # slowmode, seconds (in a forum: between new posts)
    default_thread_rate_limit_per_user: int = 0  # copied to a new thread at its creation
    last_message_id: int | None = None
    last_pin_timestamp: float | None = None
    default_auto_archive_duration: int = 1440
    # forum channels
    available_tags: list[ForumTag] = field(default_factory=list)
    # threads
    owner_id: int | None = None
    applied_tags: list[int] = field(default_factory=list)
    archived: bool = False
    locked: bool = False
    invitable: bool = True
    auto_archive_duration: int = 1440
    archive_timestamp: float = 0.0
    create_timestamp: float | None = None
    message_count: int = 0
    total_message_sent: int = 0
    members: dict[int, float] = field(default_factory=dict)  # user id -> join time
    # direct messages
    recipient_ids: list[int] = field(default_factory=list)
    # contents
    message_ids: list[int] = field(default_factory=list)
    pins: list[tuple[int, float]] = field(default_factory=list)  # (message id, pinned at)
    deleted: bool = False

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    @property
    def is_dm(self) -> bool:
        return self.type == DM

    @property
    def is_forum(self) -> bool:
        return self.type == FORUM

    @property
    def is_messageable(self) -> bool:
        return self.type in (TEXT, NEWS, DM, *THREAD_TYPES)

    def tag(self, name_or_id: str | int) -> ForumTag:
        for t in self.available_tags:
            if t.id == name_or_id or t.name == name_or_id or str(t.id) == str(name_or_id):
                return t
        raise KeyError(f"forum {self.name!r} has no tag {name_or_id!r}")


@dataclass
class Reaction:
    emoji: JSON  # {"id": str | None, "name": str, "animated"?: bool}
    user_ids: list[int] = field(default_factory=list)  # normal reactions (type 0)
    burst_user_ids: list[int] = field(default_factory=list)  # super reactions (type 1)

    def users(self, burst: bool = False) -> list[int]:
        return self.burst_user_ids if burst else self.user_ids


@dataclass
class Attachment:
    id: int
    filename: str
    data: bytes
    content_type: str | None
    url: str
    description: str | None = None

    def payload(self, *, ephemeral: bool = False) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
            "flags": 0,
        }
        if self.description is not None:
            data["description"] = self.description
        if ephemeral:
            data["ephemeral"] = True
        return data


@dataclass
class Message:
    id: int
    channel_id: int
    guild_id: int | None
    author_id: int
    timestamp: float
    content: str = ""
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    type: int = MSG_DEFAULT
    flags: int = 0
    edited_timestamp: float | None = None
    pinned: bool = False
    tts: bool = False
    nonce: str | int | None = None
    reference: JSON | None = None
    reactions: dict[str, Reaction] = field(default_factory=dict)
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_id: int | None = None
    interaction_metadata: JSON | None = None
    interaction_legacy: JSON | None = None
    mentions: list[int] = field(default_factory=list)  # users pinged
    mention_roles: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    allowed_mentions: JSON | None = None  # as sent by the bot, for assertions
    thread_id: int | None = None  # a thread started from this message
    position: int | None = None
    visible_to: int | None = None  # ephemeral: the one user who sees it
    deleted: bool = False
    poll: JSON | None = None

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & FLAG_LOADING)

    def walk_components(self) -> list[JSON]:
        """Every component of the message, nested ones included (rows, containers, sections)."""
        out: list[JSON] = []

        def walk(items: list[JSON]) -> None:
            for c in items:
                out.append(c)
                walk(c.get("components", []))
                if isinstance(c.get("accessory"), dict):
                    walk([c["accessory"]])
                if isinstance(c.get("component"), dict):
                    walk([c["component"]])

        walk(self.components)
        return out

    def component(self, custom_id: str) -> JSON:
        for c in self.walk_components():
            if c.get("custom_id") == custom_id:
                return c
        ids = [c["custom_id"] for c in self.walk_components() if "custom_id" in c]
        raise KeyError(f"message {self.id} has no component {custom_id!r} (has {ids})")

    def reaction_users(self, emoji: str) -> list[int]:
        r = self.reactions.get(emoji)
        return list(r.user_ids) if r else []

    def embed_text(self) -> str:
        """Titles, descriptions, field names/values, author and footer text of every embed."""
        parts: list[str] = []
        for e in self.embeds:
            for key in ("title", "description"):
                if e.get(key):
                    parts.append(str(e[key]))
            for key in ("author", "footer"):
                sub = e.get(key) or {}
                for k in ("name", "text"):
                    if sub.get(k):
                        parts.append(str(sub[k]))
            for f in e.get("fields", []):
                parts.append(str(f.get("name", "")))
                parts.append(str(f.get("value", "")))
        return "\n".join(parts)


@dataclass
class Command:
    id: int
    application_id: int
    guild_id: int | None
    data: JSON
    version: int

    @property
    def name(self) -> str:
        return str(self.data["name"])

    @property
    def type(self) -> int:
        return int(self.data.get("type", 1))

    def payload(self) -> JSON:
        out: JSON = {
            "id": str(self.id),
            "application_id": str(self.application_id),
            "version": str(self.version),
            "type": self.type,
            "name": self.name,
            "description": self.data.get("description", ""),
            "options": self.data.get("options", []),
            "default_member_permissions": self.data.get("default_member_permissions"),
            "dm_permission": self.data.get("dm_permission", True),
            "nsfw": self.data.get("nsfw", False),
            "contexts": self.data.get("contexts"),
            "integration_types": self.data.get("integration_types", [0]),
            "name_localizations": self.data.get("name_localizations"),
            "description_localizations": self.data.get("description_localizations"),
        }
        if self.guild_id is not None:
            out["guild_id"] = str(self.guild_id)
        return out


@dataclass
class Callback:
    """One interaction response the bot sent (``POST /interactions/{id}/{token}/callback``)."""

    type: int
    data: JSON
    time: float


@dataclass
class InteractionRecord:
    id: int
    token: str
    type: int
    data: JSON
    guild_id: int | None
    channel_id: int
    user_id: int
    created_at: float
    payload: JSON
    message_id: int | None = None  # the message a component or modal-from-component sits on
    parent_id: int | None = None  # the interaction whose modal this submits
    callbacks: list[Callback] = field(default_factory=list)
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    modal: JSON | None = None
    choices: list[JSON] | None = None

    @property
    def responded(self) -> bool:
        return bool(self.callbacks)

    @property
    def callback(self) -> Callback | None:
        return self.callbacks[0] if self.callbacks else None
