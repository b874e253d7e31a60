"""The point rules as pure functions of a guild's posts and votes."""

from __future__ import annotations

import dataclasses

from bot.forum.point_rules import (
    PostCache,
    PostFacts,
    Totals,
    VoteFacts,
    compute_points,
    compute_post_caches,
)
from bot.forum.settings import DEFAULTS
from tests.bot.forum.core_support import ANSWERER, ASKER, OTHER, VOTER

Q = PostFacts(id=1, kind="question", author_id=ASKER, anonymous=False, live=True)
A = PostFacts(id=2, kind="answer", author_id=ANSWERER, anonymous=False, live=True, question_id=1)


def _ups(post_id: int, voters: range, *, down: bool = False) -> list[VoteFacts]:
    return [VoteFacts(post_id, v, up=not down, down=down) for v in voters]


# --------------------------------------------------------------------------- pure rules


def test_defaults_match_q2a() -> None:
    accepted_q = dataclasses.replace(Q, accepted_answer_id=2)
    votes = [VoteFacts(1, VOTER, True, False), VoteFacts(2, VOTER, True, False)]
    totals = compute_points(DEFAULTS, [accepted_q, A], votes)
    assert totals[ASKER] == Totals(points=20 + 10 + 30, questions=1, upvotes_received=1)
    assert totals[ANSWERER] == Totals(
        points=40 + 20 + 300, answers=1, accepted_answers=1, upvotes_received=1
    )
    assert VOTER not in totals


def test_caps_are_per_post_and_per_direction() -> None:
    votes = _ups(1, range(100, 120)) + _ups(1, range(200, 210), down=True)
    totals = compute_points(DEFAULTS, [Q], votes)
    assert totals[ASKER].points == 20 + 100 - 30
    second = dataclasses.replace(Q, id=3)
    both = compute_points(DEFAULTS, [Q, second], votes + _ups(3, range(100, 120)))
    assert both[ASKER].points == 2 * 20 + 100 - 30 + 100  # each question has its own cap
    answer_votes = _ups(2, range(100, 120)) + _ups(2, range(200, 210), down=True)
    assert compute_points(DEFAULTS, [Q, A], answer_votes)[ANSWERER].points == 40 + 200 - 50


def test_zero_value_votes_and_self_votes_count_nothing() -> None:
    votes = [VoteFacts(2, VOTER, True, True), VoteFacts(2, ANSWERER, True, False)]
    assert compute_points(DEFAULTS, [Q, A], votes)[ANSWERER] == Totals(points=40, answers=1)
    assert compute_post_caches(DEFAULTS, [Q, A], votes)[2].score == 0


def test_anonymous_posts_earn_only_anon_points_and_the_authors_vote_scores() -> None:
    anon_q = dataclasses.replace(Q, anonymous=True, accepted_answer_id=2)
    anon_a = dataclasses.replace(A, anonymous=True)
    votes = [VoteFacts(1, ASKER, True, False), VoteFacts(2, ANSWERER, True, False)]
    totals = compute_points(DEFAULTS, [anon_q, anon_a], votes)
    assert totals[ASKER] == Totals(anon_points=20 + 30)
    assert totals[ANSWERER] == Totals(anon_points=40 + 300)
    caches = compute_post_caches(DEFAULTS, [anon_q, anon_a], votes)
    assert (caches[1].score, caches[2].score) == (1, 1)


def test_closed_deleted_and_pending_posts() -> None:
    votes = [VoteFacts(1, VOTER, True, False), VoteFacts(2, VOTER, True, False)]
    closed = dataclasses.replace(Q, closed=True)
    totals = compute_points(DEFAULTS, [closed, A], votes)
    assert (totals[ASKER].points, totals[ANSWERER].points) == (20, 40)
    caches = compute_post_caches(DEFAULTS, [closed, A], votes)
    assert caches[1] == PostCache(score=0, answer_count=1, status="closed")
    deleted_q = dataclasses.replace(Q, live=False)
    assert compute_points(DEFAULTS, [deleted_q, A], votes) == {}
    pending_a = dataclasses.replace(A, live=False)
    caches = compute_post_caches(DEFAULTS, [Q, pending_a], votes)
    assert caches[1] == PostCache(score=1, upvotes=1, answer_count=0, status="open")


def test_comments_earn_nothing_and_vote_cast_points_go_to_voters() -> None:
    comment = PostFacts(
        id=3, kind="comment", author_id=OTHER, anonymous=False, live=True, question_id=1
    )
    config = dataclasses.replace(DEFAULTS, points_vote_cast=2)
    votes = [VoteFacts(3, VOTER, True, False), VoteFacts(2, VOTER, False, True)]
    totals = compute_points(config, [Q, A, comment], votes)
    assert OTHER not in totals
    assert totals[VOTER] == Totals(points=2)
    assert totals[ANSWERER] == Totals(points=40 - 20, answers=1, downvotes_received=1)


def test_status_is_derived() -> None:
    caches = compute_post_caches(DEFAULTS, [Q], [])
    assert caches[1].status == "open"
    assert compute_post_caches(DEFAULTS, [Q, A], [])[1].status == "answered"
    solved = dataclasses.replace(Q, accepted_answer_id=2)
    assert compute_post_caches(DEFAULTS, [solved, A], [])[1].status == "solved"
