"""The DMs the notification worker sends (``bot.workers.notifier``): a new answer to your
question, your answer accepted, a comment on your answer, your post removed by a moderator; one
DM may gather several posts ("4 new answers to …", showing the latest), with a link button to
the (latest) post.

Excerpts are the posts' raw text, escaped and cut here. A DM names an author by the one author
label (``bot.ui.authors``): an anonymous post's chosen name or "Anonymous", never looked up.

The recipient's preview (``/notifications preview:``) is applied by ``render_dm`` to every kind,
present and future: ``no-text`` says only what happened and where ("New answer to your question
in <server>"), ``minimal`` only what happened ("You have a new answer"); both keep the kind's
link, so nothing sensitive shows on a phone's lock screen.

Every DM carries its key (the notification's nonce, ``qa-n<id>``) in its footer
(``with_dm_key``), so a worker that takes over a DM a dead worker may have sent long ago can find
it in the DM channel (``carries_dm_key``) instead of sending it again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import discord

from bot.forum.dm_content import NotificationContent, NotifiedPost
from bot.ui import emoji
from bot.ui.authors import UNKNOWN_MEMBER, author_label
from bot.ui.embeds import (
    COLOUR_ANSWER,
    COLOUR_INFO,
    COLOUR_SOLVED,
    COLOUR_WARNING,
    fit,
    inline_text,
    member_name,
    new_embed,
    quoted_title,
)
from bot.ui.premod import dm_held
from bot.ui.text import EMBED_TITLE, excerpt, jump_url
from bot.ui.views import LinkButtonView

#: Longest post excerpt in a DM (escaped length).
DM_EXCERPT: Final = 1000

#: The link button of a DM about one post and about several, per kind of notification.
#: What a DM about a post deleted since says instead of the post's text.
DM_ABOUT_DELETED: Final = "The post this message was about has been deleted, so its text is gone."

BUTTON_LABELS: Final = {
    "new_answer": ("Open the answer", "Open the latest answer"),
    "accepted": ("Open your answer", "Open your answer"),
    "comment": ("Open the comment", "Open the latest comment"),
}


def _excerpt(text: str) -> str:
    return excerpt(text, DM_EXCERPT) or "(no text)"


def _news(
    what: str, where: str, verb: str, question_title: str | None, author: str, text: str, count: int
) -> discord.Embed:
    """A DM about new posts: "New <what> <where> “title”", who wrote it and an excerpt;
    ``count`` > 1 makes it "<count> new <what>s <where> …" showing the latest."""
    head = f"New {what} {where} " if count <= 1 else f"{count} new {what}s {where} "
    name = member_name(author)
    intro = f"**{name}** {verb}:" if count <= 1 else f"The latest, from **{name}**:"
    return fit(
        new_embed(
            colour=COLOUR_ANSWER,
            title=quoted_title(head, question_title, EMBED_TITLE),
            description=f"{intro}\n>>> {_excerpt(text)}",
        )
    )


def dm_new_answer(
    question_title: str | None, answerer: str, text: str, count: int = 1
) -> discord.Embed:
    """The DM about a new answer; ``count`` > 1 makes it a follow-up ("4 new answers to …").

    ``text`` is the answer's raw text (the latest one for a follow-up): it is escaped and cut
    here, so never pass text that is already escaped. ``answerer`` is an author label; for a
    follow-up it may name several people (``human_join``).
    """
    return _news("answer", "to", "answered", question_title, answerer, text, count)


def dm_comment(
    question_title: str | None, commenter: str, text: str, count: int = 1
) -> discord.Embed:
    """The DM telling an answerer about a comment on their answer; ``count`` > 1 gathers
    several ("3 new comments on your answer to …"). ``text`` is the raw comment text (the
    latest one for a follow-up); ``commenter`` an author label."""
    where = "on your answer to"
    return _news("comment", where, "commented", question_title, commenter, text, count)


def dm_accepted(question_title: str | None, text: str) -> discord.Embed:
    """The DM telling an answerer their answer was accepted; ``text`` is raw answer text."""
    description = f"{quoted_title('On ', question_title, 300)}\n>>> {_excerpt(text)}"
    return fit(
        new_embed(
            colour=COLOUR_SOLVED,
            title=f"{emoji.SOLVED} Your answer was accepted",
            description=description,
        )
    )


#: What the "removed" DM calls each kind of post.
KIND_WORDS: Final = {"question": "question", "answer": "answer", "comment": "reply"}


def dm_removed(question_title: str | None, post: NotifiedPost) -> discord.Embed:
    """The DM telling an author a moderator removed their post: which one (the question's
    title, an excerpt) and the moderator's reason when one was given."""
    what = KIND_WORDS.get(post.kind, "post")
    where = quoted_title(" " if post.kind == "question" else " on ", question_title, 300)
    lines = [f"A moderator removed your {what}{where}:", f">>> {_excerpt(post.body)}"]
    if post.removal_reason:
        lines.insert(1, f"Reason: {excerpt(post.removal_reason, DM_EXCERPT)}")
    return fit(
        new_embed(
            colour=COLOUR_WARNING,
            title=f"Your {what} was removed",
            description="\n".join(lines),
        )
    )


