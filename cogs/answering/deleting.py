"""``/delete``: a confirmation, then the domain's delete shown on Discord - a question's thread
removed, or an answer's or reply's message removed (and the acceptance marks with it, when it
was the accepted answer)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.deletes import after_delete
from bot.forum import deletion, lookups
from bot.forum.results import PostSnapshot
from bot.forum.rights import Actor
from bot.guilds import guild_of
from bot.threads import (
    DISCORD_TROUBLE,
    discord_step,
    fetch_thread,
    partial_message,
    with_trouble,
)
from bot.transactions import run_transaction
from bot.ui import emoji
from bot.ui.mentions import NO_PINGS
from bot.ui.text import escape, one_line, truncate_markdown
from bot.ui.views import confirm
from cogs.answering.acceptance import clear_acceptance
from cogs.answering.own_posts import kind_label

if TYPE_CHECKING:
    from bot.client import QABot


def _prompt(target: PostSnapshot) -> str:
    if target.kind == "question":
        title = truncate_markdown(escape(one_line(target.title or "")), 200)
        return (
            f"Delete your question “{title}”? Its thread and every answer in it will be "
            "removed. This cannot be undone."
        )
    what = kind_label(target).lower()
    return f"Delete your {what}? It is removed from the thread and no longer counts."


async def delete_own_post(
    bot: QABot, interaction: discord.Interaction[QABot], target: PostSnapshot
) -> None:
    """Ask to confirm, then delete ``target`` (one of the member's own posts)."""
    view = await confirm(interaction, _prompt(target), confirm_label="Delete", destructive=True)
    decided = view.interaction
    if view.value is not True or decided is None:
        if decided is not None:
            await decided.edit_original_response(content="Nothing was deleted.", view=None)
        else:
            await interaction.edit_original_response(content="Nothing was deleted.", view=None)
        return
    guild = guild_of(interaction)
    if target.kind == "question":
        await _delete_question(bot, guild, decided, target)
    else:
        await _delete_post(bot, guild, decided, target)


async def _delete_question(
    bot: QABot, guild: discord.Guild, decided: discord.Interaction[QABot], question: PostSnapshot
) -> None:
    deleted = await run_transaction(
        bot,
        lambda s: deletion.delete_question(
            s, actor=Actor(decided.user.id), question_id=question.id
        ),
    )
    after_delete(bot, deleted)
    # Answer first: the prompt lives in the thread about to go.
    await decided.edit_original_response(
        content=f"{emoji.SUCCESS} Your question is deleted; its thread is being removed.",
        view=None,
    )
    assert question.thread_id is not None
    thread = await fetch_thread(guild, question.thread_id)
    if thread is not None and not await discord_step(
        "delete the thread", thread.delete(), post_id=question.id
    ):
        # The thread stays: its name, the question's title, goes.
        await bot.thread_renames.rename(question.id, thread.id)
        await decided.followup.send(DISCORD_TROUBLE, ephemeral=True, allowed_mentions=NO_PINGS)


async def _delete_post(
    bot: QABot, guild: discord.Guild, decided: discord.Interaction[QABot], post: PostSnapshot
) -> None:
    question_id = post.question_ref
    before = await run_transaction(bot, lambda s: lookups.get_post(s, question_id))
    change = await run_transaction(
        bot, lambda s: deletion.delete_post(s, actor=Actor(decided.user.id), post_id=post.id)
    )
    after_delete(bot, change)
    assert post.thread_id is not None
    assert post.message_id is not None
    message = partial_message(bot, guild.id, post.thread_id, post.message_id)
    done = await discord_step("delete the message", message.delete(), post_id=post.id)
    question = change.question
    if before.accepted_answer_id == post.id and question.accepted_answer_id is None:
        done &= await clear_acceptance(bot, guild, question, was=post.id)
    bot.status_lines.request(question.id)
    text = f"{emoji.SUCCESS} Your {kind_label(post).lower()} is deleted."
    await decided.edit_original_response(content=with_trouble(text, done), view=None)
