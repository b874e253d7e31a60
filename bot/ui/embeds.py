"""What every embed shares: one colour scheme, footer keys, Discord's limits, the building blocks
the other ``bot.ui`` modules make embeds with, and the plain error/success/info replies.

Every builder in ``bot.ui`` returns a ``discord.Embed`` whose every part is within its limit and
whose total is at most ``EMBED_TOTAL`` (``fit``). User text is escaped by the builders, so callers
pass it raw; the only exception is a post's own body, whose author's markdown is kept
(``markdown=True``) while its mentions are still shown literally.

Messages the bot posts on someone's behalf carry their pending row's key in the footer
(``footer_key_text``/``parse_footer_key``, DESIGN.md §4): ``qa:post:<post id>``, never a user id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final

import discord

from bot.references import as_id
from bot.ui.authors import ANONYMOUS, MEMBER
from bot.ui.text import (
    EMBED_AUTHOR_NAME,
    EMBED_DESCRIPTION,
    EMBED_FIELD_NAME,
    EMBED_FIELD_VALUE,
    EMBED_FIELDS,
    EMBED_FOOTER,
    EMBED_TITLE,
    EMBED_TOTAL,
    ZWSP,
    escape,
    label,
    one_line,
    truncate,
    truncate_markdown,
)

# --------------------------------------------------------------------------- colours

COLOUR_QUESTION: Final = 0x5865F2
COLOUR_ANSWER: Final = 0x4F8EDC
COLOUR_REPLY: Final = 0x99AAB5
COLOUR_SOLVED: Final = 0x3BA55C
COLOUR_CLOSED: Final = 0x747F8D
COLOUR_INFO: Final = 0x5865F2
COLOUR_SUCCESS: Final = 0x57F287
COLOUR_WARNING: Final = 0xFEE75C
COLOUR_ERROR: Final = 0xED4245

# --------------------------------------------------------------------------- footer keys

FOOTER_KEY_PREFIX: Final = "qa:post:"
_FOOTER_KEY = re.compile(r"(?:^|\s)qa:post:([0-9]{1,20})(?=\s|$)")


def footer_key_text(post_id: int) -> str:
    """The footer text that carries a pending row's key: ``qa:post:<post id>``."""
    return f"{FOOTER_KEY_PREFIX}{post_id}"


def parse_footer_text(text: str | None) -> int | None:
    """The post id in a footer text made by ``footer_key_text``, else None."""
    if not text:
        return None
    match = _FOOTER_KEY.search(text)
    return as_id(match.group(1)) if match else None


def parse_footer_key(embed: discord.Embed) -> int | None:
    """The post id an embed's footer carries, else None.

    Trust it only on messages the bot itself sent: anyone can post an embed-like footer through
    a webhook, but only the bot's own messages are built here.
    """
    return parse_footer_text(embed.footer.text)


# --------------------------------------------------------------------------- limits


def embed_problems(embed: discord.Embed) -> list[str]:
    """Every way ``embed`` breaks a Discord limit (an empty list when Discord would accept it)."""
    data = embed.to_dict()
    problems: list[str] = []

    def check(what: str, text: str | None, limit: int) -> None:
        if text is not None and len(text) > limit:
            problems.append(f"{what} has {len(text)} > {limit} characters")

    check("title", data.get("title"), EMBED_TITLE)
    check("description", data.get("description"), EMBED_DESCRIPTION)
    check("author name", data.get("author", {}).get("name"), EMBED_AUTHOR_NAME)
    check("footer", data.get("footer", {}).get("text"), EMBED_FOOTER)
    fields = data.get("fields", [])
    if len(fields) > EMBED_FIELDS:
        problems.append(f"{len(fields)} > {EMBED_FIELDS} fields")
    for index, item in enumerate(fields):
        check(f"field {index} name", item["name"], EMBED_FIELD_NAME)
        check(f"field {index} value", item["value"], EMBED_FIELD_VALUE)
        if not item["name"].strip() or not item["value"].strip():
            problems.append(f"field {index} has an empty name or value")
    if len(embed) > EMBED_TOTAL:
        problems.append(f"total {len(embed)} > {EMBED_TOTAL} characters")
    return problems


def _shrink(text: str, excess: int) -> str:
    return truncate_markdown(text, len(text) - excess)


def fit(embed: discord.Embed) -> discord.Embed:
    """Shrink ``embed`` to ``EMBED_TOTAL``: the description first, then fields from the last
    (cut, then dropped), then the footer, title and author name. Returns the same embed."""

    def excess() -> int:
        return len(embed) - EMBED_TOTAL

    if excess() > 0 and embed.description:
        embed.description = _shrink(embed.description, excess()) or None
    for index in reversed(range(len(embed.fields))):
        if excess() <= 0:
            break
        item = embed.fields[index]
        name, value = item.name or ZWSP, item.value or ZWSP
        shorter = _shrink(value, excess())
        if shorter.strip():
            embed.set_field_at(index, name=name, value=shorter, inline=bool(item.inline))
        if excess() > 0 or not shorter.strip():
            embed.remove_field(index)
    if excess() > 0 and embed.footer.text:
        footer = truncate(embed.footer.text, len(embed.footer.text) - excess())
        if footer.strip():
            embed.set_footer(text=footer, icon_url=embed.footer.icon_url)
        else:
            embed.remove_footer()
    if excess() > 0 and embed.title:
        embed.title = _shrink(embed.title, excess()) or None
    if excess() > 0 and embed.author.name:
        author = truncate(embed.author.name, len(embed.author.name) - excess())
        if author.strip():
            embed.set_author(name=author, url=embed.author.url, icon_url=embed.author.icon_url)
        else:
            embed.remove_author()
    return embed


