"""Tests of the presentation layer; hostile input and a model of how Discord renders escapes.

The helpers live here so that every ``test_*.py`` of this package shares one definition.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from typing import Any

import discord
from hypothesis import strategies as st

from bot.forum.results import PostSnapshot
from bot.references import MAX_ID

# Pieces of text that break naive formatting: markdown of every kind, mentions, links that are
# not URLs, bidi and zero-width characters, emoji sequences, combining marks, backslashes.
HOSTILE_TOKENS = [
    "*",
    "**",
    "_",
    "__",
    "~~",
    "`",
    "```",
    "```py\n",
    "||",
    "\\",
    "\\\\",
    "\\*",
    "[",
    "]",
    "](",
    "[link](https://evil.example)",
    ")",
    "#",
    "# ",
    "### ",
    "-# ",
    "- ",
    "+ ",
    "* ",
    "> ",
    ">>> ",
    "1. ",
    "12) ",
    "  ",
    "\t",
    "\n",
    "\n\n",
    "\r\n",
    "@everyone",
    "@here",
    "@Everyone",
    "@\u200beveryone",
    "<@123456789012345678>",
    "<@!123456789012345678>",
    "<@&123456789012345678>",
    "<#123456789012345678>",
    "</ask:123456789012345678>",
    "<:blob:123456789012345678>",
    "<a:blob:123456789012345678>",
    "<t:1700000000:R>",
    "<id:customize>",
    "@123456789012345678",
    "\u202e",  # right-to-left override
    "\u200f",  # right-to-left mark
    "\u2066",  # left-to-right isolate
    "\u200b",  # zero-width space
    "\u200d",  # zero-width joiner
    "\ufeff",
    "\u0301",  # a combining acute accent on its own
    "é",
    "e\u0301\u0302\u0303",
    "👩\u200d💻",
    "👨\u200d👩\u200d👧\u200d👦",
    "👍🏽",
    "🇫🇷",
    "🇩🇪🇯🇵",
    "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
    "❤\ufe0f",
    "שלום",
    "مرحبا",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "text",
    " word ",
    ".",
    ":",
]


def hostile_text(max_size: int = 60) -> st.SearchStrategy[str]:
    """Text built from ``HOSTILE_TOKENS`` and arbitrary characters."""
    piece = st.one_of(st.sampled_from(HOSTILE_TOKENS), st.text(max_size=4))
    return st.lists(piece, max_size=max_size).map("".join)


def long_hostile_text(length: int = 10_000, seed: int = 0) -> str:
    """A deterministic hostile text of at least ``length`` characters."""
    rng = random.Random(seed)
    parts: list[str] = []
    size = 0
    while size < length:
        token = rng.choice(HOSTILE_TOKENS)
        parts.append(token)
        size += len(token)
    return "".join(parts)


# --------------------------------------------------------------------------- Discord's rendering

# Discord shows "\X" as X when X is not a letter, digit or whitespace.
_ESCAPE = re.compile(r"\\([^0-9A-Za-z\s])")


def shown(text: str) -> str:
    """What Discord displays for text whose only markup is escapes and "@" + zero-width space."""
    return _ESCAPE.sub(r"\1", text).replace("@\u200b", "@")


def _escaped_at(text: str, index: int) -> bool:
    run = 0
    while index - 1 - run >= 0 and text[index - 1 - run] == "\\":
        run += 1
    return run % 2 == 1


def markup_left(text: str) -> list[str]:
    """Every piece of markup Discord would render in ``text`` (empty when it renders literally).

    Links are out of scope: give this text without "://".
    """
    found: list[str] = []
    for index, char in enumerate(text):
        if char in "*_~`|[" and not _escaped_at(text, index):
            found.append(f"{char!r} at {index}")
        opens = char == "<" and re.match(r"<([@#/:]|a:|t:|id:)", text[index:]) is not None
        if opens and not _escaped_at(text, index):
            found.append(f"{text[index : index + 6]!r} at {index}")
        if char == "\\" and index == len(text) - 1 and not _escaped_at(text, index):
            found.append("a dangling backslash at the end")
    if re.search(r"@(everyone|here)", text, re.IGNORECASE):
        found.append("@everyone/@here")
    if re.search(r"@[!&]?[0-9]", text):
        found.append("a raw @id")
    for line in text.split("\n"):
        stripped = line.lstrip(" \t")
        if re.match(r"[-#>+]|[0-9]+[.)]", stripped):
            found.append(f"a block marker at the start of {line[:20]!r}")
    return found


def assert_embed_within_limits(embed: discord.Embed) -> dict[str, Any]:
    """Check an embed against Discord's documented limits, counted from its JSON."""
    data = embed.to_dict()
    title = data.get("title", "")
    description = data.get("description", "")
    author = data.get("author", {}).get("name", "")
    footer = data.get("footer", {}).get("text", "")
    fields = data.get("fields", [])
    assert len(title) <= 256, len(title)
    assert len(description) <= 4096, len(description)
    assert len(author) <= 256, len(author)
    assert len(footer) <= 2048, len(footer)
    assert len(fields) <= 25, len(fields)
    for item in fields:
        assert 0 < len(item["name"]) <= 256 and item["name"].strip(), item
        assert 0 < len(item["value"]) <= 1024 and item["value"].strip(), item
    total = len(title) + len(description) + len(author) + len(footer)
    total += sum(len(f["name"]) + len(f["value"]) for f in fields)
    assert total <= 6000, total
    assert total == len(embed)
    return data


# --------------------------------------------------------------------------- shared inputs

#: 10,000 characters of hostile text (with links), and the same with no link in it.
HOSTILE = long_hostile_text(10_000, seed=1)
HOSTILE_NO_LINKS = HOSTILE.replace("://", ":/")
#: Any id a footer key can carry: a post id, stored in a signed 64-bit column (``MAX_ID``).
#: Past it, ``parse_footer_key`` answers None by design (no row has such an id).
SNOWFLAKE = st.integers(min_value=0, max_value=MAX_ID)

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def question_view(**overrides: Any) -> PostSnapshot:
    """A question as the domain returns it (``PostSnapshot``), with ``overrides``."""
    values: dict[str, Any] = {
        "id": 7,
        "guild_id": 1,
        "kind": "question",
        "question_id": None,
        "parent_id": None,
        "thread_id": 555,
        "message_id": 555,
        "status_message_id": None,
        "author_id": 424242424242424242,
        "anonymous": False,
        "via_bot": True,
        "display_name": None,
        "title": "How do I sleep better?",
        "body": "details",
        "category": "General",
        "status": "open",
        "state": "live",
        "closed_reason": None,
        "closed_by_moderator": False,
        "duplicate_of_id": None,
        "accepted_answer_id": None,
        "score": 0,
        "upvotes": 0,
        "downvotes": 0,
        "answer_count": 0,
        "created_at": NOW,
        "closed_at": None,
        "deleted_at": None,
    }
    values.update(overrides)
    return PostSnapshot(**values)
