"""What the bot tells an anonymous author, only ever ephemerally: where their anonymous post
is, what in Discord would show them publicly, and the commands that act for them instead."""

from __future__ import annotations

from typing import Final

from bot.ui import emoji
from bot.ui.text import escape, one_line

#: What would show an anonymous asker publicly, and the commands that keep them hidden.
STAYING_HIDDEN: Final = (
    "**To stay anonymous**, don't type or react in the thread yourself, and don't press "
    "Discord's own **Follow post** button: each shows your name to everyone there. Act through "
    "the bot instead (only you see its answers): `/reply` to write in the thread, `/edit` and "
    "`/delete` for your question, **Accept answer** (right-click an answer › Apps), `/close` and "
    "`/reopen`. You get a DM when someone answers, as any asker does."
)


def anonymous_question_posted(link: str, display_name: str | None) -> str:
    """The ephemeral confirmation of an anonymous question."""
    shown = f"**{escape(one_line(display_name or '')) or 'Anonymous'}**"
    return (
        f"{emoji.SUCCESS} Your question is posted anonymously, as {shown}: {link}\n{STAYING_HIDDEN}"
    )
