"""Text as the bot shows it: Discord's limits, truncation, escaping, plurals, links, times.

Discord counts these limits in Unicode code points, as ``len()`` does on a ``str``. Every function
here keeps its result within the limit it is given, whatever the input (markdown, mentions, RTL
marks, emoji sequences, zero-width characters...).

Two kinds of user text:

- ``escape`` makes user text inert in a markdown context (embed descriptions, titles and field
  values, message content): markdown shows literally and mentions are shown, not rendered. This
  is cosmetic; ``allowed_mentions`` (``bot.ui.mentions``) is what stops a ping.
- Plain-text contexts (embed author names, footers, button labels, thread names, autocomplete
  choices) render no markdown: pass them through ``one_line`` and ``truncate``, never ``escape``
  (the backslashes would show).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Final

import discord

# --------------------------------------------------------------------------- Discord's limits

MESSAGE_CONTENT: Final = 2000
EMBED_TITLE: Final = 256
EMBED_DESCRIPTION: Final = 4096
EMBED_FIELDS: Final = 25
EMBED_FIELD_NAME: Final = 256
EMBED_FIELD_VALUE: Final = 1024
EMBED_FOOTER: Final = 2048
EMBED_AUTHOR_NAME: Final = 256
#: Title, description, field names and values, footer text and author name of all the embeds
#: of one message together.
EMBED_TOTAL: Final = 6000
EMBEDS_PER_MESSAGE: Final = 10
THREAD_NAME: Final = 100
MODAL_TITLE: Final = 45
MODAL_TEXT_INPUT: Final = 4000
TEXT_INPUT_LABEL: Final = 45
AUTOCOMPLETE_CHOICE_NAME: Final = 100
AUTOCOMPLETE_CHOICE_VALUE: Final = 100
AUTOCOMPLETE_CHOICES: Final = 25
BUTTON_LABEL: Final = 80
CUSTOM_ID: Final = 100
SELECT_OPTIONS: Final = 25
SELECT_OPTION_LABEL: Final = 100
FORUM_TAGS: Final = 20
FORUM_TAG_NAME: Final = 20

ELLIPSIS: Final = "…"
ZWSP: Final = "\u200b"
ZWJ: Final = "\u200d"

# --------------------------------------------------------------------------- truncation

# How far a cut may move back to keep a grapheme cluster whole; past this (hostile input such as
# thousands of combining marks) the text is cut between code points, which is still valid.
_MAX_BACKOFF: Final = 32


def _extends(char: str) -> bool:
    """True for a code point that belongs to the cluster of the one before it."""
    cp = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc")
        or char == ZWJ
        or 0xFE00 <= cp <= 0xFE0F  # variation selectors
        or 0x1F3FB <= cp <= 0x1F3FF  # emoji skin tone modifiers
        or 0xE0020 <= cp <= 0xE007F  # tag characters (subdivision flags)
        or 0xE0100 <= cp <= 0xE01EF  # variation selectors supplement
    )


def _is_regional_indicator(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _splits_cluster(text: str, cut: int) -> bool:
    """Whether cutting ``text`` before index ``cut`` splits a character sequence badly."""
    before, after = text[cut - 1], text[cut]
    if _extends(after) or before == ZWJ or 0xD800 <= ord(before) <= 0xDBFF:
        return True
    if _is_regional_indicator(after) and _is_regional_indicator(before):
        run = 0
        while cut - 1 - run >= 0 and _is_regional_indicator(text[cut - 1 - run]):
            run += 1
        return run % 2 == 1  # the cut falls inside a flag (a pair of indicators)
    return False


def _cut_point(text: str, keep: int) -> int:
    """The largest index <= ``keep`` that does not split a grapheme cluster (within reason)."""
    cut = keep
    while 0 < cut < len(text) and keep - cut < _MAX_BACKOFF and _splits_cluster(text, cut):
        cut -= 1
    if 0 < cut < len(text) and _splits_cluster(text, cut):
        return keep  # give up: a cut between code points is still valid
    return cut


def _drop_dangling_backslash(text: str) -> str:
    """Remove a final backslash that would escape whatever follows (an odd run at the end)."""
    run = len(text) - len(text.rstrip("\\"))
    return text[:-1] if run % 2 == 1 else text


def _truncate(text: str, limit: int, ellipsis: str, *, markdown: bool) -> str:
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if len(ellipsis) >= limit:
        return ellipsis[:limit]
    kept = text[: _cut_point(text, limit - len(ellipsis))]
    while True:
        tidy = kept.rstrip()
        if markdown:
            tidy = _drop_dangling_backslash(tidy)
        if tidy == kept:
            return kept + ellipsis
        kept = tidy


def truncate(text: str, limit: int, *, ellipsis: str = ELLIPSIS) -> str:
    """``text`` cut to at most ``limit`` code points, ending with ``ellipsis`` when cut.

    Text that fits is returned unchanged. A cut moves back so that it does not split a grapheme
    cluster (a base and its combining marks, an emoji ZWJ sequence, a flag); trailing whitespace
    before the ellipsis is dropped. The result never exceeds ``limit`` (an empty string for a
    limit of 0 or less).
    """
    return _truncate(text, limit, ellipsis, markdown=False)


def truncate_markdown(text: str, limit: int, *, ellipsis: str = ELLIPSIS) -> str:
    """``truncate`` for markdown: never leaves a backslash that would escape the ellipsis."""
    return _truncate(text, limit, ellipsis, markdown=True)


_WHITESPACE_RUN = re.compile(r"\s+")


def one_line(text: str) -> str:
    """Whitespace runs (newlines included) collapsed to one space, ends stripped."""
    return _WHITESPACE_RUN.sub(" ", text).strip()


# --------------------------------------------------------------------------- escaping

# Links are kept as written (escaping inside a URL would break it); Discord renders no markdown
# inside a link. The forms are the ones Discord turns into links: bare http(s) and <...> links.
_URL = r"<https?://[^\s>]+>|https?://[^\s<]+[^<.,:;\"'\]\s]"
# Inline markers, escaped anywhere: backslash, bold/italic, underline, strike, code, spoiler, and
# "[" so that no masked link "[text](url)" can form.
_INLINE = re.compile(rf"(?P<url>{_URL})|(?P<md>[\\*_~`|\[])")
# Block markers at the start of a line (after optional indentation): list, header, quote,
# subtext ("-#"), numbered list ("1. ").
_LINE_START = re.compile(r"^([ \t]*)([-#>+]|[0-9]+(?=[.)]))", re.MULTILINE)
# "<" that opens a mention, channel, slash command, emoji, timestamp or guild navigation link.
_ANGLE = re.compile(r"<(?=[@#/:]|a:|t:|id:)")
# "@" that pings (or looks like a ping): @everyone, @here, a raw user or role id.
_AT = re.compile(r"@(?=everyone|here|[!&]?[0-9])", re.IGNORECASE)


def _inline(match: re.Match[str]) -> str:
    url = match.group("url")
    return url if url is not None else "\\" + match.group("md")


def _line_start(match: re.Match[str]) -> str:
    indent, marker = match.group(1), match.group(2)
    if marker[0].isdigit():  # "1. item": escape the dot, not the number
        return f"{indent}{marker}\\"
    return f"{indent}\\{marker}"


def neutralize_mentions(text: str) -> str:
    """Mentions shown literally, markdown left alone.

    ``<@id>``, ``<@&id>``, ``<#id>`` (and emoji, timestamps, command links) get a backslash
    before ``<`` so they render as typed; ``@everyone``, ``@here`` and ``@<digits>`` get a
    zero-width space after ``@``. For a post's own body, where its author's markdown should work.
    """
    return _AT.sub("@" + ZWSP, _ANGLE.sub(r"\\<", text))


# A "[" after an even run of backslashes (none included): one an odd run already escapes.
_LINK_OPEN = re.compile(r"(?<!\\)((?:\\\\)*)\[")


def defuse_links(text: str) -> str:
    """A post's own markdown kept, but no masked link: every ``[`` escaped, so ``[text](url)``
    (a fake "Jump to answer" or an innocent-looking label over another address) shows as typed
    and only the address itself, which the reader sees, can be followed."""
    return _LINK_OPEN.sub(r"\1\\[", text)


def escape_markdown(text: str) -> str:
    """Every markdown construct Discord renders shown literally; links left intact.

    The rules of ``discord.utils.escape_markdown`` (inline markers anywhere, block markers at a
    line start, links untouched) without its gaps: it leaves the markdown inside a masked link
    unescaped, misses a list marker after a blank line, and escapes indentation instead of an
    indented marker (the backslash then shows).
    """
    return _LINE_START.sub(_line_start, _INLINE.sub(_inline, text))


def escape(text: str) -> str:
    """User text made inert for a markdown context: markdown and mentions shown literally.

    Cosmetic only: send with ``allowed_mentions`` from ``bot.ui.mentions``.
    """
    return neutralize_mentions(escape_markdown(text))


def excerpt(text: str, limit: int, *, ellipsis: str = ELLIPSIS) -> str:
    """``escape`` then cut to ``limit``, never leaving a dangling backslash escape."""
    return truncate_markdown(escape(text), limit, ellipsis=ellipsis)


def label(text: str, limit: int) -> str:
    """Text for a plain-text context (author name, footer, button): one line, cut to ``limit``."""
    return truncate(one_line(text), limit)


# --------------------------------------------------------------------------- words and numbers


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``plural(1, "answer")`` -> ``"1 answer"``; ``plural(4, "answer")`` -> ``"4 answers"``."""
    word = singular if abs(count) == 1 else (plural_form or singular + "s")
    return f"{count} {word}"


