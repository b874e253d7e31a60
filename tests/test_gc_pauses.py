"""The collector's pauses are kept out of the tests (``tests/gc_pauses.py``)."""

from __future__ import annotations

import gc
import weakref


class Node:
    def __init__(self) -> None:
        self.me = self


def test_earlier_objects_are_frozen_and_a_tests_own_cycles_are_still_collected() -> None:
    assert gc.get_freeze_count() > 0
    node = Node()
    alive = weakref.ref(node)
    del node
    assert alive() is not None  # a cycle: only the collector frees it
    gc.collect()
    assert alive() is None
