"""Batch sizes follow the time budget: a slow batch shrinks the next in proportion, a full
batch within the budget lets the next grow, a small batch changes nothing; without a budget
(PostgreSQL) every batch may be the largest."""

from __future__ import annotations

from bot.workers.batch_budget import BatchBudget


def test_a_batch_over_the_budget_shrinks_the_next_and_full_ones_within_it_grow_it_back() -> None:
    budget = BatchBudget(500, budget=0.05, least=16)
    assert budget.size == 16  # the first batch: statements not compiled yet, pace unknown
    for _ in range(40):
        budget.took(budget.size, 0.01)
    assert budget.size == 500
    budget.took(500, 0.5)  # ten times the budget
    assert budget.size == 50
    budget.took(50, 5.0)  # far over: never below the least
    assert budget.size == 16
    budget.took(3, 0.001)  # the queue ran dry: says nothing about the size
    assert budget.size == 16
    budget.took(16, 0.01)  # full and within: a quarter more (at least one)
    assert budget.size == 20
    for _ in range(40):
        budget.took(budget.size, 0.01)
    assert budget.size == 500  # never above the writer's largest


def test_a_batch_within_the_budget_never_shrinks_it() -> None:
    budget = BatchBudget(100, budget=0.05, least=100)
    budget.took(100, 0.05)
    assert budget.size == 100


def test_without_a_budget_every_batch_may_be_the_largest() -> None:
    budget = BatchBudget(500, budget=None)
    assert budget.size == 500
    budget.took(500, 10.0)
    assert budget.size == 500


def test_a_writer_may_start_larger_and_still_shrinks_when_over_the_budget() -> None:
    budget = BatchBudget(300, budget=0.05, least=64, start=300)
    assert budget.size == 300
    budget.took(300, 0.1)  # twice the budget
    assert budget.size == 150
    assert BatchBudget(300, budget=0.05, least=64, start=10).size == 64  # never below the least
    assert BatchBudget(300, budget=0.05, start=1_000).size == 300  # nor above the largest
