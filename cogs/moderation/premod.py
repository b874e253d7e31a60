"""The Approve / Reject buttons of a held post's card (``bot.premod`` sends the card).

Both are one ``DynamicItem`` whose ``custom_id`` carries the action and the held post's id, so
a card keeps working after a restart; every click checks the moderator rule in code. Approve
claims the decision (a second click hears "Already decided."), publishes the post through the
feature that owns its kind (``bot.held_publishers``) and records the outcome: approved, or not
published when the question was closed or deleted meanwhile; when publishing fails otherwise
the post waits again. Reject asks for an optional reason in a modal. Either way the card shows
the decision, the audit trail has it and the author's DM is queued
(``bot.forum.premod_decisions``).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Final, Self

import discord

from bot.client import bot_of
from bot.errors import handle_interaction_error
from bot.feature_cog import Interaction
from bot.forum import premod
from bot.forum import premod_decisions as decisions
from bot.forum.errors import InvalidState, NotFound
from bot.forum.premod import HeldCard
from bot.references import custom_id_number
from bot.transactions import run_read, run_transaction
from bot.ui.mentions import NO_PINGS
from bot.ui.premod import CARD_TEMPLATE, REASON_LABEL, card_button, held_card, moderator_reply
from cogs.moderation.moderators import moderator

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)


NOT_A_REVIEWER: Final = "Only this server's moderators can approve or reject held posts."


async def _show_decision(bot: QABot, interaction: Interaction, shown: HeldCard) -> None:
    """The card shows the decision (its buttons go), the moderator hears it, the DM goes out."""
    bot.notifier.wake()
    held = shown.held
    if held.card_channel_id is not None and held.card_message_id is not None:
        channel = bot.get_partial_messageable(held.card_channel_id, guild_id=held.guild_id)
        try:
            await channel.get_partial_message(held.card_message_id).edit(
                embed=held_card(shown), view=None, allowed_mentions=NO_PINGS
            )
        except discord.HTTPException as exc:  # the card was deleted: the decision stands
            log.warning("card of held post %s not updated (status %s)", held.id, exc.status)
    await interaction.followup.send(
        moderator_reply(shown), ephemeral=True, allowed_mentions=NO_PINGS
    )


async def _reviewer(bot: QABot, interaction: Interaction) -> tuple[int, int]:
    """A decision's start: the reviewer checked (``NOT_A_REVIEWER``), the press deferred; the
    guild's id and the moderator's."""
    actor = await moderator(bot, interaction, refusal=NOT_A_REVIEWER)
    await interaction.response.defer(ephemeral=True, thinking=True)
    return actor.guild.id, actor.actor.member_id


async def approve(bot: QABot, interaction: Interaction, held_id: int) -> None:
    guild_id, moderator_id = await _reviewer(bot, interaction)
    held = await run_transaction(
        bot,
        lambda s: decisions.claim_approval(
            s, held_id=held_id, guild_id=guild_id, moderator_id=moderator_id
        ),
    )
    try:
        post_id = await bot.held_publishers.publish(held)
    except (NotFound, InvalidState) as exc:  # the question was closed or deleted meanwhile
        sentence = exc.message
        shown = await run_transaction(
            bot,
            lambda s: decisions.unpublished(
                s, held_id=held_id, guild_id=guild_id, sentence=sentence
            ),
        )
    except Exception:  # Discord or the server's setup: it waits for another try
        await run_transaction(
            bot, lambda s: decisions.release(s, held_id=held_id, guild_id=guild_id)
        )
        raise
    else:
        shown = await run_transaction(
            bot,
            lambda s: decisions.approved(s, held_id=held_id, guild_id=guild_id, post_id=post_id),
        )
    log.info("held post %s decided by moderator %s in guild %s", held_id, moderator_id, guild_id)
    await _show_decision(bot, interaction, shown)


async def reject(bot: QABot, interaction: Interaction, held_id: int, reason: str) -> None:
    guild_id, moderator_id = await _reviewer(bot, interaction)
    shown = await run_transaction(
        bot,
        lambda s: decisions.reject(
            s, held_id=held_id, guild_id=guild_id, moderator_id=moderator_id, reason=reason
        ),
    )
    log.info("held post %s rejected by moderator %s in guild %s", held_id, moderator_id, guild_id)
    await _show_decision(bot, interaction, shown)


class RejectModal(discord.ui.Modal, title="Reject this post"):
    reason: discord.ui.TextInput[RejectModal] = discord.ui.TextInput(
        label=REASON_LABEL,
        custom_id="reason",
        style=discord.TextStyle.paragraph,
        placeholder="Optional: why it is not published",
        required=False,
        max_length=premod.REASON_MAX,
    )

    def __init__(self, held_id: int) -> None:
        super().__init__(timeout=MODAL_TIMEOUT)
        self.held_id = held_id

    async def on_submit(self, interaction: Interaction, /) -> None:  # type: ignore[override]
        await reject(bot_of(interaction), interaction, self.held_id, self.reason.value or "")

    async def on_error(  # type: ignore[override]
        self, interaction: Interaction, error: Exception, /
    ) -> None:
        await handle_interaction_error(interaction, error)


#: How long an opened "Reject this post" modal waits for its submission.
MODAL_TIMEOUT: Final = 15 * 60.0


class CardButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=CARD_TEMPLATE
):
    """Approve or Reject on a held post's card; the action and the held post's id are in the
    ``custom_id`` (``bot.ui.premod.card_button``)."""

    def __init__(self, action: str, held_id: int) -> None:
        self.action, self.held_id = action, held_id
        super().__init__(card_button(action, held_id))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: Any, match: re.Match[str], /
    ) -> Self:
        return cls(match["action"], custom_id_number(match["held"]))

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        bot, held_id = bot_of(interaction), self.held_id
        try:
            if self.action == "approve":
                await approve(bot, interaction, held_id)
                return
            actor = await moderator(bot, interaction, refusal=NOT_A_REVIEWER)
            await run_read(  # a form must open within Discord's 3 seconds: never queue
                bot, lambda s: decisions.check_waiting(s, held_id=held_id, guild_id=actor.guild.id)
            )
            await interaction.response.send_modal(RejectModal(held_id))
        except Exception as exc:  # a refusal's sentence, or a logged apology
            await handle_interaction_error(interaction, exc)


#: The card's buttons, registered by the cog so that they work after a restart.
PREMOD_BUTTONS: Final = (CardButton,)
