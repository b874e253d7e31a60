"""What the bot says in a question's thread as it is closed and reopened (``/close``,
``/reopen``): the closing message, the link from the original question to a duplicate, the
reopening message, and the notice to a member who writes in a closed thread."""

from __future__ import annotations

from typing import Final

from bot.forum.results import PostSnapshot
from bot.ui import emoji
from bot.ui.embeds import title_text
from bot.ui.text import escape, jump_url, truncate_markdown

#: Longest title and reason shown in a message (escaped length).
TITLE_SHOWN: Final = 200
REASON_SHOWN: Final = 1000


def _title(question: PostSnapshot) -> str:
    return truncate_markdown(title_text(question.title), TITLE_SHOWN)


def _by(moderator: bool) -> str:
    return "a moderator" if moderator else "the asker"


def _reopen_hint(question: PostSnapshot) -> str:
    who = "A moderator" if question.closed_by_moderator else "The asker or a moderator"
    return f"{who} can reopen it with /reopen."


def closing_text(question: PostSnapshot, original: PostSnapshot | None) -> str:
    """The message posted in a question's thread as it is closed."""
    closer = _by(question.closed_by_moderator)
    lines = [f"{emoji.CLOSED} **This question is closed** (by {closer})."]
    if original is not None and original.thread_id is not None:
        link = jump_url(original.guild_id, original.thread_id)
        lines.append(f"Closed as a duplicate of “{_title(original)}”: {link}")
    if question.closed_reason:
        reason = truncate_markdown(escape(question.closed_reason), REASON_SHOWN)
        lines.append(f"Reason: {reason}")
    lines.append(f"-# New replies here are kept as comments. {_reopen_hint(question)}")
    return "\n".join(lines)


def duplicate_link_text(duplicate: PostSnapshot) -> str:
    """The message in the original question's thread that links a duplicate of it."""
    assert duplicate.thread_id is not None
    link = jump_url(duplicate.guild_id, duplicate.thread_id)
    return (
        f"{emoji.DUPLICATE} “{_title(duplicate)}” was closed as a duplicate of this question: "
        f"{link}"
    )


def reopening_text(by_moderator: bool) -> str:
    """The message posted in a question's thread as it is reopened."""
    return (
        f"{emoji.REOPENED} **This question is open again** (reopened by {_by(by_moderator)}): "
        "it takes answers again."
    )


def closed_notice(question: PostSnapshot) -> str:
    """What a member who writes in a closed question's thread is told (once)."""
    return (
        f"{emoji.CLOSED} This question is closed, so replies here are kept as comments and the "
        f"thread stays archived. {_reopen_hint(question)}"
    )
