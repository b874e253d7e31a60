"""Anonymous posting: the per-server switch and the display-name rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.forum import anonymity
from bot.forum.anonymity import (
    ANONYMITY_OFF,
    HIDDEN_CHARACTERS,
    IMITATION,
    check_anonymity_allowed,
    check_display_name,
    fold_confusables,
)
from bot.forum.errors import PermissionDenied, ValidationError
from bot.forum.leaderboard import remember_display_names
from bot.forum.settings import DEFAULTS, GuildConfig, describe, set_setting
from tests.bot.forum.core_support import ASKER, GUILD, NOW, OTHER, Forum

# --------------------------------------------------------------------------- the switch


def test_on_by_default_without_a_minimum_age() -> None:
    assert DEFAULTS.anonymous_posting is True and DEFAULTS.anonymous_min_days is None
    check_anonymity_allowed(DEFAULTS, joined_at=None, now=NOW)
    check_anonymity_allowed(DEFAULTS, joined_at=NOW, now=NOW)
    keys = [s.key for s in describe(DEFAULTS)]
    assert "anonymous_posting" in keys and "anonymous_min_days" in keys


def test_turned_off_refuses_everyone_with_one_sentence() -> None:
    off = GuildConfig(anonymous_posting=False)
    with pytest.raises(PermissionDenied) as err:
        check_anonymity_allowed(off, joined_at=NOW - timedelta(days=999), now=NOW)
    assert str(err.value) == ANONYMITY_OFF == "Anonymous posting is turned off in this server."


@pytest.mark.parametrize(
    ("days", "joined_days_ago", "allowed"),
    [(0, 0, True), (7, 7, True), (7, 30, True), (7, 6.99, False), (1, 0, False)],
)
def test_a_minimum_age_counts_days_since_joining(
    days: int, joined_days_ago: float, allowed: bool
) -> None:
    config = GuildConfig(anonymous_min_days=days)
    joined = NOW - timedelta(days=joined_days_ago)
    if allowed:
        check_anonymity_allowed(config, joined_at=joined, now=NOW)
        return
    with pytest.raises(PermissionDenied) as err:
        check_anonymity_allowed(config, joined_at=joined, now=NOW)
    unit = "day" if days == 1 else "days"
    assert str(err.value) == (
        f"You can post anonymously once you have been in this server for {days} {unit}."
    )


def test_an_unknown_join_date_is_too_recent_only_while_a_minimum_is_set() -> None:
    with pytest.raises(PermissionDenied):
        check_anonymity_allowed(GuildConfig(anonymous_min_days=3), joined_at=None, now=NOW)
    check_anonymity_allowed(GuildConfig(anonymous_min_days=0), joined_at=None, now=NOW)


async def test_the_guilds_settings_decide(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as s:
        await anonymity.check_can_post_anonymously(s, guild_id=GUILD, joined_at=NOW, now=NOW)
        await set_setting(s, GUILD, "anonymous_min_days", 2)
        with pytest.raises(PermissionDenied):
            await anonymity.check_can_post_anonymously(s, guild_id=GUILD, joined_at=NOW, now=NOW)
        await set_setting(s, GUILD, "anonymous_posting", False)
        with pytest.raises(PermissionDenied) as err:
            await anonymity.check_can_post_anonymously(
                s, guild_id=GUILD, joined_at=NOW - timedelta(days=9), now=NOW
            )
        assert str(err.value) == ANONYMITY_OFF


# --------------------------------------------------------------------------- display names


def test_folding_sees_through_case_width_accents_and_look_alikes() -> None:
    assert fold_confusables("Moderator") == "moderator"
    assert fold_confusables("ＭＯＤＥＲＡＴＯＲ") == "moderator"  # fullwidth
    assert fold_confusables("Мodеrаtоr") == "moderator"  # Cyrillic М, е, а, о
    assert fold_confusables("Αdmιn") == "admin"  # Greek Α, ι
    assert fold_confusables("m0d.er-at0r") == "moderator"
    assert fold_confusables("Ädmîn") == "admin"
    assert fold_confusables("Zoë Bell") == fold_confusables("zoe  BELL")


@pytest.mark.parametrize(
    "name",
    [
        "Sam\u202eevil",  # right-to-left override
        "\u2066Sam\u2069",  # isolates
        "Sam\u200bantha",  # zero-width space
        "Sam\u200d",  # zero-width joiner
        "\u3164",  # Hangul filler
        "Sam\u00ad",  # soft hyphen
        "S\u2800am",  # braille blank
    ],
)
def test_hidden_characters_are_refused(name: str) -> None:
    with pytest.raises(ValidationError) as err:
        check_display_name(name)
    assert str(err.value) == HIDDEN_CHARACTERS


@pytest.mark.parametrize(
    "name",
    [
        "Moderator",
        "MOD",
        "mod",
        "Admin",
        "Administrator",
        "Αdmin team",
        "ＡＤＭＩＮ",
        "m0derator",
        "Member 2",
        "member",
        "Мember 17",
    ],
)
def test_staff_titles_and_pseudonyms_are_refused(name: str) -> None:
    with pytest.raises(ValidationError) as err:
        check_display_name(name)
    assert str(err.value) == IMITATION


@pytest.mark.parametrize(
    ("name", "taken", "refused"),
    [
        ("Alice", ["Alice"], True),
        ("alice", ["ALICE"], True),
        ("Аlice", ["Alice"], True),  # Cyrillic А
        ("Ali", ["Alice Smith"], True),  # a prefix of a member's name
        ("Alice Smith", ["Alice"], True),  # a member's name as its prefix
        ("Al", ["Alice"], True),
        ("Alfred", ["Al"], False),  # a too-short name does not claim every longer one
        ("Bob", ["Alice", "Helpers"], False),
        ("Help", ["Helpers"], True),  # a role name
        ("Worried mum", ["qa-bot", "Alice"], False),
        ("QA Bot", ["qa-bot"], True),  # the bot's name
        ("Members Club", [], False),
    ],
)
def test_names_found_by_the_adapter_cannot_be_imitated(
    name: str, taken: list[str], refused: bool
) -> None:
    if not refused:
        assert check_display_name(name, taken=taken) == name
        return
    with pytest.raises(ValidationError) as err:
        check_display_name(name, taken=taken)
    assert str(err.value) == IMITATION


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_no_name_means_anonymous(empty: str | None) -> None:
    assert check_display_name(empty) is None


def test_a_name_is_tidied_and_bounded() -> None:
    assert check_display_name("  Worried mum ") == "Worried mum"
    with pytest.raises(ValidationError):
        check_display_name("x" * 500)


async def test_names_stored_in_the_guild_cannot_be_imitated(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    forum = Forum(sessionmaker)
    await forum.ask(ASKER, anonymous=True, display_name="Worried mum")
    async with sessionmaker.begin() as s:
        await remember_display_names(s, guild_id=GUILD, names={OTHER: "Carol"})

    async def validate(name: str, author: int, guild: int = GUILD) -> str | None:
        async with sessionmaker.begin() as s:
            return await anonymity.validate_anonymous_display_name(
                s, guild_id=guild, name=name, author_id=author, found_names=["Helpers"]
            )

    for name, author in [
        ("worried MUM", OTHER),  # an earlier post's display name
        ("Worried", OTHER),
        ("Caro", ASKER),  # a member's stored name
        ("Carol", OTHER),  # their own public name too
        ("Helpers", ASKER),  # what the adapter found
        ("Admin", ASKER),
    ]:
        with pytest.raises(ValidationError) as err:
            await validate(name, author)
        assert str(err.value) == IMITATION
    # The author may use their own earlier anonymous name again; another guild is another world.
    assert await validate("Worried mum", ASKER) == "Worried mum"
    assert await validate("Carol", OTHER, guild=GUILD + 1) == "Carol"
    assert await validate("Sleepless", OTHER) == "Sleepless"
    assert await validate("", OTHER) is None
