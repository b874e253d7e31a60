"""Query terms: typed text becomes words, without stop words or any query syntax."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.forum import query_terms


def test_terms_are_words_without_stop_words_or_syntax() -> None:
    assert query_terms.search_terms('"Therapist" AND (sleep OR NOT -anxiety*) {title}:x') == [
        "therapist",
        "sleep",
        "anxiety",
        "title",
        "x",
    ]
    assert query_terms.search_terms("the and of") == []
    assert query_terms.search_terms("🙂 *** ''' \x00 \ud800") == []
    assert query_terms.search_terms("Sleep sleep SLEEP") == ["sleep"]
    assert query_terms.search_terms("self_care") == ["self", "care"]
    assert (
        len(query_terms.search_terms(" ".join(f"w{i}" for i in range(500))))
        == query_terms.MAX_TERMS
    )


def test_significant_terms_put_the_title_first_and_count_a_stem_once() -> None:
    terms = query_terms.significant_terms(
        "Can't sleep before exams", "Exam nights: I lie awake, awake, awake. I study."
    )
    assert terms[:2] == ["sleep", "exams"]
    assert "exam" not in terms  # the same stem as "exams"
    assert terms[2] == "awake"  # the most frequent word of the details
    assert "i" not in terms and "t" not in terms
    assert query_terms.significant_terms("", "") == []


async def test_postgres_stop_words_are_ours(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("PostgreSQL's english dictionary")
        vocabulary = sorted(
            query_terms.STOP_WORDS | {"therapist", "sleep", "never", "help", "feel"}
        )
        rows = await session.execute(
            text(
                "SELECT w, to_tsvector('english', w) = ''::tsvector"
                " FROM unnest(CAST(:words AS text[])) AS w"
            ),
            {"words": vocabulary},
        )
        dropped = {word for word, empty in rows if empty}
    assert dropped == set(query_terms.STOP_WORDS)


def test_a_term_is_looked_for_in_every_normal_form() -> None:
    decomposed = "cafe\u0301"
    assert query_terms.term_forms("café") == ("café", decomposed, "café", decomposed)
    assert query_terms.fts_match("café") == f'("café" OR "{decomposed}")'
    assert query_terms.fts_match("plain") == '"plain"'
    assert query_terms.term_forms("ﬁne")[2] == "fine"  # NFKC: the ligature's letters
