"""Text rules: titles trimmed, counted in code points, and refused with a sentence."""

from __future__ import annotations

import pytest

from bot.forum import text_rules
from bot.forum.errors import (
    ValidationError,
)
from bot.forum.text_rules import validate_title


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  How do I sleep?  ", "How do I sleep?"),
        ("\u200b\ufeffHow?\u200b", "How?"),
        ("Line one\nline two", "Line one line two"),
        ("x" * 100, "x" * 100),
        # 100 emoji outside the BMP: 100 code points (as Discord counts), 200 UTF-16 units.
        ("😀" * 100, "😀" * 100),
        (
            "Flag 🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
            "Flag 🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
        ),
    ],
)
def test_titles_are_trimmed_and_counted_in_code_points(raw: str, clean: str) -> None:
    assert validate_title(raw) == clean


@pytest.mark.parametrize(
    ("raw", "sentence"),
    [
        ("", "Please give your question a title."),
        ("   \t ", "Please give your question a title."),
        ("\x00\x07\x1b", "Please give your question a title."),
        ("\u2028\u3000", "Please give your question a title."),
        ("\u200d\u200c\u2063", "The title needs at least one visible character."),
        ("\u3164\u3164", "The title needs at least one visible character."),
        ("\u0301\u0302", "The title needs at least one visible character."),
        ("\u2800", "The title needs at least one visible character."),
        ("x" * 101, "The title can be at most 100 characters; yours has 101."),
        ("😀" * 101, "The title can be at most 100 characters; yours has 101."),
    ],
)
def test_bad_titles_are_refused_with_a_sentence(raw: str, sentence: str) -> None:
    with pytest.raises(ValidationError) as err:
        validate_title(raw)
    assert str(err.value) == sentence


@pytest.mark.parametrize(
    "control",
    ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"],
)
def test_titles_refuse_direction_controls(control: str) -> None:
    with pytest.raises(ValidationError, match="text direction controls"):
        validate_title(f"Help {control}me")


def test_a_native_title_loses_its_direction_controls() -> None:
    assert text_rules.native_title("\u202egnp.exe\u202c") == "gnp.exe"
    assert validate_title("سؤال عن النوم") == "سؤال عن النوم"  # right-to-left script is fine
