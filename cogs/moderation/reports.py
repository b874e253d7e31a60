"""Reports on Discord: the "Report" message menu and its reason form, the report card in the
moderator channel with its restart-proof buttons (``/mod queue`` pages are in ``pages``).

The report is committed before anything is sent: the reporter is thanked, then the card is
posted (or the post's card edited) as a best effort; a card Discord refuses is logged with ids
and the report still waits in ``/mod queue``. Without a moderator channel (``mod_channel_id``)
no card is posted at all.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import TYPE_CHECKING, Any, Final

import discord

from bot.bounded import BoundedMap
from bot.client import bot_of
from bot.errors import handle_interaction_error
from bot.forum import purge, reports
from bot.guilds import guild_config
from bot.threads import partial_message
from bot.transactions import run_read, run_transaction
from bot.ui.mentions import NO_PINGS
from bot.ui.reports import (
    MODAL_TITLE,
    REASON_LABEL,
    REASON_PLACEHOLDER,
    THANKS,
    report_card,
)
from cogs.moderation.actions import post_action_items
from cogs.moderation.moderators import ModeratorButton

if TYPE_CHECKING:
    from bot.client import QABot
    from bot.guilds import Acting

log = logging.getLogger(__name__)

NOT_A_MODERATOR: Final = "Only this server's moderators can handle reports."
#: How long the reason form waits for its answer.
MODAL_TIMEOUT: Final = 15 * 60.0


class CardLocks:
    """One lock per post whose card is being posted or edited, so two reports (or a report and
    a moderator's action) a moment apart never post two cards; the least recently used are
    forgotten. One set per bot (``card_lock``), gone with it."""

    def __init__(self, limit: int = 1000) -> None:
        self._locks: BoundedMap[int, asyncio.Lock] = BoundedMap(limit)

    def of(self, post_id: int) -> asyncio.Lock:
        lock = self._locks.get(post_id)
        if lock is None:
            lock = asyncio.Lock()
        self._locks.put(post_id, lock)
        return lock


_CARD_LOCKS: weakref.WeakKeyDictionary[QABot, CardLocks] = weakref.WeakKeyDictionary()


def card_lock(bot: QABot, post_id: int) -> asyncio.Lock:
    locks = _CARD_LOCKS.get(bot)
    if locks is None:
        locks = _CARD_LOCKS[bot] = CardLocks()
    return locks.of(post_id)


# --------------------------------------------------------------------------- reporting


async def open_report_form(
    bot: QABot, interaction: discord.Interaction[QABot], message: discord.Message
) -> None:
    """The Report menu: refuse at once what cannot be reported, else ask for a reason."""
    assert interaction.guild_id is not None
    report = reports.Report(interaction.guild_id, message.id, interaction.user.id)
    # A read (never queued behind a writer): a form must open within Discord's 3 seconds.
    await run_read(bot, lambda s: reports.check_report(s, report=report))
    await interaction.response.send_modal(ReportForm(bot, message.id))


class ReportForm(discord.ui.Modal, title=MODAL_TITLE):
    """The reason (optional, at most ``reports.REASON_MAX`` characters)."""

    def __init__(self, bot: QABot, message_id: int) -> None:
        super().__init__(timeout=MODAL_TIMEOUT)
        self.bot = bot
        self.message_id = message_id
        self.reason: discord.ui.TextInput[ReportForm] = discord.ui.TextInput(
            custom_id="reason",
            style=discord.TextStyle.paragraph,
            max_length=reports.REASON_MAX,
            required=False,
            placeholder=REASON_PLACEHOLDER,
        )
        self.add_item(discord.ui.Label(text=REASON_LABEL, component=self.reason))

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        assert interaction.guild_id is not None
        report = reports.Report(
            interaction.guild_id, self.message_id, interaction.user.id, self.reason.value
        )
        filed = await run_transaction(self.bot, lambda s: reports.file_report(s, report=report))
        await interaction.followup.send(THANKS, ephemeral=True, allowed_mentions=NO_PINGS)
        if filed.hidden_now:
            self.bot.status_lines.request(filed.card.post.question_id)
        await show_card(self.bot, report.guild_id, filed.card.post.id)

    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        await handle_interaction_error(interaction, error)


async def show_card(
    bot: QABot, guild_id: int, post_id: int, *, existing_only: bool = False
) -> None:
    """Post the post's report card in the moderator channel, or edit the one it has (a new one
    when it was deleted or the channel changed); with ``existing_only`` (a moderator acted on
    the post elsewhere) only a card the post has is edited. Best effort: a refusal is logged."""
    channel_id = (await guild_config(bot, guild_id)).mod_channel_id
    if channel_id is None:
        return
    # Read the card under the lock: a report a moment ago may have posted it.
    async with card_lock(bot, post_id):
        state = await run_read(bot, lambda s: reports.card_state(s, post_id))
        if existing_only and state.card_message_id is None:
            return
        embed, view = report_card(state), report_card_view(state)
        try:
            if state.card_message_id is not None and state.card_channel_id == channel_id:
                card = partial_message(bot, guild_id, channel_id, state.card_message_id)
                try:
                    await card.edit(embed=embed, view=view, allowed_mentions=NO_PINGS)
                    return
                except discord.NotFound:
                    pass  # the card was deleted: a new one
            channel = bot.get_partial_messageable(channel_id, guild_id=guild_id)
            sent = await channel.send(embed=embed, view=view, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.warning(
                "could not show the report card of post %d in channel %d (status %s, code %s)",
                post_id,
                channel_id,
                exc.status,
                exc.code,
            )
            return
        await run_transaction(
            bot,
            lambda s: reports.record_card(
                s, guild_id=guild_id, post_id=post_id, channel_id=channel_id, message_id=sent.id
            ),
        )


async def show_cards_without_text(bot: QABot, guild_id: int, post_id: int) -> None:
    """A post was deleted (``qa_post_deleted``): its card, and the cards of everything deleted
    with it, are shown again without the text that is gone (a card being posted meanwhile is
    waited for: its lock)."""
    post_ids = await run_transaction(bot, lambda s: purge.reported_posts_of(s, post_id=post_id))
    for reported in post_ids:
        await show_card(bot, guild_id, reported, existing_only=True)


# --------------------------------------------------------------------------- the card's buttons


def report_card_view(state: reports.CardState) -> discord.ui.View:
    """The card's buttons, each a ``DynamicItem`` carrying the post id (they survive a
    restart). The one place the card's actions are assembled."""
    view = discord.ui.View(timeout=None)
    for item in post_action_items(state.post.id, removed=state.post.hidden):
        view.add_item(item)
    view.add_item(DismissReports(state.post.id, disabled=not state.open_reports))
    return view


class DismissReports(ModeratorButton, template=r"qa:rdismiss:(?P<id>[0-9]{1,20})"):
    """Dismiss: every open report on the post is dismissed and the card shows it."""

    REFUSAL = NOT_A_MODERATOR

    def button(self, target_id: int) -> discord.ui.Button[discord.ui.View]:
        return discord.ui.Button(
            label="Dismiss",
            style=discord.ButtonStyle.secondary,
            custom_id=f"qa:rdismiss:{target_id}",
        )

    async def act(self, interaction: discord.Interaction[Any], actor: Acting) -> None:
        bot, post_id = bot_of(interaction), self.target_id
        state = await run_transaction(
            bot,
            lambda s: reports.dismiss_reports(
                s, guild_id=actor.guild.id, post_id=post_id, moderator_id=actor.actor.member_id
            ),
        )
        if state.shown_again:
            bot.status_lines.request(state.post.question_id)
        await interaction.response.edit_message(
            embed=report_card(state), view=report_card_view(state), allowed_mentions=NO_PINGS
        )


#: The card's buttons, registered by the cog so that they work after a restart.
CARD_BUTTONS: Final = (DismissReports,)
