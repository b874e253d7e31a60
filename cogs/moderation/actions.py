"""Acting through a post: Remove, Restore and Block, as buttons that keep working after a
restart (``DynamicItem``s with the post's id in their ``custom_id``), and the moderators'
"Moderate post" message command that shows a post with them.

``post_action_items(post_id, removed=...)`` gives the buttons for any message moderators see (the
panel here, a report card). Every press checks the moderator rule again in code. Remove and
Block open a short form (the reason; the block's scope, days and reason); replies are ephemeral
and never name the author of the post. A removal or restoration dispatches
``qa_post_moderated`` (guild id, post id): the post's report card, if it has one, follows.
"""

from __future__ import annotations

import abc
import logging
from typing import TYPE_CHECKING, Any, Final, cast

import discord

from bot.client import bot_of
from bot.errors import handle_interaction_error
from bot.forum import blocks, lookups, moderation
from bot.forum.errors import NotFound, ValidationError
from bot.transactions import run_read, run_transaction
from bot.ui.mentions import NO_PINGS
from bot.ui.mod_actions import blocked_text, moderation_panel, removed_text, restored_text
from bot.ui.views import ActionButton
from cogs.moderation.moderators import NOT_A_MODERATOR_HERE, ModeratorButton, moderator
from cogs.moderation.removal import show_removed, show_restored

if TYPE_CHECKING:
    from bot.client import QABot
    from bot.guilds import Acting

log = logging.getLogger(__name__)

NOT_A_POST: Final = "That message is no question, answer or reply of the Q&A forum."
REASON_MAX: Final = 500
FORM_TIMEOUT: Final = 15 * 60.0


async def _moderator(interaction: discord.Interaction[Any]) -> Acting:
    return await moderator(bot_of(interaction), interaction, refusal=NOT_A_MODERATOR_HERE)


async def _reply(
    interaction: discord.Interaction[Any], text: str, view: discord.ui.View | None = None
) -> None:
    if view is None:
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
    else:
        await interaction.followup.send(text, view=view, ephemeral=True, allowed_mentions=NO_PINGS)


# --------------------------------------------------------------------------- the buttons


class _PostAction(ModeratorButton, ActionButton, family="qa:act"):
    """What the three buttons share: the post id in the ``custom_id``
    (``qa:act:<action>:<post id>``)."""


class RemoveButton(_PostAction, action="remove", label="Remove", style=discord.ButtonStyle.danger):
    async def act(self, interaction: discord.Interaction[Any], actor: Acting) -> None:
        await interaction.response.send_modal(RemoveForm(self.target_id))


class RestoreButton(
    _PostAction, action="restore", label="Restore", style=discord.ButtonStyle.success
):
    async def act(self, interaction: discord.Interaction[Any], actor: Acting) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        bot, post_id = bot_of(interaction), self.target_id
        restored = await run_transaction(
            bot,
            lambda s: moderation.restore_post(s, post_id=post_id, moderator=actor.actor),
        )
        post, done = await show_restored(bot, actor.guild, restored)
        log.info("post %s restored (interaction %s)", post.id, interaction.id)
        bot.dispatch("qa_post_moderated", actor.guild.id, post.id)
        view = action_view(post.id, removed=False)
        await _reply(interaction, restored_text(post, discord_done=done), view)


class BlockButton(_PostAction, action="block", label="Block author"):
    async def act(self, interaction: discord.Interaction[Any], actor: Acting) -> None:
        await interaction.response.send_modal(BlockForm(self.target_id))


#: The buttons, registered by the cog so that they work after a restart.
ACTION_BUTTONS: Final = (RemoveButton, RestoreButton, BlockButton)


def post_action_items(post_id: int, *, removed: bool) -> list[discord.ui.Item[Any]]:
    """The buttons moderators act through on a post: Remove (or Restore) and Block author."""
    first: _PostAction = RestoreButton(post_id) if removed else RemoveButton(post_id)
    return [first, BlockButton(post_id)]


def action_view(post_id: int, *, removed: bool) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for item in post_action_items(post_id, removed=removed):
        view.add_item(item)
    return view


# --------------------------------------------------------------------------- the forms


