"""Snowflake ids and the fake's clock.

Discord ids encode their creation time (milliseconds since 2015-01-01 in the top 42 bits), and
discord.py reads it back (``created_at``, the sub-rate-limit choice when deleting a message,
history ``before``/``after`` with datetimes). The fake therefore makes real snowflakes from its
clock, strictly increasing, so "newer" always means "larger id" as on Discord.

The clock is injectable: ``SystemClock`` follows wall time; ``ManualClock`` only moves when a
test advances it (interaction deadlines, rate-limit windows).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol

DISCORD_EPOCH_MS = 1_420_070_400_000


class Clock(Protocol):
    def time(self) -> float:
        """Seconds since the Unix epoch."""
        ...


class SystemClock:
    def time(self) -> float:
        return time.time()


class ManualClock:
    """A clock that stands still until ``advance`` is called."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds


def iso(ts: float) -> str:
    """Discord's ISO-8601 timestamp format (UTC, microseconds, +00:00)."""
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).isoformat()


def snowflake_time(snowflake: int) -> float:
    """Seconds since the Unix epoch at which ``snowflake`` was made."""
    return ((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000.0


class SnowflakeGenerator:
    """Strictly increasing snowflakes whose timestamp follows ``clock``."""

    def __init__(self, clock: Clock, worker: int = 1) -> None:
        self._clock = clock
        self._worker = worker & 0x1F
        self._last_ms = 0
        self._increment = 0

    def next(self) -> int:
        now_ms = int(self._clock.time() * 1000) - DISCORD_EPOCH_MS
        if now_ms > self._last_ms:
            self._last_ms = now_ms
            self._increment = 0
        else:
            self._increment += 1
            if self._increment >= 4096:
                self._last_ms += 1
                self._increment = 0
        return (self._last_ms << 22) | (self._worker << 17) | self._increment

    def for_shard(self, shard_id: int, shard_count: int) -> int:
        """A fresh id that Discord's shard formula ``(id >> 22) % count`` maps to ``shard_id``."""
        if not 0 <= shard_id < shard_count:
            raise ValueError(f"shard {shard_id} is outside 0..{shard_count - 1}")
        base = max(self._last_ms + 1, int(self._clock.time() * 1000) - DISCORD_EPOCH_MS)
        ms = base + ((shard_id - base) % shard_count)
        self._last_ms = ms
        self._increment = 0
        return (ms << 22) | (self._worker << 17)
