"""AutoMod in the fake: a guild's rules, their REST route and gateway events, and the blocking of
a member's own message.

As on Discord: ``GET /guilds/{guild.id}/auto-moderation/rules`` answers the rule objects to a
bot with Manage Server (else 403 50013 Missing Permissions); creating, editing or deleting a rule
sends AUTO_MODERATION_RULE_CREATE / UPDATE / DELETE to sessions with the
AUTO_MODERATION_CONFIGURATION intent; a member's message (or forum post) that a rule with a
BLOCK_MESSAGE action matches is refused (the client shows Discord's "blocked by AutoMod"
notice; here ``AutoModBlocked``), while bots are exempt. The keyword semantics are the ones the
bot applies (``bot.forum.automod``), so the fake and the bot agree on what a keyword matches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.forum.automod import KeywordRule, Poster, compile_rules
from tests.fakediscord import permissions as P
from tests.fakediscord.actors import GestureRefused
from tests.fakediscord.model import INTENT_AUTO_MODERATION_CONFIGURATION, JSON, Channel, Guild
from tests.fakediscord.world import FakeError

if TYPE_CHECKING:
    from tests.fakediscord.rest import Req
    from tests.fakediscord.server import FakeDiscord

RULES_ROUTE = "/guilds/{guild_id}/auto-moderation/rules"
BLOCK_MESSAGE, SEND_ALERT_MESSAGE, TIMEOUT = 1, 2, 3
KEYWORD, MESSAGE_SEND = 1, 1


class AutoModBlocked(GestureRefused):
    """A member's message that a rule blocked (Discord's error 200000 to their client)."""

    def __init__(self, rule: AutoModRule) -> None:
        super().__init__(f"Message was blocked by AutoMod (rule {rule.name!r})")
        self.rule = rule


@dataclass
class AutoModRule:
    id: int
    guild_id: int
    name: str
    creator_id: int
    keywords: list[str] = field(default_factory=list)
    regex: list[str] = field(default_factory=list)
    allow: list[str] = field(default_factory=list)
    exempt_roles: list[int] = field(default_factory=list)
    exempt_channels: list[int] = field(default_factory=list)
    actions: list[JSON] = field(default_factory=lambda: [{"type": BLOCK_MESSAGE}])
    enabled: bool = True
    event_type: int = MESSAGE_SEND
    trigger_type: int = KEYWORD

    def payload(self) -> JSON:
        return {
            "id": str(self.id),
            "guild_id": str(self.guild_id),
            "name": self.name,
            "creator_id": str(self.creator_id),
            "event_type": self.event_type,
            "trigger_type": self.trigger_type,
            "trigger_metadata": {
                "keyword_filter": list(self.keywords),
                "regex_patterns": list(self.regex),
                "allow_list": list(self.allow),
            },
            "actions": [
                {"type": a["type"], "metadata": dict(a.get("metadata") or {})} for a in self.actions
            ],
            "enabled": self.enabled,
            "exempt_roles": [str(r) for r in self.exempt_roles],
            "exempt_channels": [str(c) for c in self.exempt_channels],
        }

    def as_keyword_rule(self) -> KeywordRule:
        messages = [a.get("metadata", {}).get("custom_message") for a in self.actions]
        return KeywordRule(
            id=self.id,
            name=self.name,
            keywords=tuple(self.keywords),
            regex_patterns=tuple(self.regex),
            allow_list=tuple(self.allow),
            exempt_roles=frozenset(self.exempt_roles),
            exempt_channels=frozenset(self.exempt_channels),
            enabled=self.enabled,
            event_type=self.event_type,
            trigger_type=self.trigger_type,
            action_types=tuple(int(a["type"]) for a in self.actions),
            custom_message=next((m for m in messages if m), None),
        )


def _ids(items: Iterable[Any]) -> list[int]:
    return [int(getattr(item, "id", item)) for item in items]


def _actions(actions: Sequence[int | JSON] | None, custom_message: str | None) -> list[JSON]:
    if actions is None:
        actions = [BLOCK_MESSAGE]
    out: list[JSON] = []
    for action in actions:
        entry = {"type": action} if isinstance(action, int) else dict(action)
        if entry["type"] == BLOCK_MESSAGE and custom_message is not None:
            entry["metadata"] = {"custom_message": custom_message}
        out.append(entry)
    return out


class AutoMod:
    """The AutoMod rules of every guild in the fake (``fake.automod``)."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.rules: dict[int, AutoModRule] = {}
        fake.rest.router.add("GET", RULES_ROUTE, self._list_rules)

    def of(self, guild_id: int) -> list[AutoModRule]:
        return [r for r in self.rules.values() if r.guild_id == guild_id]

    def add(
        self,
        guild: Guild,
        *,
        name: str,
        keywords: Iterable[str] = (),
        regex: Iterable[str] = (),
        allow: Iterable[str] = (),
        exempt_roles: Iterable[Any] = (),
        exempt_channels: Iterable[Any] = (),
        actions: Sequence[int | JSON] | None = None,
        custom_message: str | None = None,
        enabled: bool = True,
        event_type: int = MESSAGE_SEND,
    ) -> AutoModRule:
        rule = AutoModRule(
            id=self.fake.ids.next(),
            guild_id=guild.id,
            name=name,
            creator_id=guild.owner_id,
            keywords=list(keywords),
            regex=list(regex),
            allow=list(allow),
            exempt_roles=_ids(exempt_roles),
            exempt_channels=_ids(exempt_channels),
            actions=_actions(actions, custom_message),
            enabled=enabled,
            event_type=event_type,
        )
        self.rules[rule.id] = rule
        self._emit("AUTO_MODERATION_RULE_CREATE", rule)
        return rule

    def update(self, rule: AutoModRule, **changes: Any) -> AutoModRule:
        for key in ("exempt_roles", "exempt_channels"):
            if key in changes:
                changes[key] = _ids(changes[key])
        if "actions" in changes:
            changes["actions"] = _actions(changes["actions"], changes.pop("custom_message", None))
        for key, value in changes.items():
            setattr(rule, key, value)
        self._emit("AUTO_MODERATION_RULE_UPDATE", rule)
        return rule

    def delete(self, rule: AutoModRule) -> None:
        del self.rules[rule.id]
        self._emit("AUTO_MODERATION_RULE_DELETE", rule)

    def _emit(self, name: str, rule: AutoModRule) -> None:
        world = self.fake.world
        world.emit(
            name,
            rule.payload(),
            guild_id=rule.guild_id,
            intent=INTENT_AUTO_MODERATION_CONFIGURATION,
        )
        world.changed()

    def check_message(self, channel: Channel, user_id: int, texts: Iterable[str]) -> None:
        """Raise ``AutoModBlocked`` when a rule blocks this user's text in ``channel``; bots,
        DMs, Manage Server and Administrator are exempt."""
        world = self.fake.world
        if channel.guild_id is None or world.users[user_id].bot:
            return
        guild = world.guilds[channel.guild_id]
        base = world.base_permissions(guild, user_id)
        member = guild.members[user_id]
        channel_ids = {channel.id} | ({channel.parent_id} if channel.parent_id else set())
        poster = Poster(
            role_ids=frozenset([guild.id, *member.roles]),
            channel_ids=frozenset(channel_ids),
            manages_server=bool(base & (P.MANAGE_GUILD | P.ADMINISTRATOR)),
        )
        compiled = compile_rules(r.as_keyword_rule() for r in self.of(guild.id))
        blocked = compiled.blocking_rule(texts, poster)
        if blocked is not None:
            raise AutoModBlocked(self.rules[blocked.id])

    async def _list_rules(self, req: Req) -> tuple[int, Any]:
        world = self.fake.world
        guild = world.guild(req.id("guild_id"))
        if not world.base_permissions(guild, world.bot.id) & P.MANAGE_GUILD:
            raise FakeError(403, 50013, "Missing Permissions")
        return 200, [rule.payload() for rule in self.of(guild.id)]
