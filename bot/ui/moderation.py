"""What moderators read: the audit trail's pages (``/mod log``).

An entry shows the moderator, the action, the post (by its number) and the detail the moderator
gave; never the author of a post, so nothing here can unmask an anonymous member.
"""

from __future__ import annotations

from typing import Final

import discord

from bot.forum.audit import Action, AuditEntry, AuditPage
from bot.forum.prefs import ERASED_AUTHOR_ID
from bot.ui import emoji
from bot.ui.embeds import (
    inline_text,
    list_embed,
    page_footer,
)
from bot.ui.text import format_relative, mention_user, truncate_markdown

#: What each action reads as in the log.
ACTION_WORDS: Final[dict[Action, str]] = {
    "remove": "removed",
    "restore": "restored",
    "block": "blocked the author of",
    "unblock": "lifted a block made through",
    "approve": "approved",
    "reject": "rejected",
    "dismiss": "dismissed the reports on",
    "close": "closed",
    "setting": "changed a setting",
}
#: Who an erased moderator's entries name (their id became ``ERASED_AUTHOR_ID``).
ERASED_MODERATOR: Final = "an erased moderator"
#: Longest detail shown in one entry.
DETAIL_SHOWN: Final = 200


def audit_line(entry: AuditEntry) -> str:
    """``<t:…:R> @moderator removed post #12 · reason``."""
    words = ACTION_WORDS[entry.action]
    target = f" post #{entry.post_id}" if entry.post_id is not None else ""
    erased = entry.moderator_id == ERASED_AUTHOR_ID
    who = ERASED_MODERATOR if erased else mention_user(entry.moderator_id)
    line = f"{format_relative(entry.created_at)} {who} {words}{target}"
    detail = truncate_markdown(inline_text(entry.detail), DETAIL_SHOWN)
    return f"{line}{emoji.SEPARATOR}{detail}" if detail else line


def audit_page(shown: AuditPage) -> discord.Embed:
    """One page of ``/mod log``, newest first."""
    lines = [audit_line(entry) for entry in shown.entries]
    return list_embed(
        f"Moderation log ({shown.total})",
        lines,
        empty="No moderator action yet.",
        footer=page_footer(shown.number, shown.pages, "newest first"),
    )
