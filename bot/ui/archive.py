"""The public archive's consent, as members and server managers see it (issue 23).

- The "Allow in the public archive" button of the asker's confirmation (its ``custom_id``
  carries the question's id; ``cogs.archive`` answers it, also after a restart).
- The forum notice: a short paragraph the bot adds to the Q&A forum's post guidelines (the
  channel's topic) while publishing is on, and takes out again, leaving the rest as it was.
- ``/privacy``: a member's choices and what of theirs is published, with "Withdraw all".
"""

from __future__ import annotations

from typing import Final

import discord

from bot.forum.consent import ArchiveChoice, MyArchive, PublishedLink
from bot.ui import embeds, emoji
from bot.ui.text import human_join, jump_url

#: Discord's limit on a forum channel's topic (its post guidelines).
FORUM_TOPIC_MAX: Final = 4096
ALLOW_LABEL: Final = "Allow in the public archive"
WITHDRAW_LABEL: Final = "Withdraw all"
ALLOW_PREFIX: Final = "qa:archive:allow:"
WITHDRAW_PREFIX: Final = "qa:archive:withdraw:"
#: The paragraph added to the forum's post guidelines while publishing is on.
FORUM_NOTICE: Final = (
    "📚 Public archive: questions of some categories are published on the web, each only if "
    "its asker allows it, and each answer or comment only if its author does. Names only for "
    "members who choose to be named; anonymous posts stay anonymous. Change your mind any "
    "time with /privacy or Apps › Publish / unpublish: it takes effect at once."
)
_SEPARATOR: Final = "\n\n"
TOPIC_TOO_LONG: Final = (
    "The forum's post guidelines are too long to add the archive's notice (Discord allows "
    f"{FORUM_TOPIC_MAX} characters): shorten them by {{excess}} characters, then switch "
    "publishing on again."
)
ARCHIVE_OFF_NOTE: Final = (
    "This server's public archive is off: nothing is published until a server manager "
    "switches it on."
)


def allow_button(post_id: int, *, disabled: bool = False) -> discord.ui.Button[discord.ui.View]:
    return discord.ui.Button(
        label=ALLOW_LABEL,
        emoji="📚",
        style=discord.ButtonStyle.secondary,
        custom_id=f"{ALLOW_PREFIX}{post_id}",
        disabled=disabled,
    )


def withdraw_button(guild_id: int) -> discord.ui.Button[discord.ui.View]:
    return discord.ui.Button(
        label=WITHDRAW_LABEL,
        style=discord.ButtonStyle.danger,
        custom_id=f"{WITHDRAW_PREFIX}{guild_id}",
    )


def components(button: discord.ui.Button[discord.ui.View]) -> discord.ui.View:
    """A view that only carries ``button`` to Discord: stopped, so discord.py keeps no state
    for it and a press goes to the restart-proof handler registered for its ``custom_id``."""
    view = discord.ui.View(timeout=None)
    view.add_item(button)
    view.stop()
    return view


# --------------------------------------------------------------------------- the forum notice


def topic_with_notice(topic: str | None) -> str:
    """The forum's post guidelines with the notice as their last paragraph (unchanged when it
    is there already); refused with a sentence past Discord's limit."""
    current = topic or ""
    if FORUM_NOTICE in current:
        return current
    new = f"{current.rstrip()}{_SEPARATOR}{FORUM_NOTICE}" if current.strip() else FORUM_NOTICE
    if len(new) > FORUM_TOPIC_MAX:
        raise ValueError(TOPIC_TOO_LONG.format(excess=len(new) - FORUM_TOPIC_MAX))
    return new


def topic_without_notice(topic: str | None) -> str:
    """The forum's post guidelines without the notice, the rest as it was."""
    current = topic or ""
    if FORUM_NOTICE not in current:
        return current
    before, _, after = current.partition(FORUM_NOTICE)
    return (before.rstrip() + (_SEPARATOR + after.lstrip() if after.strip() else "")).strip()


# --------------------------------------------------------------------------- replies


_KINDS: Final = {"question": "question", "answer": "answer", "comment": "comment"}


def choice_text(choice: ArchiveChoice) -> str:
    """The reply to a post's archive choice (the button, Publish / unpublish)."""
    what = _KINDS.get(choice.kind, "post")
    if choice.allowed:
        text = (
            f"{emoji.SUCCESS} Your {what} may appear in the public archive. Change your mind "
            "any time: Apps › Publish / unpublish on it, or /privacy."
        )
    else:
        text = f"{emoji.SUCCESS} Your {what} is not published in the public archive."
    return text if choice.archive_on or not choice.allowed else f"{text}\n{ARCHIVE_OFF_NOTE}"


def withdrawn_text(changed: int) -> str:
    posts = "post" if changed == 1 else "posts"
    return (
        f"{emoji.SUCCESS} Withdrawn: nothing of yours in this server is published in the public "
        f"archive any more ({changed} {posts} changed), and your default is now not to publish."
    )


def _yes(value: bool, yes: str, no: str) -> str:
    return yes if value else no


def privacy_embed(mine: MyArchive, guild_id: int) -> discord.Embed:
    """``/privacy``: the member's choices and what of theirs is published, with links."""
    prefs = mine.prefs
    embed = embeds.new_embed(colour=embeds.COLOUR_INFO, title="Your public archive choices")
    lines = [
        _yes(mine.archive_on, "This server's public archive is **on**.", ARCHIVE_OFF_NOTE),
        "Your posts without a choice of their own: "
        + _yes(prefs.by_default, "**published**.", "**not published**."),
        "Your name on what is published: "
        + _yes(prefs.named, "**shown**.", '**hidden** (you appear as "A member").'),
        "Anonymous posts always show as they do in Discord, never with your name.",
    ]
    embed.description = "\n".join(lines)
    counts = [
        f"{n} {word if n == 1 else word + 's'}"
        for n, word in (
            (mine.questions, "question"),
            (mine.answers, "answer"),
            (mine.comments, "comment"),
        )
        if n
    ]
    published = human_join(counts) if counts else "nothing"
    links = [
        f"• [{link.kind}]({jump_url(guild_id, link.thread_id, _message(link))})"
        for link in mine.links
    ]
    embeds.add_field(embed, "Published now", "\n".join([published, *links]))
    embeds.add_field(
        embed,
        "Change it",
        "`/privacy allow_by_default:` and `be_named:`; one post: Apps › Publish / unpublish on "
        f"it; **{WITHDRAW_LABEL}** below unpublishes everything of yours here at once.",
    )
    return embeds.fit(embed)


def _message(link: PublishedLink) -> int | None:
    """A question links to its thread, an answer or comment to its message."""
    return None if link.kind == "question" else link.message_id
