"""The garbage collector's pauses kept out of the tests.

A full (generation 2) collection walks every object the process holds. Late in a whole
``make test`` run the test process holds millions of objects (session fixtures, caches, the
leftovers of two thousand tests), and such a collection, started by whatever allocation a test
happens to make, was measured pausing the event loop for 3 to 8 s: longer than the fake
Discord's 3 s interaction deadline, so a test failed for nothing the bot did.

Before each test (ahead of its fixtures): collect, then freeze the survivors (``gc.freeze``:
the collector skips them from then on), so a collection during a test walks only what that
test made. Every ``UNFREEZE_EVERY`` tests the frozen objects are handed back and collected once,
between tests, so cycles that died after being frozen are still freed.
"""

from __future__ import annotations

import gc

import pytest

UNFREEZE_EVERY = 400

_tests_set_up = 0


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    global _tests_set_up
    _tests_set_up += 1
    if _tests_set_up % UNFREEZE_EVERY == 0:
        gc.unfreeze()
    gc.collect()
    gc.freeze()
