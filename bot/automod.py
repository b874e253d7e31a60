"""The server's AutoMod keyword rules, read from Discord and applied to what the bot posts for a
member (``bot.forum.automod`` holds the matching; this is its adapter).

Discord exempts bots from AutoMod, so ``AutoModRules.check`` checks a member's text before the
bot posts it. The rules are read with ``guild.fetch_automod_rules()``, which needs the bot's
Manage Server permission; without it the check is skipped (logged once per guild, ids only) and
``/qa setup`` says so. Each guild's rules are cached (bounded) and kept current by the
AUTO_MODERATION_RULE_CREATE / UPDATE / DELETE events (the ``auto_moderation_configuration``
intent); a cache older than ``REFRESH_AFTER`` is read again, in case events were missed. When
Discord cannot be asked (a timeout, a 5xx) and nothing is cached, the text goes through and a
warning is logged: a refusal would stop every member over a passing fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

import discord

from bot.bounded import BoundedMap
from bot.clock import utc_now
from bot.forum.automod import KeywordRule, Poster, RuleSet, check_text, compile_rules

log = logging.getLogger(__name__)

#: Guilds whose rules are kept in memory at once (the least recently read are forgotten).
CACHED_GUILDS: Final = 2000
#: How long cached rules are trusted without an event before they are read again.
REFRESH_AFTER: Final = timedelta(minutes=15)
#: Time limit of one read of a guild's rules.
FETCH_TIMEOUT: Final = 5.0


def keyword_rule(rule: discord.AutoModRule) -> KeywordRule:
    """discord.py's rule as the domain's plain record."""
    trigger = rule.trigger
    messages = [a.custom_message for a in rule.actions if a.custom_message]
    return KeywordRule(
        id=rule.id,
        name=rule.name,
        keywords=tuple(trigger.keyword_filter),
        regex_patterns=tuple(trigger.regex_patterns),
        allow_list=tuple(trigger.allow_list),
        exempt_roles=frozenset(rule.exempt_role_ids),
        exempt_channels=frozenset(rule.exempt_channel_ids),
        enabled=rule.enabled,
        event_type=rule.event_type.value,
        trigger_type=trigger.type.value,
        action_types=tuple(a.type.value for a in rule.actions),
        custom_message=messages[0] if messages else None,
    )


def can_read_rules(guild: discord.Guild) -> bool:
    """Whether the bot may read the guild's AutoMod rules (Manage Server)."""
    me = guild.me
    return me is not None and me.guild_permissions.manage_guild


class Listens(Protocol):
    """What the cache needs of the bot: a way to hear the rule events."""

    def add_listener(
        self, func: Callable[..., Coroutine[Any, Any, Any]], /, name: str = ...
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class _Rules:
    by_id: dict[int, KeywordRule]
    compiled: RuleSet
    read_at: datetime


class AutoModRules:
    """Each guild's AutoMod keyword rules, cached, and the check of a member's text."""

    def __init__(self, bot: Listens) -> None:
        self._rules: BoundedMap[int, _Rules] = BoundedMap(CACHED_GUILDS)
        self._skip_logged: BoundedMap[int, bool] = BoundedMap(CACHED_GUILDS)
        for event in ("on_automod_rule_create", "on_automod_rule_update"):
            bot.add_listener(self._rule_changed, event)
        bot.add_listener(self._rule_deleted, "on_automod_rule_delete")

    async def check(
        self, interaction: discord.Interaction[Any], channel_id: int | None, *texts: str | None
    ) -> None:
        """Refuse (``PermissionDenied``, one sentence) text that the guild's AutoMod would
        block if the member posted it themselves in ``channel_id`` (a thread counts as its
        parent too). Nothing is checked outside a guild or where the rules cannot be read."""
        guild, member = interaction.guild, interaction.user
        if guild is None or not isinstance(member, discord.Member):
            return
        rules = await self.rules_of(guild)
        if rules is None or not rules.rules:
            return
        perms = member.guild_permissions
        poster = Poster(
            role_ids=frozenset(role.id for role in member.roles),
            channel_ids=await _channel_ids(guild, channel_id),
            manages_server=perms.manage_guild or perms.administrator,
        )
        check_text(rules, texts, poster)

    async def rules_of(self, guild: discord.Guild) -> RuleSet | None:
        """The guild's blocking rules (None: the bot may not read them, or could not)."""
        if not can_read_rules(guild):
            self._rules.pop(guild.id)
            self._log_skip(guild.id)
            return None
        cached = self._rules.get(guild.id)
        if cached is not None and utc_now() - cached.read_at < REFRESH_AFTER:
            return cached.compiled
        try:
            async with asyncio.timeout(FETCH_TIMEOUT):
                fetched = await guild.fetch_automod_rules()
        except discord.Forbidden:
            self._log_skip(guild.id)
            return None
        except (TimeoutError, discord.HTTPException) as exc:
            status = getattr(exc, "status", "timeout")
            log.warning("guild %s: AutoMod rules not read (%s); not checked", guild.id, status)
            return cached.compiled if cached is not None else None
        return self._store(guild.id, {r.id: keyword_rule(r) for r in fetched}).compiled

    def _store(self, guild_id: int, by_id: dict[int, KeywordRule]) -> _Rules:
        compiled = compile_rules(by_id.values())
        if compiled.skipped:
            log.info(
                "guild %s: %d AutoMod regex patterns skipped (not readable as Python regex)",
                guild_id,
                compiled.skipped,
            )
        entry = _Rules(by_id, compiled, utc_now())
        self._rules.put(guild_id, entry)
        return entry

    def _log_skip(self, guild_id: int) -> None:
        if self._skip_logged.add(guild_id, True):
            log.info(
                "guild %s: AutoMod rules not readable (no Manage Server); not checked", guild_id
            )

    # ------------------------------------------------------------------ gateway events

    async def _rule_changed(self, rule: discord.AutoModRule) -> None:
        cached = self._rules.get(rule.guild.id)
        if cached is not None:  # otherwise the next check reads them all
            self._store(rule.guild.id, {**cached.by_id, rule.id: keyword_rule(rule)})

    async def _rule_deleted(self, rule: discord.AutoModRule) -> None:
        cached = self._rules.get(rule.guild.id)
        if cached is not None:
            kept = {rid: r for rid, r in cached.by_id.items() if rid != rule.id}
            self._store(rule.guild.id, kept)


async def _channel_ids(guild: discord.Guild, channel_id: int | None) -> frozenset[int]:
    """The channel a post goes to and, for a thread, its parent (AutoMod exempts either). A
    thread discord.py does not hold (an archived one) is asked for; if that fails, its own id
    is all there is."""
    if channel_id is None:
        return frozenset()
    channel: Any = guild.get_channel_or_thread(channel_id)
    if channel is None:
        with contextlib.suppress(TimeoutError, discord.HTTPException):
            async with asyncio.timeout(FETCH_TIMEOUT):
                channel = await guild.fetch_channel(channel_id)
    if isinstance(channel, discord.Thread):
        return frozenset({channel_id, channel.parent_id})
    return frozenset({channel_id})
