"""Per-guild settings: typed defaults in one place, a row stores only an override.

``GuildConfig`` is the typed view the rest of the domain reads; its field defaults are the one
place defaults live. ``SPECS`` describes every key (type, bounds, help) so ``/qa settings`` can
list, autocomplete and validate them; an unknown key or a bad value is refused with a sentence
the user sees. Setting a key back to its default deletes its row. What a server manager types
into ``/qa settings set|reset`` goes through ``bot.forum.setting_changes``, which also rebuilds
the cached points when a point rule changes.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import logging
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.dialect import insert
from bot.db.models import GuildSetting
from bot.forum.errors import ValidationError
from bot.forum.invites import check_invite

log = logging.getLogger(__name__)
_STORED = select(GuildSetting.key, GuildSetting.value).filter_by(guild_id=bindparam("guild_id"))

#: The longest resources text: it must fit one embed description, a DM and a slash option.
RESOURCES_TEXT_MAX = 1500
#: Keywords for the resources reply: how many, and how long each may be.
KEYWORDS_MAX = 50
KEYWORD_LENGTH_MAX = 60
#: The longest value ``/qa settings set`` accepts (Discord allows string options up to 6000).
VALUE_MAX = RESOURCES_TEXT_MAX


def _setting(
    default: Any, help: str, *, lo: int | None = None, hi: int | None = None, public: bool = True
) -> Any:
    """A ``GuildConfig`` field: its default, and what ``/qa settings`` needs to know of it (the
    help line, integer bounds, and whether a server manager sets it or ``/qa setup`` does)."""
    return field(default=default, metadata={"help": help, "lo": lo, "hi": hi, "public": public})


def _points(default: int, help: str) -> Any:
    """A point rule: the points one act earns or costs (0 to 100,000)."""
    return _setting(default, help, lo=0, hi=100_000)


def _cap(default: int, help: str) -> Any:
    """A cap on the points a post's votes earn or cost (0 to 1,000,000)."""
    return _setting(default, help, lo=0, hi=1_000_000)


