"""bot.ui.question_lists: /search results, /unanswered pages, similar and related questions link
each question, show its status line, and stay within every limit."""

from __future__ import annotations

import re
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.ui.question_lists import (
    related_questions_line,
    search_results,
    similar_questions,
    unanswered_page,
)
from tests.bot.ui import HOSTILE, NOW, assert_embed_within_limits, hostile_text, question_view


def test_search_results_link_each_question() -> None:
    hits = [
        question_view(id=1, title="A [weird] title", thread_id=11, score=3, answer_count=2),
        question_view(id=2, title="Solved one", thread_id=12, accepted_answer_id=5),
        question_view(id=3, title=None, thread_id=None),
    ]
    data = assert_embed_within_limits(search_results(hits, 99, query="sleep *now*"))
    assert data["title"] == r"Results for “sleep \*now\*”"
    lines = data["description"].split("\n")
    assert lines[0] == r"**[A \[weird\] title](https://discord.com/channels/99/11)**"
    assert lines[1] == "▲ 3 · 2 answers"
    assert lines[2] == "**[Solved one](https://discord.com/channels/99/12)**"
    assert lines[3] == "▲ 0 · 0 answers · ✅ Solved"
    assert lines[4] == "**(untitled)**"


def test_search_results_empty() -> None:
    data = assert_embed_within_limits(search_results([], 1))
    assert data["title"] == "Search results"
    assert data["description"] == "No questions match."


@given(st.lists(hostile_text(), min_size=0, max_size=40), hostile_text())
def test_search_results_within_limits(titles: list[str], query: str) -> None:
    hits = [question_view(id=i, title=t, thread_id=i + 1) for i, t in enumerate(titles)]
    assert_embed_within_limits(search_results(hits, 2**64 - 1, query=query))


def test_search_results_with_many_long_titles_say_how_many_are_left_out() -> None:
    hits = [question_view(id=i, title=HOSTILE, thread_id=i) for i in range(60)]
    data = assert_embed_within_limits(search_results(hits, 1, query=HOSTILE))
    assert re.search(r"…and \d+ more$", data["description"])


def test_search_results_empty_with_our_sentence() -> None:
    data = assert_embed_within_limits(search_results([], 1, query="x", empty="Nothing; try /ask."))
    assert data["description"] == "Nothing; try /ask."


def test_unanswered_page_lists_questions_with_when_they_were_asked() -> None:
    questions = [
        question_view(id=1, title="Oldest *one*", thread_id=11, created_at=NOW),
        question_view(id=2, title="Newer", thread_id=12, created_at=NOW + timedelta(hours=2)),
    ]
    data = assert_embed_within_limits(
        unanswered_page(questions, 99, page=2, pages=3, total=22, category="Sleep_well")
    )
    assert data["title"] == r"Unanswered questions in Sleep\_well (22)"
    lines = data["description"].split("\n")
    assert lines[0] == r"**[Oldest \*one\*](https://discord.com/channels/99/11)**"
    stamp = int(NOW.timestamp())
    assert lines[1] == f"▲ 0 · 0 answers · asked <t:{stamp}:R>"
    assert data["footer"]["text"] == "Page 2 of 3 · oldest first"
    empty = assert_embed_within_limits(unanswered_page([], 1, page=1, pages=1, total=0))
    assert empty["title"] == "Unanswered questions (0)"
    assert empty["description"] == "Every open question has an answer."


@given(st.lists(hostile_text(), min_size=0, max_size=40), hostile_text())
def test_unanswered_page_within_limits(titles: list[str], category: str) -> None:
    questions = [question_view(id=i, title=t, thread_id=i + 1) for i, t in enumerate(titles)]
    assert_embed_within_limits(
        unanswered_page(questions, 2**64 - 1, page=1, pages=1, total=len(titles), category=category)
    )


def test_similar_questions_link_each_one() -> None:
    hits = [question_view(id=1, title="Same [question]", thread_id=11, answer_count=1)]
    data = assert_embed_within_limits(similar_questions(hits, 99))
    assert data["title"] == "Similar questions"
    assert r"**[Same \[question\]](https://discord.com/channels/99/11)**" in data["description"]
    assert "▲ 0 · 1 answer" in data["description"]
    many = [question_view(id=i, title=HOSTILE, thread_id=i) for i in range(60)]
    assert_embed_within_limits(similar_questions(many, 1))


def test_related_questions_line_links_without_unfurling() -> None:
    questions = [
        question_view(id=1, title="Sleep *and* [dreams]", thread_id=11),
        question_view(id=2, title="Not posted", thread_id=None),
        question_view(id=3, title="Naps", thread_id=13),
    ]
    assert related_questions_line(questions, 99) == (
        r"-# Related questions: [Sleep \*and\* \[dreams\]](<https://discord.com/channels/99/11>)"
        " · [Naps](<https://discord.com/channels/99/13>)"
    )
    assert related_questions_line([], 99) == ""
    long = [question_view(id=i, title=HOSTILE, thread_id=i) for i in range(3)]
    assert len(related_questions_line(long, 2**64 - 1)) < 1000
