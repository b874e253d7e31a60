"""Members' standing: ``/profile`` (points as a plain number and counters) and ``/leaderboard``
pages."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.forum.leaderboard import LeaderboardEntry
from bot.forum.listing import QuestionSummary
from bot.forum.results import MemberPoints
from bot.ui import emoji
from bot.ui.embeds import (
    COLOUR_INFO,
    add_field,
    add_inline_fields,
    fit,
    inline_text,
    list_embed,
    member_name,
    new_embed,
    page_footer,
    set_author,
)
from bot.ui.question_lists import question_links
from bot.ui.text import EMBED_FIELD_VALUE, mention_user, plural


def profile_embed(
    member_label: str,
    stats: MemberPoints,
    *,
    points_base: int,
    rank: int | None = None,
    show_private: bool = False,
    avatar_url: str | None = None,
    recent: Sequence[QuestionSummary] = (),
    guild_id: int | None = None,
) -> discord.Embed:
    """A member's points (a plain number: the base plus what they earned) and counters, and
    ``recent`` questions linked to their threads in ``guild_id`` (those the reader may see).

    ``show_private`` adds what anonymous posts earned; only for the member themself, in an
    ephemeral reply (DESIGN.md §5).
    """
    embed = new_embed(colour=COLOUR_INFO)
    set_author(embed, member_label, icon_url=avatar_url)
    votes = f"{emoji.UP} {stats.upvotes_received} {emoji.DOWN} {stats.downvotes_received}"
    add_inline_fields(
        embed,
        [
            ("Points", points_base + stats.points),
            ("Rank", f"#{rank}" if rank is not None else "—"),
            ("Questions", stats.questions),
            ("Answers", stats.answers),
            ("Best answers", stats.accepted_answers),
            ("Votes received", votes),
        ],
    )
    if show_private and stats.anon_points:
        add_field(
            embed,
            "Anonymous posts",
            f"{stats.anon_points:+} points, shown only to you and counted in no public total.",
        )
    if recent and guild_id is not None:
        add_field(embed, "Recent questions", question_links(recent, guild_id, EMBED_FIELD_VALUE))
    return fit(embed)


def _medal(rank: int) -> str:
    return emoji.MEDALS[rank - 1] if 1 <= rank <= len(emoji.MEDALS) else f"**#{rank}**"


def leaderboard_page(
    entries: Sequence[LeaderboardEntry], page: int, pages: int, *, title: str = "Leaderboard"
) -> discord.Embed:
    """One page of the leaderboard (``page`` counts from 1), ``points`` as shown. An entry
    without a display name shows a mention, which in an embed never pings."""
    lines = []
    for entry in entries:
        name = member_name(entry.display_name or "", mention_user(entry.user_id))
        lines.append(f"{_medal(entry.rank)} {name} — {plural(entry.points, 'point')}")
    footer = page_footer(max(page, 1), max(pages, 1))
    return list_embed(inline_text(title), lines, empty="No points yet.", footer=footer)
