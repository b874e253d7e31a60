"""Discord's rules for the bot's REST calls, each refused with Discord's status, code and body.

A REST interceptor runs before the route's handler (after injected faults and rate limits).
Resources that do not exist are left to the handler's own 404s. What it enforces:

* **Interactions**: the first response within ``interaction_deadline`` (3 s) of the interaction,
  else 404 10062 "Unknown interaction"; a second callback 400 40060 (the world's own check);
  followups and original-response edits within ``token_lifetime`` (15 min), else 401 50027.
* **Form bodies** (400 50035 with Discord's nested ``errors``): message content up to 2000
  characters, up to 10 embeds within Discord's embed limits (title 256, description 4096,
  25 fields, field name 256 / value 1024, footer 2048, author 256, 6000 in all), ``nonce`` up to
  25 characters, ``allowed_mentions`` (``parse`` exclusive with ``users`` / ``roles``), channel and
  thread names 1-100, up to 20 forum tags (names up to 20), up to 5 applied tags, modals and
  autocomplete choices within their limits.
* **Threads**: editing a message, reacting or editing the thread in an archived thread: 400 50083
  "Thread is archived" (sending a message unarchives it, as Discord does, unless locked); in a
  locked thread, without Manage Threads: 400 160005 "Thread is locked" for messages, names and
  tags, 403 50013 to unlock or unarchive it.
* **Forums**: a post in a forum with the REQUIRE_TAG flag and no tag: 400 40067.
* **Permissions** of the bot for each route it uses: 403 50001 "Missing Access" without View
  Channel, 403 50013 "Missing Permissions" without the route's permission; history without Read
  Message History is an empty list. A DM to a member in ``dms_closed``: 403 50007.
* **enforce_nonce**: a message with ``enforce_nonce`` and a nonce the bot used in the same channel
  in the last ``nonce_window`` seconds returns that earlier message; nothing new is created.

``pings(message)`` answers "who was pinged by this message" from its content and the
``allowed_mentions`` recorded with it, as Discord computes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.fakediscord import permissions as P
from tests.fakediscord.model import (
    CHANNEL_FLAG_REQUIRE_TAG,
    FLAG_SUPPRESS_NOTIFICATIONS,
    JSON,
    MSG_REPLY,
    PUBLIC_THREAD,
    Channel,
    InteractionRecord,
    Message,
    User,
)
from tests.fakediscord.recorder import Call
from tests.fakediscord.rest import Reply
from tests.fakediscord.world import FakeError, parse_emoji

if TYPE_CHECKING:
    from tests.fakediscord.actors import Member
    from tests.fakediscord.server import FakeDiscord

#: Discord's permission to pin (2025); Manage Messages still allows it.
PIN_MESSAGES = 1 << 51

CONTENT_LIMIT = 2000
EMBEDS_LIMIT = 10
EMBED_TOTAL_LIMIT = 6000
EMBED_LIMITS = {"title": 256, "description": 4096}
EMBED_SUB_LIMITS = {("footer", "text"): 2048, ("author", "name"): 256}
FIELDS_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
NAME_MIN, NAME_MAX = 1, 100
FORUM_TAGS_LIMIT = 20
TAG_NAME_LIMIT = 20
APPLIED_TAGS_LIMIT = 5
NONCE_LIMIT = 25
MENTION_IDS_LIMIT = 100
MODAL_TITLE_LIMIT = 45
CUSTOM_ID_LIMIT = 100
CHOICES_LIMIT = 25
#: What a modal's top level may hold: action rows (deprecated for text inputs), text displays,
#: labels; a text display's content, a label's text and description.
MODAL_TOP_TYPES = (1, 10, 18)
TEXT_DISPLAY_LIMIT = 4000
LABEL_LIMIT = 45
LABEL_DESCRIPTION_LIMIT = 100

TAG_REQUIRED = "A tag is required to create a forum post in this channel"

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")

Errors = dict[str, Any]


# ---------------------------------------------------------------------- 50035 bodies


def field_error(code: str, message: str) -> Errors:
    """One leaf of Discord's ``errors`` tree: ``{"_errors": [{"code", "message"}]}``."""
    return {"_errors": [{"code": code, "message": message}]}


