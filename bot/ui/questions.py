"""A question and its answers as the bot shows them in the thread: the status line, the question
and answer embeds the bot posts, the status reply of a native forum post, the acceptance notice.

``ListedQuestion`` is a question as any of the domain's reads returns it (a stored post, a search
hit, a line of a list); each has what a status line and a link need.
"""

from __future__ import annotations

import math
from typing import Final, TypeAlias

import discord

from bot.forum.listing import QuestionSummary
from bot.forum.results import PostSnapshot
from bot.forum.search import SearchHit
from bot.ui import emoji
from bot.ui.embeds import (
    COLOUR_ANSWER,
    COLOUR_CLOSED,
    COLOUR_QUESTION,
    COLOUR_REPLY,
    COLOUR_SOLVED,
    add_field,
    fit,
    footer_key_text,
    inline_text,
    member_name,
    new_embed,
    set_author,
    set_footer,
    title_text,
)
from bot.ui.text import defuse_links, escape, neutralize_mentions, plural

ListedQuestion: TypeAlias = PostSnapshot | SearchHit | QuestionSummary

#: What a native post's status reply says below its status line.
STATUS_HINT: Final = (
    "-# Vote with reactions on the question and its answers; the asker can mark the best "
    "answer with Apps → Accept answer."
)

# --------------------------------------------------------------------------- the status line


def status_line(score: int, answer_count: int, solved: bool, closed: bool) -> str:
    """``"▲ 3 · 2 answers · ✅ Solved"`` (a negative score shows as ``"▼ 2"``)."""
    parts = [
        f"{emoji.UP} {score}" if score >= 0 else f"{emoji.DOWN} {-score}",
        plural(answer_count, "answer"),
    ]
    if solved:
        parts.append(f"{emoji.SOLVED} Solved")
    if closed:
        parts.append(f"{emoji.CLOSED} Closed")
    return emoji.SEPARATOR.join(parts)


def status_line_of(question: ListedQuestion) -> str:
    """``status_line`` of a question as the domain returns it."""
    return status_line(question.score, question.answer_count, question.solved, question.closed)


def status_reply_text(question: PostSnapshot) -> str:
    """The content of the bot's status reply in a native forum post."""
    return f"{status_line_of(question)}\n{STATUS_HINT}"


# --------------------------------------------------------------------------- posts


def _body(text: str, *, markdown: bool) -> str:
    return neutralize_mentions(defuse_links(text)) if markdown else escape(text)


def question_embed(
    title: str,
    details: str,
    author: str,
    category: str | None,
    status: str,
    footer_key: int | None,
    *,
    solved: bool = False,
    closed: bool = False,
    markdown: bool = True,
) -> discord.Embed:
    """A question posted by the bot: title, details, author line, category, status, key.

    ``author`` is the author label (``bot.ui.authors.author_label``), never an id. ``details``
    keeps its author's markdown unless ``markdown`` is False; mentions in it are always shown
    literally. ``footer_key`` is the pending row's post id (None: no footer).
    """
    colour = COLOUR_CLOSED if closed else COLOUR_SOLVED if solved else COLOUR_QUESTION
    embed = new_embed(
        colour=colour, title=title_text(title), description=_body(details, markdown=markdown)
    )
    set_author(embed, author)
    add_field(embed, "Status", status, inline=True)
    if category:
        add_field(embed, "Category", inline_text(category), inline=True)
    if footer_key is not None:
        set_footer(embed, footer_key_text(footer_key))
    return fit(embed)


def question_message_embed(question: PostSnapshot, author: str) -> discord.Embed:
    """The embed of an /ask starter message: the question, its status line and its key."""
    return question_embed(
        question.title or "",
        question.body,
        author,
        question.category,
        status_line_of(question),
        question.id,
        solved=question.solved,
        closed=question.closed,
    )


def _on_behalf(
    colour: int, body: str, author: str, footer_key: int | None, markdown: bool
) -> discord.Embed:
    embed = new_embed(colour=colour, description=_body(body, markdown=markdown))
    set_author(embed, author)
    if footer_key is not None:
        set_footer(embed, footer_key_text(footer_key))
    return fit(embed)


def answer_embed(
    body: str, author: str, footer_key: int | None, *, markdown: bool = True
) -> discord.Embed:
    """An answer the bot posts on someone's behalf (``/answer``, anonymous or named)."""
    return _on_behalf(COLOUR_ANSWER, body, author, footer_key, markdown)


def reply_embed(
    body: str, author: str, footer_key: int | None, *, markdown: bool = True
) -> discord.Embed:
    """A reply (a comment) the bot posts on someone's behalf (``/reply``, anonymous or named)."""
    return _on_behalf(COLOUR_REPLY, body, author, footer_key, markdown)


def posted_embed(post: PostSnapshot, author: str) -> discord.Embed:
    """The bot's message of an answer or reply it posted for a member, keyed by the post's id
    (``author``: its author label, ``bot.ui.authors.author_label``)."""
    make = answer_embed if post.kind == "answer" else reply_embed
    return make(post.body, author, post.id)


def accepted_notice(answer_jump_url: str, answerer: str) -> discord.Embed:
    """The short public note that an answer was accepted (pings nobody: it is an embed)."""
    name = member_name(answerer)
    text = f"{emoji.SOLVED} [This answer]({answer_jump_url}) by **{name}** was accepted."
    return fit(new_embed(colour=COLOUR_SOLVED, description=text))


def rename_waits(seconds: float) -> str:
    """A title edit whose thread rename waits for Discord's limit."""
    minutes = max(1, math.ceil(seconds / 60))
    when = "about a minute" if minutes == 1 else f"about {minutes} minutes"
    return (
        "Discord lets a thread be renamed only twice in ten minutes: the thread takes its new "
        f"title in {when}."
    )
