"""The search benchmark's fixture and its ranking-quality check (issue 21, item 1)."""

from __future__ import annotations

import random
import sqlite3

from tests.bench import search_bench
from tests.bench.search_fixture import COMMON, SEED, Size, Vocabulary, sqlite_fixture

SMALL = Size(questions=300, answers=1_500)


def test_the_fixture_is_deterministic_and_has_every_term_class() -> None:
    path = sqlite_fixture(SMALL)
    with sqlite3.connect(path) as connection:
        kinds = dict(connection.execute("SELECT kind, count(*) FROM posts GROUP BY kind"))
        common = connection.execute(
            "SELECT count(*) FROM posts_search WHERE posts_search MATCH 'help'"
        ).fetchone()[0]
        first = connection.execute("SELECT title FROM posts WHERE id = 1").fetchone()[0]
    assert kinds == {"question": SMALL.questions, "answer": SMALL.answers}
    assert 0.25 * 1_800 < common < 0.45 * 1_800  # a very common word: about a third of posts
    vocabulary = Vocabulary(random.Random(SEED))
    assert set(first.split()) <= set(vocabulary.words) | set(COMMON)
    assert Vocabulary(random.Random(SEED)).words == vocabulary.words


def test_quality_counts_overlap_and_the_reference_top() -> None:
    reference = search_bench.reference()
    name, by_query = next(iter(reference.items()))
    query, ref = next((q, r) for q, r in by_query.items() if len(r) == 10)
    found = {c: dict(qs) for c, qs in reference.items()}
    found[name][query] = [ref[1], ref[2], ref[0], *ref[3:8], -1, -2]
    checked = search_bench.quality(found)
    assert checked[query]["overlap@10"] == 0.8
    assert checked[query]["top in top 3"] is True
    found[name][query] = [*ref[1:4], ref[0]]
    assert search_bench.quality(found)[query]["top in top 3"] is False