@dataclass(frozen=True, slots=True)
class GuildConfig:
    """A guild's effective settings: defaults overlaid with its overrides."""

    forum_channel_id: int | None = _setting(
        None, "The Q&A forum channel (set by /qa setup).", lo=1, public=False
    )
    solved_tag_id: int | None = _setting(
        None, "The forum tag applied to solved questions.", lo=1, public=False
    )
    moderator_role_id: int | None = _setting(
        None, "A role whose members moderate (role id or mention).", lo=1
    )
    min_answer_length: int = _setting(
        12, "Shorter thread messages become comments, not answers.", lo=1, hi=2000
    )
    points_base: int = _setting(100, "Points every member starts with.", lo=0, hi=1_000_000)
    points_ask: int = _points(20, "Points for asking a question.")
    points_answer: int = _points(40, "Points for posting an answer.")
    points_question_upvote: int = _points(10, "Points per up vote on your question.")
    points_question_downvote: int = _points(10, "Points lost per down vote on your question.")
    question_vote_cap_up: int = _cap(100, "Most points up votes earn per question.")
    question_vote_cap_down: int = _cap(30, "Most points down votes cost per question.")
    points_answer_upvote: int = _points(20, "Points per up vote on your answer.")
    points_answer_downvote: int = _points(20, "Points lost per down vote on your answer.")
    answer_vote_cap_up: int = _cap(200, "Most points up votes earn per answer.")
    answer_vote_cap_down: int = _cap(50, "Most points down votes cost per answer.")
    points_accepted: int = _points(300, "Points for having your answer accepted.")
    points_accepting: int = _points(30, "Points for accepting someone else's answer.")
    points_vote_cast: int = _points(0, "Points for casting a vote.")
    questions_per_hour: int = _setting(10, "Questions a member may ask per hour.", lo=1, hi=10_000)
    answers_per_hour: int = _setting(25, "Answers a member may post per hour.", lo=1, hi=10_000)
    vote_up_emoji: str = _setting("👍", "The reaction that votes up.")
    vote_down_emoji: str = _setting("👎", "The reaction that votes down.")
    question_voting: bool = _setting(True, "Whether questions (not only answers) can be voted on.")
    notify_coalesce_seconds: int = _setting(
        60, "Further DMs about one question within this window are gathered.", lo=0, hi=86_400
    )
    anonymous_posting: bool = _setting(
        True, "Whether members may ask, answer and reply anonymously."
    )
    anonymous_min_days: int | None = _setting(
        None, "Days a member must have been in the server to post anonymously.", lo=0, hi=3650
    )
    mod_channel_id: int | None = _setting(
        None, "The channel where moderators get report cards and posts awaiting review.", lo=1
    )
    reports_hide_after: int | None = _setting(
        None,
        "Hide a post once this many members have open reports on it (off when unset).",
        lo=1,
        hi=1000,
    )
    restore_window_days: int = _setting(
        30, "Days a moderator may restore a removed post; its text is purged after.", lo=1, hi=365
    )
    notification_retention_days: int = _setting(
        30, "Days sent, failed and cancelled DM notifications are kept.", lo=1, hi=3650
    )
    draft_retention_hours: int = _setting(
        24, "Hours an expired or used /ask draft is kept.", lo=1, hi=720
    )
    departed_retention_days: int = _setting(
        30, "Days this server's data is kept after it removes the bot.", lo=0, hi=3650
    )
    premod_anonymous: bool = _setting(
        False, "Hold anonymous posts through the bot for a moderator's approval."
    )
    premod_new_member_days: int | None = _setting(
        None,
        "Hold posts through the bot by members who joined fewer than this many days ago.",
        lo=1,
        hi=3650,
    )
    resources_text: str | None = _setting(
        None,
        "The safety resources /resources shows (write \\n for a line break); not set: a default "
        "that points to this server's rules channel and moderators.",
        hi=RESOURCES_TEXT_MAX,
    )
    resources_keywords: str | None = _setting(
        None,
        "Comma-separated words or phrases; a question containing one gets the resources privately "
        "(with resources_keyword_reply on).",
        hi=KEYWORDS_MAX,
    )
    stats_digest: bool = _setting(
        False, "Post a weekly community-health digest to the moderator channel."
    )
    stats_digest_posted_at: int | None = _setting(
        None, "When the last weekly digest was posted (kept by the bot).", lo=0, public=False
    )
    resources_keyword_reply: bool = _setting(
        False, "Whether an asker whose question matches resources_keywords gets the resources."
    )
    publishing: bool = _setting(
        False, "Publish, with their authors' consent, questions of archive_categories on the web."
    )
    archive_imported: bool = _setting(
        False,
        "Publish the imported history too (its authors never named): they gave no consent here.",
    )
    archive_invite: str | None = _setting(
        None,
        "The invite link the public archive offers (a discord.gg or discord.com link).",
        hi=200,
    )

    def points_shown(self, earned: int) -> int:
        return self.points_base + earned


SPECS: dict[str, dataclasses.Field[Any]] = {f.name: f for f in dataclasses.fields(GuildConfig)}
DEFAULTS = GuildConfig()


def _resolve_types() -> dict[str, tuple[type, bool]]:
    """Each key's base type (bool, int or str) and whether it may be unset (None)."""
    hints = typing.get_type_hints(GuildConfig)
    resolved: dict[str, tuple[type, bool]] = {}
    for key in SPECS:
        hint = hints[key]
        args = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        optional = type(None) in args
        bases = [a for a in args if a is not type(None)]
        if len(bases) != 1 or bases[0] not in (bool, int, str):
            raise TypeError(f"setting {key} has an unsupported type {hint!r}")
        resolved[key] = (bases[0], optional)
    return resolved


_TYPES = _resolve_types()
_EMOJI_KEYS = ("vote_up_emoji", "vote_down_emoji")
#: Keys whose text is a comma-separated list, and the one whose ``\n`` typed in a slash
#: option (which takes no line breaks) becomes a line break.
_LIST_KEYS = ("resources_keywords",)
_MULTILINE_KEYS = ("resources_text",)


def setting_type(key: str) -> type:
    """``bool``, ``int`` or ``str``: the type of the key's value (unknown keys are refused)."""
    _spec(key)
    return _TYPES[key][0]


def is_optional(key: str) -> bool:
    """Whether the key may be unset (``none``/``clear`` as a value)."""
    _spec(key)
    return _TYPES[key][1]