def max_length(limit: int) -> Errors:
    return field_error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def bad_length(low: int, high: int) -> Errors:
    return field_error("BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")


def required() -> Errors:
    return field_error("BASE_TYPE_REQUIRED", "This field is required")


def invalid_form(errors: Errors) -> FakeError:
    """400 50035 "Invalid Form Body" with Discord's nested ``errors`` object."""
    return FakeError(400, 50035, "Invalid Form Body", errors)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def embed_errors(embeds: Any) -> Errors:
    """Errors of an ``embeds`` array: count, per-field limits (whitespace trimmed), 6000 in all."""
    if not isinstance(embeds, list):
        return {}
    errors: Errors = {}
    total = 0
    for i, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            continue
        own: Errors = {}
        for key, limit in EMBED_LIMITS.items():
            text = _text(embed.get(key)).strip()
            total += len(text)
            if len(text) > limit:
                own[key] = max_length(limit)
        for (key, sub), limit in EMBED_SUB_LIMITS.items():
            part = embed.get(key)
            text = _text(part.get(sub)).strip() if isinstance(part, dict) else ""
            total += len(text)
            if len(text) > limit:
                own[key] = {sub: max_length(limit)}
        fields = embed.get("fields") or []
        if isinstance(fields, list):
            field_errors: Errors = {}
            for j, f in enumerate(fields):
                f = f if isinstance(f, dict) else {}
                name, value = _text(f.get("name")).strip(), _text(f.get("value")).strip()
                total += len(name) + len(value)
                one: Errors = {}
                if not name:
                    one["name"] = required()
                elif len(name) > FIELD_NAME_LIMIT:
                    one["name"] = max_length(FIELD_NAME_LIMIT)
                if not value:
                    one["value"] = required()
                elif len(value) > FIELD_VALUE_LIMIT:
                    one["value"] = max_length(FIELD_VALUE_LIMIT)
                if one:
                    field_errors[str(j)] = one
            if len(fields) > FIELDS_LIMIT:
                own["fields"] = max_length(FIELDS_LIMIT)
            elif field_errors:
                own["fields"] = field_errors
        if own:
            errors[str(i)] = own
    if len(embeds) > EMBEDS_LIMIT:
        return max_length(EMBEDS_LIMIT)
    if not errors and total > EMBED_TOTAL_LIMIT:
        message = f"Embed size exceeds maximum size of {EMBED_TOTAL_LIMIT}"
        return field_error("MAX_EMBED_SIZE_EXCEEDED", message)
    return errors