# --------------------------------------------------------------------------- building blocks
# For the builders of the other ``bot.ui`` modules; each keeps its part within its limit.

#: A question without a title, in a markdown context.
UNTITLED: Final = "(untitled)"
#: Longest member label inside a sentence (escaped length).
NAME: Final = 200


def new_embed(
    *, colour: int, title: str | None = None, description: str | None = None
) -> discord.Embed:
    """An embed with an already escaped title and description, each cut to its limit."""
    title = truncate_markdown(title or "", EMBED_TITLE)
    description = truncate_markdown(description or "", EMBED_DESCRIPTION)
    return discord.Embed(
        colour=colour, title=title or None, description=description if description.strip() else None
    )


def add_field(embed: discord.Embed, name: str, value: str, *, inline: bool = False) -> None:
    """Add a field (escaped markdown), cut to its limits; nothing past Discord's 25 fields."""
    if len(embed.fields) >= EMBED_FIELDS:
        return
    name = truncate_markdown(name, EMBED_FIELD_NAME)
    value = truncate_markdown(value, EMBED_FIELD_VALUE)
    embed.add_field(
        name=name if name.strip() else ZWSP, value=value if value.strip() else ZWSP, inline=inline
    )


def add_inline_fields(embed: discord.Embed, fields: Iterable[tuple[str, object]]) -> None:
    """One inline field per (name, value), in order; a number is shown as written."""
    for name, value in fields:
        add_field(embed, name, str(value), inline=True)


def set_author(embed: discord.Embed, name: str, *, icon_url: str | None = None) -> None:
    """The author line (plain text): one line, cut to its limit, ``MEMBER`` when empty."""
    embed.set_author(name=label(name, EMBED_AUTHOR_NAME) or MEMBER, icon_url=icon_url)


def set_footer(embed: discord.Embed, text: str) -> None:
    """The footer (plain text): one line, cut to its limit."""
    embed.set_footer(text=label(text, EMBED_FOOTER))


def inline_text(text: str) -> str:
    """User text for a markdown context on one line: whitespace collapsed, escaped."""
    return escape(one_line(text))


def member_name(text: str, fallback: str = ANONYMOUS) -> str:
    """A member's label inside markdown text: one line, escaped, at most ``NAME`` long."""
    return truncate_markdown(inline_text(text), NAME) or fallback


def title_text(title: str | None) -> str:
    """A question title for a markdown context: one line, escaped."""
    return inline_text(title or "") or UNTITLED


def link_text(text: str) -> str:
    """Escaped text that is safe inside ``[...](url)``."""
    return text.replace("]", "\\]")


def quoted_title(prefix: str, title: str | None, limit: int) -> str:
    """``prefix“title”`` within ``limit``, the title cut to make room."""
    room = limit - len(prefix) - 2
    return f"{prefix}“{truncate_markdown(title_text(title), room)}”"


def joined_lines(lines: Iterable[str], limit: int, *, more: str = "…and {n} more") -> str:
    """Whole lines joined by newlines within ``limit``; a final note counts those left out."""
    kept: list[str] = []
    pending = list(lines)
    used = 0
    for index, line in enumerate(pending):
        left = len(pending) - index - 1
        note = len(more.format(n=left)) + 1 if left else 0
        cost = len(line) + (1 if kept else 0)
        if used + cost + note > limit:
            dropped = len(pending) - index
            tail = more.format(n=dropped)
            return "\n".join([*kept, tail]) if used + len(tail) + 1 <= limit else "\n".join(kept)
        kept.append(line)
        used += cost
    return "\n".join(kept)


# --------------------------------------------------------------------------- lists


def list_embed(
    title: str,
    lines: Sequence[str],
    *,
    empty: str,
    footer: str | None = None,
    colour: int = COLOUR_INFO,
) -> discord.Embed:
    """A list under ``title``: its lines as many as fit (``empty``, our sentence, when there
    are none), with an optional footer."""
    description = joined_lines(lines, EMBED_DESCRIPTION) if lines else empty
    embed = new_embed(colour=colour, title=title, description=description)
    if footer is not None:
        set_footer(embed, footer)
    return fit(embed)


def page_footer(number: int, pages: int, order: str | None = None) -> str:
    """``Page 2 of 5 · newest first``: where a paged list is, and its order."""
    where = f"Page {number} of {pages}"
    return f"{where} · {order}" if order else where


# --------------------------------------------------------------------------- replies


def error(message: str) -> discord.Embed:
    """A refusal or failure. ``message`` is our sentence (markdown allowed): escape any user
    text in it with ``bot.ui.text.escape`` first."""
    return fit(new_embed(colour=COLOUR_ERROR, description=message))


def success(message: str) -> discord.Embed:
    """A confirmation; ``message`` as for ``error``."""
    return fit(new_embed(colour=COLOUR_SUCCESS, description=message))


def info(message: str) -> discord.Embed:
    """A neutral notice; ``message`` as for ``error``."""
    return fit(new_embed(colour=COLOUR_INFO, description=message))
