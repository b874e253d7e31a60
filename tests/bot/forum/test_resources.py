"""Safety resources in the domain: the keyword settings, whole-word matching, and who gets the
resources how (a DM only for an asker who opted in and whom DMs reach)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.forum import prefs, resources, settings
from bot.forum.errors import ValidationError
from bot.forum.resources import Delivery, keyword_pattern
from bot.forum.settings import DEFAULTS, GuildConfig

GUILD = 1
ASKER = 10
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def config(keywords: str | None) -> GuildConfig:
    return GuildConfig(resources_keywords=keywords, resources_keyword_reply=True)


def test_the_resources_settings_are_off_by_default() -> None:
    assert DEFAULTS.resources_text is None
    assert DEFAULTS.resources_keywords is None
    assert DEFAULTS.resources_keyword_reply is False
    assert not resources.matches_keywords(DEFAULTS, "panic attack")


def test_keywords_are_normalised_and_bounded() -> None:
    parsed = settings.parse_value("resources_keywords", " Panic  Attack, hopeless,,HOPELESS ")
    assert parsed == "panic attack, hopeless"
    assert settings.parse_value("resources_keywords", "none") is None
    assert settings.parse_value("resources_keywords", " , ,") is None
    with pytest.raises(ValidationError, match="at most 60 characters"):
        settings.parse_value("resources_keywords", "x" * 61)
    with pytest.raises(ValidationError, match="at most 50 items"):
        settings.parse_value("resources_keywords", ",".join(f"w{i}" for i in range(51)))


def test_the_resources_text_takes_line_breaks_and_is_bounded() -> None:
    assert settings.parse_value("resources_text", r"Line one\nLine two") == "Line one\nLine two"
    assert settings.parse_value("resources_text", "reset") is None
    limit = settings.RESOURCES_TEXT_MAX
    assert settings.parse_value("resources_text", "a" * limit) == "a" * limit
    with pytest.raises(ValidationError, match=f"at most {limit} characters"):
        settings.parse_value("resources_text", "a" * (limit + 1))


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("I had a Panic Attack today", True),
        ("a panic\nattack at night", True),
        ("PANIC ATTACK!", True),
        ("feeling hopeless.", True),
        ("thoughts of self-harm", True),
        ("hopelessly lost", False),
        ("panic attacks", False),
        ("a panic, then an attack", False),
        ("", False),
    ],
)
def test_keywords_match_whole_words_and_phrases_in_any_case(text: str, matched: bool) -> None:
    keywords = config("panic attack, hopeless, self-harm")
    assert resources.matches_keywords(keywords, text) is matched


def test_no_keywords_match_nothing() -> None:
    assert keyword_pattern([]) is None
    assert not resources.matches_keywords(config(None), "panic attack")


async def _reply(session: AsyncSession, title: str = "A panic attack") -> object:
    return await resources.keyword_reply(
        session, guild_id=GUILD, user_id=ASKER, title=title, details=""
    )


async def test_who_gets_the_resources_how(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session, session.begin():
        await settings.set_setting(session, GUILD, "resources_keywords", "panic attack")
        assert await _reply(session) is None  # the reply is off
        await settings.set_setting(session, GUILD, "resources_keyword_reply", True)
        assert await _reply(session, "How to sleep") is None  # no keyword
        reply = await _reply(session)
        assert isinstance(reply, resources.KeywordReply)
        assert reply.delivery is Delivery.EPHEMERAL and reply.text is None  # not opted in
        await prefs.set_resources_dm(session, ASKER, True)
        reply = await _reply(session)
        assert isinstance(reply, resources.KeywordReply) and reply.delivery is Delivery.DM
        await settings.set_setting(session, GUILD, "resources_text", "Call 123")
        reply = await _reply(session)
        assert isinstance(reply, resources.KeywordReply) and reply.text == "Call 123"
        await prefs.set_notifications(session, ASKER, False)  # no DMs at all
        reply = await _reply(session)
        assert isinstance(reply, resources.KeywordReply)
        assert reply.delivery is Delivery.EPHEMERAL
        await prefs.set_notifications(session, ASKER, True)
        await prefs.mark_dms_closed(session, ASKER, NOW)  # DMs would not reach them
        reply = await _reply(session)
        assert isinstance(reply, resources.KeywordReply)
        assert reply.delivery is Delivery.EPHEMERAL