def allowed_mentions_errors(allowed: Any) -> Errors:
    if allowed is None:
        return {}
    if not isinstance(allowed, dict):
        return field_error("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
    errors: Errors = {}
    parse = allowed.get("parse") or []
    bad = [p for p in parse if p not in ("users", "roles", "everyone")]
    if bad:
        message = "Value must be one of {'users', 'roles', 'everyone'}."
        errors["parse"] = field_error("BASE_TYPE_CHOICES", message)
    for kind in ("users", "roles"):
        ids = allowed.get(kind) or []
        if len(ids) > MENTION_IDS_LIMIT:
            errors[kind] = max_length(MENTION_IDS_LIMIT)
        elif ids and kind in parse:
            message = f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.'
            errors.update(field_error("MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE", message))
    return errors


def message_errors(body: Any) -> Errors:
    """Errors of a message body (create, edit, interaction response, followup)."""
    if not isinstance(body, dict):
        return {}
    errors: Errors = {}
    content = body.get("content")
    if isinstance(content, str) and len(content) > CONTENT_LIMIT:
        errors["content"] = max_length(CONTENT_LIMIT)
    embeds = embed_errors(body.get("embeds"))
    if embeds:
        errors["embeds"] = embeds
    nonce = body.get("nonce")
    if isinstance(nonce, str) and len(nonce) > NONCE_LIMIT:
        errors["nonce"] = max_length(NONCE_LIMIT)
    mentions = allowed_mentions_errors(body.get("allowed_mentions"))
    if mentions:
        errors["allowed_mentions"] = mentions
    return errors


def name_errors(body: JSON, *, required_name: bool) -> Errors:
    if "name" not in body and not required_name:
        return {}
    name = _text(body.get("name"))
    if not NAME_MIN <= len(name) <= NAME_MAX:
        return {"name": bad_length(NAME_MIN, NAME_MAX)}
    return {}


def forum_tags_errors(tags: Any) -> Errors:
    if not isinstance(tags, list):
        return {}
    if len(tags) > FORUM_TAGS_LIMIT:
        return {"available_tags": max_length(FORUM_TAGS_LIMIT)}
    errors: Errors = {}
    for i, tag in enumerate(tags):
        name = _text(tag.get("name")) if isinstance(tag, dict) else ""
        if not 1 <= len(name) <= TAG_NAME_LIMIT:
            errors[str(i)] = {"name": bad_length(1, TAG_NAME_LIMIT)}
    return {"available_tags": errors} if errors else {}


def applied_tags_errors(tags: Any) -> Errors:
    if isinstance(tags, list) and len(tags) > APPLIED_TAGS_LIMIT:
        return {"applied_tags": max_length(APPLIED_TAGS_LIMIT)}
    return {}


def modal_component_errors(components: list[Any]) -> Errors:
    """Errors of a modal's top-level components, by index: only action rows, text displays
    (content 1-4000) and labels (label 1-45, description up to 100) belong there."""
    errors: Errors = {}
    for i, c in enumerate(components):
        c = c if isinstance(c, dict) else {}
        kind = c.get("type")
        own: Errors = {}
        if kind not in MODAL_TOP_TYPES:
            own["type"] = field_error(
                "BASE_TYPE_CHOICES", f"Value must be one of {MODAL_TOP_TYPES}."
            )
        elif kind == 10 and not 1 <= len(_text(c.get("content"))) <= TEXT_DISPLAY_LIMIT:
            own["content"] = bad_length(1, TEXT_DISPLAY_LIMIT)
        elif kind == 18:
            if not 1 <= len(_text(c.get("label"))) <= LABEL_LIMIT:
                own["label"] = bad_length(1, LABEL_LIMIT)
            if len(_text(c.get("description"))) > LABEL_DESCRIPTION_LIMIT:
                own["description"] = max_length(LABEL_DESCRIPTION_LIMIT)
        if own:
            errors[str(i)] = own
    return errors


def callback_errors(rtype: int, data: Any) -> Errors:
    """Errors of an interaction response's ``data`` by response type."""
    if not isinstance(data, dict):
        return {}
    if rtype in (4, 7):
        return message_errors(data)
    errors: Errors = {}
    if rtype == 9:
        title = _text(data.get("title"))
        if not 1 <= len(title) <= MODAL_TITLE_LIMIT:
            errors["title"] = bad_length(1, MODAL_TITLE_LIMIT)
        custom_id = _text(data.get("custom_id"))
        if not 1 <= len(custom_id) <= CUSTOM_ID_LIMIT:
            errors["custom_id"] = bad_length(1, CUSTOM_ID_LIMIT)
        components = data.get("components") or []
        if not 1 <= len(components) <= 5:
            errors["components"] = bad_length(1, 5)
        elif bad := modal_component_errors(components):
            errors["components"] = bad
    elif rtype == 8:
        choices = data.get("choices") or []
        if len(choices) > CHOICES_LIMIT:
            errors["choices"] = max_length(CHOICES_LIMIT)
        else:
            bad = {
                str(i): {"name": bad_length(1, 100)}
                for i, c in enumerate(choices)
                if not 1 <= len(_text(c.get("name") if isinstance(c, dict) else None)) <= 100
            }
            if bad:
                errors["choices"] = bad
    return errors


# ---------------------------------------------------------------------- pings


@dataclass(frozen=True)
class Pings:
    """Who a message pinged, as Discord decides it."""

    users: tuple[int, ...]  # users mentioned and allowed (the replied-to author included)
    roles: tuple[int, ...]  # roles mentioned, allowed, and mentionable by the author
    everyone: bool  # @everyone / @here went through
    notified: frozenset[int]  # everyone notified: the above resolved to members, author left out
    silent: bool  # SUPPRESS_NOTIFICATIONS: mentions shown, nobody notified

    def __contains__(self, who: object) -> bool:
        uid = getattr(who, "id", who)
        return uid in self.notified


def _component_text(components: Iterable[JSON]) -> list[str]:
    out: list[str] = []
    for c in components:
        if not isinstance(c, dict):
            continue
        if c.get("type") == 10 and isinstance(c.get("content"), str):
            out.append(c["content"])
        out.extend(_component_text(c.get("components") or []))
        for key in ("accessory", "component"):
            if isinstance(c.get(key), dict):
                out.extend(_component_text([c[key]]))
    return out


# ---------------------------------------------------------------------- the rules


def _normal(key: str, value: Any) -> Any:
    if key == "applied_tags":
        return sorted(int(t) for t in value or [])
    return value


def _thread_value(thread: Channel, key: str) -> Any:
    if key == "applied_tags":
        return sorted(thread.applied_tags)
    return getattr(thread, key, None)


class Rules:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.world = fake.world
        #: Off: the fake accepts whatever its handlers accept.
        self.enabled = True
        #: Seconds for the first response to an interaction (None: no deadline).
        self.interaction_deadline: float | None = 3.0
        #: Seconds an interaction token stays valid for followups and edits (None: forever).
        self.token_lifetime: float | None = 15 * 60.0
        #: Seconds an ``enforce_nonce`` nonce stays unique ("the past few minutes").
        self.nonce_window = 5 * 60.0
        #: Check the bot's permissions for each route.
        self.check_permissions = True
        #: Users who do not accept DMs from the bot (403 50007).
        self.dms_closed: set[int] = set()
        self._checks: dict[tuple[str, str], Callable[[Call], Reply | None]] = {}
        self._register()
        fake.rest.interceptors.append(self._intercept)

    # ------------------------------------------------------------------ test controls

    def close_dms(self, who: Member | User | int) -> None:
        """The user stops accepting DMs from the bot: messages to them fail with 403 50007."""
        self.dms_closed.add(who if isinstance(who, int) else who.id)

    def open_dms(self, who: Member | User | int) -> None:
        self.dms_closed.discard(who if isinstance(who, int) else who.id)

    def pings(self, message: Message) -> Pings:
        """Who ``message`` pinged, from its content (and text components) and its recorded
        ``allowed_mentions``. Without ``allowed_mentions`` a regular message parses every kind;
        an interaction response or webhook message only users, as on Discord."""
        world = self.world
        channel = world.channels[message.channel_id]
        text = "\n".join([message.content, *_component_text(message.components)])
        allowed = message.allowed_mentions
        if allowed is None:
            parse = {"users"} if message.webhook_id is not None else {"users", "roles", "everyone"}
            allowed_users: set[int] = set()
            allowed_roles: set[int] = set()
            replied = True
        else:
            parse = set(allowed.get("parse") or [])
            allowed_users = {int(u) for u in allowed.get("users") or []}
            allowed_roles = {int(r) for r in allowed.get("roles") or []}
            replied = bool(allowed.get("replied_user", False))
        users = [
            u
            for u in dict.fromkeys(int(x) for x in _USER_MENTION.findall(text))
            if u in world.users and ("users" in parse or u in allowed_users)
        ]
        if message.type == MSG_REPLY and replied and message.reference is not None:
            ref = world.messages.get(int(message.reference.get("message_id") or 0))
            if ref is not None and ref.author_id not in users:
                users.append(ref.author_id)
        roles: list[int] = []
        everyone = False
        notified: set[int] = set(users)
        guild = world.guilds.get(channel.guild_id) if channel.guild_id is not None else None
        if guild is not None:
            author_perms = world.permissions_in(channel, message.author_id)
            may_ping_all = bool(author_perms & P.MENTION_EVERYONE)
            for rid in dict.fromkeys(int(x) for x in _ROLE_MENTION.findall(text)):
                role = guild.roles.get(rid)
                if role is None or not ("roles" in parse or rid in allowed_roles):
                    continue
                if role.mentionable or may_ping_all:
                    roles.append(rid)
            everyone = (
                ("@everyone" in text or "@here" in text) and "everyone" in parse and may_ping_all
            )
            for uid, gm in guild.members.items():
                if everyone or any(r in gm.roles for r in roles):
                    notified.add(uid)
            notified = {u for u in notified if world.permissions_in(channel, u) & P.VIEW_CHANNEL}
        else:
            notified &= {*channel.recipient_ids, world.bot.id}
        notified.discard(message.author_id)
        silent = bool(message.flags & FLAG_SUPPRESS_NOTIFICATIONS)
        return Pings(
            users=tuple(users),
            roles=tuple(roles),
            everyone=everyone,
            notified=frozenset() if silent else frozenset(notified),
            silent=silent,
        )

    # ------------------------------------------------------------------ plumbing

    def _register(self) -> None:
        c = self._checks
        msg = "/channels/{channel_id}/messages/{message_id}"
        c[("POST", "/channels/{channel_id}/messages")] = self._create_message
        c[("GET", "/channels/{channel_id}/messages")] = self._history
        c[("GET", msg)] = self._get_message
        c[("PATCH", msg)] = self._edit_message
        c[("DELETE", msg)] = self._delete_message
        c[("POST", "/channels/{channel_id}/messages/bulk-delete")] = self._bulk_delete
        c[("PUT", msg + "/reactions/{emoji}/@me")] = self._add_reaction
        c[("DELETE", msg + "/reactions/{emoji}/@me")] = self._remove_own_reaction
        for route in (msg + "/reactions/{emoji}/{user_id}", msg + "/reactions/{emoji}"):
            c[("DELETE", route)] = self._manage_reactions
        c[("DELETE", msg + "/reactions")] = self._manage_reactions
        c[("POST", msg + "/threads")] = self._thread_from_message
        c[("POST", "/channels/{channel_id}/threads")] = self._create_thread
        c[("PATCH", "/channels/{channel_id}")] = self._edit_channel
        c[("DELETE", "/channels/{channel_id}")] = self._delete_channel
        c[("POST", "/guilds/{guild_id}/channels")] = self._create_guild_channel
        for pins in ("/channels/{channel_id}/messages/pins", "/channels/{channel_id}/pins"):
            c[("PUT", pins + "/{message_id}")] = self._pin
            c[("DELETE", pins + "/{message_id}")] = self._pin
        c[("POST", "/interactions/{interaction_id}/{interaction_token}/callback")] = self._callback
        c[("POST", "/webhooks/{webhook_id}/{webhook_token}")] = self._followup
        wm = "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
        c[("PATCH", wm)] = self._edit_webhook_message
        c[("GET", wm)] = self._webhook_token
        c[("DELETE", wm)] = self._webhook_token

    def _intercept(self, call: Call) -> Reply | None:
        if not self.enabled or call.route is None:
            return None
        check = self._checks.get((call.method, call.route))
        return check(call) if check is not None else None

    @staticmethod
    def _body(call: Call) -> JSON:
        return call.json if isinstance(call.json, dict) else {}

    def _channel(self, call: Call) -> Channel | None:
        try:
            ch = self.world.channels.get(int(call.params["channel_id"]))
        except (KeyError, ValueError):
            return None
        return None if ch is None or ch.deleted else ch

    def _message(self, call: Call, channel: Channel) -> Message | None:
        try:
            msg = self.world.messages.get(int(call.params["message_id"]))
        except (KeyError, ValueError):
            return None
        if msg is None or msg.deleted or msg.channel_id != channel.id:
            return None
        return msg

    def _perms(self, channel: Channel) -> int:
        return self.world.permissions_in(channel, self.world.bot.id)

    def _has(self, channel: Channel, bit: int) -> bool:
        return not self.check_permissions or bool(self._perms(channel) & bit)

    def _require(self, channel: Channel, *bits: int) -> None:
        """403 50001 without View Channel, 403 50013 without any of ``bits`` (guild channels)."""
        if not self.check_permissions or channel.guild_id is None:
            return
        perms = self._perms(channel)
        if not perms & P.VIEW_CHANNEL:
            raise FakeError(403, 50001, "Missing Access")
        if any(not perms & bit for bit in bits):
            raise FakeError(403, 50013, "Missing Permissions")

    def _not_archived(self, channel: Channel) -> None:
        if channel.is_thread and channel.archived:
            raise FakeError(400, 50083, "Thread is archived")

    def _not_locked(self, channel: Channel) -> None:
        if channel.is_thread and channel.locked and not self._has(channel, P.MANAGE_THREADS):
            raise FakeError(400, 160005, "Thread is locked")

    # ------------------------------------------------------------------ messages

    def _create_message(self, call: Call) -> Reply | None:
        ch = self._channel(call)
        if ch is None:
            return None
        body = self._body(call)
        errors = message_errors(body)
        if errors:
            raise invalid_form(errors)
        if ch.is_dm:
            if any(u in self.dms_closed for u in ch.recipient_ids):
                raise FakeError(403, 50007, "Cannot send messages to this user")
        else:
            needed = [P.SEND_MESSAGES_IN_THREADS if ch.is_thread else P.SEND_MESSAGES]
            if call.files:
                needed.append(P.ATTACH_FILES)
            if body.get("tts"):
                needed.append(P.SEND_TTS_MESSAGES)
            if body.get("message_reference"):
                needed.append(P.READ_MESSAGE_HISTORY)
            self._require(ch, *needed)
            if not ch.archived:  # an archived, locked thread: the world's own 50083
                self._not_locked(ch)
        return self._earlier_by_nonce(ch, body)

    def _earlier_by_nonce(self, ch: Channel, body: JSON) -> Reply | None:
        nonce = body.get("nonce")
        if not body.get("enforce_nonce") or nonce is None:
            return None
        floor = self.world.now() - self.nonce_window
        for mid in reversed(ch.message_ids):
            m = self.world.messages[mid]
            if m.timestamp < floor:
                break
            if m.author_id == self.world.bot.id and not m.deleted and str(m.nonce) == str(nonce):
                return Reply(200, self.world.message_payload(m))
        return None

    def _history(self, call: Call) -> Reply | None:
        ch = self._channel(call)
        if ch is None:
            return None
        self._require(ch)
        if ch.guild_id is not None and not self._has(ch, P.READ_MESSAGE_HISTORY):
            return Reply(200, [])
        return None

    def _get_message(self, call: Call) -> Reply | None:
        ch = self._channel(call)
        if ch is not None:
            self._require(ch, P.READ_MESSAGE_HISTORY)
        return None

    def _edit_message(self, call: Call) -> Reply | None:
        ch = self._channel(call)
        if ch is None or self._message(call, ch) is None:
            return None
        errors = message_errors(self._body(call))
        if errors:
            raise invalid_form(errors)
        self._require(ch)
        self._not_archived(ch)
        self._not_locked(ch)
        return None

    def _delete_message(self, call: Call) -> Reply | None:
        ch = self._channel(call)
        msg = self._message(call, ch) if ch is not None else None
        if ch is None or msg is None:
            return None
        if msg.author_id != self.world.bot.id:
            self._require(ch, P.MANAGE_MESSAGES)
        else:
            self._require(ch)
        if ch.is_thread and ch.archived and ch.locked and not self._has(ch, P.MANAGE_THREADS):
            raise FakeError(400, 50083, "Thread is archived")
        return None

    def _bulk_delete(self, call: Call) -> Reply | None:
        ch = self._channel(call)
        if ch is not None:
            self._require(ch, P.MANAGE_MESSAGES)
        return None

    def _add_reaction(self, call: Call) -> Reply | None:
        ch = self._channel(call)
        msg = self._message(call, ch) if ch is not None else None
        if ch is None or msg is None:
            return None
        self._not_archived(ch)
        key, _ = parse_emoji(call.params.get("emoji", ""))
        needed = [P.READ_MESSAGE_HISTORY]
        if not msg.reaction_users(key):
            needed.append(P.ADD_REACTIONS)  # joining an existing reaction needs no more
        self._require(ch, *needed)
        return None

    def _remove_own_reaction(self, call: Call) -> Reply | None:
        ch = self._channel(call)
        if ch is None or self._message(call, ch) is None:
            return None
        self._not_archived(ch)
        self._require(ch)
        return None

    def _manage_reactions(self, call: Call) -> Reply | None:
        ch = self._channel(call)
        if ch is None or self._message(call, ch) is None:
            return None
        self._not_archived(ch)
        self._require(ch, P.MANAGE_MESSAGES)
        return None

    def _pin(self, call: Call) -> Reply | None:
        ch = self._channel(call)
        if ch is None or self._message(call, ch) is None:
            return None
        self._not_archived(ch)
        self._require(ch)
        if not (self._has(ch, P.MANAGE_MESSAGES) or self._has(ch, PIN_MESSAGES)):
            raise FakeError(403, 50013, "Missing Permissions")
        return None

    # ------------------------------------------------------------------ threads and channels

    def _create_thread(self, call: Call) -> Reply | None:
        parent = self._channel(call)
        if parent is None:
            return None
        body = self._body(call)
        errors = name_errors(body, required_name=True)
        if parent.is_forum:
            message = body.get("message")
            nested = message_errors(message)
            if nested:
                errors["message"] = nested
            errors.update(applied_tags_errors(body.get("applied_tags")))
            if errors:
                raise invalid_form(errors)
            self._require(parent, P.SEND_MESSAGES)  # Create Posts; Create Public Threads ignored
            tags = [int(t) for t in body.get("applied_tags") or []]
            if parent.flags & CHANNEL_FLAG_REQUIRE_TAG and not tags:
                raise FakeError(400, 40067, TAG_REQUIRED)
            self._moderated_tags(parent, parent, tags, before=[])
            return None
        if errors:
            raise invalid_form(errors)
        private = int(body.get("type") or 12) != PUBLIC_THREAD
        self._require(parent, P.CREATE_PRIVATE_THREADS if private else P.CREATE_PUBLIC_THREADS)
        return None

    def _moderated_tags(
        self, forum: Channel, where: Channel, tags: list[int], *, before: list[int]
    ) -> None:
        """Only Manage Threads may add or remove a moderated tag."""
        moderated = {t.id for t in forum.available_tags if t.moderated}
        changed = set(tags) ^ set(before)
        if changed & moderated and not self._has(where, P.MANAGE_THREADS):
            raise FakeError(403, 50013, "Missing Permissions")

    def _thread_from_message(self, call: Call) -> Reply | None:
        ch = self._channel(call)
        if ch is None or self._message(call, ch) is None:
            return None
        errors = name_errors(self._body(call), required_name=True)
        if errors:
            raise invalid_form(errors)
        self._require(ch, P.CREATE_PUBLIC_THREADS)
        return None

    def _edit_channel(self, call: Call) -> Reply | None:
        ch = self._channel(call)
        if ch is None:
            return None
        body = self._body(call)
        errors = name_errors(body, required_name=False)
        if ch.is_thread:
            errors.update(applied_tags_errors(body.get("applied_tags")))
            if errors:
                raise invalid_form(errors)
            self._edit_thread(ch, body)
            return None
        errors.update(forum_tags_errors(body.get("available_tags")))
        if errors:
            raise invalid_form(errors)
        needed = [P.MANAGE_CHANNELS]
        if "permission_overwrites" in body:
            needed.append(P.MANAGE_ROLES)
        self._require(ch, *needed)
        return None

    def _edit_thread(self, thread: Channel, body: JSON) -> None:
        """Discord's thread edit rules (channel resource, "Modify Channel", and threads topic)."""
        unarchive = body.get("archived") is False
        if thread.archived and not unarchive:
            raise FakeError(400, 50083, "Thread is archived")
        self._require(thread)
        tags = body.get("applied_tags")
        if not self._has(thread, P.MANAGE_THREADS):
            changes = {k for k, v in body.items() if _thread_value(thread, k) != _normal(k, v)}
            if changes & {"locked", "rate_limit_per_user"}:
                raise FakeError(403, 50013, "Missing Permissions")
            if thread.locked and unarchive:
                raise FakeError(403, 50013, "Missing Permissions")  # only moderators
            if thread.locked and changes & {"name", "applied_tags"}:
                raise FakeError(400, 160005, "Thread is locked")
            owner_only = {"name", "auto_archive_duration", "applied_tags", "flags", "archived"}
            if unarchive:
                owner_only.discard("archived")  # unarchiving needs only Send Messages
                self._require(thread, P.SEND_MESSAGES)
            if changes & owner_only and thread.owner_id != self.world.bot.id:
                raise FakeError(403, 50013, "Missing Permissions")
        if tags is not None:
            self._check_tags(thread, tags)

    def _check_tags(self, thread: Channel, tags: list[Any]) -> None:
        forum = self.world.channels.get(thread.parent_id or 0)
        if forum is not None and forum.is_forum:
            self._moderated_tags(forum, thread, [int(t) for t in tags], before=thread.applied_tags)

    def _delete_channel(self, call: Call) -> Reply | None:
        ch = self._channel(call)
        if ch is not None and not ch.is_dm:
            self._require(ch, P.MANAGE_THREADS if ch.is_thread else P.MANAGE_CHANNELS)
        return None

    def _create_guild_channel(self, call: Call) -> Reply | None:
        try:
            guild = self.world.guilds.get(int(call.params["guild_id"]))
        except (KeyError, ValueError):
            return None
        if guild is None:
            return None
        body = self._body(call)
        errors = name_errors(body, required_name=True)
        errors.update(forum_tags_errors(body.get("available_tags")))
        if errors:
            raise invalid_form(errors)
        if self.check_permissions:
            perms = self.world.base_permissions(guild, self.world.bot.id)
            if not perms & P.MANAGE_CHANNELS:
                raise FakeError(403, 50013, "Missing Permissions")
        return None

    # ------------------------------------------------------------------ interactions

    def _interaction(self, call: Call) -> InteractionRecord | None:
        try:
            record = self.world.interactions.get(int(call.params["interaction_id"]))
        except (KeyError, ValueError):
            return None
        if record is None or record.token != call.params.get("interaction_token"):
            return None
        return record

    def _callback(self, call: Call) -> Reply | None:
        record = self._interaction(call)
        if record is None or record.responded:
            return None  # unknown (404) and second callbacks (40060) are the world's answers
        age = self.world.now() - record.created_at
        if self.interaction_deadline is not None and age > self.interaction_deadline:
            raise FakeError(404, 10062, "Unknown interaction")
        body = self._body(call)
        errors = callback_errors(int(body.get("type") or 0), body.get("data"))
        if errors:
            raise invalid_form({"data": errors})
        return None

    def _webhook_token(self, call: Call) -> Reply | None:
        record = self.world.interactions_by_token.get(call.params.get("webhook_token", ""))
        if record is None or self.token_lifetime is None:
            return None
        if self.world.now() - record.created_at > self.token_lifetime:
            raise FakeError(401, 50027, "Invalid Webhook Token")
        return None

    def _followup(self, call: Call) -> Reply | None:
        self._webhook_token(call)
        errors = message_errors(self._body(call))
        if errors:
            raise invalid_form(errors)
        return None

    def _edit_webhook_message(self, call: Call) -> Reply | None:
        return self._followup(call)


__all__ = [
    "Pings",
    "Rules",
    "embed_errors",
    "invalid_form",
    "message_errors",
]
