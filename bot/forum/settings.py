"""Per-guild settings: typed defaults in one place, a row stores only an override.

``GuildConfig`` is the typed view the rest of the domain reads. ``SPECS`` describes every key
(type, bounds, help) so ``/qa settings`` can list, autocomplete and validate them; an unknown key
or a bad value is refused with a sentence the user sees.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.dialect import insert
from bot.db.models import GuildSetting
from bot.forum.errors import ValidationError


def _opt(
    help: str, *, lo: int | None = None, hi: int | None = None, public: bool = True
) -> dict[str, Any]:
    return {"help": help, "lo": lo, "hi": hi, "public": public}


@dataclass(frozen=True, slots=True)
class GuildConfig:
    """A guild's effective settings: defaults overlaid with its overrides."""

    forum_channel_id: int | None = field(
        default=None, metadata=_opt("The Q&A forum channel (set by /qa setup).", public=False)
    )
    solved_tag_id: int | None = field(
        default=None, metadata=_opt("The forum tag applied to solved questions.", public=False)
    )
    moderator_role_id: int | None = field(
        default=None, metadata=_opt("A role whose members moderate (role id or mention).")
    )
    min_answer_length: int = field(
        default=12,
        metadata=_opt("Shorter thread messages become comments, not answers.", lo=1, hi=2000),
    )
    points_base: int = field(
        default=100, metadata=_opt("Points every member starts with.", lo=0, hi=1_000_000)
    )
    points_ask: int = field(
        default=20, metadata=_opt("Points for asking a question.", lo=0, hi=100_000)
    )
    points_answer: int = field(
        default=40, metadata=_opt("Points for posting an answer.", lo=0, hi=100_000)
    )
    points_question_upvote: int = field(
        default=10, metadata=_opt("Points per up vote on your question.", lo=0, hi=100_000)
    )
    points_question_downvote: int = field(
        default=10,
        metadata=_opt("Points lost per down vote on your question.", lo=0, hi=100_000),
    )
    question_vote_cap_up: int = field(
        default=100, metadata=_opt("Most points up votes earn per question.", lo=0, hi=1_000_000)
    )
    question_vote_cap_down: int = field(
        default=30,
        metadata=_opt("Most points down votes cost per question.", lo=0, hi=1_000_000),
    )
    points_answer_upvote: int = field(
        default=20, metadata=_opt("Points per up vote on your answer.", lo=0, hi=100_000)
    )
    points_answer_downvote: int = field(
        default=20, metadata=_opt("Points lost per down vote on your answer.", lo=0, hi=100_000)
    )
    answer_vote_cap_up: int = field(
        default=200, metadata=_opt("Most points up votes earn per answer.", lo=0, hi=1_000_000)
    )
    answer_vote_cap_down: int = field(
        default=50, metadata=_opt("Most points down votes cost per answer.", lo=0, hi=1_000_000)
    )
    points_accepted: int = field(
        default=300, metadata=_opt("Points for having your answer accepted.", lo=0, hi=100_000)
    )
    points_accepting: int = field(
        default=30,
        metadata=_opt("Points for accepting someone else's answer.", lo=0, hi=100_000),
    )
    points_vote_cast: int = field(
        default=0, metadata=_opt("Points for casting a vote.", lo=0, hi=100_000)
    )
    questions_per_hour: int = field(
        default=10, metadata=_opt("Questions a member may ask per hour.", lo=1, hi=10_000)
    )
    answers_per_hour: int = field(
        default=25, metadata=_opt("Answers a member may post per hour.", lo=1, hi=10_000)
    )
    vote_up_emoji: str = field(default="👍", metadata=_opt("The reaction that votes up."))
    vote_down_emoji: str = field(default="👎", metadata=_opt("The reaction that votes down."))
    question_voting: bool = field(
        default=True, metadata=_opt("Whether questions (not only answers) can be voted on.")
    )
    notify_coalesce_seconds: int = field(
        default=60,
        metadata=_opt(
            "Further DMs about one question within this window are gathered.", lo=0, hi=86_400
        ),
    )

    def points_shown(self, earned: int) -> int:
        return self.points_base + earned