def setting_help(key: str) -> str:
    return str(_spec(key).metadata.get("help", ""))


def public_keys() -> list[str]:
    """Keys a server manager may set with /qa settings (others are set by /qa setup)."""
    return [k for k, f in SPECS.items() if f.metadata.get("public", True)]


def _shown_key(key: str) -> str:
    """A user-typed key made safe to quote in a sentence (no backticks, bounded length)."""
    cleaned = "".join(ch for ch in key if ch.isprintable() and ch != "`").strip()
    return cleaned[:64] or "?"


def _spec(key: str) -> dataclasses.Field[Any]:
    spec = SPECS.get(key)
    if spec is None:
        sentence = f"There is no setting called `{_shown_key(key)}`."
        close = difflib.get_close_matches(key.strip().lower(), public_keys(), n=1)
        if close:
            sentence += f" Did you mean `{close[0]}`?"
        raise ValidationError(sentence)
    return spec


_TRUE = {"true", "yes", "on", "1", "enable", "enabled"}
_FALSE = {"false", "no", "off", "0", "disable", "disabled"}
_UNSET = {"", "none", "off", "clear", "reset", "unset"}
# A role, channel or user mention as Discord renders it: <@&id>, <#id>, <@id>, <@!id>.
_MENTION = re.compile(r"<(?:@[&!]?|#)(\d+)>")
_CUSTOM_EMOJI = re.compile(r"<a?:[A-Za-z0-9_]{2,32}:\d{1,20}>")


def parse_value(key: str, raw: str) -> Any:
    """Turn the text a user typed into a validated value for ``key``."""
    kind, optional = _TYPES[_spec(key).name]
    text = raw.strip()
    if optional and text.lower() in _UNSET:
        return None
    if kind is bool:
        low = text.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValidationError(f"`{key}` must be on or off.")
    if kind is int:
        mention = _MENTION.fullmatch(text)
        digits = mention.group(1) if mention else text.replace(",", "").replace("_", "")
        if not re.fullmatch(r"[+-]?[0-9]+", digits):
            raise ValidationError(f"`{key}` must be a whole number.")
        return validate_value(key, int(digits))
    if key in _MULTILINE_KEYS:
        text = text.replace("\\n", "\n")
    return validate_value(key, text)


def split_list(value: str | None) -> list[str]:
    """The items of a list setting (``a, b, c``), stripped, case-folded, without repeats."""
    items: list[str] = []
    for raw in (value or "").split(","):
        item = " ".join(raw.split()).casefold()
        if item and item not in items:
            items.append(item)
    return items


def _normalised_list(key: str, value: str) -> str | None:
    items = split_list(value)
    hi = SPECS[key].metadata.get("hi") or KEYWORDS_MAX
    if len(items) > hi:
        raise ValidationError(f"`{key}` takes at most {hi} items.")
    if any(len(item) > KEYWORD_LENGTH_MAX for item in items):
        raise ValidationError(
            f"Each item of `{key}` must be at most {KEYWORD_LENGTH_MAX} characters long."
        )
    return ", ".join(items) or None


def _is_one_emoji(value: str) -> bool:
    if _CUSTOM_EMOJI.fullmatch(value):
        return True
    if len(value) > 16 or any(ch.isspace() for ch in value):
        return False
    if any(ch.isascii() and (ch.isalpha() or ch in "<>@:`") for ch in value):
        return False
    # At least one pictograph (emoji live above U+00A9; keycaps are digit + U+20E3).
    return any(ord(ch) >= 0xA9 for ch in value)


def validate_value(key: str, value: Any) -> Any:
    """Check a typed value for ``key`` (type, bounds, shape); returns it normalised."""
    kind, optional = _TYPES[_spec(key).name]
    spec = SPECS[key]
    if value is None:
        if not optional:
            raise ValidationError(f"`{key}` cannot be empty.")
        return None
    if kind is bool:
        if not isinstance(value, bool):
            raise ValidationError(f"`{key}` must be on or off.")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"`{key}` must be a whole number.")
        lo, hi = spec.metadata.get("lo"), spec.metadata.get("hi")
        if lo is not None and value < lo:
            raise ValidationError(f"`{key}` must be at least {lo}.")
        if hi is not None and value > hi:
            raise ValidationError(f"`{key}` must be at most {hi}.")
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"`{key}` cannot be empty.")
    value = value.strip()
    if key in _EMOJI_KEYS and not _is_one_emoji(value):
        raise ValidationError(f"`{key}` must be one emoji, such as 👍 or a custom emoji.")
    if key == "archive_invite":
        return check_invite(value)
    if key in _LIST_KEYS:
        listed = _normalised_list(key, value)
        if listed is None and not optional:
            raise ValidationError(f"`{key}` cannot be empty.")
        return listed
    hi = spec.metadata.get("hi")
    if hi is not None and len(value) > hi:
        raise ValidationError(f"`{key}` must be at most {hi} characters long.")
    return value


