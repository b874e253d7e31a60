"""``/answer``: the question (the ``question`` option, else this thread's), a modal, then the
answer posted by the bot (``on_behalf``): named, or anonymous under the author's per-thread
pseudonym."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import discord

from bot.blocking import refuse_if_blocked
from bot.forum import anonymity, lookups, posts, text_rules
from bot.forum.errors import NotFound
from bot.forum.results import PostSnapshot
from bot.guilds import guild_id_of
from bot.posting_rights import check_can_post_in
from bot.question_option import target_question
from bot.transactions import run_transaction
from cogs.answering.held import held_for_review
from cogs.answering.modals import FormModal
from cogs.answering.names import StoredNames
from cogs.answering.on_behalf import check_automod, joined_at, member_post, post_for_member

if TYPE_CHECKING:
    from bot.client import QABot

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


async def check_anonymity(bot: QABot, interaction: discord.Interaction[QABot]) -> None:
    """Refuse, before any form, a member who may not post anonymously here."""
    guild_id = guild_id_of(interaction)
    joined = joined_at(interaction)
    await run_transaction(
        bot,
        lambda s: anonymity.check_can_post_anonymously(s, guild_id=guild_id, joined_at=joined),
    )


async def open_answer_form(
    bot: QABot,
    names: StoredNames,
    interaction: discord.Interaction[QABot],
    *,
    anonymous: bool,
    question: str | None,
) -> None:
    """``/answer``: refusals first (no question, no anonymity here), then the modal."""
    question_id = await target_question(bot, interaction, question)
    await check_can_post_in(bot, interaction, question_id)
    await refuse_if_blocked(bot, interaction, anonymous=anonymous)
    if anonymous:
        await check_anonymity(bot, interaction)
    await interaction.response.send_modal(
        AnswerModal(bot, names, question_id=question_id, anonymous=anonymous)
    )


class AnswerModal(FormModal):
    def __init__(
        self, bot: QABot, names: StoredNames, *, question_id: int, anonymous: bool = False
    ) -> None:
        super().__init__(bot, title="Your anonymous answer" if anonymous else "Your answer")
        self.names = names
        self.question_id = question_id
        self.anonymous = anonymous
        self.answer = self.add_field(
            "Answer",
            custom_id="answer",
            max_length=text_rules.BODY_MAX,
            placeholder="Share what you know or what helped you",
        )

    async def on_submit(self, interaction: discord.Interaction[QABot], /) -> None:  # type: ignore[override]
        await post_answer(
            self.bot,
            self.names,
            interaction,
            self.question_id,
            self.answer.value,
            anonymous=self.anonymous,
        )


async def post_answer(
    bot: QABot,
    names: StoredNames,
    interaction: discord.Interaction[QABot],
    question_id: int,
    text: str,
    *,
    anonymous: bool = False,
) -> None:
    """The modal was submitted: the answer stored pending, posted by the bot, confirmed."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    await check_can_post_in(bot, interaction, question_id)  # time passed since the modal opened
    post = member_post(interaction, question_id, text, anonymous=anonymous)
    await check_automod(bot, interaction, post)
    if await held_for_review(bot, interaction, "answer", post):
        return  # waits for a moderator's review (bot.premod)
    await post_for_member(bot, names, interaction, lambda s: posts.post_answer(s, post=post))
