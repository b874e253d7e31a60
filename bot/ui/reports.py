"""What reports look like: the reporter's modal texts, the report card moderators get in the
moderator channel, and the pages of ``/mod queue``.

A card and a queue entry show the post (its text, a link, its number), the count of open
reports and the latest reasons; never the post's author and never its reporters, so nothing
here can unmask an anonymous member. User text is escaped (mentions inert) and cut to Discord's
limits; send with ``NO_PINGS``.
"""

from __future__ import annotations

from typing import Final

import discord

from bot.forum.report_queue import QueueEntry, QueuePage
from bot.forum.reports import CardState, ReportedPost
from bot.ui import emoji
from bot.ui.embeds import (
    COLOUR_SUCCESS,
    COLOUR_WARNING,
    add_field,
    fit,
    inline_text,
    joined_lines,
    link_text,
    list_embed,
    new_embed,
    page_footer,
    quoted_title,
    set_footer,
)
from bot.ui.text import (
    EMBED_DESCRIPTION,
    EMBED_FIELD_VALUE,
    excerpt,
    format_relative,
    jump_url,
    mention_user,
    plural,
    truncate_markdown,
)

THANKS: Final = "Reported, thank you."
MODAL_TITLE: Final = "Report this post"
REASON_LABEL: Final = "Why? (optional)"
REASON_PLACEHOLDER: Final = "What should the moderators know?"
#: Longest excerpt of the post a card shows.
EXCERPT: Final = 1500
#: Longest single reason a card shows.
REASON_SHOWN: Final = 300
#: Longest title in a queue entry.
QUEUE_TITLE: Final = 120

KIND_WORDS: Final = {"question": "Question", "answer": "Answer", "comment": "Comment"}


def post_link(post: ReportedPost) -> str | None:
    """The post's message (or its thread), when it has one."""
    if post.thread_id is None:
        return None
    return jump_url(post.guild_id, post.thread_id, post.message_id)


def _status(state: CardState) -> str:
    post = state.post
    if post.deleted:
        return "Deleted: its text is gone from the bot's records."
    if post.hidden_by_reports:
        return "Hidden after reports: it counts nothing until the reports are dismissed."
    if post.hidden:
        return "Removed by a moderator."
    return "Visible."


def _reasons(state: CardState) -> str:
    if not state.reasons:
        return "No reason given." if state.open_reports else "None open."
    lines = [f"• {truncate_markdown(inline_text(r), REASON_SHOWN)}" for r in state.reasons]
    return joined_lines(lines, EMBED_FIELD_VALUE)


def report_card(state: CardState) -> discord.Embed:
    """The card in the moderator channel: the post, a link, the open reports and the latest
    reasons; once dismissed, who handled it."""
    post = state.post
    kind = KIND_WORDS[post.kind]
    handled = state.dismissed_by is not None and not state.open_reports
    heading = quoted_title("", post.title, 300)
    text = excerpt(post.body, EXCERPT) if post.body.strip() else "(no text)"
    description = f"**{heading}**\n{text}" if post.kind == "question" else f"On {heading}\n{text}"
    embed = new_embed(
        colour=COLOUR_SUCCESS if handled else COLOUR_WARNING,
        title=f"{emoji.SUCCESS if handled else emoji.WARNING} Reported {kind.lower()} #{post.id}",
        description=truncate_markdown(description, EMBED_DESCRIPTION),
    )
    add_field(embed, "Open reports", str(state.open_reports), inline=True)
    link = post_link(post)
    if link is not None:
        add_field(embed, "Post", f"[Open the {kind.lower()}]({link})", inline=True)
    add_field(embed, "Latest reasons", _reasons(state))
    add_field(embed, "Status", _status(state))
    if handled:
        assert state.dismissed_by is not None
        add_field(embed, "Handled", f"Reports dismissed by {mention_user(state.dismissed_by)}.")
    set_footer(embed, f"Post #{post.id} · the author is never shown")
    return fit(embed)


def queue_line(entry: QueueEntry, guild_id: int) -> str:
    """``**2 reports** · [Question “title”](link) · #12 · <t:…:R>`` (· hidden)."""
    kind = KIND_WORDS[entry.kind]
    title = quoted_title(
        f"{kind} on " if entry.kind != "question" else "", entry.title, QUEUE_TITLE
    )
    if entry.thread_id is not None:
        url = jump_url(guild_id, entry.thread_id, entry.message_id)
        title = f"[{link_text(title)}]({url})"
    parts = [
        f"**{plural(entry.open_reports, 'report')}**",
        title,
        f"#{entry.post_id}",
        format_relative(entry.latest_at),
    ]
    if entry.hidden:
        parts.append("hidden")
    return emoji.SEPARATOR.join(parts)


def queue_page(shown: QueuePage, guild_id: int) -> discord.Embed:
    """One page of ``/mod queue``."""
    lines = [queue_line(entry, guild_id) for entry in shown.entries]
    return list_embed(
        f"Report queue ({shown.total})",
        lines,
        empty="No open report.",
        footer=page_footer(shown.number, shown.pages, "most recently reported first"),
    )
