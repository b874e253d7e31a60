"""Pre-moderation as people see it: the moderators' card of a held post with its Approve and
Reject buttons, the card once decided, the author's sentences and DMs.

A card shows the post's text (an excerpt, mentions inert), what it is (a question, an answer or
a reply to a linked question) and who shows as its author: a named author's mention (an embed
pings nobody), an anonymous one only as the post would show them ("Anonymous", their chosen
name); the member behind an anonymous post is never named, and no button carries their id.
"""

from __future__ import annotations

from typing import Final

import discord

from bot.forum.dm_content import NotificationContent
from bot.forum.premod import UNPUBLISHED, HeldCard, HeldPostSnapshot
from bot.forum.results import PostSnapshot
from bot.forum.settings import GuildConfig
from bot.ui import emoji
from bot.ui.archive import allow_button
from bot.ui.authors import ANONYMOUS
from bot.ui.embeds import (
    COLOUR_ERROR,
    COLOUR_SUCCESS,
    COLOUR_WARNING,
    add_field,
    fit,
    inline_text,
    link_text,
    member_name,
    new_embed,
    quoted_title,
    set_footer,
    title_text,
)
from bot.ui.text import EMBED_TITLE, excerpt, jump_url, mention_user, truncate_markdown
from bot.ui.views import LinkButtonView

#: The ``custom_id`` of a card's buttons: the action and the held post's id.
CARD_TEMPLATE: Final = r"qa:premod:(?P<action>approve|reject):(?P<held>[0-9]{1,20})"

WAITS_FOR_REVIEW: Final = (
    "Your post waits for a moderator's review; you'll get a DM when it's decided."
)
NO_MOD_CHANNEL: Final = (
    "No moderator channel is set, so nothing is held for review until one is: "
    "`/qa settings set key:mod_channel_id value:#channel`."
)
#: Keys whose change warns when no moderator channel is set.
PREMOD_KEYS: Final = ("premod_anonymous", "premod_new_member_days")


def premod_warning(config: GuildConfig, key: str) -> str:
    """A line under a settings change that turns pre-moderation on without a moderator
    channel (it holds nothing then), else empty."""
    if key not in PREMOD_KEYS or not getattr(config, key) or config.mod_channel_id is not None:
        return ""
    return f"{emoji.WARNING} {NO_MOD_CHANNEL}"


CARD_FAILED: Final = (
    "Your post must be reviewed by a moderator, but the moderators' channel cannot take it "
    "just now; please try again later."
)
REASON_LABEL: Final = "Reason (the author reads it)"
#: Longest excerpt of a held post on its card and in a DM.
CARD_EXCERPT: Final = 1500

_WHAT: Final = {"question": "a question", "answer": "an answer", "comment": "a reply"}


#: The card's buttons: (action, label, style); the ``custom_id`` is ``qa:premod:<action>:<id>``.
_BUTTONS: Final = {
    "approve": ("Approve", discord.ButtonStyle.success),
    "reject": ("Reject", discord.ButtonStyle.danger),
}


def card_button(action: str, held_id: int) -> discord.ui.Button[discord.ui.View]:
    """The card's Approve or Reject button of a held post (the cog's ``DynamicItem``\\s wrap
    the same buttons, so a card sent here is answered after a restart too)."""
    label, style = _BUTTONS[action]
    return discord.ui.Button(label=label, style=style, custom_id=f"qa:premod:{action}:{held_id}")


def card_view(held_id: int) -> discord.ui.View:
    """Approve and Reject."""
    view = discord.ui.View(timeout=None)
    for action in _BUTTONS:
        view.add_item(card_button(action, held_id))
    return view


def _shown_as(held: HeldPostSnapshot) -> str:
    """Who the card says wrote it: never the member behind an anonymous post."""
    if held.anonymous:
        name = held.payload.get("display_name") if held.kind == "question" else None
        if name:
            return f"{member_name(str(name))} (a name chosen to stay anonymous)"
        return f"{ANONYMOUS} (the author stays hidden)"
    return mention_user(held.author_id)


def _question_link(guild_id: int, question: PostSnapshot | None) -> str:
    if question is None or question.thread_id is None:
        return "a question that no longer exists"
    title = truncate_markdown(title_text(question.title), 200)
    return f"[{link_text(title)}]({jump_url(guild_id, question.thread_id)})"


def _post_link(guild_id: int, post: PostSnapshot | None) -> str | None:
    if post is None or post.thread_id is None:
        return None
    return jump_url(guild_id, post.thread_id, post.message_id if post.kind != "question" else None)


