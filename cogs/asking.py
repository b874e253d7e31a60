"""Asking: ``/ask`` posts a question as a forum post, and native forum posts are adopted.

``/ask [category] [anonymous]`` opens the "Ask a question" modal (after refusing at once what
would be refused anyway: no forum, no permission there, a missing tag, the hourly limit). On
submit, when cogs.discovery is loaded, its gate may hold the question behind similar ones
("Post my question anyway" comes back through ``post_draft``). Otherwise the question is
stored as a pending row first, then the bot creates the forum post (thread name = title, the
category's tag, the question in an embed whose footer carries the row's key, the asker mentioned
so they join the thread), adds the vote reactions and confirms the row with the thread and
message ids. A crash in between leaves a pending row whose key is in the message Discord holds
(DESIGN.md section 4). When Discord refuses the post, the pending row is discarded.

A thread a member creates directly in the Q&A forum is adopted as a question (its starter is the
question). Its status line lives in the bot's first reply, since the starter is the member's.
The starter's MESSAGE_CREATE may arrive before or after THREAD_CREATE: both events try to adopt,
one lock per thread makes the second a no-op, and threads the bot created itself are never
adopted (they are the /ask posts, already stored).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot import guilds
from bot.clock import utc_now
from bot.errors import handle_interaction_error
from bot.forum import categories, drafts, pending_posts, questions, text_rules
from bot.forum.categories import CategorySnapshot
from bot.forum.drafts import AskDraftSnapshot
from bot.forum.errors import ForumError, InvalidState, NotConfigured, ValidationError
from bot.forum.ratelimits import check_rate
from bot.forum.results import PostSnapshot
from bot.forum.search import SearchHit
from bot.forum.settings import GuildConfig
from bot.permissions import PERMISSION_LABELS
from bot.transactions import run_transaction
from bot.ui import emoji
from bot.ui.authors import author_label
from bot.ui.mentions import NO_PINGS, ONLY_USER
from bot.ui.question_lists import related_questions_line
from bot.ui.questions import question_message_embed, status_reply_text
from bot.ui.text import (
    AUTOCOMPLETE_CHOICE_NAME,
    AUTOCOMPLETE_CHOICE_VALUE,
    AUTOCOMPLETE_CHOICES,
    human_join,
    jump_url,
    label,
    mention_user,
)

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)

ANONYMOUS_NOT_YET: Final = "Anonymous questions are not available yet."
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
#: Discord's error code for a post without a tag in a forum that requires one.
TAG_REQUIRED_CODE: Final = 40067
UNKNOWN_CHANNEL_CODE: Final = 10003
#: How long an opened "Ask a question" modal waits for its submission.
MODAL_TIMEOUT: Final = 30 * 60


def _clean_category(raw: str | None) -> str | None:
    text = (raw or "").strip()
    return text or None


# --------------------------------------------------------------------------- Discord helpers


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


def _check_tag(
    forum: discord.ForumChannel, category: CategorySnapshot | None, tag: discord.ForumTag | None
) -> None:
    if tag is None and forum.flags.require_tag:
        raise ValidationError(TAG_MISSING if category is not None else TAG_REQUIRED)


async def _add_vote_reactions(message: discord.Message, config: GuildConfig) -> None:
    """The guild's vote emoji under a question, so members see how to vote (best effort)."""
    if not config.question_voting:
        return
    for raw in (config.vote_up_emoji, config.vote_down_emoji):
        try:
            await message.add_reaction(discord.PartialEmoji.from_str(raw))
        except discord.HTTPException as exc:
            log.warning(
                "could not add a vote reaction to message %s (status %s, code %s)",
                message.id,
                exc.status,
                exc.code,
            )


class _ThreadLocks:
    """One lock per thread id, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, thread_id: int) -> AsyncIterator[None]:
        lock, users = self._locks.get(thread_id, (asyncio.Lock(), 0))
        self._locks[thread_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[thread_id]
            if users <= 1:
                del self._locks[thread_id]
            else:
                self._locks[thread_id] = (lock, users - 1)


@dataclass(frozen=True, slots=True)
class _Target:
    """Where a question is posted: the guild's settings, its forum, the category and its tag."""

    config: GuildConfig
    forum: discord.ForumChannel
    category: CategorySnapshot | None
    tag: discord.ForumTag | None

    @property
    def category_name(self) -> str | None:
        return self.category.name if self.category is not None else None


class SimilarQuestionsGate(Protocol):
    """What cogs.discovery offers before a question is posted (when it is loaded)."""

    async def hold_if_similar(
        self,
        interaction: discord.Interaction[Any],
        *,
        title: str,
        details: str,
        category: str | None,
        anonymous: bool = False,
        display_name: str | None = None,
    ) -> bool: ...


# --------------------------------------------------------------------------- the modal


