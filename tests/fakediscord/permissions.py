"""Permission bits and Discord's permission computation (roles, then channel overwrites)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

CREATE_INSTANT_INVITE = 1 << 0
KICK_MEMBERS = 1 << 1
BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_AUDIT_LOG = 1 << 7
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
SEND_TTS_MESSAGES = 1 << 12
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
CHANGE_NICKNAME = 1 << 26
MANAGE_ROLES = 1 << 28
MANAGE_WEBHOOKS = 1 << 29
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38
MODERATE_MEMBERS = 1 << 40

ALL = (1 << 53) - 1

#: What @everyone may do in a fresh community server.
DEFAULT_EVERYONE = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)

#: What the bot's managed role grants (the invite link's permissions).
DEFAULT_BOT = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | SEND_MESSAGES_IN_THREADS
    | CREATE_PUBLIC_THREADS
    | MANAGE_THREADS
    | MANAGE_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_EXTERNAL_EMOJIS
    | MANAGE_CHANNELS
)

_NAMES: dict[str, int] = {
    name.lower(): value
    for name, value in globals().items()
    if name.isupper() and isinstance(value, int) and name not in ("ALL",)
}


_ALIASES = {"manage_server": "manage_guild", "use_slash_commands": "use_application_commands"}


def to_bits(perms: object) -> int:
    """An int, a ``discord.Permissions``, a name ("manage_threads") or an iterable of names."""
    if perms is None:
        return 0
    if isinstance(perms, bool):
        raise TypeError("permissions must be an int, a discord.Permissions or names")
    if isinstance(perms, int):
        return perms
    value = getattr(perms, "value", None)
    if isinstance(value, int):
        return value
    if isinstance(perms, str):
        perms = [perms]
    if isinstance(perms, Iterable):
        bits = 0
        for name in perms:
            key = str(name).lower()
            key = _ALIASES.get(key, key)
            if key not in _NAMES:
                raise ValueError(f"unknown permission name {name!r}")
            bits |= _NAMES[key]
        return bits
    raise TypeError(f"cannot read permissions from {perms!r}")


def compute_base(
    *,
    everyone: int,
    role_perms: Iterable[int],
    is_owner: bool,
) -> int:
    if is_owner:
        return ALL
    bits = everyone
    for p in role_perms:
        bits |= p
    if bits & ADMINISTRATOR:
        return ALL
    return bits


def apply_overwrites(
    base: int,
    *,
    guild_id: int,
    member_id: int,
    member_roles: Iterable[int],
    overwrites: Iterable[Mapping[str, object]],
) -> int:
    """Discord's order: @everyone overwrite, then all role overwrites together, then the member."""
    if base & ADMINISTRATOR or base == ALL:
        return ALL
    ows = list(overwrites)
    roles = set(member_roles)
    bits = base

    def ints(ow: Mapping[str, object]) -> tuple[int, int]:
        return int(str(ow.get("allow", 0))), int(str(ow.get("deny", 0)))

    for ow in ows:
        if int(str(ow["id"])) == guild_id and int(str(ow["type"])) == 0:
            allow, deny = ints(ow)
            bits = (bits & ~deny) | allow
    allow_all = deny_all = 0
    for ow in ows:
        oid = int(str(ow["id"]))
        if int(str(ow["type"])) == 0 and oid in roles and oid != guild_id:
            allow, deny = ints(ow)
            allow_all |= allow
            deny_all |= deny
    bits = (bits & ~deny_all) | allow_all
    for ow in ows:
        if int(str(ow["type"])) == 1 and int(str(ow["id"])) == member_id:
            allow, deny = ints(ow)
            bits = (bits & ~deny) | allow
    if not bits & VIEW_CHANNEL:
        return 0
    return bits