def human_join(items: Iterable[str], *, delimiter: str = ", ", final: str = "and") -> str:
    """``["a", "b"]`` -> ``"a and b"``; ``["a", "b", "c"]`` -> ``"a, b and c"``; one -> itself."""
    seq = list(items)
    if not seq:
        return ""
    if len(seq) == 1:
        return seq[0]
    return f"{delimiter.join(seq[:-1])} {final} {seq[-1]}"


def format_duration(delta: timedelta) -> str:
    """A short, human duration: ``"45 s"``, ``"3 min"``, ``"2 h 5 min"``, ``"3 d 4 h"``."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


# --------------------------------------------------------------------------- links and times

DISCORD_WEB: Final = "https://discord.com"


def jump_url(guild_id: int | None, channel_id: int, message_id: int | None = None) -> str:
    """A link to a message, or to a channel or thread when ``message_id`` is None.

    ``guild_id`` None means a DM (``@me``).
    """
    guild = "@me" if guild_id is None else str(guild_id)
    url = f"{DISCORD_WEB}/channels/{guild}/{channel_id}"
    return url if message_id is None else f"{url}/{message_id}"


def mention_user(user_id: int) -> str:
    return f"<@{user_id}>"


def mention_channel(channel_id: int) -> str:
    return f"<#{channel_id}>"


def mention_role(role_id: int) -> str:
    return f"<@&{role_id}>"


def _aware(dt: datetime) -> datetime:
    # The domain hands out aware UTC datetimes; a naive one is taken as UTC, never local time.
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def format_relative(dt: datetime) -> str:
    """A Discord timestamp that each reader sees as "3 hours ago" in their own client."""
    return discord.utils.format_dt(_aware(dt), "R")


def format_datetime(dt: datetime) -> str:
    """A Discord timestamp shown as date and time in each reader's locale and time zone."""
    return discord.utils.format_dt(_aware(dt), "f")


def format_date(dt: datetime) -> str:
    """A Discord timestamp shown as a date in each reader's locale."""
    return discord.utils.format_dt(_aware(dt), "D")
