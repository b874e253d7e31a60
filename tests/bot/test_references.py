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


@pytest.mark.parametrize(
    ("reader", "raw"),
    [
        (references.thread_id, "<#99999999999999999999>"),
        (references.thread_id, "https://discord.com/channels/1/99999999999999999999"),
        (references.thread_id, "<#1234567890123456789012345>"),
        (references.trailing_id, "99999999999999999999"),
        (references.trailing_id, "https://discord.com/channels/1/2/" + "9" * 25),
    ],
)
def test_numbers_past_64_bits_name_nothing(reader: object, raw: str) -> None:
    assert callable(reader)
    assert reader(raw) is None


def test_the_largest_id_is_read_and_custom_ids_past_it_name_no_row() -> None:
    largest = str(references.MAX_ID)
    assert references.trailing_id(largest) == references.MAX_ID
    assert references.thread_id(f"<#{largest}>") == references.MAX_ID
    assert references.custom_id_number(largest) == references.MAX_ID
    assert references.custom_id_number(str(references.MAX_ID + 1)) == references.NO_ID
    assert references.custom_id_number("9" * 20) == references.NO_ID
    assert references.custom_id_number("42") == 42
