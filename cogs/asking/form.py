"""The "Ask a question" form of /ask and what its submission does.

An anonymous question's form has a third field, "Your name to display (optional)"; on submit the
member must still be allowed to post anonymously and the name is checked (``anonymity``).
On submit: the domain's text rules first (so the gate never holds a question it would refuse),
then the similar-questions gate (``gate``), which may hold the question; otherwise the question
is held for a moderator's review when the server pre-moderates it (``held``), or stored as a
pending row (``bot.forum.questions.create_question``, which checks the hourly
limit again) and published (``publishing``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Final

import discord

from bot.client import bot_of
from bot.errors import handle_interaction_error
from bot.forum import questions, text_rules
from bot.forum.questions import AskedQuestion
from bot.guilds import guild_of
from bot.posting_rights import check_can_ask
from bot.transactions import run_transaction
from bot.ui.resources import ASK_FORM_LINE
from cogs.asking import anonymity
from cogs.asking.gate import hold_if_similar
from cogs.asking.held import hold_question
from cogs.asking.publishing import find_target, publish

#: How long an opened "Ask a question" modal waits for its submission.
MODAL_TIMEOUT: Final = 30 * 60


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

    def __init__(self, *, category: str | None, anonymous: bool = False) -> None:
        super().__init__(timeout=MODAL_TIMEOUT)
        self.category = category
        self.anonymous = anonymous
        self.display_name: discord.ui.TextInput[AskModal] | None = None
        if anonymous:
            self.display_name = discord.ui.TextInput(
                label="Your name to display (optional)",
                custom_id="display_name",
                placeholder="Leave empty to show as Anonymous",
                required=False,
                max_length=text_rules.DISPLAY_NAME_MAX,
            )
            self.add_item(self.display_name)
        # Where to find help, under the fields (a placeholder cannot carry formatting).
        self.add_item(discord.ui.TextDisplay(ASK_FORM_LINE))

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await submit_question(
            interaction,
            AskedQuestion(
                title=self.question_title.value,
                details=self.details.value or "",
                category=self.category,
                anonymous=self.anonymous,
                display_name=self.display_name.value if self.display_name is not None else None,
            ),
        )

    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction, error: Exception
    ) -> None:
        await handle_interaction_error(interaction, error)


async def submit_question(interaction: discord.Interaction[Any], asked: AskedQuestion) -> None:
    """The form was submitted: gate -> pending row -> forum post -> confirmed row -> link."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    bot = bot_of(interaction)
    guild = guild_of(interaction)
    target = await find_target(bot, guild, asked.category)
    await check_can_ask(bot, interaction, target.forum)  # time passed since the modal opened
    text_rules.validate_title(asked.title)
    text_rules.validate_details(asked.details)
    name: str | None = None
    if asked.anonymous:
        await anonymity.check_anonymous(bot, interaction)  # the server may have changed it
        name = await anonymity.display_name(bot, interaction, asked.display_name)
    await bot.automod.check(interaction, target.forum.id, asked.title, asked.details, name)
    asked = replace(asked, category=target.category_name, display_name=name)
    if await hold_if_similar(interaction, asked):
        return  # similar questions shown; "Post anyway" publishes it (gate.PostAnywayButton)
    if await hold_question(interaction, target, asked):
        return  # waits for a moderator's review (bot.premod)
    asker_id = interaction.user.id
    change = await run_transaction(
        bot, lambda s: questions.ask_question(s, guild_id=guild.id, author_id=asker_id, asked=asked)
    )
    await publish(bot, interaction, target, change.post)
