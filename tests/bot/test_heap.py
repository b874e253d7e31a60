"""After start-up the heap is frozen and young collections are fewer (``bot.heap``)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bot import heap


@pytest.fixture
def gc_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    try:
        yield
    finally:
        gc.set_threshold(*before)


@pytest.mark.usefixtures("gc_thresholds")
def test_settle_freezes_what_lives_now_and_raises_only_the_young_threshold() -> None:
    _, gen1, gen2 = gc.get_threshold()
    kept = [[] for _ in range(1000)]  # lists are tracked by the collector
    heap.settle()
    assert gc.get_freeze_count() >= len(kept)
    assert gc.get_threshold() == (heap.GEN0_THRESHOLD, gen1, gen2)
    assert heap.GEN0_THRESHOLD > 700  # CPython's default
