"""The similar-questions gate of /ask, and its buttons.

Before a submitted question is posted, ``hold_if_similar`` looks for up to ``SIMILAR_LIMIT`` similar
questions (``bot.forum.search.similar_questions``, in a read-only transaction of its own) among
those the asker can read (``bot.visibility``). When there are some, the question is held
(``bot.forum.drafts.hold_if_similar``) as a draft (kept 15 minutes in the database) and the asker
sees them with "Post my question anyway" and "Cancel". Both buttons are ``DynamicItem``s whose
``custom_id`` carries the draft's id, so they work after a restart; the draft decides (once) whether
a press still counts, and an expired or used one gets its sentence and loses its buttons. "Post
anyway" publishes the held question as /ask does (``publishing``; an anonymous one stays anonymous,
under the display name it was asked with, if the member may still post anonymously), with up to
``RELATED_LIMIT`` similar questions for the post's "Related questions" line. Without similar
questions the question is posted at once. Drafts expired or used a day ago (the server's
``draft_retention_hours``) are deleted by the bot's ``Retention`` (``bot.workers.retention``).
"""

from __future__ import annotations

import abc
import contextlib
import logging
from collections.abc import Sequence
from typing import Any, Final

import discord

from bot.client import QABot, bot_of
from bot.forum import drafts, search
from bot.forum.errors import ForumError, PermissionDenied
from bot.forum.questions import AskedQuestion
from bot.forum.search import SearchHit
from bot.forum.visibility import VisibleForums
from bot.guilds import OTHER_SERVER, guild_id_of, guild_of
from bot.posting_rights import check_can_ask
from bot.transactions import run_read, run_transaction
from bot.ui import emoji, question_lists
from bot.ui.imported import add_continue_buttons
from bot.ui.mentions import NO_PINGS
from bot.ui.questions import ListedQuestion
from bot.ui.views import ActionButton
from bot.visibility import visible_forums
from cogs.asking.anonymity import check_anonymous
from cogs.asking.held import hold_question
from cogs.asking.publishing import find_target, publish

log = logging.getLogger(__name__)

#: Similar questions the gate shows, and how many of them a new post calls related.
SIMILAR_LIMIT: Final = 5
RELATED_LIMIT: Final = 3
GATE_TEXT: Final = (
    "Before you post: similar questions were asked already. If none of them helps, post yours."
)
POSTED_ANYWAY: Final = f"{emoji.SUCCESS} You posted your question anyway."
SENT_FOR_REVIEW: Final = "You sent your question for a moderator's review."
CANCELLED: Final = "Cancelled: your question was not posted."


async def hold_if_similar(interaction: discord.Interaction[Any], asked: AskedQuestion) -> bool:
    """The gate before a question submitted through /ask (already deferred) is posted.

    When similar questions exist: holds the question as a draft, shows them with the two
    buttons, and returns True (the caller posts nothing). Otherwise False: post it now.
    """
    bot, guild_id, user_id = bot_of(interaction), guild_id_of(interaction), interaction.user.id
    similar = await _similar(bot, guild_id, visible_forums(interaction), asked, SIMILAR_LIMIT)
    if not similar:
        return False
    held = await run_transaction(
        bot,
        lambda s: drafts.hold_if_similar(
            s, guild_id=guild_id, user_id=user_id, asked=asked, similar=similar
        ),
    )
    if held.draft is None:
        return False
    log.info(
        "ask draft %s held for %d similar questions (guild %s, interaction %s)",
        held.draft.id,
        len(held.similar),
        guild_id,
        interaction.id,
    )
    await interaction.followup.send(
        GATE_TEXT,
        embed=question_lists.similar_questions(held.similar, guild_id),
        view=gate_view(held.draft.id, held.similar),
        ephemeral=True,
        allowed_mentions=NO_PINGS,
    )
    return True


async def _similar(
    bot: QABot, guild_id: int, visible: VisibleForums, asked: AskedQuestion, limit: int
) -> list[SearchHit]:
    """Up to ``limit`` questions like ``asked`` in ``visible`` forums, in a read-only
    transaction of its own: ranking them never holds the write lock."""
    return await run_read(
        bot,
        lambda s: search.similar_questions(
            s,
            guild_id=guild_id,
            visible=visible,
            title=asked.title,
            details=asked.details,
            limit=limit,
        ),
    )


