"""The load's exactness check can fail: each kind of difference between what the fake's world
implies and what the database holds is named (the end-to-end use is tests/cogs/test_load.py)."""

from __future__ import annotations

import copy
from collections import Counter

from bot.forum.settings import DEFAULTS
from tests.bench.load import LOAD_FULL, LOAD_SCALED, State, differences, load_workload, vote_points


def _state() -> State:
    return State(
        votes={(10, 1): (True, False), (10, 2): (False, True)},
        answers={10, 11},
        points={(7, 5): 80, (7, 6): 20},
        new_answer_dms=Counter({(10, 6): 1, (11, 6): 1}),
    )


def test_an_exact_copy_has_no_differences() -> None:
    assert differences(_state(), copy.deepcopy(_state())) == []


def test_each_difference_is_named() -> None:
    expected = _state()
    stored = copy.deepcopy(expected)
    stored.votes[(10, 2)] = (True, True)
    stored.answers.discard(11)
    stored.points[(7, 5)] = 60
    stored.new_answer_dms[(10, 6)] += 1  # queued twice
    del stored.new_answer_dms[(11, 6)]  # missing
    stored.new_answer_dms[(11, 9)] = 1  # for someone with DMs off
    assert differences(expected, stored) == [
        "votes differ on 2 (message, member) keys",
        "answers: 1 missing, 0 unexpected",
        "points differ for 1 members",
        "new-answer DMs: 1 missing, 1 queued more than once, 1 undeserved",
    ]


def test_vote_points_are_capped_per_direction() -> None:
    assert vote_points(DEFAULTS, "answer", 3, 1) == 3 * 20 - 20
    assert vote_points(DEFAULTS, "answer", 50, 50) == 200 - 50
    assert vote_points(DEFAULTS, "question", 50, 0) == 100


def test_both_scales_make_their_workloads() -> None:
    for scale in (LOAD_SCALED, LOAD_FULL):
        w = load_workload(scale)
        assert w.events == scale.reactions
        assert w.distinct_keys >= scale.distinct_keys
