"""What ``/qa`` shows server managers: the ``/qa setup`` report, the ``/qa settings show``
table and the ``/qa status`` outbox health."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import discord

from bot.forum.outbox import OutboxStats
from bot.forum.reconcile import RunSummary
from bot.ui import emoji
from bot.ui.embeds import (
    COLOUR_INFO,
    COLOUR_SUCCESS,
    COLOUR_WARNING,
    add_field,
    add_inline_fields,
    fit,
    inline_text,
    new_embed,
)
from bot.ui.text import (
    EMBED_DESCRIPTION,
    excerpt,
    format_duration,
    format_relative,
    human_join,
    mention_channel,
    one_line,
    truncate_markdown,
)

#: ``/qa setup``'s note when the bot may not read the server's AutoMod rules.
AUTOMOD_UNREADABLE = (
    "The server's AutoMod keyword rules can't be applied to text posted through the bot until "
    "the bot has Manage Server (Discord lets only that permission read the rules)."
)


def setup_report(
    *,
    forum_id: int,
    categories: Sequence[str],
    solved_tag: str,
    solved_tag_created: bool,
    missing_permissions: Sequence[str],
    notes: Sequence[str] = (),
) -> discord.Embed:
    """What ``/qa setup`` did: the forum, its categories, the Solved tag, missing permissions.

    ``notes`` are further sentences of ours (e.g. "The bot's role is below a point role.").
    """
    colour = COLOUR_WARNING if missing_permissions else COLOUR_SUCCESS
    embed = new_embed(
        colour=colour,
        title="Q&A forum set up",
        description=f"Questions are posted in {mention_channel(forum_id)}.",
    )
    names = [inline_text(c) for c in categories]
    add_field(
        embed,
        "Categories",
        human_join(names) if names else "None yet: add tags to the forum or use /qa settings.",
    )
    how = "created" if solved_tag_created else "found"
    add_field(embed, "Solved tag", f"{inline_text(solved_tag)} ({how})", inline=True)
    if missing_permissions:
        missing = "\n".join(f"{emoji.WARNING} {p}" for p in missing_permissions)
        add_field(embed, "Missing permissions in the forum", missing)
    else:
        add_field(embed, "Permissions", "All the bot needs.", inline=True)
    if notes:
        add_field(embed, "Notes", "\n".join(notes))
    return fit(embed)


def settings_table(rows: Iterable[tuple[str, str, str, str]]) -> list[discord.Embed]:
    """``/qa settings show``: one entry per (key, value, default, help), values as formatted by
    the domain. Usually one embed; more when the entries do not fit one (send each in its own
    message or page through them), each within every limit."""
    entries = []
    for key, value, default, help_text in rows:
        line = f"`{key}`: **{inline_text(value)}**"
        if value != default:
            line += f" (default {inline_text(default)})"
        entries.append(truncate_markdown(f"{line}\n{inline_text(help_text)}", 1000))
    chunks: list[list[str]] = [[]]
    used = 0
    for entry in entries:
        cost = len(entry) + 2
        if chunks[-1] and used + cost > EMBED_DESCRIPTION:
            chunks.append([])
            used = 0
        chunks[-1].append(entry)
        used += cost
    embeds = []
    for index, chunk in enumerate(chunks, start=1):
        title = "Settings" if len(chunks) == 1 else f"Settings ({index}/{len(chunks)})"
        description = "\n\n".join(chunk) if chunk else "No settings."
        embeds.append(fit(new_embed(colour=COLOUR_INFO, title=title, description=description)))
    return embeds


def outbox_status(stats: OutboxStats, run: RunSummary | None = None) -> discord.Embed:
    """``/qa status``: DM outbox counts, the oldest pending age, the last failure and the
    server's last reconciliation run (``run``; None before the first)."""
    colour = COLOUR_WARNING if stats.failed else COLOUR_INFO
    embed = new_embed(colour=colour, title="Notification outbox")
    age = stats.oldest_pending_age
    add_inline_fields(
        embed,
        [
            ("Pending", stats.pending),
            ("Sent", stats.sent),
            ("Failed", stats.failed),
            ("Undeliverable", stats.undeliverable),
            ("Oldest pending", format_duration(age) if age is not None else "—"),
        ],
    )
    failure = stats.last_failure
    add_field(embed, "Last failure", excerpt(one_line(failure), 500) if failure else "None")
    add_field(embed, "Last reconciliation", reconciliation_line(run))
    return fit(embed)


def reconciliation_line(run: RunSummary | None) -> str:
    """The server's last reconciliation run in one line (counts only)."""
    if run is None or run.finished_at is None:
        return "Not run yet"
    line = (
        f"{format_relative(run.finished_at)}: {run.questions_scanned} questions scanned, "
        f"{run.messages_backfilled} messages and {run.votes_backfilled} votes back-filled, "
        f"{run.requests_used} requests, {run.seconds:.1f} s"
    )
    if not run.complete:
        line += " (request budget spent: the rest is done by the next run)"
    return line


def missing_permission_notice(where: str, missing: Sequence[str]) -> str:
    """What the moderators are told once when Discord refused the bot for a permission."""
    return (
        f"{emoji.WARNING} Discord refused the bot in {where}: it lacks "
        f"{human_join(missing)} there. Grant {'it' if len(missing) == 1 else 'them'} to the "
        "bot's role (Server Settings → Roles, or the channel's permissions)."
    )
