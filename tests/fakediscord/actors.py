"""Members and their gestures, and handles on the interactions they start.

A ``Member`` does what a person does in the Discord client: send, reply, edit, delete, react,
post in a forum, use a slash command or a context menu, click a button, fill in a modal. Each
gesture changes the fake's state and sends the gateway events Discord would send; it returns once
those frames are written to the bot's socket. What the client itself refuses (a required option
left out, a disabled button, someone else's ephemeral message) raises here, before any event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.fakediscord import permissions as P
from tests.fakediscord.model import (
    IX_APPLICATION_COMMAND,
    IX_AUTOCOMPLETE,
    IX_COMPONENT,
    IX_MODAL_SUBMIT,
    JSON,
    TEXT,
    Callback,
    Channel,
    Command,
    Guild,
    InteractionRecord,
    Message,
    Role,
    User,
)
from tests.fakediscord.world import parse_emoji

if TYPE_CHECKING:
    from tests.fakediscord.server import FakeDiscord

# Option types of application commands.
SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
STRING = 3
INTEGER = 4
BOOLEAN = 5
USER = 6
CHANNEL = 7
ROLE = 8
MENTIONABLE = 9
NUMBER = 10
ATTACHMENT = 11


class GestureRefused(Exception):
    """The Discord client would not let the member do this (hidden command, disabled button...)."""


def _id_of(obj: Any) -> int:
    if isinstance(obj, int):
        return obj
    value = getattr(obj, "id", None)
    if isinstance(value, int):
        return value
    raise TypeError(f"expected an id or an object with an id, got {obj!r}")


@dataclass
class ModalField:
    custom_id: str
    label: str
    type: int  # 4 text input, 3/5/6/7/8 selects...
    style: int | None
    required: bool
    min_length: int | None
    max_length: int | None
    value: str | None  # prefilled value
    placeholder: str | None
    in_label: bool  # wrapped in a Label (type 18) rather than an action row
    id: int | None = None  # the component id Discord gave it (echoed in the submission)


class Modal:
    """The modal the bot opened (callback type 9), as the member sees it."""

    def __init__(self, data: JSON) -> None:
        self.data = data
        self.custom_id: str = data["custom_id"]
        self.title: str = data.get("title", "")
        self.fields: list[ModalField] = []
        #: The text displays (type 10) the modal shows, in order: their markdown content.
        self.texts: list[str] = []
        for top in data.get("components", []):
            if top.get("type") == 1:
                for c in top.get("components", []):
                    self.fields.append(self._field(c, c.get("label", ""), in_label=False))
            elif top.get("type") == 18:
                inner = top["component"]
                self.fields.append(self._field(inner, top.get("label", ""), in_label=True))
            elif top.get("type") == 10:
                self.texts.append(top.get("content", ""))

    @staticmethod
    def _field(c: JSON, label: str, *, in_label: bool) -> ModalField:
        return ModalField(
            custom_id=c["custom_id"],
            label=label,
            type=c["type"],
            style=c.get("style"),
            required=c.get("required", c["type"] == 4),
            min_length=c.get("min_length"),
            max_length=c.get("max_length"),
            value=c.get("value"),
            placeholder=c.get("placeholder"),
            in_label=in_label,
            id=c.get("id"),
        )

    def field(self, key: str) -> ModalField:
        """A field by custom_id, else by label (case-insensitive)."""
        for f in self.fields:
            if f.custom_id == key:
                return f
        for f in self.fields:
            if f.label.lower() == key.lower():
                return f
        known = [(f.custom_id, f.label) for f in self.fields]
        raise KeyError(f"modal {self.title!r} has no field {key!r}; fields: {known}")

    def submission(self, values: Mapping[str, Any]) -> list[JSON]:
        """The ``components`` of a MODAL_SUBMIT for ``values`` (by custom_id or label)."""
        given: dict[str, Any] = {}
        for key, value in values.items():
            given[self.field(key).custom_id] = value
        # Discord's submission echoes every component by type and id: a text display as
        # {"type": 10, "id"} (no content), a label with its one component, inputs with values.
        out: list[JSON] = []
        for top in self.data.get("components", []):
            entry: JSON = {"type": top.get("type")}
            if "id" in top:
                entry["id"] = top["id"]
            if top.get("type") == 1:
                row = [self._submit(self._by_id(c["custom_id"]), given) for c in top["components"]]
                entry["components"] = row
            elif top.get("type") == 18:
                entry["component"] = self._submit(self._by_id(top["component"]["custom_id"]), given)
            elif top.get("type") != 10:
                continue
            out.append(entry)
        return out

    def _by_id(self, custom_id: str) -> ModalField:
        return next(f for f in self.fields if f.custom_id == custom_id)

    def _submit(self, f: ModalField, given: Mapping[str, Any]) -> JSON:
        if f.type == 4:
            value = given.get(f.custom_id, f.value if f.value is not None else "")
            value = str(value)
            if f.required and not value:
                raise GestureRefused(f"the required field {f.label!r} is empty")
            if value and f.min_length is not None and len(value) < f.min_length:
                raise GestureRefused(f"{f.label!r} is shorter than {f.min_length} characters")
            if f.max_length is not None and len(value) > f.max_length:
                raise GestureRefused(f"{f.label!r} is longer than {f.max_length} characters")
            return self._with_id(f, {"type": 4, "custom_id": f.custom_id, "value": value})
        raw = given.get(f.custom_id, [])
        values = [str(v) for v in (raw if isinstance(raw, list | tuple) else [raw])]
        if f.required and not values:
            raise GestureRefused(f"the required field {f.label!r} has no selection")
        return self._with_id(f, {"type": f.type, "custom_id": f.custom_id, "values": values})

    @staticmethod
    def _with_id(f: ModalField, item: JSON) -> JSON:
        return item if f.id is None else {**item, "id": f.id}


class InteractionHandle:
    """An interaction a member started; await what the bot answers."""

    def __init__(self, fake: FakeDiscord, record: InteractionRecord, actor: Member) -> None:
        self.fake = fake
        self.record = record
        self.actor = actor

    def __repr__(self) -> str:
        return f"<InteractionHandle id={self.id} type={self.type} callback={self.record.callback}>"

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def token(self) -> str:
        return self.record.token

    @property
    def type(self) -> int:
        return self.record.type

    @property
    def payload(self) -> JSON:
        """The INTERACTION_CREATE data the bot received."""
        return self.record.payload

    @property
    def channel(self) -> Channel:
        return self.fake.world.channels[self.record.channel_id]

    @property
    def original(self) -> Message | None:
        mid = self.record.original_message_id
        return self.fake.world.messages.get(mid) if mid is not None else None

    @property
    def followup_messages(self) -> list[Message]:
        return [self.fake.world.messages[m] for m in self.record.followup_ids]

    async def response(self, timeout: float = 5.0) -> Callback:  # noqa: ASYNC109
        """The bot's callback (type 4 message, 5 deferral, 6/7 update, 8 choices, 9 modal)."""

        def check() -> Callback | None:
            return self.record.callback

        return await self.fake.recorder.signal.wait_for(
            check, timeout=timeout, describe=lambda: f"a response to interaction {self.id}"
        )

    async def deferred(self, timeout: float = 5.0) -> bool:  # noqa: ASYNC109
        """True if the bot deferred (type 5 or 6) rather than answering at once."""
        return (await self.response(timeout)).type in (5, 6)

    async def ephemeral(self, timeout: float = 5.0) -> bool:  # noqa: ASYNC109
        await self.response(timeout)
        original = self.original
        return bool(original is not None and original.ephemeral)

    async def message(self, timeout: float = 5.0) -> Message:  # noqa: ASYNC109
        """The message the interaction ended with, once it is no longer "thinking".

        Type 4: the new message. Type 5: the original once edited (or replaced by the first
        followup). Type 7: the updated message. Type 6: the component's message once edited.
        """
        cb = await self.response(timeout)
        if cb.type in (8, 9):
            kind = "autocomplete choices" if cb.type == 8 else "a modal"
            raise AssertionError(f"the bot answered interaction {self.id} with {kind}")

        def check() -> Message | None:
            msg = self.original
            if msg is None:
                return None
            if cb.type == 5 and msg.loading and not msg.deleted:
                return None
            if cb.type == 6 and (msg.edited_timestamp or 0) < cb.time:
                return None
            return msg

        return await self.fake.recorder.signal.wait_for(
            check,
            timeout=timeout,
            describe=lambda: f"the final message of interaction {self.id} (callback {cb.type})",
        )

    async def modal(self, timeout: float = 5.0) -> Modal:  # noqa: ASYNC109
        cb = await self.response(timeout)
        if cb.type != 9 or self.record.modal is None:
            raise AssertionError(f"the bot answered interaction {self.id} with type {cb.type}")
        return Modal(self.record.modal)

    async def choices(self, timeout: float = 5.0) -> list[JSON]:  # noqa: ASYNC109
        cb = await self.response(timeout)
        if cb.type != 8 or self.record.choices is None:
            raise AssertionError(f"the bot answered autocomplete {self.id} with type {cb.type}")
        return list(self.record.choices)

    async def followups(self, count: int = 1, timeout: float = 5.0) -> list[Message]:  # noqa: ASYNC109
        """Wait until the bot has sent ``count`` followup messages (beyond the original)."""

        def check() -> list[Message] | None:
            msgs = self.followup_messages
            return msgs if len(msgs) >= count else None

        return await self.fake.recorder.signal.wait_for(
            check, timeout=timeout, describe=lambda: f"{count} followups to interaction {self.id}"
        )

    async def submit_modal(
        self,
        values: Mapping[str, Any] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> InteractionHandle:
        """Fill in the modal the bot opened (fields by custom_id or label) and submit it."""
        modal = await self.modal(timeout)
        components = modal.submission(values or {})
        data: JSON = {"custom_id": modal.custom_id, "components": components}
        message = None
        if self.record.message_id is not None:
            message = self.fake.world.messages.get(self.record.message_id)
        world = self.fake.world
        record = world.new_interaction(
            type=IX_MODAL_SUBMIT,
            user_id=self.actor.id,
            channel=self.channel,
            data=data,
            message=message,
            parent=self.record,
        )
        await self.fake.flush()
        return InteractionHandle(self.fake, record, self.actor)


class Member:
    """A person in a guild (or only in DMs when ``guild`` is None)."""

    def __init__(self, fake: FakeDiscord, user: User, guild: Guild | None) -> None:
        self.fake = fake
        self.user = user
        self.guild = guild

    def __repr__(self) -> str:
        return f"<Member {self.name} id={self.id}>"

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def name(self) -> str:
        return self.user.username

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    @property
    def roles(self) -> list[Role]:
        if self.guild is None:
            return []
        gm = self.guild.members.get(self.id)
        return [self.guild.roles[r] for r in gm.roles] if gm else []

    def permissions_in(self, channel: Channel) -> int:
        return self.fake.world.permissions_in(channel, self.id)

    def _default_channel(self, channel: Channel | None) -> Channel:
        if channel is not None:
            return channel
        if self.guild is None:
            return self.fake.world.open_dm(self.id)
        for cid in self.guild.channel_ids:
            ch = self.fake.world.channels[cid]
            if ch.type == TEXT and not ch.deleted:
                return ch
        raise LookupError(f"guild {self.guild.name!r} has no text channel; pass channel=")

    # ------------------------------------------------------------------ messages

    async def send(
        self,
        where: Channel,
        content: str = "",
        *,
        reply_to: Message | None = None,
        mention_author: bool = True,
        embeds: Sequence[JSON] = (),
        files: Iterable[tuple[str, bytes]] = (),
    ) -> Message:
        """Post a message in a channel, thread or DM (optionally as a reply)."""
        body: JSON = {"content": content, "embeds": list(embeds)}
        if reply_to is not None:
            body["message_reference"] = {
                "message_id": str(reply_to.id),
                "channel_id": str(reply_to.channel_id),
            }
            if not mention_author:
                body["allowed_mentions"] = {
                    "parse": ["users", "roles", "everyone"],
                    "replied_user": False,
                }
        self._check_can_send(where)
        self.fake.automod.check_message(where, self.id, [content])
        uploads: list[tuple[str, bytes, str | None]] = [(n, d, None) for n, d in files]
        msg = self.fake.world.post_message(where, self.id, body, files=uploads)
        await self.fake.flush()
        return msg

    def _check_can_send(self, where: Channel) -> None:
        """What the client's message box allows (the API's own refusals come from World)."""
        if where.guild_id is None:
            return
        self._check_not_timed_out()
        perms = self.permissions_in(where)
        needed = P.SEND_MESSAGES_IN_THREADS if where.is_thread else P.SEND_MESSAGES
        if not perms & P.VIEW_CHANNEL or not perms & needed:
            raise GestureRefused(f"{self.name} cannot send messages in #{where.name}")
        if where.is_thread and where.locked and not perms & P.MANAGE_THREADS:
            raise GestureRefused(f"#{where.name} is locked")
        self._check_slowmode(where, perms)

    def _check_not_timed_out(self) -> None:
        """A timed-out member sends, posts and reacts nowhere in the guild until it ends."""
        if self.guild is not None and self.fake.world.timed_out(self.guild, self.id):
            raise GestureRefused(f"{self.name} is timed out")

    def _check_slowmode(self, where: Channel, perms: int) -> None:
        """Slowmode (``rate_limit_per_user``): seconds between a member's messages in a channel
        or thread, or between their posts in a forum. Bots and members with Manage Messages or
        Manage Channels there are exempt."""
        rate = where.rate_limit_per_user
        if rate <= 0 or self.user.bot or perms & (P.MANAGE_MESSAGES | P.MANAGE_CHANNELS):
            return
        world = self.fake.world
        last = world.last_post_time(where, self.id)
        if last is not None and world.now() < last + rate:
            wait = last + rate - world.now()
            raise GestureRefused(f"slowmode: {self.name} waits {wait:.1f} s in #{where.name}")

    async def dm(self, content: str = "", **kwargs: Any) -> Message:
        """A direct message to the bot."""
        return await self.send(self.fake.world.open_dm(self.id), content, **kwargs)

    async def edit(self, message: Message, content: str) -> Message:
        if message.author_id != self.id:
            raise GestureRefused("members can only edit their own messages")
        self.fake.automod.check_message(
            self.fake.world.channels[message.channel_id], self.id, [content]
        )
        msg = self.fake.world.edit_message(message, {"content": content})
        await self.fake.flush()
        return msg

    async def delete(self, message: Message) -> None:
        channel = self.fake.world.channels[message.channel_id]
        if message.author_id != self.id and not self.permissions_in(channel) & P.MANAGE_MESSAGES:
            raise GestureRefused("deleting someone else's message needs Manage Messages")
        self.fake.world.delete_message(message)
        await self.fake.flush()

    async def react(self, message: Message, emoji: str = "👍") -> None:
        """Add a reaction (a new emoji needs Add Reactions; joining an existing one does not)."""
        channel = self._reactable(message)
        if channel.guild_id is not None:
            self._check_not_timed_out()
        key, _ = parse_emoji(emoji)
        new_emoji = key not in message.reactions and channel.guild_id is not None
        if new_emoji and not self.permissions_in(channel) & P.ADD_REACTIONS:
            raise GestureRefused(f"{self.name} cannot add new reactions in #{channel.name}")
        self.fake.world.add_reaction(message, emoji, self.id)
        await self.fake.flush()

    async def super_react(self, message: Message, emoji: str = "👍") -> None:
        """A super reaction (Nitro "burst", type 1): counted apart from normal reactions."""
        self._reactable(message)
        self.fake.world.add_reaction(message, emoji, self.id, burst=True)
        await self.fake.flush()

    async def unreact(self, message: Message, emoji: str = "👍") -> None:
        self._reactable(message)
        self.fake.world.remove_reaction(message, emoji, self.id)
        await self.fake.flush()

    def _reactable(self, message: Message) -> Channel:
        channel = self.fake.world.channels[message.channel_id]
        if message.deleted or message.visible_to is not None:
            raise GestureRefused("nobody can react to a deleted or ephemeral message")
        if channel.is_thread and channel.archived:
            raise GestureRefused(f"#{channel.name} is archived")
        if channel.guild_id is not None and not self.permissions_in(channel) & P.VIEW_CHANNEL:
            raise GestureRefused(f"{self.name} cannot see #{channel.name}")
        return channel

    async def clear_reactions(self, message: Message, emoji: str | None = None) -> None:
        """A moderator removes every reaction (or every reaction with ``emoji``)."""
        channel = self.fake.world.channels[message.channel_id]
        if not self.permissions_in(channel) & P.MANAGE_MESSAGES:
            raise GestureRefused("removing reactions needs Manage Messages")
        if emoji is None:
            self.fake.world.clear_reactions(message)
        else:
            self.fake.world.clear_emoji(message, emoji)
        await self.fake.flush()

    async def create_post(
        self,
        forum: Channel,
        title: str,
        content: str = "",
        *,
        tags: Iterable[str | int] = (),
        files: Iterable[tuple[str, bytes]] = (),
    ) -> Channel:
        """A native forum post: the thread, then its starter message (id = thread id)."""
        if not forum.is_forum:
            raise GestureRefused(f"#{forum.name} is not a forum channel")
        self._check_not_timed_out()
        perms = self.permissions_in(forum)
        if not perms & P.VIEW_CHANNEL or not perms & P.SEND_MESSAGES:  # "Create Posts"
            raise GestureRefused(f"{self.name} cannot create posts in #{forum.name}")
        self._check_slowmode(forum, perms)
        tag_ids = [forum.tag(t).id for t in tags]
        self.fake.automod.check_message(forum, self.id, [title, content])
        world = self.fake.world
        thread = world.create_thread(forum, name=title, owner_id=self.id, applied_tags=tag_ids)
        uploads: list[tuple[str, bytes, str | None]] = [(n, d, None) for n, d in files]
        world.post_message(
            thread, self.id, {"content": content}, files=uploads, message_id=thread.id
        )
        await self.fake.flush()
        return thread

    async def edit_thread(self, thread: Channel, **changes: Any) -> Channel:
        """Rename, archive, lock or retag a thread (``archived=True``, ``applied_tags=[...]``);
        locking and slowmode need Manage Threads."""
        moderated = {"locked", "rate_limit_per_user"} & changes.keys()
        if moderated and not self.permissions_in(thread) & P.MANAGE_THREADS:
            raise GestureRefused(f"{self.name} cannot change {sorted(moderated)}: Manage Threads")
        if "applied_tags" in changes and thread.parent_id is not None:
            parent = self.fake.world.channels[thread.parent_id]
            changes["applied_tags"] = [parent.tag(t).id for t in changes["applied_tags"]]
        self.fake.world.update_thread(thread, changes, by=self.id)
        await self.fake.flush()
        return thread

    async def delete_thread(self, thread: Channel) -> None:
        self.fake.world.delete_thread(thread)
        await self.fake.flush()

    # ------------------------------------------------------------------ interactions

    async def slash(
        self,
        command: str,
        options: Mapping[str, Any] | None = None,
        *,
        channel: Channel | None = None,
        bypass_permissions: bool = False,
    ) -> InteractionHandle:
        """Use ``/command`` ("qa settings set" for subcommands) with ``options`` by name."""
        ch = self._default_channel(channel)
        data = self._chat_input_data(command, options or {}, ch, None, bypass_permissions)
        return await self._start(IX_APPLICATION_COMMAND, ch, data)

    async def autocomplete(
        self,
        command: str,
        options: Mapping[str, Any] | None = None,
        *,
        focused: str,
        channel: Channel | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[JSON]:
        """Type into option ``focused``; returns the choices the bot offers."""
        handle = await self.start_autocomplete(command, options, focused=focused, channel=channel)
        return await handle.choices(timeout)

    async def start_autocomplete(
        self,
        command: str,
        options: Mapping[str, Any] | None = None,
        *,
        focused: str,
        channel: Channel | None = None,
    ) -> InteractionHandle:
        ch = self._default_channel(channel)
        data = self._chat_input_data(command, options or {}, ch, focused, False)
        return await self._start(IX_AUTOCOMPLETE, ch, data)

    async def context_menu(
        self, name: str, target: Message | Member | User, *, bypass_permissions: bool = False
    ) -> InteractionHandle:
        """A message command (target a Message) or a user command (target a Member/User)."""
        world = self.fake.world
        if isinstance(target, Message):
            ch = world.channels[target.channel_id]
            cmd = world.resolve_command(ch.guild_id, name, 3)
            self._check_command_allowed(cmd, ch, bypass_permissions)
            resolved: JSON = {
                "messages": {str(target.id): world.interaction_message_payload(target)}
            }
            target_id = target.id
        else:
            user = target.user if isinstance(target, Member) else target
            ch = self._default_channel(None)
            cmd = world.resolve_command(ch.guild_id, name, 2)
            self._check_command_allowed(cmd, ch, bypass_permissions)
            resolved = {"users": {}, "members": {}}
            self._resolve_user(resolved, user.id, ch)
            target_id = user.id
        data: JSON = {
            "id": str(cmd.id),
            "name": cmd.name,
            "type": cmd.type,
            "target_id": str(target_id),
            "resolved": resolved,
        }
        if cmd.guild_id is not None:
            data["guild_id"] = str(cmd.guild_id)
        return await self._start(IX_APPLICATION_COMMAND, ch, data)

    async def click(self, message: Message, custom_id: str) -> InteractionHandle:
        """Press a button of a message the bot sent (ephemeral ones too, if shown to us)."""
        comp = self._component(message, custom_id)
        if comp["type"] != 2:
            raise GestureRefused(f"{custom_id!r} is not a button; use select()")
        if comp.get("style") == 5:
            raise GestureRefused(f"{custom_id!r} is a link button; it sends no interaction")
        data: JSON = {"custom_id": custom_id, "component_type": 2}
        return await self._component_interaction(message, data)

    async def select(
        self, message: Message, custom_id: str, values: Sequence[str | int | Any]
    ) -> InteractionHandle:
        """Choose ``values`` in a select menu (string values, or users/roles/channels)."""
        comp = self._component(message, custom_id)
        ctype = comp["type"]
        if ctype not in (3, 5, 6, 7, 8):
            raise GestureRefused(f"{custom_id!r} is not a select menu")
        low, high = comp.get("min_values", 1), comp.get("max_values", 1)
        if not low <= len(values) <= high:
            raise GestureRefused(f"{custom_id!r} takes {low}..{high} values, got {len(values)}")
        data: JSON = {"custom_id": custom_id, "component_type": ctype}
        if ctype == 3:
            allowed = [o["value"] for o in comp.get("options", [])]
            strs = [str(v) for v in values]
            bad = [v for v in strs if v not in allowed]
            if bad:
                raise GestureRefused(f"{bad} are not options of {custom_id!r} ({allowed})")
            data["values"] = strs
        else:
            ids = [_id_of(v) for v in values]
            data["values"] = [str(i) for i in ids]
            resolved: JSON = {}
            ch = self.fake.world.channels[message.channel_id]
            for i in ids:
                if i in self.fake.world.users:
                    resolved.setdefault("users", {})
                    resolved.setdefault("members", {})
                    self._resolve_user(resolved, i, ch)
                elif ch.guild_id is not None and i in self.fake.world.guilds[ch.guild_id].roles:
                    role = self.fake.world.guilds[ch.guild_id].roles[i]
                    resolved.setdefault("roles", {})[str(i)] = role.payload()
                elif i in self.fake.world.channels:
                    self._resolve_channel(resolved, self.fake.world.channels[i], ch)
            data["resolved"] = resolved
        return await self._component_interaction(message, data)

    def _component(self, message: Message, custom_id: str) -> JSON:
        msg = self.fake.world.messages[message.id]
        if msg.deleted:
            raise GestureRefused(f"message {msg.id} was deleted")
        if msg.visible_to is not None and msg.visible_to != self.id:
            raise GestureRefused("that ephemeral message is shown to someone else")
        comp = msg.component(custom_id)
        if comp.get("disabled"):
            raise GestureRefused(f"component {custom_id!r} is disabled")
        return comp

    async def _component_interaction(self, message: Message, data: JSON) -> InteractionHandle:
        ch = self.fake.world.channels[message.channel_id]
        record = self.fake.world.new_interaction(
            type=IX_COMPONENT, user_id=self.id, channel=ch, data=data, message=message
        )
        await self.fake.flush()
        return InteractionHandle(self.fake, record, self)

    async def _start(self, itype: int, channel: Channel, data: JSON) -> InteractionHandle:
        record = self.fake.world.new_interaction(
            type=itype, user_id=self.id, channel=channel, data=data
        )
        await self.fake.flush()
        return InteractionHandle(self.fake, record, self)

    # ------------------------------------------------------------------ command data

    def _check_command_allowed(self, cmd: Command, channel: Channel, bypass: bool) -> None:
        if channel.is_thread and channel.archived:
            raise GestureRefused(f"#{channel.name} is archived: it accepts no commands")
        if bypass:
            return
        if channel.guild_id is not None:
            perms = self.permissions_in(channel)
            if not perms & P.VIEW_CHANNEL or not perms & P.USE_APPLICATION_COMMANDS:
                raise GestureRefused(f"{self.name} cannot use commands in #{channel.name}")
        if channel.guild_id is None:
            contexts = cmd.data.get("contexts")
            if cmd.data.get("dm_permission") is False or (
                contexts is not None and 1 not in contexts
            ):
                raise GestureRefused(f"/{cmd.name} is not available in DMs")
            world = self.fake.world
            user_install = 1 in (cmd.data.get("integration_types") or [0])
            if not world.shares_guild_with_bot(self.id) and not (
                user_install and self.id in world.user_installs
            ):
                raise GestureRefused(
                    f"{self.name} shares no server with the app and has not installed "
                    f"/{cmd.name} to their account"
                )
            return
        contexts = cmd.data.get("contexts")
        if contexts is not None and 0 not in contexts:
            raise GestureRefused(f"/{cmd.name} is not available in servers")
        needed = cmd.data.get("default_member_permissions")
        if needed is None:
            return
        bits = int(needed)
        have = self.permissions_in(channel)
        admin = bool(have & P.ADMINISTRATOR)
        if not admin and (bits == 0 or have & bits != bits):
            raise GestureRefused(
                f"Discord hides /{cmd.name} from {self.name}: it needs permissions {bits}"
            )

    def _chat_input_data(
        self,
        command: str,
        options: Mapping[str, Any],
        channel: Channel,
        focused: str | None,
        bypass: bool,
    ) -> JSON:
        names = command.strip().lstrip("/").split()
        if not names:
            raise ValueError("empty command name")
        world = self.fake.world
        cmd = world.resolve_command(channel.guild_id, names[0], 1)
        self._check_command_allowed(cmd, channel, bypass)
        schema: list[JSON] = list(cmd.data.get("options") or [])
        chain: list[tuple[int, str]] = []
        for sub in names[1:]:
            found = next(
                (
                    o
                    for o in schema
                    if o.get("name") == sub and o.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP)
                ),
                None,
            )
            if found is None:
                subs = [o["name"] for o in schema if o.get("type") in (1, 2)]
                raise LookupError(f"/{' '.join(names)}: no subcommand {sub!r} (has {subs})")
            chain.append((int(found["type"]), sub))
            schema = list(found.get("options") or [])
        if any(o.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in schema):
            subs = [o["name"] for o in schema]
            raise LookupError(f"/{' '.join(names)} needs a subcommand: {subs}")
        resolved: JSON = {}
        leaf = self._leaf_options(schema, options, channel, focused, resolved, names)
        nested: list[JSON] = leaf
        for otype, name in reversed(chain):
            nested = [{"type": otype, "name": name, "options": nested}]
        data: JSON = {"id": str(cmd.id), "name": cmd.name, "type": 1, "options": nested}
        if resolved:
            data["resolved"] = resolved
        if cmd.guild_id is not None:
            data["guild_id"] = str(cmd.guild_id)
        return data

    def _leaf_options(
        self,
        schema: list[JSON],
        options: Mapping[str, Any],
        channel: Channel,
        focused: str | None,
        resolved: JSON,
        names: list[str],
    ) -> list[JSON]:
        by_name = {o["name"]: o for o in schema}
        unknown = [k for k in options if k not in by_name]
        if unknown:
            raise LookupError(f"/{' '.join(names)} has no options {unknown} (has {list(by_name)})")
        if focused is not None and focused not in by_name:
            raise LookupError(f"/{' '.join(names)} has no option {focused!r} to autocomplete")
        out: list[JSON] = []
        for opt in schema:
            name = opt["name"]
            if name == focused:
                typed = options.get(name, "")
                out.append(
                    {"type": opt["type"], "name": name, "value": str(typed), "focused": True}
                )
                continue
            if name not in options:
                if opt.get("required") and focused is None:
                    raise GestureRefused(f"/{' '.join(names)}: option {name!r} is required")
                continue
            value = self._option_value(opt, options[name], channel, resolved, names)
            out.append({"type": opt["type"], "name": name, "value": value})
        return out

    def _option_value(
        self, opt: JSON, raw: Any, channel: Channel, resolved: JSON, names: list[str]
    ) -> Any:
        otype = int(opt["type"])
        label = f"/{' '.join(names)} {opt['name']}"
        if otype in (STRING, INTEGER, NUMBER) and opt.get("choices"):
            for choice in opt["choices"]:
                if raw == choice["value"] or raw == choice["name"]:
                    raw = choice["value"]
                    break
            else:
                allowed = [c["name"] for c in opt["choices"]]
                raise GestureRefused(f"{label}: {raw!r} is not one of {allowed}")
        if otype == STRING:
            value = str(raw)
            if opt.get("min_length") is not None and len(value) < opt["min_length"]:
                raise GestureRefused(f"{label}: shorter than {opt['min_length']}")
            if opt.get("max_length") is not None and len(value) > opt["max_length"]:
                raise GestureRefused(f"{label}: longer than {opt['max_length']}")
            return value
        if otype in (INTEGER, NUMBER):
            num: int | float = int(raw) if otype == INTEGER else float(raw)
            if opt.get("min_value") is not None and num < opt["min_value"]:
                raise GestureRefused(f"{label}: below {opt['min_value']}")
            if opt.get("max_value") is not None and num > opt["max_value"]:
                raise GestureRefused(f"{label}: above {opt['max_value']}")
            return num
        if otype == BOOLEAN:
            if not isinstance(raw, bool):
                raise TypeError(f"{label} takes True or False")
            return raw
        world = self.fake.world
        if otype == ATTACHMENT:
            filename, data = raw
            att = world.store_file(channel.id, filename, data, None)
            resolved.setdefault("attachments", {})[str(att.id)] = att.payload(ephemeral=True)
            return str(att.id)
        if isinstance(raw, Member):
            raw = raw.user
        target = _id_of(raw)
        if otype == USER or (otype == MENTIONABLE and target in world.users):
            resolved.setdefault("users", {})
            resolved.setdefault("members", {})
            self._resolve_user(resolved, target, channel)
            return str(target)
        if otype in (ROLE, MENTIONABLE):
            if channel.guild_id is None:
                raise GestureRefused(f"{label}: no roles outside a server")
            role = world.role(channel.guild_id, target)
            resolved.setdefault("roles", {})[str(role.id)] = role.payload()
            return str(role.id)
        if otype == CHANNEL:
            target_ch = world.channel(target)
            types = opt.get("channel_types")
            if types and target_ch.type not in types:
                raise GestureRefused(f"{label}: channel type {target_ch.type} not in {types}")
            self._resolve_channel(resolved, target_ch, channel)
            return str(target_ch.id)
        raise ValueError(f"{label}: option type {otype} is not supported by the fake")

    def _resolve_user(self, resolved: JSON, user_id: int, channel: Channel) -> None:
        world = self.fake.world
        resolved.setdefault("users", {})[str(user_id)] = world.user_payload(user_id)
        if channel.guild_id is not None and user_id in world.guilds[channel.guild_id].members:
            member = world.member_payload(
                channel.guild_id, user_id, with_user=False, permissions_in=channel
            )
            resolved.setdefault("members", {})[str(user_id)] = member

    def _resolve_channel(self, resolved: JSON, target: Channel, channel: Channel) -> None:
        data = self.fake.world.channel_payload(target)
        data["permissions"] = str(self.fake.world.permissions_in(target, self.id))
        resolved.setdefault("channels", {})[str(target.id)] = data
