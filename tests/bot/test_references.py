"""References typed by members read into ids, or None."""

from __future__ import annotations

import pytest

from bot import references


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12", 12), (" #12 ", 12), ("#", None), ("12a", None), ("1" * 19, None), ("", None)],
)
def test_question_ids(raw: str, expected: int | None) -> None:
    assert references.question_id(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<#123456789012345678>", 123456789012345678),
        ("https://discord.com/channels/1/123456789012345678", 123456789012345678),
        ("https://discord.com/channels/1/123456789012345678/99", 123456789012345678),
        ("#12", None),
        ("<#12>", None),
    ],
)
def test_thread_references(raw: str, expected: int | None) -> None:
    assert references.thread_id(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("42", 42),
        (" https://discord.com/channels/1/2/345 ", 345),
        ("Answer: text (#7)", 7),
        ("no number", None),
    ],
)
def test_trailing_ids(raw: str, expected: int | None) -> None:
    assert references.trailing_id(raw) == expected
