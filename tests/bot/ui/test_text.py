"""bot.ui.text: limits, truncation, escaping, plurals, joins, links and timestamps."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.ui import text
from bot.ui.text import (
    ELLIPSIS,
    escape,
    escape_markdown,
    excerpt,
    format_date,
    format_duration,
    format_relative,
    human_join,
    jump_url,
    label,
    mention_channel,
    mention_role,
    mention_user,
    neutralize_mentions,
    one_line,
    plural,
    truncate,
    truncate_markdown,
)
from tests.bot.ui import hostile_text, long_hostile_text, markup_left, shown

# --------------------------------------------------------------------------- the limits


def test_discord_limits() -> None:
    assert text.MESSAGE_CONTENT == 2000
    assert text.EMBED_DESCRIPTION == 4096
    assert text.EMBED_TITLE == 256
    assert text.EMBED_FIELD_NAME == 256
    assert text.EMBED_FIELD_VALUE == 1024
    assert text.EMBED_FOOTER == 2048
    assert text.EMBED_AUTHOR_NAME == 256
    assert text.EMBED_TOTAL == 6000
    assert text.EMBED_FIELDS == 25
    assert text.THREAD_NAME == 100
    assert text.MODAL_TEXT_INPUT == 4000
    assert text.AUTOCOMPLETE_CHOICE_NAME == 100
    assert text.AUTOCOMPLETE_CHOICES == 25
    assert text.CUSTOM_ID == 100
    assert text.BUTTON_LABEL == 80


# --------------------------------------------------------------------------- truncate


@given(hostile_text(), st.integers(min_value=-5, max_value=200))
def test_truncate_never_exceeds_the_limit(value: str, limit: int) -> None:
    out = truncate(value, limit)
    assert len(out) <= max(limit, 0)
    if len(value) <= limit:
        assert out == value
    elif limit > 0:
        assert out.endswith(ELLIPSIS)
        assert value.startswith(out[: -len(ELLIPSIS)])


@given(
    hostile_text(),
    st.integers(min_value=1, max_value=200),
    st.sampled_from(["", "…", "...", " [more]"]),
)
def test_truncate_with_any_ellipsis(value: str, limit: int, ellipsis: str) -> None:
    out = truncate(value, limit, ellipsis=ellipsis)
    assert len(out) <= limit
    if len(value) > limit and len(ellipsis) < limit:
        assert out.endswith(ellipsis)
        assert value.startswith(out[: len(out) - len(ellipsis)])


def test_truncate_examples() -> None:
    assert truncate("hello world", 20) == "hello world"
    assert truncate("hello world", 11) == "hello world"
    assert truncate("hello world", 10) == "hello wor…"
    assert truncate("hello world", 7) == "hello…"  # the space before the cut is dropped
    assert truncate("hello", 1) == "…"
    assert truncate("hello", 0) == ""
    assert truncate("hello", -3) == ""
    assert truncate("hello", 2, ellipsis="...") == ".."
    assert truncate("", 5) == ""


def test_limits_count_code_points_like_discord() -> None:
    # Astral characters are one code point each (two UTF-16 units): 2000 of them fit 2000.
    value = "𝔘" * 2000
    assert truncate(value, text.MESSAGE_CONTENT) == value
    assert len(truncate(value + "x", text.MESSAGE_CONTENT)) == 2000


@pytest.mark.parametrize(
    ("cluster", "name"),
    [
        ("👨\u200d👩\u200d👧\u200d👦", "a ZWJ family"),
        ("🇫🇷", "a flag"),
        ("e\u0301\u0302", "combining marks"),
        ("👍🏽", "a skin tone"),
        ("❤\ufe0f", "a variation selector"),
        ("🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "a subdivision flag"),
    ],
)
def test_truncate_keeps_grapheme_clusters_whole(cluster: str, name: str) -> None:
    value = "ab " + cluster * 5
    for limit in range(1, len(value)):
        out = truncate(value, limit)
        kept = out[: -len(ELLIPSIS)] if out.endswith(ELLIPSIS) else out
        body = kept[3:] if kept.startswith("ab ") else ""
        assert len(out) <= limit
        assert body == cluster * (len(body) // len(cluster)), (name, limit, out)


def test_truncate_does_not_split_a_run_of_flags_in_the_middle() -> None:
    flags = "🇫🇷🇩🇪🇯🇵"
    for limit in range(1, len(flags) + 1):
        kept = truncate(flags, limit).rstrip(ELLIPSIS)
        assert len(kept) % 2 == 0


def test_truncate_gives_up_on_endless_combining_marks_but_stays_within() -> None:
    value = "a" + "\u0301" * 500
    out = truncate(value, 100)
    assert len(out) == 100
    assert out.endswith(ELLIPSIS)


def test_truncate_never_ends_on_a_zero_width_joiner() -> None:
    out = truncate("x " + "👩\u200d💻" * 10, 8)
    assert not out.rstrip(ELLIPSIS).endswith("\u200d")
    assert all(unicodedata.category(c) != "Cs" for c in out)


# --------------------------------------------------------------------------- escape


def test_escape_examples() -> None:
    assert escape("**bold** _it_ ~~s~~ `c` ||sp||") == (
        r"\*\*bold\*\* \_it\_ \~\~s\~\~ \`c\` \|\|sp\|\|"
    )
    assert escape("@everyone and @here") == "@\u200beveryone and @\u200bhere"
    assert escape("<@123> <@!1> <@&2> <#3>") == "\\<@\u200b123> \\<@\u200b!1> \\<@\u200b&2> \\<#3>"
    assert escape("<t:1700000000:R> <:e:1> </ask:1>") == "\\<t:1700000000:R> \\<:e:1> \\</ask:1>"
    assert escape("[click](https://evil.example)") == "\\[click](https://evil.example)"
    assert (
        escape("a\n\n- b\n  # c\n> d\n1. e\n-# f") == "a\n\n\\- b\n  \\# c\n\\> d\n1\\. e\n\\-# f"
    )
    assert escape("back\\slash") == "back\\\\slash"
    assert escape("plain words, 3 < 4 > 2.") == "plain words, 3 < 4 > 2."


def test_escape_leaves_links_working() -> None:
    url = "https://en.wikipedia.org/wiki/Cognitive_behavioral_therapy"
    out = escape(f"see {url} and *this*")
    assert url in out
    assert out.endswith(r"and \*this\*")
    assert escape("<https://example.com/a_b>") == "<https://example.com/a_b>"


@given(hostile_text())
def test_escaped_text_renders_literally(value: str) -> None:
    assume("://" not in value)
    out = escape(value)
    assert markup_left(out) == []
    assert shown(out) == value.replace("@\u200b", "@")


@given(hostile_text())
def test_escape_markdown_alone_keeps_mentions_and_renders_no_markdown(value: str) -> None:
    assume("://" not in value)
    out = escape_markdown(value)
    markdown_left = [p for p in markup_left(out) if "@" not in p and "<" not in p]
    assert markdown_left == []
    assert neutralize_mentions(out) == escape(value)


def test_neutralize_mentions_keeps_markdown() -> None:
    assert neutralize_mentions("**hi** @everyone <@1>") == "**hi** @\u200beveryone \\<@\u200b1>"
    assert neutralize_mentions("mail me at a@b.org") == "mail me at a@b.org"


def test_a_long_hostile_text_renders_literally() -> None:
    value = long_hostile_text(10_000)
    value = value.replace("://", ":/")
    assert markup_left(escape(value)) == []
    assert shown(escape(value)) == value.replace("@\u200b", "@")


# --------------------------------------------------------------------------- excerpt


@given(hostile_text(), st.integers(min_value=0, max_value=300))
def test_excerpt_is_within_the_limit_and_renders_literally(value: str, limit: int) -> None:
    assume("://" not in value)
    out = excerpt(value, limit)
    assert len(out) <= max(limit, 0)
    body = out[: -len(ELLIPSIS)] if out.endswith(ELLIPSIS) and out != escape(value) else out
    assert markup_left(body) == []
    run = len(body) - len(body.rstrip("\\"))
    assert run % 2 == 0  # no backslash left to escape the ellipsis


def test_excerpt_never_leaves_a_dangling_escape() -> None:
    # "*" escapes to "\*": every cut between the backslash and the star must drop the pair.
    for limit in range(1, 40):
        out = excerpt("*" * 50, limit)
        assert len(out) <= limit
        kept = out.rstrip(ELLIPSIS)
        assert not kept.endswith("\\") or kept.endswith("\\\\")


def test_excerpt_of_10000_characters() -> None:
    value = long_hostile_text(10_000, seed=3).replace("://", ":/")
    out = excerpt(value, 1000)
    assert len(out) <= 1000 and out.endswith(ELLIPSIS)
    assert markup_left(out[:-1]) == []


def test_truncate_markdown_drops_a_trailing_backslash() -> None:
    assert truncate_markdown("ab\\*cd", 4) == "ab…"
    assert truncate_markdown("ab\\\\cd", 5) == "ab\\\\…"
    assert truncate("ab\\*cd", 4) == "ab\\…"


# --------------------------------------------------------------------------- small helpers


def test_one_line_and_label() -> None:
    assert one_line("  a\n\nb\tc  ") == "a b c"
    assert label("x" * 300, 256) == "x" * 255 + ELLIPSIS
    assert label("**Name**\n", 80) == "**Name**"  # plain-text contexts are not escaped


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 answers"), (1, "1 answer"), (2, "2 answers"), (4, "4 answers"), (-1, "-1 answer")],
)
def test_plural(count: int, expected: str) -> None:
    assert plural(count, "answer") == expected


def test_plural_with_an_irregular_form() -> None:
    assert plural(1, "reply", "replies") == "1 reply"
    assert plural(3, "reply", "replies") == "3 replies"


def test_human_join() -> None:
    assert human_join([]) == ""
    assert human_join(["a"]) == "a"
    assert human_join(["a", "b"]) == "a and b"
    assert human_join(["a", "b", "c"]) == "a, b and c"
    assert human_join(iter(["a", "b", "c"]), final="or") == "a, b or c"


def test_format_duration() -> None:
    assert format_duration(timedelta(seconds=-5)) == "0 s"
    assert format_duration(timedelta(seconds=45)) == "45 s"
    assert format_duration(timedelta(minutes=3, seconds=10)) == "3 min"
    assert format_duration(timedelta(hours=2)) == "2 h"
    assert format_duration(timedelta(hours=2, minutes=5)) == "2 h 5 min"
    assert format_duration(timedelta(days=3, hours=4)) == "3 d 4 h"
    assert format_duration(timedelta(days=1)) == "1 d"


def test_jump_urls_and_mentions() -> None:
    assert jump_url(1, 2, 3) == "https://discord.com/channels/1/2/3"
    assert jump_url(1, 2) == "https://discord.com/channels/1/2"
    assert jump_url(None, 2, 3) == "https://discord.com/channels/@me/2/3"
    assert mention_user(5) == "<@5>"
    assert mention_channel(6) == "<#6>"
    assert mention_role(7) == "<@&7>"


def test_timestamps_are_discord_markup_and_naive_means_utc() -> None:
    aware = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert format_relative(aware) == f"<t:{int(aware.timestamp())}:R>"
    assert format_relative(aware.replace(tzinfo=None)) == format_relative(aware)
    other_zone = aware.astimezone(timezone(timedelta(hours=5)))
    assert format_relative(other_zone) == format_relative(aware)
    assert format_date(aware) == f"<t:{int(aware.timestamp())}:D>"


@pytest.mark.parametrize(
    ("raw", "defused"),
    [
        ("[Jump](https://evil.example)", "\\[Jump](https://evil.example)"),
        ("a [b] c", "a \\[b] c"),
        ("\\[kept]", "\\[kept]"),  # already escaped: left alone
        ("\\\\[x](y)", "\\\\\\[x](y)"),  # an escaped backslash does not escape the bracket
        ("**bold** https://example.com", "**bold** https://example.com"),
    ],
)
def test_defuse_links_leaves_no_masked_link(raw: str, defused: str) -> None:
    assert text.defuse_links(raw) == defused
