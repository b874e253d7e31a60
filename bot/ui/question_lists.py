"""Lists of questions, the read paths: ``/search`` results, ``/unanswered`` pages, the similar
questions shown before a new one is posted, the related questions under a new post, and the
linked titles of a profile.

Each question is its linked title over its status line; a list cut to fit says how many it left
out.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.forum.listing import QuestionSummary
from bot.forum.results import PostSnapshot
from bot.ui import embeds, emoji
from bot.ui.imported import IMPORTED_MARK
from bot.ui.questions import ListedQuestion, status_line_of
from bot.ui.text import EMBED_DESCRIPTION, EMBED_TITLE, format_relative, jump_url, truncate_markdown


def _question_link(question: ListedQuestion, guild_id: int) -> str:
    """A question's title in bold, linked to its thread when it has one."""
    name = embeds.link_text(truncate_markdown(embeds.title_text(question.title), 150))
    if question.thread_id is not None:
        name = f"[{name}]({jump_url(guild_id, question.thread_id)})"
    return f"**{name}**"


def _entry(question: ListedQuestion, guild_id: int) -> str:
    """A question in a list: its linked title over its status line (marked imported while it
    has no thread: it came from the old site and waits to be continued in Discord)."""
    line = status_line_of(question)
    if question.thread_id is None:
        line += f"{emoji.SEPARATOR}{IMPORTED_MARK}"
    return f"{_question_link(question, guild_id)}\n{line}"


def search_results(
    hits: Sequence[ListedQuestion],
    guild_id: int,
    *,
    query: str | None = None,
    empty: str = "No questions match.",
) -> discord.Embed:
    """Matching questions, one line each: linked title, score, answers, solved mark.
    ``empty`` is our sentence (markdown) for no hits."""
    title = embeds.quoted_title("Results for ", query, EMBED_TITLE) if query else "Search results"
    lines = [_entry(hit, guild_id) for hit in hits]
    return embeds.list_embed(title, lines, empty=empty)


def unanswered_page(
    questions: Sequence[QuestionSummary | PostSnapshot],
    guild_id: int,
    *,
    page: int,
    pages: int,
    total: int,
    category: str | None = None,
) -> discord.Embed:
    """One page of ``/unanswered``: linked titles with their score and when they were asked
    (a timestamp each reader sees in their own time), ``total`` in the title."""
    head = f"Unanswered questions ({total})"
    if category:
        head = f"Unanswered questions in {embeds.inline_text(category)} ({total})"
    lines = [
        f"{_entry(q, guild_id)}{emoji.SEPARATOR}asked {format_relative(q.created_at)}"
        for q in questions
    ]
    return embeds.list_embed(
        head,
        lines,
        empty="Every open question has an answer.",
        footer=embeds.page_footer(max(page, 1), max(pages, 1), "oldest first"),
    )


def similar_questions(hits: Sequence[ListedQuestion], guild_id: int) -> discord.Embed:
    """The questions shown before a new one is posted (``/ask``'s similar-questions gate)."""
    description = (
        "These questions look like yours; one of them may already have your answer.\n\n"
        + embeds.joined_lines([_entry(hit, guild_id) for hit in hits], EMBED_DESCRIPTION - 100)
    )
    return embeds.fit(
        embeds.new_embed(
            colour=embeds.COLOUR_INFO, title="Similar questions", description=description
        )
    )


def question_links(questions: Sequence[ListedQuestion], guild_id: int, limit: int) -> str:
    """Linked titles, one a line, whole lines within ``limit`` characters (a profile's)."""
    return embeds.joined_lines([_question_link(q, guild_id) for q in questions], limit)


def related_questions_line(questions: Sequence[ListedQuestion], guild_id: int) -> str:
    """A line of message content (not an embed) for a new post: its related questions as links
    that do not unfurl, in small print; empty when there are none."""
    links = [
        f"[{embeds.link_text(truncate_markdown(embeds.title_text(q.title), 100))}]"
        f"(<{jump_url(guild_id, q.thread_id)}>)"
        for q in questions
        if q.thread_id is not None
    ]
    return f"-# Related questions: {emoji.SEPARATOR.join(links)}" if links else ""
