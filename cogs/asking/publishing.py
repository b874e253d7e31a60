"""Publishing a stored question in the Q&A forum: where it goes, the post, and its confirmation.

``find_target`` refuses at once what the forum would refuse (no forum, no permission there, a
category without its tag where the forum requires one). ``publish`` posts a question stored
``pending``: the bot creates the forum post (thread name = title, the category's tag, the
question in an embed whose footer carries the row's key, a named asker mentioned so they join
the thread; an anonymous asker is neither mentioned nor added: the embed's author line is their
display name or "Anonymous"), confirms the row with the thread and message ids, adds the vote
reactions and gives the asker the link (an anonymous one also hears what would show them
publicly). When Discord refuses the post (a 4xx), the pending row is discarded. A crash in
between, or a 5xx after which Discord may have made the post, leaves the pending row as it is:
its key is in the message Discord may hold, and the next reconciliation completes the row from it
(or discards the row when there is no such post).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import discord
from discord.utils import MISSING

from bot import guilds, rest
from bot.forum import categories, pending_posts
from bot.forum.categories import CategorySnapshot
from bot.forum.errors import ForumError, NotConfigured, ValidationError
from bot.forum.results import PostSnapshot
from bot.forum.settings import GuildConfig
from bot.permissions import PERMISSION_LABELS
from bot.threads import add_vote_reactions
from bot.transactions import run_transaction
from bot.ui import emoji
from bot.ui.anonymity import anonymous_question_posted
from bot.ui.archive import allow_button, components
from bot.ui.authors import author_label
from bot.ui.mentions import NO_PINGS, ONLY_USER
from bot.ui.question_lists import related_questions_line
from bot.ui.questions import ListedQuestion, question_message_embed
from bot.ui.text import human_join, jump_url, mention_user

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)

TAG_REQUIRED: Final = (
    "This server's Q&A forum needs a category on every question: pick one in the `category` "
    "option of /ask."
)
TAG_MISSING: Final = (
    "That category has no tag in the Q&A forum any more, and the forum needs one on every "
    "question: a server manager can run /qa setup again."
)
#: What the bot needs in the forum to post a question there.
POST_PERMISSIONS: Final = ("view_channel", "send_messages", "embed_links")


@dataclass(frozen=True, slots=True)
class Target:
    """Where a question is posted: the guild's settings, its forum, the category and its tag."""

    config: GuildConfig
    forum: discord.ForumChannel
    category: CategorySnapshot | None
    tag: discord.ForumTag | None

    @property
    def category_name(self) -> str | None:
        return self.category.name if self.category is not None else None


def _postable_forum(guild: discord.Guild, config: GuildConfig) -> discord.ForumChannel:
    """The guild's Q&A forum, refused with a sentence when the bot cannot post there."""
    forum = guilds.qa_forum(guild, config)
    have = forum.permissions_for(guild.me)
    missing = [PERMISSION_LABELS[p] for p in POST_PERMISSIONS if not getattr(have, p)]
    if missing:
        raise NotConfigured(
            f"The bot cannot post in {forum.mention}: it is missing {human_join(missing)} there. "
            "A server manager can fix the forum's permissions (/qa setup lists what it needs)."
        )
    return forum


def _forum_tag(
    forum: discord.ForumChannel, category: CategorySnapshot | None
) -> discord.ForumTag | None:
    """The forum tag of a category: by its stored tag id, else a tag of the same name."""
    if category is None:
        return None
    if category.tag_id is not None:
        tag = forum.get_tag(category.tag_id)
        if tag is not None:
            return tag
    tag_id = categories.find_tag([(t.id, t.name) for t in forum.available_tags], category.name)
    return forum.get_tag(tag_id) if tag_id is not None else None


async def find_target(bot: QABot, guild: discord.Guild, category: str | None) -> Target:
    """Where a question goes, refused with a sentence when it cannot go there."""
    config = await guilds.guild_config(bot, guild.id)
    forum = _postable_forum(guild, config)
    found = None
    if category is not None:  # the guild's category of that name, refused with the known names
        found = await run_transaction(
            bot, lambda s: categories.find_category(s, guild.id, category)
        )
    tag = _forum_tag(forum, found)
    if tag is None and forum.flags.require_tag:
        raise ValidationError(TAG_MISSING if found is not None else TAG_REQUIRED)
    return Target(config, forum, found, tag)


async def post_question(
    bot: QABot,
    target: Target,
    pending: PostSnapshot,
    *,
    asker_id: int,
    asker_name: str | None,
    related: Sequence[ListedQuestion] = (),
) -> int:
    """Post a stored pending question in the forum and confirm it; the thread's id.

    ``asker_name`` is a named asker's name on the embed's author line (an anonymous post shows
    its own); the member need not be here: an approved held question is posted this way."""
    forum, guild = target.forum, target.forum.guild
    # An anonymous asker is never mentioned: a mention would ping them into the thread's
    # public member list.
    lines = [] if pending.anonymous else [f"Asked by {mention_user(asker_id)}"]
    if line := related_questions_line(related, guild.id):
        lines.append(line)
    try:
        created = await forum.create_thread(
            name=pending.title or "",
            content="\n".join(lines) or None,
            embed=question_message_embed(pending, author_label(pending, asker_name)),
            applied_tags=[target.tag] if target.tag is not None else [],
            allowed_mentions=NO_PINGS if pending.anonymous else ONLY_USER(asker_id),
        )
    except discord.HTTPException as exc:
        if exc.status >= 500:
            # Discord may have made the post: the pending row stays (reconciliation settles it).
            raise
        await run_transaction(
            bot, lambda s: pending_posts.discard_pending_post(s, post_id=pending.id)
        )
        refusal = _refusal(exc)
        if refusal is None:
            raise  # Forbidden has its sentence in bot.errors; anything else is a bug
        raise refusal from exc
    thread, starter = created.thread, created.message
    await run_transaction(
        bot,
        lambda s: pending_posts.confirm_post(
            s, post_id=pending.id, message_id=starter.id, thread_id=thread.id
        ),
    )
    log.info("question %s posted as thread %s in guild %s", pending.id, thread.id, guild.id)
    await add_vote_reactions(starter, target.config)
    return thread.id


async def publish(
    bot: QABot,
    interaction: discord.Interaction[Any],
    target: Target,
    pending: PostSnapshot,
    *,
    related: Sequence[ListedQuestion] = (),
) -> None:
    """Post a stored pending question in the forum, confirm it, and tell the asker."""
    asker = interaction.user
    thread_id = await post_question(
        bot, target, pending, asker_id=asker.id, asker_name=asker.display_name, related=related
    )
    link = jump_url(target.forum.guild.id, thread_id)
    text = (
        anonymous_question_posted(link, pending.display_name)
        if pending.anonymous
        else f"{emoji.SUCCESS} Your question is posted: {link}"
    )
    # While the server publishes, the asker may allow this question in the public archive.
    offer = components(allow_button(pending.id)) if target.config.publishing else MISSING
    await interaction.followup.send(text, view=offer, ephemeral=True, allowed_mentions=NO_PINGS)
    # The safety resources' keyword reply (cogs.resources) listens for it.
    bot.dispatch("qa_question_posted", interaction, pending)


def _refusal(exc: discord.HTTPException) -> ForumError | None:
    """The sentence for a refusal of Discord's that bot.errors cannot word by itself."""
    if exc.code == rest.TAG_REQUIRED:
        return ValidationError(TAG_REQUIRED)
    if isinstance(exc, discord.NotFound) and exc.code == rest.UNKNOWN_CHANNEL:
        return NotConfigured(guilds.FORUM_GONE)
    return None
