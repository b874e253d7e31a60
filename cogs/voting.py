"""Reaction votes: the guild's up and down emoji on a question or answer set the member's vote.

A thin adapter. Raw gateway events (``raw_reaction_add`` / ``_remove`` / ``_clear`` /
``_clear_emoji``), so reactions on messages the client never cached count too, become plain
gestures (``bot.forum.votes.Reaction`` / ``Clear``: the emoji as its id and name) handed to the
bot's vote writer (``bot.workers.vote_writer``) by inline handlers (``QABot.add_inline_handler``:
called as discord.py parses the event, with no task per event), so the writer sees them in the
order the gateway delivered them and a burst of reactions costs no task each. What a gesture
means is the domain's to say (``votes.apply_gestures``): votes are state per (post, member), so
a duplicated or RESUME-replayed event changes nothing; self-votes, votes on closed or deleted
posts and, while ``question_voting`` is off, votes on questions are stored but count nothing;
bots and members who erased their data are never stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.forum.votes import Clear, Emoji, Reaction

if TYPE_CHECKING:
    from bot.client import QABot


def _emoji(emoji: discord.PartialEmoji) -> Emoji:
    return Emoji(name=emoji.name, id=emoji.id)


class Voting(commands.Cog):
    """Turns reaction events into vote gestures for the bot's vote writer."""

    def __init__(self, bot: QABot) -> None:
        self.bot = bot

    def _is_bot(self, user_id: int, member: discord.Member | None) -> bool:
        if member is not None:
            return member.bot
        if self.bot.user is not None and user_id == self.bot.user.id:
            return True
        user = self.bot.get_user(user_id)
        return user is not None and user.bot

    def _reaction(self, payload: discord.RawReactionActionEvent, *, on: bool) -> None:
        # No await before ``submit``: the writer sees gestures in the order they arrived.
        if payload.guild_id is None or payload.burst:
            return
        member = payload.member
        self.bot.vote_writer.submit(
            Reaction(
                guild_id=payload.guild_id,
                channel_id=payload.channel_id,
                message_id=payload.message_id,
                user_id=payload.user_id,
                emoji=_emoji(payload.emoji),
                on=on,
                is_bot=self._is_bot(payload.user_id, member),
                display_name=member.display_name if member is not None else None,
            )
        )

    def _added(self, payload: discord.RawReactionActionEvent) -> None:
        self._reaction(payload, on=True)

    def _removed(self, payload: discord.RawReactionActionEvent) -> None:
        self._reaction(payload, on=False)

    def _cleared(self, payload: discord.RawReactionClearEvent) -> None:
        if payload.guild_id is None:
            return
        self.bot.vote_writer.submit(
            Clear(payload.guild_id, payload.channel_id, payload.message_id, None)
        )

    def _cleared_emoji(self, payload: discord.RawReactionClearEmojiEvent) -> None:
        if payload.guild_id is None:
            return
        self.bot.vote_writer.submit(
            Clear(payload.guild_id, payload.channel_id, payload.message_id, _emoji(payload.emoji))
        )

    def _handlers(self) -> dict[str, Callable[..., None]]:
        return {
            "raw_reaction_add": self._added,
            "raw_reaction_remove": self._removed,
            "raw_reaction_clear": self._cleared,
            "raw_reaction_clear_emoji": self._cleared_emoji,
        }

    async def cog_load(self) -> None:
        for event, handler in self._handlers().items():
            self.bot.add_inline_handler(event, handler)

    async def cog_unload(self) -> None:
        for event, handler in self._handlers().items():
            self.bot.remove_inline_handler(event, handler)


async def setup(bot: QABot) -> None:
    await bot.add_cog(Voting(bot))
