"""bot.ui.questions: the status line, the question and answer embeds (within every limit, user
text literal), the /ask starter message and a native post's status reply, the acceptance
notice."""

from __future__ import annotations

import json
from typing import Any

import discord
from hypothesis import given
from hypothesis import strategies as st

from bot.forum.results import PostSnapshot
from bot.ui import embeds
from bot.ui.authors import ANONYMOUS, author_label
from bot.ui.embeds import embed_problems, parse_footer_key
from bot.ui.questions import (
    accepted_notice,
    answer_embed,
    question_embed,
    question_message_embed,
    status_line,
    status_line_of,
    status_reply_text,
)
from bot.ui.text import ELLIPSIS, jump_url
from tests.bot.ui import (
    HOSTILE,
    NOW,
    SNOWFLAKE,
    assert_embed_within_limits,
    hostile_text,
    question_view,
)

# --------------------------------------------------------------------------- status line


def test_status_line() -> None:
    assert status_line(3, 2, True, False) == "▲ 3 · 2 answers · ✅ Solved"
    assert status_line(0, 1, False, False) == "▲ 0 · 1 answer"
    assert status_line(-2, 0, False, True) == "▼ 2 · 0 answers · 🔒 Closed"
    assert status_line(5, 4, True, True) == "▲ 5 · 4 answers · ✅ Solved · 🔒 Closed"


def test_status_line_of_a_domain_question() -> None:
    view = question_view(score=4, answer_count=3, accepted_answer_id=9)
    assert status_line_of(view) == "▲ 4 · 3 answers · ✅ Solved"
    closed = question_view(closed_at=NOW)
    assert status_line_of(closed) == "▲ 0 · 0 answers · 🔒 Closed"


# --------------------------------------------------------------------------- questions, answers


def test_question_embed_layout() -> None:
    embed = question_embed(
        "Why **me**?", "I *really* wonder.", "Sam", "Anxiety", status_line(1, 0, False, False), 12
    )
    data = assert_embed_within_limits(embed)
    assert data["title"] == r"Why \*\*me\*\*?"
    assert data["description"] == "I *really* wonder."  # the author's markdown is kept
    assert data["author"]["name"] == "Sam"
    assert data["footer"]["text"] == "qa:post:12"
    assert [(f["name"], f["value"]) for f in data["fields"]] == [
        ("Status", "▲ 1 · 0 answers"),
        ("Category", "Anxiety"),
    ]
    assert data["color"] == embeds.COLOUR_QUESTION


def test_question_embed_colours_follow_the_state() -> None:
    args = ("t", "d", "a", None, "s", None)
    assert question_embed(*args).colour == discord.Colour(embeds.COLOUR_QUESTION)
    assert question_embed(*args, solved=True).colour == discord.Colour(embeds.COLOUR_SOLVED)
    closed = question_embed(*args, solved=True, closed=True)
    assert closed.colour == discord.Colour(embeds.COLOUR_CLOSED)
    assert closed.footer.text is None and closed.fields[0].name == "Status"
    assert len(closed.fields) == 1  # no category


def test_question_body_mentions_never_render_even_with_markdown_kept() -> None:
    embed = question_embed("t", "hi @everyone <@123> <@&4> **ok**", "a", None, "s", 1)
    assert embed.description == "hi @\u200beveryone \\<@\u200b123> \\<@\u200b&4> **ok**"
    plain = question_embed("t", "**ok**", "a", None, "s", 1, markdown=False)
    assert plain.description == r"\*\*ok\*\*"


def test_anonymous_question_shows_no_id() -> None:
    author_id = 424242424242424242
    anonymous = question_view(anonymous=True, author_id=author_id)
    embed = question_embed(
        "t", "d", author_label(anonymous), "General", status_line(0, 0, False, False), 99
    )
    data = assert_embed_within_limits(embed)
    assert data["author"]["name"] == ANONYMOUS
    assert str(author_id) not in json.dumps(data)


