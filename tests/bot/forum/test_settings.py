"""Per-guild settings: typed defaults in one place, rows store only overrides, bad input refused."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import GuildSetting
from bot.forum import setting_changes, settings
from bot.forum.errors import ValidationError
from bot.forum.settings import DEFAULTS, GuildConfig

GUILD = 111
OWNER = 7
OTHER_GUILD = 222


async def _rows(session: AsyncSession, guild_id: int) -> dict[str, str]:
    result = await session.execute(
        select(GuildSetting.key, GuildSetting.value).where(GuildSetting.guild_id == guild_id)
    )
    return dict(result.all())


# --------------------------------------------------------------------------- pure parsing


def test_defaults_are_q2a_defaults() -> None:
    assert GuildConfig() == DEFAULTS
    assert DEFAULTS.questions_per_hour == 10
    assert DEFAULTS.answers_per_hour == 25
    assert DEFAULTS.min_answer_length == 12
    assert (DEFAULTS.points_base, DEFAULTS.points_ask, DEFAULTS.points_answer) == (100, 20, 40)
    assert (DEFAULTS.points_question_upvote, DEFAULTS.points_question_downvote) == (10, 10)
    assert (DEFAULTS.question_vote_cap_up, DEFAULTS.question_vote_cap_down) == (100, 30)
    assert (DEFAULTS.points_answer_upvote, DEFAULTS.points_answer_downvote) == (20, 20)
    assert (DEFAULTS.answer_vote_cap_up, DEFAULTS.answer_vote_cap_down) == (200, 50)
    assert (DEFAULTS.points_accepted, DEFAULTS.points_accepting) == (300, 30)
    assert DEFAULTS.points_vote_cast == 0
    assert (DEFAULTS.vote_up_emoji, DEFAULTS.vote_down_emoji) == ("👍", "👎")
    assert DEFAULTS.forum_channel_id is None
    assert DEFAULTS.points_shown(55) == 155


def test_every_key_is_typed_documented_and_its_default_valid() -> None:
    for key, spec in settings.SPECS.items():
        assert settings.setting_type(key) in (bool, int, str)
        assert settings.setting_help(key), key
        assert settings.validate_value(key, spec.default) == spec.default


def test_types_are_resolved_from_annotations() -> None:
    assert settings.setting_type("question_voting") is bool
    assert settings.setting_type("questions_per_hour") is int
    assert settings.setting_type("moderator_role_id") is int
    assert settings.setting_type("vote_up_emoji") is str
    assert settings.is_optional("moderator_role_id")
    assert not settings.is_optional("questions_per_hour")


def test_public_keys_exclude_setup_keys() -> None:
    public = settings.public_keys()
    assert "forum_channel_id" not in public
    assert "solved_tag_id" not in public
    assert "questions_per_hour" in public
    assert set(public) < set(settings.SPECS)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("on", True),
        ("YES", True),
        (" true ", True),
        ("1", True),
        ("enabled", True),
        ("off", False),
        ("No", False),
        ("false", False),
        ("0", False),
        ("disable", False),
    ],
)
def test_parse_bool(raw: str, expected: bool) -> None:
    assert settings.parse_value("question_voting", raw) is expected


@pytest.mark.parametrize("raw", ["", "maybe", "2", "onn", "tru"])
def test_parse_bool_refuses(raw: str) -> None:
    with pytest.raises(ValidationError) as err:
        settings.parse_value("question_voting", raw)
    assert str(err.value) == "`question_voting` must be on or off."


@pytest.mark.parametrize(
    ("raw", "expected"), [("25", 25), (" 7 ", 7), ("+3", 3), ("1,000", 1000), ("10_000", 10_000)]
)
def test_parse_int(raw: str, expected: int) -> None:
    assert settings.parse_value("answers_per_hour", raw) == expected


@pytest.mark.parametrize("raw", ["", "ten", "1.5", "1e3", "0x10", "--1", "12 minutes"])
def test_parse_int_refuses_non_numbers(raw: str) -> None:
    with pytest.raises(ValidationError) as err:
        settings.parse_value("answers_per_hour", raw)
    assert str(err.value) == "`answers_per_hour` must be a whole number."


def test_parse_int_bounds() -> None:
    with pytest.raises(ValidationError) as err:
        settings.parse_value("questions_per_hour", "0")
    assert str(err.value) == "`questions_per_hour` must be at least 1."
    with pytest.raises(ValidationError) as err:
        settings.parse_value("questions_per_hour", "10001")
    assert str(err.value) == "`questions_per_hour` must be at most 10000."
    with pytest.raises(ValidationError) as err:
        settings.parse_value("points_ask", "-5")
    assert str(err.value) == "`points_ask` must be at least 0."
    assert settings.parse_value("questions_per_hour", "10000") == 10_000
    assert settings.parse_value("notify_coalesce_seconds", "0") == 0


@pytest.mark.parametrize("raw", ["<@&123456789012345678>", "123456789012345678"])
def test_parse_role_mention_or_id(raw: str) -> None:
    assert settings.parse_value("moderator_role_id", raw) == 123456789012345678


@pytest.mark.parametrize("raw", ["none", "clear", "", "  ", "off", "reset"])
def test_optional_value_can_be_cleared(raw: str) -> None:
    assert settings.parse_value("moderator_role_id", raw) is None


def test_ids_must_be_positive() -> None:
    with pytest.raises(ValidationError, match="must be at least 1"):
        settings.parse_value("moderator_role_id", "-4")


def test_required_value_cannot_be_none() -> None:
    with pytest.raises(ValidationError) as err:
        settings.validate_value("questions_per_hour", None)
    assert str(err.value) == "`questions_per_hour` cannot be empty."


@pytest.mark.parametrize("raw", ["👍", "✅", "⬆️", "1️⃣", "<:upvote:123456789012>", "<a:spin:42>"])
def test_emoji_accepted(raw: str) -> None:
    assert settings.parse_value("vote_up_emoji", f" {raw} ") == raw


@pytest.mark.parametrize("raw", ["", "up", "+1", "👍 yes", ":thumbsup:", "<@123>", "👍" * 20])
def test_emoji_refused(raw: str) -> None:
    with pytest.raises(ValidationError) as err:
        settings.parse_value("vote_up_emoji", raw)
    assert str(err.value) in {
        "`vote_up_emoji` must be one emoji, such as 👍 or a custom emoji.",
        "`vote_up_emoji` cannot be empty.",
    }


def test_validate_refuses_wrong_python_types() -> None:
    with pytest.raises(ValidationError, match="whole number"):
        settings.validate_value("points_ask", True)  # a bool is not a number here
    with pytest.raises(ValidationError, match="whole number"):
        settings.validate_value("points_ask", "20")
    with pytest.raises(ValidationError, match="on or off"):
        settings.validate_value("question_voting", 1)


def test_unknown_key_refused_with_suggestion() -> None:
    with pytest.raises(ValidationError) as err:
        settings.parse_value("question_per_hour", "5")
    assert str(err.value) == (
        "There is no setting called `question_per_hour`. Did you mean `questions_per_hour`?"
    )
    with pytest.raises(ValidationError) as err:
        settings.setting_type("zzz")
    assert str(err.value) == "There is no setting called `zzz`."


def test_unknown_key_is_quoted_safely() -> None:
    with pytest.raises(ValidationError) as err:
        settings.validate_value("`@everyone`\n" + "x" * 200, 1)
    message = str(err.value)
    assert message.count("`") == 2
    assert "\n" not in message
    assert len(message) < 120


def test_config_from_overrides_ignores_unknown_and_invalid() -> None:
    config = settings.config_from_overrides(
        {"questions_per_hour": 3, "retired_key": 1, "answers_per_hour": -9, "points_ask": "x"}
    )
    assert config == dataclasses.replace(DEFAULTS, questions_per_hour=3)


def test_describe_and_format() -> None:
    config = dataclasses.replace(DEFAULTS, questions_per_hour=3)
    lines = settings.describe(config)
    assert [line.key for line in lines] == settings.public_keys()
    by_key = {line.key: line for line in lines}
    assert by_key["questions_per_hour"].overridden
    assert by_key["questions_per_hour"].value == 3
    assert by_key["questions_per_hour"].default == 10
    assert not by_key["answers_per_hour"].overridden
    assert "forum_channel_id" in {v.key for v in settings.describe(config, include_private=True)}
    assert settings.format_value("question_voting", False) == "off"
    assert settings.format_value("question_voting", True) == "on"
    assert settings.format_value("moderator_role_id", None) == "not set"
    assert settings.format_value("answers_per_hour", 25) == "25"


# --------------------------------------------------------------------------- storage


async def test_load_without_rows_gives_defaults(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        assert await settings.load_config(session, GUILD) == DEFAULTS
        assert await session.run_sync(lambda s: settings.overrides(s.connection(), GUILD)) == {}


async def test_set_each_type_stores_only_overrides(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        await settings.set_setting(session, GUILD, "questions_per_hour", 3)
        await settings.set_setting(session, GUILD, "question_voting", False)
        await settings.set_setting(session, GUILD, "vote_up_emoji", "✅")
        config = await settings.set_setting(session, GUILD, "moderator_role_id", 99)
    assert config.questions_per_hour == 3
    assert config.question_voting is False
    assert config.vote_up_emoji == "✅"
    assert config.moderator_role_id == 99
    async with sessionmaker() as session:
        assert await settings.load_config(session, GUILD) == config
        rows = await _rows(session, GUILD)
    assert {k: json.loads(v) for k, v in rows.items()} == {
        "questions_per_hour": 3,
        "question_voting": False,
        "vote_up_emoji": "✅",
        "moderator_role_id": 99,
    }


async def test_overwrite_then_set_back_to_default_removes_row(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        await settings.set_setting(session, GUILD, "answers_per_hour", 5)
        config = await settings.set_setting(session, GUILD, "answers_per_hour", 6)
        assert config.answers_per_hour == 6
        assert await _rows(session, GUILD) == {"answers_per_hour": "6"}
        config = await settings.set_setting(session, GUILD, "answers_per_hour", 25)
        assert config == DEFAULTS
        assert await _rows(session, GUILD) == {}
        await settings.set_setting(session, GUILD, "moderator_role_id", 7)
        config = await settings.set_setting(session, GUILD, "moderator_role_id", None)
        assert config.moderator_role_id is None
        assert await _rows(session, GUILD) == {}


async def test_reset_setting(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        await settings.set_setting(session, GUILD, "points_ask", 5)
        config = await settings.reset_setting(session, GUILD, "points_ask")
        assert config.points_ask == 20
        assert await _rows(session, GUILD) == {}
        with pytest.raises(ValidationError, match="no setting called"):
            await settings.reset_setting(session, GUILD, "nope")


async def test_bad_values_change_nothing(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        await settings.set_setting(session, GUILD, "points_ask", 5)
        with pytest.raises(ValidationError):
            await settings.set_setting(session, GUILD, "points_ask", -1)
        with pytest.raises(ValidationError):
            await settings.set_setting(session, GUILD, "unknown_key", 1)
        with pytest.raises(ValidationError):
            await setting_changes.set_from_text(
                session, GUILD, "points_ask", "lots", actor_id=OWNER
            )
        assert await _rows(session, GUILD) == {"points_ask": "5"}


async def test_vote_emoji_must_differ(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        with pytest.raises(ValidationError) as err:
            await settings.set_setting(session, GUILD, "vote_up_emoji", "👎")
        assert str(err.value) == "The up and down vote emoji must differ."
        await settings.set_setting(session, GUILD, "vote_down_emoji", "❌")
        config = await settings.set_setting(session, GUILD, "vote_up_emoji", "👎")
        assert (config.vote_up_emoji, config.vote_down_emoji) == ("👎", "❌")


async def test_guilds_do_not_leak(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        await settings.set_setting(session, GUILD, "questions_per_hour", 2)
        await settings.set_setting(session, OTHER_GUILD, "answers_per_hour", 4)
    async with sessionmaker() as session:
        first = await settings.load_config(session, GUILD)
        second = await settings.load_config(session, OTHER_GUILD)
        third = await settings.load_config(session, 333)
    assert (first.questions_per_hour, first.answers_per_hour) == (2, 25)
    assert (second.questions_per_hour, second.answers_per_hour) == (10, 4)
    assert third == DEFAULTS


async def test_unknown_or_corrupt_stored_rows_are_ignored(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        session.add_all(
            [
                GuildSetting(guild_id=GUILD, key="retired_key", value="1"),
                GuildSetting(guild_id=GUILD, key="points_ask", value="not json"),
                GuildSetting(guild_id=GUILD, key="answers_per_hour", value='"many"'),
                GuildSetting(guild_id=GUILD, key="questions_per_hour", value="4"),
            ]
        )
    async with sessionmaker() as session:
        config = await settings.load_config(session, GUILD)
    assert config == dataclasses.replace(DEFAULTS, questions_per_hour=4)


async def test_setting_rolls_back_with_its_transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(RuntimeError):
        async with sessionmaker.begin() as session:
            await settings.set_setting(session, GUILD, "points_ask", 5)
            raise RuntimeError("the command failed later")
    async with sessionmaker() as session:
        assert await settings.load_config(session, GUILD) == DEFAULTS
