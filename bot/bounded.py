"""``BoundedMap``: an in-memory mapping that keeps at most ``limit`` entries, forgetting the
oldest. For what a process remembers to save work (DM channel ids, display names already
stored, members already told something); forgetting an entry only costs the work again.
``ExpiringMap`` also forgets each entry ``ttl`` seconds after it was stored, for what may turn
stale (whether someone is still a member of a server)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedMap(Generic[K, V]):
    """A mapping of at most ``limit`` entries: ``put`` makes an entry the newest, and past the
    limit the oldest are forgotten."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def put(self, key: K, value: V) -> None:
        """Store ``value`` under ``key`` as the newest entry."""
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)

    def add(self, key: K, value: V) -> bool:
        """Store ``key`` unless it is already there (then nothing changes): False if it was."""
        if key in self._items:
            return False
        self.put(key, value)
        return True

    def pop(self, key: K) -> None:
        """Forget ``key`` (nothing happens when it is not there)."""
        self._items.pop(key, None)

    def oldest_first(self) -> list[K]:
        """The keys held, oldest first."""
        return list(self._items)


class ExpiringMap(Generic[K, V]):
    """A ``BoundedMap`` whose entries also expire ``ttl`` seconds after their ``put``
    (``clock``: seconds, monotonic by default; tests move it). A change of ``ttl`` applies to
    the entries already held too."""

    def __init__(
        self, limit: int, ttl: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self._items: BoundedMap[K, tuple[float, V]] = BoundedMap(limit)

    def __len__(self) -> int:
        """Entries held, expired ones not yet dropped included."""
        return len(self._items)

    def get(self, key: K) -> V | None:
        """The value stored under ``key`` within the last ``ttl`` seconds, else None."""
        entry = self._items.get(key)
        if entry is None:
            return None
        stored, value = entry
        if self.clock() - stored >= self.ttl:
            self._items.pop(key)
            return None
        return value

    def put(self, key: K, value: V) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds, as the newest entry."""
        self._items.put(key, (self.clock(), value))

    def pop(self, key: K) -> None:
        """Forget ``key`` (nothing happens when it is not there)."""
        self._items.pop(key)