@given(
    title=hostile_text(),
    details=hostile_text(200),
    author=hostile_text(),
    category=st.one_of(st.none(), hostile_text()),
    status=hostile_text(),
    key=st.one_of(st.none(), SNOWFLAKE),
    markdown=st.booleans(),
)
def test_question_embed_within_limits_for_any_input(
    title: str,
    details: str,
    author: str,
    category: str | None,
    status: str,
    key: int | None,
    markdown: bool,
) -> None:
    embed = question_embed(title, details, author, category, status, key, markdown=markdown)
    assert_embed_within_limits(embed)
    assert embed_problems(embed) == []
    assert parse_footer_key(embed) == key


def test_question_embed_with_10000_hostile_characters_everywhere() -> None:
    embed = question_embed(HOSTILE, HOSTILE, HOSTILE, HOSTILE, HOSTILE, 2**63 - 1)
    data = assert_embed_within_limits(embed)
    assert data["description"].endswith(ELLIPSIS)
    assert parse_footer_key(embed) == 2**63 - 1
    rendered = [data["title"], data["description"], *(f["value"] for f in data["fields"][1:])]
    assert all("@everyone" not in part for part in rendered)


@given(body=hostile_text(200), author=hostile_text(), key=st.one_of(st.none(), SNOWFLAKE))
def test_answer_embed_within_limits(body: str, author: str, key: int | None) -> None:
    embed = answer_embed(body, author, key)
    assert_embed_within_limits(embed)
    assert parse_footer_key(embed) == key


def test_answer_embed_layout_and_huge_body() -> None:
    data = assert_embed_within_limits(answer_embed("Try *this*.", "Member 2", 5))
    assert data["author"]["name"] == "Member 2"
    assert data["description"] == "Try *this*."
    assert data["footer"]["text"] == "qa:post:5"
    assert data["color"] == embeds.COLOUR_ANSWER
    huge = assert_embed_within_limits(answer_embed(HOSTILE, HOSTILE, 5))
    assert len(huge["description"]) <= 4096


def test_accepted_notice() -> None:
    url = jump_url(1, 2, 3)
    data = assert_embed_within_limits(accepted_notice(url, "**Bob** @everyone"))
    assert f"[This answer]({url})" in data["description"]
    assert r"\*\*Bob\*\* @" + "\u200beveryone" in data["description"]
    assert data["color"] == embeds.COLOUR_SOLVED
    assert_embed_within_limits(accepted_notice(url, HOSTILE))


# --------------------------------------------------------------------------- the status message


def _question(**changes: Any) -> PostSnapshot:
    """An /ask question with a status message, two answers and a score of 3."""
    values: dict[str, Any] = {
        "id": 12,
        "thread_id": 100,
        "message_id": 100,
        "status_message_id": 100,
        "author_id": 5,
        "body": "**Details** with @everyone",
        "category": "Anxiety",
        "score": 3,
        "upvotes": 3,
        "answer_count": 2,
    }
    return question_view(**{**values, **changes})


def test_the_question_embed_carries_the_status_line_category_and_key() -> None:
    embed = question_message_embed(_question(), "alice")
    assert embed.author.name == "alice"
    status = next(f for f in embed.fields if f.name == "Status")
    assert status.value == "▲ 3 · 2 answers"
    assert any(f.name == "Category" and f.value == "Anxiety" for f in embed.fields)
    assert parse_footer_key(embed) == 12
    assert "@everyone" not in (embed.description or "")
    assert embed_problems(embed) == []


def test_a_solved_question_shows_it() -> None:
    embed = question_message_embed(_question(accepted_answer_id=44, score=-2), "alice")
    status = next(f for f in embed.fields if f.name == "Status")
    assert status.value == "▼ 2 · 2 answers · ✅ Solved"


def test_the_status_reply_of_a_native_post() -> None:
    text = status_reply_text(_question(via_bot=False, answer_count=1, score=0))
    assert text.splitlines()[0] == "▲ 0 · 1 answer"
    assert len(text) <= 2000
