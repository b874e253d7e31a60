"""References members type into a command option, read into ids: a question's id (``#12`` or
``12``), a thread given as a mention or a link, a post or message given as an id or a link.
Each returns None when the text names nothing of the kind; the caller refuses with its own
sentence."""

from __future__ import annotations

import re
from typing import Final

_QUESTION_ID: Final = re.compile(r"#?([0-9]{1,18})")
# A thread given as a mention (``<#id>``) or a link (``.../channels/<guild>/<thread>``).
_THREAD_REF: Final = re.compile(r"(?:<#|/channels/[0-9]+/)([0-9]{15,20})")
# The last number in the text: an id, or the message id at the end of a message link.
_TRAILING_ID: Final = re.compile(r"([0-9]{1,20})\D*$")


def question_id(raw: str) -> int | None:
    """A question's id typed as ``12`` or ``#12`` (an autocomplete choice's value)."""
    match = _QUESTION_ID.fullmatch(raw.strip())
    return int(match.group(1)) if match else None


def thread_id(raw: str) -> int | None:
    """The thread a channel mention or a thread link names."""
    match = _THREAD_REF.search(raw)
    return int(match.group(1)) if match else None


def trailing_id(raw: str) -> int | None:
    """The id at the end of the text: a post id, a message id, or a message link's last part."""
    match = _TRAILING_ID.search(raw.strip())
    return int(match.group(1)) if match else None
