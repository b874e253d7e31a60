"""``/answer``: a modal, then the answer stored ``pending``, posted by the bot in the thread and
confirmed with its message's id."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

import discord

from bot.forum import lookups, pending_posts, posts, text_rules
from bot.forum.errors import NotFound
from bot.forum.results import PostSnapshot
from bot.transactions import run_transaction
from bot.ui import emoji
from bot.ui.authors import author_label
from bot.ui.mentions import NO_PINGS
from bot.ui.questions import answer_embed
from cogs.answering.modals import MODAL_TIMEOUT, FormModal
from cogs.answering.names import StoredNames

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)

ANONYMOUS_NOT_YET: Final = "Anonymous answers are not available yet."
NOT_A_QUESTION_THREAD: Final = "Use this inside a question's thread."


async def question_here(bot: QABot, interaction: discord.Interaction[QABot]) -> PostSnapshot:
    """The question of the thread the interaction is in; refuses anywhere else."""
    guild_id, thread_id = interaction.guild_id, interaction.channel_id
    question = None
    if guild_id is not None and thread_id is not None:
        question = await run_transaction(
            bot,
            lambda s: lookups.find_question_by_thread(s, thread_id=thread_id, guild_id=guild_id),
        )
    if question is None or not question.live:
        raise NotFound(NOT_A_QUESTION_THREAD)
    return question


class AnswerModal(FormModal):
    def __init__(self, bot: QABot, names: StoredNames, *, question_id: int) -> None:
        super().__init__(title="Your answer", timeout=MODAL_TIMEOUT)
        self.bot = bot
        self.names = names
        self.question_id = question_id
        self.answer = self.add_field(
            "Answer",
            custom_id="answer",
            max_length=text_rules.BODY_MAX,
            placeholder="Share what you know or what helped you",
        )

    async def on_submit(self, interaction: discord.Interaction[QABot], /) -> None:  # type: ignore[override]
        await post_answer(self.bot, self.names, interaction, self.question_id, self.answer.value)


async def post_answer(
    bot: QABot,
    names: StoredNames,
    interaction: discord.Interaction[QABot],
    question_id: int,
    text: str,
) -> None:
    """The modal was submitted: pending row, the bot's message, then the row confirmed."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    guild_id = interaction.guild_id
    assert guild_id is not None  # guild_only
    author = interaction.user
    pending = (
        await run_transaction(
            bot,
            lambda s: posts.post_answer(
                s,
                guild_id=guild_id,
                question_id=question_id,
                author_id=author.id,
                body=text,
                state="pending",
            ),
        )
    ).post
    assert pending.thread_id is not None
    channel = bot.get_partial_messageable(pending.thread_id, guild_id=guild_id)
    embed = answer_embed(pending.body, author_label(pending, author.display_name), pending.id)
    try:
        message = await channel.send(embed=embed, allowed_mentions=NO_PINGS)
    except discord.HTTPException as exc:
        if exc.status < 500:  # refused: nothing was posted
            await run_transaction(
                bot, lambda s: pending_posts.discard_pending_post(s, post_id=pending.id)
            )
        else:  # unknown: the row stays pending (it counts nothing; nothing completes it)
            log.warning("answer %s may not be posted (status %s)", pending.id, exc.status)
        raise
    name = names.unstored(guild_id, author)
    change = await run_transaction(
        bot,
        lambda s: pending_posts.confirm_post(
            s, post_id=pending.id, message_id=message.id, display_name=name
        ),
    )
    names.stored(guild_id, author.id, name, named=change.author_named)
    bot.status_lines.request(change.question.id)
    bot.notifier.wake()  # the answer's DMs are queued: send them now
    await interaction.followup.send(
        f"{emoji.SUCCESS} Your answer is posted: {message.jump_url}",
        ephemeral=True,
        allowed_mentions=NO_PINGS,
    )