class AskModal(discord.ui.Modal, title="Ask a question"):
    question_title: discord.ui.TextInput[AskModal] = discord.ui.TextInput(
        label="Title",
        custom_id="title",
        placeholder="Your question in one line",
        min_length=1,
        max_length=text_rules.TITLE_MAX,
    )
    details: discord.ui.TextInput[AskModal] = discord.ui.TextInput(
        label="Details",
        custom_id="details",
        style=discord.TextStyle.paragraph,
        placeholder="What you tried, what you need (optional)",
        required=False,
        max_length=text_rules.DETAILS_MAX,
    )

    def __init__(self, cog: Asking, *, category: str | None) -> None:
        super().__init__(timeout=MODAL_TIMEOUT)
        self.cog = cog
        self.category = category

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.cog.post_question(
            interaction,
            title=self.question_title.value,
            details=self.details.value or "",
            category=self.category,
        )

    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction, error: Exception
    ) -> None:
        await handle_interaction_error(interaction, error)


# --------------------------------------------------------------------------- the cog


class Asking(commands.Cog):
    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        self._adopting = _ThreadLocks()

    # ------------------------------------------------------------------ /ask

    @app_commands.command(name="ask", description="Ask the community a question")
    @app_commands.guild_only()
    @app_commands.describe(
        category="The question's category (a tag of the Q&A forum)",
        anonymous="Ask without your name showing",
    )
    async def ask(
        self,
        interaction: discord.Interaction[QABot],
        category: str | None = None,
        anonymous: bool = False,
    ) -> None:
        if anonymous:
            await interaction.response.send_message(
                ANONYMOUS_NOT_YET, ephemeral=True, allowed_mentions=NO_PINGS
            )
            return
        guild = interaction.guild
        assert guild is not None  # guild_only
        wanted = _clean_category(category)
        user_id = interaction.user.id
        # Refuse before the member types anything: no forum, no permission, no tag, too many.
        config = (await self._target(guild, wanted)).config
        await run_transaction(
            self.bot,
            lambda s: check_rate(
                s, config, guild_id=guild.id, user_id=user_id, kind="question", now=utc_now()
            ),
        )
        await interaction.response.send_modal(AskModal(self, category=wanted))

    @ask.autocomplete("category")
    async def category_choices(
        self, interaction: discord.Interaction[QABot], current: str
    ) -> list[app_commands.Choice[str]]:
        guild_id = interaction.guild_id
        if guild_id is None:
            return []
        names = [
            c.name
            for c in await run_transaction(
                self.bot, lambda s: categories.list_categories(s, guild_id)
            )
        ]
        typed = text_rules.fold(current)
        starts = [n for n in names if text_rules.fold(n).startswith(typed)]
        contains = [n for n in names if typed in text_rules.fold(n) and n not in starts]
        return [
            app_commands.Choice(
                name=label(n, AUTOCOMPLETE_CHOICE_NAME), value=n[:AUTOCOMPLETE_CHOICE_VALUE]
            )
            for n in (starts + contains)[:AUTOCOMPLETE_CHOICES]
        ]

    async def post_question(
        self, interaction: discord.Interaction, *, title: str, details: str, category: str | None
    ) -> None:
        """The modal was submitted: gate -> pending row -> forum post -> confirmed row -> link."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild = interaction.guild
        assert guild is not None
        target = await self._target(guild, category)
        # The domain's text rules first, so the gate never holds a question it would refuse.
        text_rules.validate_title(title)
        text_rules.validate_details(details)
        gate = cast("SimilarQuestionsGate | None", self.bot.get_cog("Discovery"))
        if gate is not None and await gate.hold_if_similar(
            interaction, title=title, details=details, category=target.category_name
        ):
            return  # similar questions shown; "Post anyway" comes back through post_draft
        asker_id = interaction.user.id
        change = await run_transaction(
            self.bot,
            lambda s: questions.create_question(
                s,
                guild_id=guild.id,
                author_id=asker_id,
                title=title,
                details=details,
                category=target.category_name,
                via_bot=True,
                state="pending",
            ),
        )
        await self._publish(interaction, target, change.post)

    async def post_draft(
        self,
        interaction: discord.Interaction[Any],
        draft: AskDraftSnapshot,
        *,
        related: Sequence[SearchHit],
    ) -> None:
        """ "Post my question anyway" (cogs.discovery's gate, already deferred): the held question
        is posted as /ask posts it, with links to the related questions."""
        guild = interaction.guild
        assert guild is not None and guild.id == draft.guild_id
        if draft.anonymous:
            raise InvalidState(ANONYMOUS_NOT_YET)
        target = await self._target(guild, draft.category)
        user_id, draft_id = interaction.user.id, draft.id
        change = await run_transaction(
            self.bot, lambda s: drafts.ask_draft(s, draft_id=draft_id, user_id=user_id)
        )
        await self._publish(interaction, target, change.post, related=related)

    async def _target(self, guild: discord.Guild, category: str | None) -> _Target:
        """Where a question goes, refused with a sentence when it cannot go there."""
        config = await guilds.guild_config(self.bot, guild.id)
        forum = _postable_forum(guild, config)
        found = await self._category(guild.id, category)
        tag = _forum_tag(forum, found)
        _check_tag(forum, found, tag)
        return _Target(config, forum, found, tag)

    async def _publish(
        self,
        interaction: discord.Interaction[Any],
        target: _Target,
        pending: PostSnapshot,
        *,
        related: Sequence[SearchHit] = (),
    ) -> None:
        """Post a stored pending question in the forum, confirm it, and tell the asker."""
        forum, guild, asker = target.forum, target.forum.guild, interaction.user
        content = f"Asked by {mention_user(asker.id)}"
        if line := related_questions_line(related, guild.id):
            content += f"\n{line}"
        try:
            created = await forum.create_thread(
                name=pending.title or "",
                content=content,
                embed=question_message_embed(pending, author_label(pending, asker.display_name)),
                applied_tags=[target.tag] if target.tag is not None else [],
                allowed_mentions=ONLY_USER(asker.id),
            )
        except discord.HTTPException as exc:
            if exc.status >= 500:
                # Discord may have made the post: the pending row stays for reconciliation.
                raise
            await self._discard(pending)
            refusal = self._refusal(exc)
            if refusal is None:
                raise  # Forbidden has its sentence in bot.errors; anything else is a bug
            raise refusal from exc
        thread, starter = created.thread, created.message
        await run_transaction(
            self.bot,
            lambda s: pending_posts.confirm_post(
                s, post_id=pending.id, message_id=starter.id, thread_id=thread.id
            ),
        )
        log.info(
            "question %s posted as thread %s in guild %s (interaction %s)",
            pending.id,
            thread.id,
            guild.id,
            interaction.id,
        )
        await _add_vote_reactions(starter, target.config)
        await interaction.followup.send(
            f"{emoji.SUCCESS} Your question is posted: {jump_url(guild.id, thread.id)}",
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )

    async def _category(self, guild_id: int, name: str | None) -> CategorySnapshot | None:
        """The guild's category called ``name`` (refused with the known names), or None."""
        if name is None:
            return None
        return await run_transaction(
            self.bot, lambda s: categories.find_category(s, guild_id, name)
        )

    async def _discard(self, pending: PostSnapshot) -> None:
        await run_transaction(
            self.bot, lambda s: pending_posts.discard_pending_post(s, post_id=pending.id)
        )

    @staticmethod
    def _refusal(exc: discord.HTTPException) -> ForumError | None:
        """The sentence for a refusal of Discord's that bot.errors cannot word by itself."""
        if exc.code == TAG_REQUIRED_CODE:
            return ValidationError(TAG_REQUIRED)
        if isinstance(exc, discord.NotFound) and exc.code == UNKNOWN_CHANNEL_CODE:
            return NotConfigured(guilds.FORUM_GONE)
        return None

    # ------------------------------------------------------------------ native forum posts

    @commands.Cog.listener()
    async def on_thread_create(self, thread: discord.Thread) -> None:
        starter = thread.starter_message
        if starter is not None:  # else its MESSAGE_CREATE is still to come: on_message adopts
            await self._adopt(thread, starter)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        channel = message.channel
        # A thread not known yet (its THREAD_CREATE comes later) is adopted by on_thread_create.
        if isinstance(channel, discord.Thread) and message.id == channel.id:
            await self._adopt(channel, message)

    async def _adopt(self, thread: discord.Thread, starter: discord.Message) -> None:
        me = self.bot.user
        if (
            starter.author.bot
            or starter.webhook_id is not None
            or (me is not None and thread.owner_id == me.id)
            or not isinstance(thread.parent, discord.ForumChannel)
        ):
            return
        async with self._adopting.hold(thread.id):
            config = await guilds.guild_config(self.bot, thread.guild.id)
            if config.forum_channel_id != thread.parent_id:
                return
            known = await run_transaction(
                self.bot, lambda s: categories.list_categories(s, thread.guild.id)
            )
            by_tag = {c.tag_id: c.name for c in known if c.tag_id is not None}
            # The post's first tag that is a category names its category.
            category = next((by_tag[t.id] for t in thread.applied_tags if t.id in by_tag), None)
            change = await run_transaction(
                self.bot,
                lambda s: questions.create_question(
                    s,
                    guild_id=thread.guild.id,
                    author_id=starter.author.id,
                    title=thread.name,
                    details=starter.content,
                    category=category,
                    via_bot=False,
                    thread_id=thread.id,
                    message_id=starter.id,
                    state="live",
                ),
            )
            question = change.question
            if question.via_bot or question.deleted or question.status_message_id is not None:
                return
            if change.created:
                log.info(
                    "native post %s adopted as question %s in guild %s",
                    thread.id,
                    question.id,
                    thread.guild.id,
                )
                await _add_vote_reactions(starter, config)
            await self._post_status_reply(thread, question)

    async def _post_status_reply(self, thread: discord.Thread, question: PostSnapshot) -> None:
        try:
            reply = await thread.send(status_reply_text(question), allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.warning(
                "could not post the status line of question %s (status %s, code %s)",
                question.id,
                exc.status,
                exc.code,
            )
            return
        await run_transaction(
            self.bot,
            lambda s: questions.set_status_message(s, question_id=question.id, message_id=reply.id),
        )


async def setup(bot: QABot) -> None:
    await bot.add_cog(Asking(bot))