def post_link(content: NotificationContent, post: NotifiedPost) -> str | None:
    """The jump link of the post (else its thread), or None when neither is known."""
    thread_id = post.thread_id or content.question_thread_id
    if thread_id is None:
        return None
    return jump_url(content.guild_id, thread_id, post.message_id)


#: A private DM's headline per kind of notification: (``no-text``, ``minimal``); ``no-text``
#: names the server with ``{server}``. Other kinds get ``PRIVATE_OTHER``. The moderation kinds
#: (a removal, a held post's decision) say nothing of what the post was or why.
PRIVATE_HEADLINES: Final = {
    "new_answer": ("New answer to your question in {server}", "You have a new answer"),
    "accepted": ("Your answer was accepted in {server}", "Your answer was accepted"),
    "comment": ("New comment on your answer in {server}", "You have a new comment"),
    "removed": ("A moderator removed your post in {server}", "A moderator removed your post"),
    "held_approved": ("A moderator approved your post in {server}", "Your post was approved"),
    "held_rejected": ("A moderator reviewed your post in {server}", "Your post was reviewed"),
    "held_unpublished": ("A moderator reviewed your post in {server}", "Your post was reviewed"),
}
PRIVATE_OTHER: Final = ("News from {server}", "You have news from the Q&A bot")
#: How a private DM names a server the bot no longer knows the name of.
UNKNOWN_SERVER: Final = "a server"


def private_dm(content: NotificationContent, preview: str, server: str | None) -> discord.Embed:
    """The embed of a DM whose recipient asked for a private ``preview`` (``no-text``: what
    happened and in which server; ``minimal``: what happened only): no title, no excerpt, no
    author."""
    no_text, minimal = PRIVATE_HEADLINES.get(content.kind, PRIVATE_OTHER)
    if preview == "minimal":
        headline = minimal
    else:
        headline = no_text.format(server=inline_text(server or "") or UNKNOWN_SERVER)
    return fit(new_embed(colour=COLOUR_INFO, title=headline))


def with_dm_key(embed: discord.Embed, key: str) -> discord.Embed:
    """The DM's key in its footer (ids only; the same embed)."""
    return embed.set_footer(text=key)


def carries_dm_key(message: discord.Message, key: str) -> bool:
    """Whether a message (trust only the bot's own) is the DM of this key."""
    return any(embed.footer.text == key for embed in message.embeds)


def render_dm(
    content: NotificationContent,
    lookup: Callable[[NotifiedPost], str | None],
    server: str | None = None,
) -> tuple[discord.Embed, discord.ui.View | None]:
    """The DM of a group as its recipient's preview wants it (``content.preview``): the full DM
    (``full_dm``), or for a private preview its headline (``private_dm``; ``server`` is the
    server's name, None when unknown) with the full DM's link button."""
    embed, view = full_dm(content, lookup)
    if content.preview == "full":
        return embed, view
    return private_dm(content, content.preview, server), view


def full_dm(
    content: NotificationContent, lookup: Callable[[NotifiedPost], str | None]
) -> tuple[discord.Embed, discord.ui.View | None]:
    """The DM of a group: its embed and a link button to the (latest) post.

    One post: "New answer to …"; several: "4 new answers to …" showing the latest. The latest
    post's author is named by ``author_label``: a named author's last-seen name, else
    ``lookup(post)`` (the client's caches; never asked about an anonymous post), else
    ``UNKNOWN_MEMBER``.
    """
    latest = content.latest
    if latest is None:
        raise ValueError("nothing left to send")
    if content.held is not None:  # a moderator's decision on a held post
        return dm_held(content)
    count = len(content.posts)
    if content.kind == "removed":  # nothing to open: the post is gone
        return dm_removed(content.question_title, latest), None
    if content.kind == "accepted":
        embed = dm_accepted(content.question_title, latest.body)
    else:
        author = author_label(
            latest, latest.display_name, lookup=lambda: lookup(latest), unknown=UNKNOWN_MEMBER
        )
        news = dm_comment if content.kind == "comment" else dm_new_answer
        embed = news(content.question_title, author, latest.body, count)
    url = post_link(content, latest)
    single, several = BUTTON_LABELS.get(content.kind, BUTTON_LABELS["new_answer"])
    view = LinkButtonView(url, single if count == 1 else several) if url else None
    return embed, view
