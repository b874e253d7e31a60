"""Text rules: the limits of what members type, and how it is trimmed, checked and compared.

Discord counts the length of thread names, messages and modal fields in Unicode code points - an
emoji outside the Basic Multilingual Plane is 1, not the 2 UTF-16 units a JavaScript ``.length``
reports, and a ZWJ emoji sequence is several, not one grapheme - which is exactly Python's
``len(str)``. So limits are checked with ``len`` after trimming. A title needs at least one
*visible* character: whitespace, control, format (zero-width) characters, lone combining marks,
unassigned/private-use code points and the few "blank letters" (Hangul fillers, the braille
blank) are not visible. Every refusal is a ``ValidationError`` whose text the user sees.
"""

from __future__ import annotations

import unicodedata
from typing import Final

from bot.forum.errors import ValidationError

TITLE_MAX: Final = 100
DETAILS_MAX: Final = 4000
BODY_MAX: Final = 4000
DISPLAY_NAME_MAX: Final = 32
CLOSE_REASON_MAX: Final = 500

# Categories with no glyph of their own: controls, format (zero-width, bidi), surrogates,
# private use, unassigned, separators, and combining marks (which only decorate a base).
_INVISIBLE_CATEGORIES: Final = frozenset(
    {"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "Me"}
)
# Letters and symbols that render blank (used to fake empty names).
_BLANK_CHARACTERS: Final = frozenset({"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"})
# Trimmed at the ends besides whitespace and controls: zero-width spaces and the BOM (not
# ZWJ or tag characters, which end some emoji sequences).
_TRIM_FORMAT: Final = frozenset({"\u200b", "\u2060", "\ufeff", "\u180e"})
# Embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): in a title they reverse
# or reorder what follows it in every list, link and notice the title appears in.
BIDI_CONTROLS: Final = frozenset(
    {chr(c) for c in range(0x202A, 0x202F)} | {chr(c) for c in range(0x2066, 0x206A)}
)
NO_BIDI: Final = "The title cannot contain right-to-left or other text direction controls."


def is_visible(char: str) -> bool:
    return unicodedata.category(char) not in _INVISIBLE_CATEGORIES and (
        char not in _BLANK_CHARACTERS
    )


def has_visible(text: str) -> bool:
    return any(is_visible(char) for char in text)


def _trimmable(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) == "Cc" or char in _TRIM_FORMAT


def trim(text: str) -> str:
    """Strip whitespace, control characters and zero-width spaces from both ends."""
    start, end = 0, len(text)
    while start < end and _trimmable(text[start]):
        start += 1
    while end > start and _trimmable(text[end - 1]):
        end -= 1
    return text[start:end]


def one_line(text: str) -> str:
    """Line breaks and other controls inside a title become spaces (thread names are one line)."""
    return "".join(" " if unicodedata.category(c) in {"Cc", "Zl", "Zp"} else c for c in text)


def _within(text: str, limit: int, what: str, *, have: str = "has") -> str:
    """``text`` when it has at most ``limit`` characters; refused with the count otherwise."""
    if len(text) > limit:
        raise ValidationError(
            f"The {what} can be at most {limit} characters; yours {have} {len(text)}."
        )
    return text


def _optional(text: str) -> str | None:
    """None for text with nothing visible in it (an optional field left blank)."""
    return text if text and has_visible(text) else None


def validate_title(raw: str) -> str:
    title = trim(one_line(raw))
    if not title:
        raise ValidationError("Please give your question a title.")
    if not has_visible(title):
        raise ValidationError("The title needs at least one visible character.")
    if any(char in BIDI_CONTROLS for char in title):
        raise ValidationError(NO_BIDI)
    return _within(title, TITLE_MAX, "title")


def validate_details(raw: str | None) -> str:
    details = _optional(trim(raw or "")) or ""
    return _within(details, DETAILS_MAX, "details", have="have")


def validate_body(raw: str, *, what: str = "answer") -> str:
    body = _optional(trim(raw))
    if body is None:
        raise ValidationError(f"The {what} cannot be empty.")
    return _within(body, BODY_MAX, what)


def clean_display_name(raw: str | None) -> str | None:
    """An optional display name for anonymous posts; blank means none ("Anonymous")."""
    name = _optional(trim(one_line(raw or "")))
    return None if name is None else _within(name, DISPLAY_NAME_MAX, "display name")


def validate_close_reason(raw: str | None) -> str | None:
    reason = _optional(trim(raw or ""))
    return None if reason is None else _within(reason, CLOSE_REASON_MAX, "reason")


def native_title(raw: str) -> str:
    """A native forum post's name, which Discord already accepted: tidied, never refused."""
    title = trim(one_line("".join(c for c in raw if c not in BIDI_CONTROLS)))[:TITLE_MAX]
    return title if has_visible(title) else "Untitled question"


def fold(name: str) -> str:
    """The form two names are compared in (case- and normalisation-insensitive, any script;
    SQL ``lower()`` folds only ASCII on SQLite)."""
    return unicodedata.normalize("NFKC", trim(name)).casefold()