def config_from_overrides(overrides: Mapping[str, Any]) -> GuildConfig:
    """Defaults overlaid with the overrides; unknown keys and invalid values are ignored."""
    known: dict[str, Any] = {}
    for key, value in overrides.items():
        if key not in SPECS:
            continue
        try:
            known[key] = validate_value(key, value)
        except ValidationError:
            log.warning("ignoring an invalid stored value for setting %s", key)
    return dataclasses.replace(DEFAULTS, **known)


def overrides(connection: Connection, guild_id: int) -> dict[str, Any]:
    """The guild's stored overrides, key -> value (only what differs from the defaults)."""
    decoded: dict[str, Any] = {}
    for key, value in connection.execute(_STORED, {"guild_id": guild_id}):
        try:
            decoded[key] = json.loads(value)
        except ValueError:
            log.warning("ignoring an unreadable stored value for setting %s", key)
    return decoded


async def load_config(session: AsyncSession, guild_id: int) -> GuildConfig:
    stored = await session.run_sync(lambda s: overrides(s.connection(), guild_id))
    return config_from_overrides(stored)


async def set_setting(session: AsyncSession, guild_id: int, key: str, value: Any) -> GuildConfig:
    """Store an override (validated); storing the default removes the override."""
    value = validate_value(key, value)
    if key in _EMOJI_KEYS:
        other = _EMOJI_KEYS[1] if key == _EMOJI_KEYS[0] else _EMOJI_KEYS[0]
        current = await load_config(session, guild_id)
        if getattr(current, other) == value:
            raise ValidationError("The up and down vote emoji must differ.")
    if value == getattr(DEFAULTS, key):
        await session.execute(
            delete(GuildSetting).where(GuildSetting.guild_id == guild_id, GuildSetting.key == key)
        )
    else:
        encoded = json.dumps(value)
        now = utc_now()
        stmt = insert(session, GuildSetting).values(
            guild_id=guild_id, key=key, value=encoded, updated_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[GuildSetting.guild_id, GuildSetting.key],
            set_={"value": encoded, "updated_at": now},
        )
        await session.execute(stmt)
    return await load_config(session, guild_id)


def check_public(key: str) -> None:
    """Refuse a key ``/qa settings`` may not change: an unknown one, or one ``/qa setup`` manages
    (the forum channel, the solved tag)."""
    if not _spec(key).metadata.get("public", True):
        raise ValidationError(f"`{key}` is set by /qa setup.")


async def reset_setting(session: AsyncSession, guild_id: int, key: str) -> GuildConfig:
    _spec(key)
    await session.execute(
        delete(GuildSetting).where(GuildSetting.guild_id == guild_id, GuildSetting.key == key)
    )
    return await load_config(session, guild_id)


@dataclass(frozen=True, slots=True)
class SettingSnapshot:
    """One line of ``/qa settings show``."""

    key: str
    value: Any
    default: Any
    help: str
    overridden: bool


def describe(config: GuildConfig, *, include_private: bool = False) -> list[SettingSnapshot]:
    """Every setting's effective value, default and help, in declaration order."""
    keys = list(SPECS) if include_private else public_keys()
    return [
        SettingSnapshot(
            key=key,
            value=getattr(config, key),
            default=getattr(DEFAULTS, key),
            help=setting_help(key),
            overridden=getattr(config, key) != getattr(DEFAULTS, key),
        )
        for key in keys
    ]


def format_value(key: str, value: Any) -> str:
    """A value as ``/qa settings show`` prints it (``on``/``off``, ``not set``)."""
    _spec(key)
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)
