"""Who wrote a post, as the bot shows it: the one author label of every embed and DM.

An anonymous post is shown under the display name its author chose, else ``ANONYMOUS``; nothing
else about its author is ever consulted (DESIGN.md §5). A named post is shown under the name the
caller knows for its author (the member's display name, the author line its message already
shows, the name last seen), else a fallback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import discord

from bot.forum.dm_content import NotifiedPost
from bot.forum.results import PostSnapshot
from bot.ui.text import one_line

#: The author line of an anonymous post without a chosen display name.
ANONYMOUS: Final = "Anonymous"
#: The author line of a named post whose author's name is not known (embeds).
MEMBER: Final = "Member"
#: The same inside a DM's sentence ("**A member** answered:").
UNKNOWN_MEMBER: Final = "A member"


def author_label(
    post: PostSnapshot | NotifiedPost,
    *names: str | None,
    lookup: Callable[[], str | None] | None = None,
    unknown: str = MEMBER,
) -> str:
    """The author line of ``post``.

    Anonymous: its chosen display name (on one line), else ``ANONYMOUS``; ``names`` and
    ``lookup`` are never consulted, so an anonymous author is never looked up. Named: the first
    of ``names`` that is set, else what ``lookup()`` finds (asked only when the post has an
    author id), else ``unknown``.
    """
    if post.anonymous:
        return one_line(post.display_name or "") or ANONYMOUS
    for name in names:
        if name:
            return name
    if lookup is not None and post.author_id is not None:
        return lookup() or unknown
    return unknown


def shown_author(message: discord.Message) -> str | None:
    """The author line of a message's first embed (a post the bot made for a member), if any."""
    return message.embeds[0].author.name if message.embeds else None
