"""Imported history in Discord: the "Imported" mark of a listed question without a thread, its
"Continue in Discord" button (restart-proof: the question's id ends its ``custom_id``) and the
forum post that continues it (the question, a summary of its imported answers, the note that
the history was imported). Imported authors are never named here: the summary shows scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import discord

from bot.forum.continuation import ImportedAnswer
from bot.forum.results import PostSnapshot
from bot.ui import emoji
from bot.ui.authors import author_label
from bot.ui.embeds import COLOUR_INFO, fit, joined_lines, new_embed, set_footer
from bot.ui.questions import ListedQuestion, question_message_embed
from bot.ui.text import (
    EMBED_DESCRIPTION,
    EMBED_TOTAL,
    ZWSP,
    defuse_links,
    jump_url,
    neutralize_mentions,
    one_line,
    truncate_markdown,
)

CONTINUE_PREFIX: Final = "qa:imported:continue:"
CONTINUE_LABEL: Final = "Continue in Discord"
#: The mark of a listed question that has no thread yet (imported from the old site).
IMPORTED_MARK: Final = "📥 Imported"
IMPORTED_NOTE: Final = (
    "This question and its answers were imported from the community's previous Q&A site; "
    "its authors are not named here. Answer it here like any question."
)
#: A button row holds five buttons; a message at most five rows.
_BUTTONS: Final = 25
_ANSWER_EXCERPT: Final = 600


def continue_button(
    question_id: int, title: str | None = None
) -> discord.ui.Button[discord.ui.View]:
    """The restart-proof "Continue in Discord" button of an imported question."""
    label = CONTINUE_LABEL
    if title:
        label = truncate_markdown(f"{CONTINUE_LABEL}: {one_line(title)}", 80)
    return discord.ui.Button(
        label=label,
        emoji="💬",
        style=discord.ButtonStyle.secondary,
        custom_id=f"{CONTINUE_PREFIX}{question_id}",
    )


def add_continue_buttons(view: discord.ui.View, questions: Sequence[ListedQuestion]) -> int:
    """Add a "Continue in Discord" button to ``view`` for each listed question without a thread,
    as many as the view has room for; how many were added."""
    waiting = [q for q in questions if q.thread_id is None][: _BUTTONS - len(view.children)]
    for question in waiting:
        view.add_item(continue_button(question.id, question.title if len(waiting) > 1 else None))
    return len(waiting)


def continue_buttons(questions: Sequence[ListedQuestion]) -> discord.ui.View | None:
    """A stopped view carrying the "Continue in Discord" buttons of the listed questions without
    a thread (None when there is none): a press goes to the restart-proof handler."""
    view = discord.ui.View(timeout=None)
    if not add_continue_buttons(view, questions):
        return None
    view.stop()
    return view


def _answer_line(answer: ImportedAnswer) -> str:
    head = f"{emoji.SUCCESS} Accepted · " if answer.accepted else ""
    sign = "▲" if answer.score >= 0 else "▼"
    body = neutralize_mentions(defuse_links(answer.body.strip()))
    text = truncate_markdown(body or ZWSP, _ANSWER_EXCERPT)
    return f"**{head}{sign} {abs(answer.score)}**\n{text}"


def continued_embeds(
    question: PostSnapshot, answers: Sequence[ImportedAnswer]
) -> list[discord.Embed]:
    """The starter message of a continued imported question: the question as /ask shows one
    (its author line the Q2A anonymity: "A member" unless it was posted anonymously), then the
    imported answers (accepted first, with scores), all within Discord's total embed size."""
    first = question_message_embed(question, author_label(question, unknown="A member"))
    budget = min(EMBED_TOTAL - len(first) - 200, EMBED_DESCRIPTION) - len(IMPORTED_NOTE) - 8
    description = IMPORTED_NOTE
    if answers:
        lines = joined_lines([_answer_line(a) for a in answers], max(budget, 200))
        description = f"{lines}\n\n-# {IMPORTED_NOTE}"
    summary = new_embed(
        colour=COLOUR_INFO,
        title=f"Imported answers ({len(answers)})" if answers else "Imported question",
        description=description,
    )
    set_footer(summary, "Imported history")
    return [first, fit(summary)]


def continued_text(guild_id: int, thread_id: int | None, *, mine: bool) -> str:
    """What the presser is told: their new post, the post another press made, or that it is
    being made right now."""
    if thread_id is None:
        return "Someone is opening that question in Discord right now: try again in a moment."
    link = jump_url(guild_id, thread_id)
    if mine:
        return f"{emoji.SUCCESS} The question continues in Discord: {link}"
    return f"That question already continues in Discord: {link}"
