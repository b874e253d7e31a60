"""``/edit``: a modal prefilled with the post's text (a question's title and details), then the
domain's edit shown on Discord: the bot's message re-rendered, a question's thread renamed (by
``bot.thread_renames``, which makes a rename past Discord's two per ten minutes wait; the author
is told)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.forum import edits, text_rules
from bot.forum.results import PostChange, PostSnapshot
from bot.forum.rights import Actor
from bot.posting_rights import check_can_post_in
from bot.threads import discord_step, partial_message, with_trouble
from bot.transactions import run_transaction
from bot.ui import emoji
from bot.ui.authors import author_label
from bot.ui.mentions import NO_PINGS
from bot.ui.questions import posted_embed, question_message_embed, rename_waits
from cogs.answering.modals import FormModal
from cogs.answering.own_posts import kind_label

if TYPE_CHECKING:
    from bot.client import QABot


def edit_modal(bot: QABot, post: PostSnapshot) -> discord.ui.Modal:
    """The modal that edits ``post``: title and details for a question, else its text."""
    return EditQuestionModal(bot, post) if post.kind == "question" else EditPostModal(bot, post)


class EditPostModal(FormModal):
    def __init__(self, bot: QABot, post: PostSnapshot) -> None:
        what = kind_label(post)
        super().__init__(bot, title=f"Edit your {what.lower()}")
        self.post = post
        self.text = self.add_field(
            what, custom_id="answer", max_length=text_rules.BODY_MAX, default=post.body
        )

    async def on_submit(self, interaction: discord.Interaction[QABot], /) -> None:  # type: ignore[override]
        await edit_post(self.bot, interaction, self.post, self.text.value)


class EditQuestionModal(FormModal):
    def __init__(self, bot: QABot, question: PostSnapshot) -> None:
        super().__init__(bot, title="Edit your question")
        self.question = question
        self.question_title = self.add_field(
            "Title",
            custom_id="title",
            max_length=text_rules.TITLE_MAX,
            default=question.title,
            paragraph=False,
        )
        self.details = self.add_field(
            "Details",
            custom_id="details",
            max_length=text_rules.DETAILS_MAX,
            default=question.body or None,
            required=False,
        )

    async def on_submit(self, interaction: discord.Interaction[QABot], /) -> None:  # type: ignore[override]
        await edit_question(
            self.bot, interaction, self.question, self.question_title.value, self.details.value
        )


async def _tell(interaction: discord.Interaction[QABot], text: str) -> None:
    await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)


async def _edited(interaction: discord.Interaction[QABot], change: PostChange) -> bool:
    """False (and the member told) when the edit changed nothing."""
    if change.changed:
        return True
    await _tell(interaction, f"Your {kind_label(change.post).lower()} already says that.")
    return False


async def edit_post(
    bot: QABot, interaction: discord.Interaction[QABot], post: PostSnapshot, text: str
) -> None:
    """An answer's or reply's new text: stored, then the bot's message re-rendered."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    await check_can_post_in(bot, interaction, post.question_id or post.id, paced=False)
    author = interaction.user
    await bot.automod.check(interaction, post.thread_id, text)
    change = await run_transaction(
        bot, lambda s: edits.edit_post(s, actor=Actor(author.id), post_id=post.id, body=text)
    )
    if not await _edited(interaction, change):
        return
    edited = change.post
    assert edited.thread_id is not None
    assert edited.message_id is not None
    message = partial_message(bot, edited.guild_id, edited.thread_id, edited.message_id)
    embed = posted_embed(edited, author_label(edited, author.display_name))
    shown = await discord_step(
        "edit the message",
        message.edit(embed=embed, allowed_mentions=NO_PINGS),
        post_id=edited.id,
    )
    what = kind_label(edited).lower()
    await _tell(
        interaction,
        with_trouble(f"{emoji.SUCCESS} Your {what} is updated: {message.jump_url}", shown),
    )


async def edit_question(
    bot: QABot,
    interaction: discord.Interaction[QABot],
    question: PostSnapshot,
    title: str,
    details: str | None,
) -> None:
    """A question's new title and details: stored, then the thread renamed (when the title
    changed) and the starter message re-rendered."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    await check_can_post_in(bot, interaction, question.id, paced=False)
    author = interaction.user
    await bot.automod.check(interaction, question.thread_id, title, details)
    edit = edits.QuestionEdit(question.id, title=title, details=details or "")
    change = await run_transaction(
        bot, lambda s: edits.edit_question(s, edit=edit, actor=Actor(author.id))
    )
    if not await _edited(interaction, change):
        return
    edited = change.post
    assert edited.thread_id is not None
    assert edited.message_id is not None
    shown, later = True, 0.0
    if edited.title != question.title:  # two renames per ten minutes: past that it waits
        renaming = await bot.thread_renames.rename(edited.id, edited.thread_id)
        shown, later = renaming.shown, renaming.later
    starter = partial_message(bot, edited.guild_id, edited.thread_id, edited.message_id)
    embed = question_message_embed(edited, author_label(edited, author.display_name))
    shown &= await discord_step(
        "edit the question's message",
        starter.edit(embed=embed, allowed_mentions=NO_PINGS),
        post_id=edited.id,
    )
    text = f"{emoji.SUCCESS} Your question is updated: {starter.jump_url}"
    if later > 0:
        text += f"\n{rename_waits(later)}"
    await _tell(interaction, with_trouble(text, shown))