class _Form(discord.ui.Modal):
    def __init__(self, title: str, post_id: int) -> None:
        super().__init__(title=title, timeout=FORM_TIMEOUT)
        self.post_id = post_id

    def text(
        self, label: str, custom_id: str, *, max_length: int, placeholder: str
    ) -> discord.ui.TextInput[Any]:
        field: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id=custom_id,
            style=discord.TextStyle.short,
            max_length=max_length,
            required=False,
            placeholder=placeholder,
        )
        self.add_item(discord.ui.Label(text=label, component=field))
        return field

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await self._submit(interaction, await _moderator(interaction))
        except Exception as exc:
            await handle_interaction_error(interaction, exc)

    @abc.abstractmethod
    async def _submit(self, interaction: discord.Interaction[Any], actor: Acting) -> None: ...


class RemoveForm(_Form):
    def __init__(self, post_id: int) -> None:
        super().__init__(f"Remove post #{post_id}", post_id)
        self.reason = self.text(
            "Reason (the author is told)",
            "reason",
            max_length=REASON_MAX,
            placeholder="Optional: why it breaks the rules",
        )

    async def _submit(self, interaction: discord.Interaction[Any], actor: Acting) -> None:
        bot, post_id = bot_of(interaction), self.post_id
        removal = moderation.Removal(post_id, self.reason.value)
        change = await run_transaction(
            bot, lambda s: moderation.remove_post(s, removal=removal, moderator=actor.actor)
        )
        bot.notifier.wake()  # the author's DM
        done = await show_removed(bot, actor.guild, change.post)
        if change.post.kind != "question":
            bot.status_lines.request(change.question.id)
        log.info("post %s removed (interaction %s)", post_id, interaction.id)
        bot.dispatch("qa_post_moderated", actor.guild.id, post_id)
        view = action_view(post_id, removed=True)
        await _reply(interaction, removed_text(change.post, discord_done=done), view)


SCOPE_CHOICES: Final = (
    ("Posting anonymously", "anonymous"),
    ("Posting through the bot at all", "all"),
)


class BlockForm(_Form):
    def __init__(self, post_id: int) -> None:
        super().__init__(f"Block the author of post #{post_id}", post_id)
        self.scope: discord.ui.Select[Any] = discord.ui.Select(
            custom_id="scope",
            options=[
                discord.SelectOption(label=label, value=value) for label, value in SCOPE_CHOICES
            ],
            required=True,
        )
        self.add_item(discord.ui.Label(text="Block from", component=self.scope))
        self.days = self.text(
            "Days", "days", max_length=4, placeholder="Empty: until a moderator lifts it"
        )
        self.reason = self.text(
            "Reason (moderators see it)", "reason", max_length=REASON_MAX, placeholder="Optional"
        )

    async def _submit(self, interaction: discord.Interaction[Any], actor: Acting) -> None:
        raw_days = self.days.value.strip()
        if raw_days and not raw_days.isdigit():
            raise ValidationError("Days must be a whole number (or empty: until lifted).")
        days = int(raw_days) if raw_days else None
        scope: blocks.BlockScope = "all" if self.scope.values == ["all"] else "anonymous"
        bot, post_id, reason = bot_of(interaction), self.post_id, self.reason.value
        block = await run_transaction(
            bot,
            lambda s: blocks.block_member_through_post(
                s,
                post_id=post_id,
                moderator_id=actor.actor.member_id,
                scope=scope,
                days=days,
                reason=reason,
                guild_id=actor.guild.id,
            ),
        )
        log.info(
            "block %s made through post %s (interaction %s)", block.id, post_id, interaction.id
        )
        await _reply(interaction, blocked_text(block))


# --------------------------------------------------------------------------- Moderate post


async def moderate_post(
    bot: QABot, interaction: discord.Interaction[Any], message: discord.Message
) -> None:
    """The "Moderate post" message command: the post's panel with its buttons (ephemeral)."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    actor = await moderator(bot, interaction, refusal=NOT_A_MODERATOR_HERE)
    message_id = message.id
    found = await run_read(bot, lambda s: lookups.find_post_by_message(s, message_id=message_id))
    if found is None or found.guild_id != actor.guild.id or found.deleted:
        raise NotFound(NOT_A_POST)
    post = found
    question = (
        post
        if post.question_id is None
        else await run_read(bot, lambda s: lookups.get_post(s, cast(int, post.question_id)))
    )
    await interaction.followup.send(
        embed=moderation_panel(post, question),
        view=action_view(post.id, removed=post.removed),
        ephemeral=True,
        allowed_mentions=NO_PINGS,
    )
