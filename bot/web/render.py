"""Turning domain rows into safe HTML: Jinja2 with autoescaping, Markdown without raw HTML,
readable slugs and dates."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, datetime
from typing import Final

from jinja2 import Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markupsafe import Markup

#: Every link in user text: not endorsed, user-generated, no window.opener.
LINK_REL: Final = "nofollow ugc noopener"
_SLUG_MAX: Final = 80


def _mark_links(state: StateCore) -> None:
    for block in state.tokens:
        for token in block.children or ():
            if token.type == "link_open":
                token.attrSet("rel", LINK_REL)


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False})
    # Images would load from anywhere (and the CSP refuses them): user text shows no image.
    md.disable("image")
    md.core.ruler.push("link_rel", _mark_links)
    return md


_MD: Final = _markdown()


def markdown(text: str) -> Markup:
    """User text as HTML: Markdown with raw HTML escaped, links marked ``LINK_REL``."""
    return Markup(_MD.render(text))


def slug(title: str) -> str:
    """A readable URL slug of a title: lower-case ASCII words joined by hyphens."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return words[:_SLUG_MAX].rstrip("-") or "question"


def iso(moment: datetime) -> str:
    """An ISO 8601 time with its offset (a naive time from SQLite is UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat(timespec="seconds")


def plural(count: int, word: str) -> str:
    """ "1 vote", "2 votes"."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def json_script(value: object) -> Markup:
    """JSON for a ``<script type="application/ld+json">`` block: no ``<``, ``>`` or ``&`` that
    could end the block early."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return Markup(text)


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("bot.web", "templates"),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        markdown=markdown, slug=slug, iso=iso, day=day, json_script=json_script, plural=plural
    )
    return env
