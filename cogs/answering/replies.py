"""``/reply``: a comment on the question (the ``question`` option, else this thread's) posted by
the bot (``on_behalf``): under the member's name, their per-thread pseudonym when anonymous, or,
for the asker of an anonymous question, as the question shows them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.blocking import refuse_if_blocked
from bot.forum import posts
from bot.posting_rights import check_can_post_in
from bot.question_option import target_question
from cogs.answering.held import held_for_review
from cogs.answering.names import StoredNames
from cogs.answering.on_behalf import check_automod, member_post, post_for_member

if TYPE_CHECKING:
    from bot.client import QABot


async def reply(
    bot: QABot,
    names: StoredNames,
    interaction: discord.Interaction[QABot],
    text: str,
    *,
    anonymous: bool,
    question: str | None,
) -> None:
    """Defer (ephemerally: the text is the member's), then store, post and confirm the reply."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    question_id = await target_question(bot, interaction, question)
    await check_can_post_in(bot, interaction, question_id)
    await refuse_if_blocked(bot, interaction, anonymous=anonymous)
    post = member_post(interaction, question_id, text, anonymous=anonymous)
    await check_automod(bot, interaction, post)
    if await held_for_review(bot, interaction, "comment", post):
        return  # waits for a moderator's review (bot.premod)
    await post_for_member(bot, names, interaction, lambda s: posts.post_reply(s, post=post))
