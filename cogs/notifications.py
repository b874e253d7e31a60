"""DM notifications: ``/notifications``, ``/follow``, ``/unfollow``, and waking the worker.

- **The worker** (``bot/workers/notifier.py``) is the bot's own (started and stopped with it).
  Answers and comments (the answering cog's ``qa_thread_message``) and every completed command
  (an accept) wake it, so a DM goes out within a second of the event that queued it; otherwise
  it polls.
- **/notifications mode:on|off preview:full|no-text|minimal**: the member's DMs from the bot,
  on by default; off queues nothing for them. ``preview`` is what every DM shows: everything,
  no text (what happened and in which server), or minimal (what happened); either option or
  both. It works in servers and in the DM with the bot.
- **/follow** and **/unfollow** inside a question's thread: followers get the new-answer DMs
  too; the asker follows implicitly. Replies are ephemeral (a thread's member list is public,
  and following an anonymous question must not show who asked it).
- **DMs closed**: when a DM was refused (403 / 50007) nothing more is queued for the member
  until they next use any qa-bot command; then they are told once, ephemerally, after the
  command's own reply, and the marker clears.
- **Bans** (the moderation intent): a banned member's follows in that server end and their
  waiting DMs about it are dropped (``departures.end_membership``); the worker knows at once, so
  nothing about the server reaches them. A member who simply left is found by the worker's member
  look-up at send time (there is no Server Members intent). An unban makes the worker ask again.
- The outbox's health is ``/qa status``, declared with the rest of ``/qa`` by ``cogs.admin``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

import discord
from discord import app_commands
from discord.ext import commands

from bot.feature_cog import Interaction
from bot.forum import departures, prefs, purge
from bot.transactions import run_read, run_transaction
from bot.ui import embeds
from bot.ui.dms import DM_ABOUT_DELETED
from bot.ui.mentions import NO_PINGS

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)


ON: Final = (
    "DM notifications are **on**: you get a DM when your questions (and the questions "
    "you follow) get answers, and when your answer is accepted."
)
OFF: Final = (
    "DM notifications are **off**: the bot sends you no DMs. Turn them back on with "
    "`/notifications mode:on`."
)
#: The reply to ``/notifications preview:``, per preview.
PREVIEWS: Final = {
    "full": "Your DMs show the question's title and an excerpt of the answer.",
    "no-text": "Your DMs show no text: only what happened, in which server, and a link.",
    "minimal": "Your DMs show only what happened and a link: no text, no server name.",
}
#: The reply to ``/follow`` (True) and ``/unfollow`` (False), by whether it changed anything.
FOLLOW_REPLIES: Final = {
    (True, True): "You now follow this question: new answers come to you as DMs.",
    (True, False): "You already follow this question.",
    (False, True): "You no longer follow this question.",
    (False, False): "You were not following this question.",
}
ASKER_FOLLOWS: Final = "You asked this question, so you already hear about its answers."
DMS_OFF_NOTE: Final = (
    "Your DM notifications are off, so nothing will reach you: turn them on with "
    "`/notifications mode:on`."
)
DMS_CLOSED_NOTICE: Final = (
    "The bot could not send you a DM: your DMs are closed to it (or you blocked it), so "
    "notifications about your questions and answers did not reach you. To get them, allow "
    "direct messages from members of this server (its Privacy Settings); to stop them, use "
    "`/notifications mode:off`. Until then, check your threads for new answers."
)


class Notifications(commands.Cog):
    def __init__(self, bot: QABot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_qa_post_deleted(self, guild_id: int, post_id: int) -> None:
        """The DMs about a deleted post no longer show its text (best effort: Discord may
        refuse, e.g. a DM the member deleted)."""
        sent = await run_transaction(self.bot, lambda s: purge.sent_dms_about(s, post_id=post_id))
        for channel_id, message_id in sent:
            message = self.bot.get_partial_messageable(channel_id).get_partial_message(message_id)
            try:
                await message.edit(
                    content=DM_ABOUT_DELETED, embeds=[], view=None, allowed_mentions=NO_PINGS
                )
            except discord.HTTPException as exc:
                log.info(
                    "could not edit DM %s about deleted post %s (status %s)",
                    message_id,
                    post_id,
                    exc.status,
                )
        if sent:
            log.info("DMs about deleted post %s in guild %s: %d", post_id, guild_id, len(sent))

    # ------------------------------------------------------------------ /notifications

    @app_commands.command(
        name="notifications",
        description="Turn the bot's DMs to you on or off, or make them private",
    )
    @app_commands.describe(
        mode="on: DMs about answers to your questions; off: no DMs at all",
        preview="full: title and excerpt; no-text: only the server and a link; minimal: a link",
    )
    @app_commands.choices(
        mode=[app_commands.Choice(name=v, value=v) for v in ("on", "off")],
        preview=[app_commands.Choice(name=v, value=v) for v in prefs.DM_PREVIEWS],
    )
    async def notifications(
        self,
        interaction: Interaction,
        mode: app_commands.Choice[str] | None = None,
        preview: app_commands.Choice[str] | None = None,
    ) -> None:
        on = None if mode is None else mode.value == "on"
        shown = None if preview is None else preview.value
        user_id = interaction.user.id
        now = await run_transaction(
            self.bot,
            lambda s: prefs.set_dm_options(s, user_id, notifications=on, preview=shown),
        )
        log.info(
            "notifications %s, preview %s (interaction %s)",
            "on" if now.notifications else "off",
            now.dm_preview,
            interaction.id,
        )
        lines = [ON if now.notifications else OFF] if mode is not None else []
        if preview is not None:
            lines.append(PREVIEWS[now.dm_preview])
        await interaction.response.send_message(
            embed=embeds.success("\n".join(lines)), ephemeral=True, allowed_mentions=NO_PINGS
        )

    # ------------------------------------------------------------------ /follow, /unfollow

    @app_commands.command(name="follow", description="Get a DM when this question gets an answer")
    @app_commands.guild_only()
    async def follow(self, interaction: Interaction) -> None:
        await self._set_following(interaction, following=True)

    @app_commands.command(name="unfollow", description="Stop the DMs about this question")
    @app_commands.guild_only()
    async def unfollow(self, interaction: Interaction) -> None:
        await self._set_following(interaction, following=False)

    async def _set_following(self, interaction: Interaction, *, following: bool) -> None:
        guild_id, thread_id = interaction.guild_id, interaction.channel_id
        if guild_id is None or thread_id is None:
            raise app_commands.NoPrivateMessage()
        user_id = interaction.user.id
        result = await run_transaction(
            self.bot,
            lambda s: prefs.set_following(
                s, guild_id=guild_id, thread_id=thread_id, user_id=user_id, following=following
            ),
        )
        text = ASKER_FOLLOWS if result.asker else FOLLOW_REPLIES[following, result.changed]
        if following and not result.notifications:
            text = f"{text}\n{DMS_OFF_NOTE}"
        await interaction.response.send_message(
            embed=embeds.success(text), ephemeral=True, allowed_mentions=NO_PINGS
        )

    # ------------------------------------------------------------------ bans

    @commands.Cog.listener()
    async def on_member_ban(self, guild: discord.Guild, user: discord.abc.User) -> None:
        """No more DMs about the server for a banned member, and their follows there end; then
        ``qa_member_banned`` (guild id, user id, ``MembershipEnded``) is dispatched."""
        guild_id, user_id = guild.id, user.id
        self.bot.notifier.members.gone(guild_id, user_id)
        ended = await run_transaction(
            self.bot,
            lambda s: departures.end_membership(
                s, guild_id=guild_id, user_id=user_id, reason=departures.BANNED
            ),
        )
        # Counts only: who was banned is Discord's audit log's business, not this log's.
        log.info(
            "a ban in guild %s: %d follows ended, %d notifications dropped",
            guild_id,
            ended.follows_ended,
            ended.notifications_dropped,
        )
        self.bot.dispatch("qa_member_banned", guild_id, user_id, ended)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A member who writes in a server is one now: their next DM needs no member look-up."""
        author = message.author
        if message.guild is not None and isinstance(author, discord.Member) and not author.bot:
            self.bot.notifier.members.seen(message.guild.id, author.id)

    @commands.Cog.listener()
    async def on_member_unban(self, guild: discord.Guild, user: discord.User) -> None:
        """The worker asks Discord again before the next DM (the member may rejoin)."""
        self.bot.notifier.members.forget(guild.id, user.id)

    # ------------------------------------------------------------------ wake-ups, DMs closed

    @commands.Cog.listener()
    async def on_qa_thread_message(self, message: discord.Message, change: Any) -> None:
        """A thread message became (or already was) an answer or comment: its DMs are queued.

        That includes the echo of an answer the bot posted for /answer, whose modal submission
        completes no command."""
        if change is not None:
            self.bot.notifier.wake()

    @commands.Cog.listener()
    async def on_app_command_completion(
        self, interaction: Interaction, command: app_commands.Command[Any, ..., Any] | Any
    ) -> None:
        # A command may have queued notifications (an accept, /answer): send them now.
        self.bot.notifier.wake()
        await self._tell_if_dms_closed(interaction)

    async def _tell_if_dms_closed(self, interaction: Interaction) -> None:
        """Tell the member once, after their command's reply, that their DMs are closed."""
        response = interaction.response
        if response.type is discord.InteractionResponseType.modal:
            return  # a modal cannot be followed up: tell them at their next command
        user_id = interaction.user.id
        # A read (after every command): it neither waits for the writers' turn nor takes the
        # write lock; only a notice due is consumed in a writing transaction.
        current = await run_read(self.bot, lambda s: prefs.get_prefs(s, user_id))
        if not current.dms_closed:
            return
        if not await run_transaction(
            self.bot, lambda s: prefs.consume_dms_closed_notice(s, user_id)
        ):
            return
        embed = embeds.info(DMS_CLOSED_NOTICE)
        try:
            if response.is_done():
                await interaction.followup.send(
                    embed=embed, ephemeral=True, allowed_mentions=NO_PINGS
                )
            else:
                await response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.warning(
                "could not tell a member their DMs are closed (interaction %s, status %s)",
                interaction.id,
                exc.status,
            )
            return
        log.info("DMs-closed notice shown (interaction %s)", interaction.id)


async def setup(bot: QABot) -> None:
    await bot.add_cog(Notifications(bot))