async def _drop_buttons(interaction: discord.Interaction[Any], content: str | None = None) -> None:
    """Take the buttons off the gate's prompt (best effort: it may be gone)."""
    with contextlib.suppress(discord.HTTPException):
        if content is None:
            await interaction.edit_original_response(view=None)
        else:
            await interaction.edit_original_response(content=content, view=None)


class _DraftButton(ActionButton, family="qa:ask"):
    """What both gate buttons share: the draft id in their ``custom_id``
    (``qa:ask:<action>:<draft id>``) and error handling. Only its subclasses are registered."""

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer()
        await super().callback(interaction)

    async def failed(self, interaction: discord.Interaction[Any], exc: Exception) -> None:
        if not await self._still_usable(interaction):
            await _drop_buttons(interaction)  # expired or used: it never works again
        await super().failed(interaction, exc)

    async def _still_usable(self, interaction: discord.Interaction[Any]) -> bool:
        user_id, draft_id = interaction.user.id, self.target_id
        try:
            await run_read(
                bot_of(interaction),
                lambda s: drafts.get_draft(s, draft_id=draft_id, user_id=user_id),
            )
        except PermissionDenied:
            return True  # someone else's press changes nothing for the asker
        except ForumError:
            return False
        return True

    @abc.abstractmethod
    async def pressed(self, interaction: discord.Interaction[Any]) -> None:
        """What a press does (its interaction is deferred; a failure is reported by failed)."""


class PostAnywayButton(
    _DraftButton,
    action="post",
    label="Post my question anyway",
    style=discord.ButtonStyle.primary,
):
    """ "Post my question anyway": the held question is posted as /ask would."""

    async def pressed(self, interaction: discord.Interaction[Any]) -> None:
        bot, user_id, draft_id = bot_of(interaction), interaction.user.id, self.target_id
        guild = guild_of(interaction)
        draft = await run_read(
            bot, lambda s: drafts.get_draft(s, draft_id=draft_id, user_id=user_id)
        )
        if guild.id != draft.guild_id:
            raise PermissionDenied(OTHER_SERVER)
        if draft.anonymous:  # the server may have turned it off while the draft waited
            await check_anonymous(bot, interaction)
        target = await find_target(bot, guild, draft.category)
        await check_can_ask(bot, interaction, target.forum)
        # The post is public in the forum: it calls related only questions of that forum.
        visible = visible_forums(interaction).within([target.forum.id])
        related = await _similar(bot, guild.id, visible, draft.asked, RELATED_LIMIT)
        if await hold_question(
            interaction,
            target,
            draft.asked,
            draft_id=draft_id,
            related=[hit.question_id for hit in related],
        ):
            await _drop_buttons(interaction, SENT_FOR_REVIEW)
            return  # waits for a moderator's review (bot.premod)
        posted = await run_transaction(
            bot,
            lambda s: drafts.post_held_question(
                s, draft_id=draft_id, user_id=user_id, related=related
            ),
        )
        await publish(bot, interaction, target, posted.change.post, related=posted.related)
        await _drop_buttons(interaction, POSTED_ANYWAY)


class CancelAskButton(_DraftButton, action="cancel", label="Cancel"):
    """ "Cancel": the held question is dropped."""

    async def pressed(self, interaction: discord.Interaction[Any]) -> None:
        user_id, draft_id = interaction.user.id, self.target_id
        await run_transaction(
            bot_of(interaction),
            lambda s: drafts.cancel_draft(s, draft_id=draft_id, user_id=user_id),
        )
        log.info("ask draft %s cancelled (interaction %s)", draft_id, interaction.id)
        await _drop_buttons(interaction, CANCELLED)


#: The gate's buttons, registered by the cog so that they work after a restart.
GATE_BUTTONS: Final = (PostAnywayButton, CancelAskButton)


def gate_view(draft_id: int, similar: Sequence[ListedQuestion] = ()) -> discord.ui.View:
    """Post anyway, Cancel, and "Continue in Discord" under each imported similar question."""
    view = discord.ui.View(timeout=None)
    view.add_item(PostAnywayButton(draft_id))
    view.add_item(CancelAskButton(draft_id))
    add_continue_buttons(view, similar)
    return view
