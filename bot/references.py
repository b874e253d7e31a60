"""References members type into a command option, read into ids: a question's id (``#12`` or
``12``), a thread given as a mention or a link, a post or message given as an id or a link.
Each returns None when the text names nothing of the kind - a number past 64 bits included,
since no id is that large - and the caller refuses with its own sentence."""

from __future__ import annotations

import re
from typing import Final

#: The largest id a row or a Discord snowflake can have (a signed 64-bit integer).
MAX_ID: Final = 2**63 - 1

_QUESTION_ID: Final = re.compile(r"#?([0-9]{1,18})")
# A thread given as a mention (``<#id>``) or a link (``.../channels/<guild>/<thread>``).
_THREAD_REF: Final = re.compile(r"(?:<#|/channels/[0-9]+/)([0-9]{15,20})(?![0-9])")
# The last number in the text: an id, or the message id at the end of a message link.
_TRAILING_ID: Final = re.compile(r"(?<![0-9])([0-9]{1,20})\D*$")
#: What a ``custom_id``'s number past ``MAX_ID`` is read as: an id no row and no Discord object
#: has, so the press is refused as one about something that no longer exists.
NO_ID: Final = 0


def as_id(digits: str | None) -> int | None:
    """``digits`` read as an id; None when there are none or the number is past ``MAX_ID``."""
    if digits is None:
        return None
    value = int(digits)
    return value if value <= MAX_ID else None


def question_id(raw: str) -> int | None:
    """A question's id typed as ``12`` or ``#12`` (an autocomplete choice's value)."""
    match = _QUESTION_ID.fullmatch(raw.strip())
    return as_id(match.group(1)) if match else None


def thread_id(raw: str) -> int | None:
    """The thread a channel mention or a thread link names."""
    match = _THREAD_REF.search(raw)
    return as_id(match.group(1)) if match else None


def trailing_id(raw: str) -> int | None:
    """The id at the end of the text: a post id, a message id, or a message link's last part."""
    match = _TRAILING_ID.search(raw.strip())
    return as_id(match.group(1)) if match else None


def custom_id_number(digits: str) -> int:
    """The id a ``custom_id`` carries (its template allows 20 digits); ``NO_ID`` past ``MAX_ID``,
    so a forged or corrupted button is refused, never a database error."""
    found = as_id(digits)
    return NO_ID if found is None else found
