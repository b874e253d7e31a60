"""One page of a longer list: which page is shown (clamped to the pages there are) and which
rows it holds. ``/unanswered``, ``/leaderboard``, ``/mod log`` and ``/mod queue`` page alike."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generic, TypeVar

E = TypeVar("E")


@dataclass(frozen=True, slots=True)
class PageWindow:
    """Page ``number`` (from 1) of ``pages`` (at least 1: an empty list is one empty page): the
    ``limit`` rows from ``offset``."""

    number: int
    pages: int
    offset: int
    limit: int


@dataclass(frozen=True, slots=True)
class EntryPage(Generic[E]):
    """One page of ``entries``: ``number`` from 1 of ``pages``; ``total`` entries in all.

    Build it as ``EntryPage(...)``, not through an alias such as ``AuditPage``: a frozen
    slotted instance refuses the attribute a subscripted alias sets on what it builds."""

    entries: tuple[E, ...]
    number: int
    pages: int
    total: int


def page_count(total: int, per_page: int) -> int:
    """Pages needed for ``total`` rows (at least 1)."""
    return max(1, math.ceil(total / per_page))


def page_window(total: int, number: int, per_page: int) -> PageWindow:
    """The rows of page ``number`` (clamped to the pages there are) of ``total`` rows."""
    pages = page_count(total, per_page)
    number = min(max(number, 1), pages)
    return PageWindow(number, pages, (number - 1) * per_page, per_page)
