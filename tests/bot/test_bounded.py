"""BoundedMap keeps the newest entries up to its limit."""

from __future__ import annotations

from bot.bounded import BoundedMap


def test_the_oldest_entries_are_forgotten_past_the_limit() -> None:
    seen: BoundedMap[int, str] = BoundedMap(2)
    seen.put(1, "a")
    seen.put(2, "b")
    seen.put(1, "a2")  # 1 is the newest now
    seen.put(3, "c")
    assert (seen.get(1), seen.get(2), seen.get(3), len(seen)) == ("a2", None, "c", 2)
    seen.pop(1)
    seen.pop(99)
    assert 1 not in seen and 3 in seen


def test_add_stores_only_what_is_not_there() -> None:
    told: BoundedMap[tuple[int, int], None] = BoundedMap(2)
    assert told.add((1, 1), None) and not told.add((1, 1), None)
    assert told.add((2, 2), None) and told.add((3, 3), None)
    assert (1, 1) not in told  # an add that found the key did not make it the newest