def held_card(shown: HeldCard) -> discord.Embed:
    """The card: what is held, its text, who shows as its author, and the decision once
    taken (the buttons go with ``decided_view``)."""
    held = shown.held
    state = "waits for review" if held.waiting else "held for review"
    if held.kind == "question":
        what = f"A question {state}"
        text = f"**{title_text(held.title)}**\n>>> {excerpt(held.text, CARD_EXCERPT)}"
    else:
        kind = "An answer" if held.kind == "answer" else "A reply"
        what = f"{kind} {state}"
        where = _question_link(held.guild_id, shown.question)
        text = f"To {where}\n>>> {excerpt(held.text, CARD_EXCERPT) or '(no text)'}"
    colour, decision = _decision(shown)
    embed = new_embed(colour=colour, title=what, description=text)
    add_field(embed, "Posted as", _shown_as(held), inline=True)
    if held.kind == "question" and held.payload.get("category"):
        add_field(embed, "Category", inline_text(str(held.payload["category"])), inline=True)
    if decision:
        add_field(embed, "Decision", decision)
    set_footer(embed, f"held post #{held.id}")
    return fit(embed)


def _decision(shown: HeldCard) -> tuple[int, str]:
    held = shown.held
    if held.waiting or held.decided_by is None:
        return COLOUR_WARNING, ""
    by = mention_user(held.decided_by)
    reason = f": {excerpt(held.why, 500)}" if held.why else ""
    if held.status == "approved":
        link = _post_link(held.guild_id, shown.post)
        where = f" · [the post]({link})" if link else ""
        return COLOUR_SUCCESS, f"{emoji.SUCCESS} Approved by {by}{where}"
    if held.unpublished:
        return COLOUR_ERROR, f"{emoji.WARNING} Approved by {by}, but not published{reason}"
    return COLOUR_ERROR, f"{emoji.ERROR} Rejected by {by}{reason}"


def moderator_reply(shown: HeldCard) -> str:
    """The ephemeral answer to the moderator who decided."""
    held = shown.held
    if held.status == "approved":
        link = _post_link(held.guild_id, shown.post)
        return f"{emoji.SUCCESS} Approved and published" + (f": {link}" if link else ".")
    if held.unpublished:
        return f"{emoji.WARNING} Not published: {held.why} The author is told."
    return f"{emoji.SUCCESS} Rejected: nothing was published, and the author is told."


# --------------------------------------------------------------------------- the author's DM

_OUTCOME_TITLES: Final = {
    "approved": f"{emoji.SUCCESS} Your {{what}} was approved",
    "rejected": f"{emoji.ERROR} Your {{what}} was not approved",
    "unpublished": f"{emoji.WARNING} Your {{what}} could not be published",
}


def dm_held(content: NotificationContent) -> tuple[discord.Embed, discord.ui.View | None]:
    """The DM about a moderator's decision on the recipient's held post."""
    notice, post = content.held, content.latest
    assert notice is not None
    assert post is not None
    what = {"question": "question", "answer": "answer"}.get(notice.kind, "reply")
    title = _OUTCOME_TITLES.get(notice.outcome, _OUTCOME_TITLES["rejected"]).format(what=what)
    lines = [quoted_title("On ", content.question_title, 300)] if content.question_title else []
    if notice.outcome == "approved":
        lines.append("A moderator approved it: it is published now.")
    elif notice.outcome == "unpublished":
        reason = excerpt(notice.reason.removeprefix(UNPUBLISHED), 500)
        lines.append(f"A moderator approved it, but it could not be published: {reason}")
    else:
        lines.append("A moderator reviewed it and did not publish it.")
        if notice.reason:
            lines.append(f"Reason: {excerpt(notice.reason, 500)}")
    lines.append(f">>> {excerpt(post.body, CARD_EXCERPT) or '(no text)'}")
    colour = COLOUR_SUCCESS if notice.outcome == "approved" else COLOUR_ERROR
    embed = fit(
        new_embed(
            colour=colour,
            title=truncate_markdown(title, EMBED_TITLE),
            description="\n".join(lines),
        )
    )
    thread_id = post.thread_id
    if notice.outcome != "approved" or thread_id is None:
        return embed, None
    message_id = post.message_id if notice.kind != "question" else None
    url = jump_url(content.guild_id, thread_id, message_id)
    view = LinkButtonView(url, f"Open your {what}")
    if notice.archive_on and post.post_id:  # the asker's /ask confirmation offers the same
        view.add_item(allow_button(post.post_id))
        view.stop()  # only carried to Discord: cogs.archive answers the press
    return embed, view