SPECS: dict[str, dataclasses.Field[Any]] = {f.name: f for f in dataclasses.fields(GuildConfig)}
DEFAULTS = GuildConfig()


def setting_type(key: str) -> type:
    spec = _spec(key)
    hint = str(spec.type)
    if "bool" in hint:
        return bool
    if "int" in hint:
        return int
    return str


def setting_help(key: str) -> str:
    return str(_spec(key).metadata.get("help", ""))


def public_keys() -> list[str]:
    """Keys a server manager may set with /qa settings (others are set by /qa setup)."""
    return [k for k, f in SPECS.items() if f.metadata.get("public", True)]


def _spec(key: str) -> dataclasses.Field[Any]:
    spec = SPECS.get(key)
    if spec is None:
        raise ValidationError(f"There is no setting called `{key}`.")
    return spec


_TRUE = {"true", "yes", "on", "1", "enable", "enabled"}
_FALSE = {"false", "no", "off", "0", "disable", "disabled"}


def parse_value(key: str, raw: str) -> Any:
    """Turn the text a user typed into a validated value for ``key``."""
    spec = _spec(key)
    kind = setting_type(key)
    text = raw.strip()
    optional = "None" in str(spec.type)
    if optional and text.lower() in {"", "none", "off", "clear", "reset"}:
        return None
    if kind is bool:
        low = text.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValidationError(f"`{key}` must be on or off.")
    if kind is int:
        digits = text.strip("<@&#>")
        try:
            value = int(digits)
        except ValueError:
            raise ValidationError(f"`{key}` must be a whole number.") from None
        return validate_value(key, value)
    return validate_value(key, text)


def validate_value(key: str, value: Any) -> Any:
    spec = _spec(key)
    kind = setting_type(key)
    if value is None:
        if "None" not in str(spec.type):
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
    if key.endswith("_emoji") and len(value) > 100:
        raise ValidationError(f"`{key}` must be one emoji.")
    return value.strip()


def config_from_overrides(overrides: Mapping[str, Any]) -> GuildConfig:
    known = {k: v for k, v in overrides.items() if k in SPECS}
    return dataclasses.replace(DEFAULTS, **known)


async def load_config(session: AsyncSession, guild_id: int) -> GuildConfig:
    rows = await session.execute(
        select(GuildSetting.key, GuildSetting.value).where(GuildSetting.guild_id == guild_id)
    )
    return config_from_overrides({key: json.loads(value) for key, value in rows})


async def set_setting(session: AsyncSession, guild_id: int, key: str, value: Any) -> GuildConfig:
    """Store an override (validated); storing the default removes the override."""
    value = validate_value(key, value)
    if value == getattr(DEFAULTS, key):
        await session.execute(
            delete(GuildSetting).where(GuildSetting.guild_id == guild_id, GuildSetting.key == key)
        )
    else:
        encoded = json.dumps(value)
        stmt = insert(session, GuildSetting).values(guild_id=guild_id, key=key, value=encoded)
        stmt = stmt.on_conflict_do_update(
            index_elements=[GuildSetting.guild_id, GuildSetting.key],
            set_={"value": encoded},
        )
        await session.execute(stmt)
    return await load_config(session, guild_id)


async def reset_setting(session: AsyncSession, guild_id: int, key: str) -> GuildConfig:
    _spec(key)
    await session.execute(
        delete(GuildSetting).where(GuildSetting.guild_id == guild_id, GuildSetting.key == key)
    )
    return await load_config(session, guild_id)


async def overrides(session: AsyncSession, guild_id: int) -> dict[str, Any]:
    rows = await session.execute(
        select(GuildSetting.key, GuildSetting.value).where(GuildSetting.guild_id == guild_id)
    )
    return {key: json.loads(value) for key, value in rows}
