"""BoundedMap keeps the newest entries up to its limit; ExpiringMap also forgets them after a
time."""

from __future__ import annotations

from bot.bounded import BoundedMap, ExpiringMap


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


def test_oldest_first_lists_the_keys_held_in_age_order() -> None:
    held: BoundedMap[str, int] = BoundedMap(3)
    for key in "abcd":
        held.put(key, 1)
    held.put("b", 2)
    assert held.oldest_first() == ["c", "d", "b"]


def test_add_stores_only_what_is_not_there() -> None:
    told: BoundedMap[tuple[int, int], None] = BoundedMap(2)
    assert told.add((1, 1), None) and not told.add((1, 1), None)
    assert told.add((2, 2), None) and told.add((3, 3), None)
    assert (1, 1) not in told  # an add that found the key did not make it the newest


def test_expiring_entries_last_ttl_seconds_and_the_limit_holds() -> None:
    now = [100.0]
    known: ExpiringMap[str, bool] = ExpiringMap(2, 10.0, clock=lambda: now[0])
    known.put("gone", False)  # a falsy value is still an entry
    now[0] = 105.0
    known.put("here", True)
    assert (known.get("gone"), known.get("here"), known.get("never")) == (False, True, None)
    now[0] = 110.0  # "gone" was stored 10 s ago: expired and dropped; "here" lasts until 115
    assert (known.get("gone"), known.get("here"), len(known)) == (None, True, 1)
    known.put("gone", True)  # stored again: another 10 s
    known.put("third", True)  # past the limit of 2 the oldest ("here") is forgotten
    assert (known.get("here"), known.get("gone"), known.get("third")) == (None, True, True)
    known.pop("gone")
    known.pop("never")
    assert (known.get("gone"), len(known)) == (None, 1)
    known.ttl = 0  # a shorter time applies to what is held too
    assert (known.get("third"), len(known)) == (None, 0)
