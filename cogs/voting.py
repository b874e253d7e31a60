"""Reaction votes: the guild's up and down emoji on a question or answer set the member's vote.

Raw gateway events (``on_raw_reaction_add`` / ``_remove`` / ``_clear`` / ``_clear_emoji``), so
reactions on messages the client never cached count too. What counts is the domain's to say
(``bot.forum.votes``, ``bot.forum.points``): votes are state per (post, member), so a duplicated
or RESUME-replayed event changes nothing; self-votes, votes on closed or deleted posts and,
while ``question_voting`` is off, votes on questions are stored but count nothing; bots and
members who erased their data are never stored.

One writer applies the gestures in the order the gateway delivered them (the listeners only
enqueue, before their first ``await``), in short batches of one transaction each (group commit,
DESIGN.md section 1). Order matters: an add and a remove of one reaction must land in the order
they happened. After each batch: on a *named* post the bot removes the author's own vote
reaction (when it has Manage Messages there; on an anonymous post it never touches it, since the
public score counts it and removing it would single out the author), the question's status line
is refreshed, and members whose public points moved are announced for their point roles.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

import discord
from discord.ext import commands

from bot.forum import leaderboard, votes
from bot.forum.lookups import find_post_by_message
from bot.forum.results import ReconcileResult, VoteResult
from bot.forum.settings import GuildConfig
from bot.guilds import guild_config
from bot.transactions import run_transaction
from cogs.profiles import announce_points_changed

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)

VoteFlag = Literal["up", "down"]
#: The domain's session, passed through untouched (cogs import no database layer).
Session = Any

#: Gestures applied in one transaction at most.
BATCH_SIZE: Final = 64
#: Emoji presentation selector: "👍" and "👍️" are the same reaction to a member.
_VARIATION_SELECTOR: Final = "\ufe0f"
_CUSTOM_EMOJI: Final = re.compile(r"<a?:[A-Za-z0-9_]{1,32}:([0-9]{1,20})>")


# --------------------------------------------------------------------------- emoji


def _plain(name: str) -> str:
    return name.replace(_VARIATION_SELECTOR, "")


def emoji_matches(emoji: discord.PartialEmoji, configured: str) -> bool:
    """Whether a reaction's emoji is the configured one (a unicode emoji or ``<:name:id>``).

    A custom emoji is matched by id (it may be renamed), a unicode one by its characters.
    """
    custom = _CUSTOM_EMOJI.fullmatch(configured.strip())
    if custom is not None:
        return emoji.id == int(custom.group(1))
    return emoji.id is None and _plain(emoji.name or "") == _plain(configured.strip())


def vote_flag(emoji: discord.PartialEmoji, config: GuildConfig) -> VoteFlag | None:
    """Which vote flag a reaction emoji sets in this guild, None for any other emoji."""
    if emoji_matches(emoji, config.vote_up_emoji):
        return "up"
    if emoji_matches(emoji, config.vote_down_emoji):
        return "down"
    return None


# --------------------------------------------------------------------------- gestures


@dataclass(frozen=True, slots=True)
class Reaction:
    """A member added (``on``) or removed a reaction."""

    guild_id: int
    channel_id: int
    message_id: int
    user_id: int
    emoji: discord.PartialEmoji
    on: bool
    is_bot: bool
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class Clear:
    """Every reaction (``emoji`` None) or every reaction of one emoji was removed."""

    guild_id: int
    channel_id: int
    message_id: int
    emoji: discord.PartialEmoji | None


Gesture = Reaction | Clear


@dataclass(frozen=True, slots=True)
class SetVote:
    gesture: Reaction
    flag: VoteFlag


@dataclass(frozen=True, slots=True)
class ClearVotes:
    gesture: Clear
    up: bool
    down: bool


Op = SetVote | ClearVotes


@dataclass(frozen=True, slots=True)
class Applied:
    """An operation and what the domain made of it (None: the message is no post)."""

    op: Op
    result: VoteResult | ReconcileResult | None
    # Members whose stored vote the operation changed (for vote-cast points).
    voters: frozenset[int] = frozenset()


def plan(gesture: Gesture, config: GuildConfig) -> Op | None:
    """The vote operation a gesture means in this guild, None when it is no vote gesture."""
    if isinstance(gesture, Reaction):
        flag = vote_flag(gesture.emoji, config)
        return None if flag is None else SetVote(gesture, flag)
    if gesture.emoji is None:
        return ClearVotes(gesture, up=True, down=True)
    flag = vote_flag(gesture.emoji, config)
    if flag is None:
        return None
    return ClearVotes(gesture, up=flag == "up", down=flag == "down")


async def _apply(session: Session, op: Op) -> Applied:
    """One operation inside the caller's transaction."""
    g = op.gesture
    if isinstance(op, SetVote):
        assert isinstance(g, Reaction)
        result = await votes.set_vote(
            session,
            user_id=g.user_id,
            flag=op.flag,
            on=g.on,
            message_id=g.message_id,
            is_bot=g.is_bot,
        )
        changed = result is not None and result.changed
        return Applied(op, result, frozenset({g.user_id}) if changed else frozenset())
    post = await find_post_by_message(session, message_id=g.message_id)
    before = {} if post is None else await votes.voters(session, post_id=post.id)
    reconciled = await votes.reconcile_votes(
        session,
        message_id=g.message_id,
        up_user_ids=() if op.up else None,
        down_user_ids=() if op.down else None,
    )
    return Applied(op, reconciled, frozenset(before))


async def apply_batch(session: Session, ops: Sequence[Op]) -> list[Applied]:
    """Apply operations in order in one transaction, then remember the voters' names."""
    applied = [await _apply(session, op) for op in ops]
    names: defaultdict[int, dict[int, str]] = defaultdict(dict)
    for item in applied:
        g = item.op.gesture
        if item.result is not None and isinstance(g, Reaction) and g.display_name and g.on:
            names[g.guild_id][g.user_id] = g.display_name
    for guild_id, seen in sorted(names.items()):
        await leaderboard.remember_display_names(session, guild_id=guild_id, names=seen)
    return applied


def _batch_of(ops: Sequence[Op]) -> Callable[[Session], Awaitable[list[Applied]]]:
    async def work(session: Session) -> list[Applied]:
        return await apply_batch(session, ops)

    return work


# --------------------------------------------------------------------------- the writer


class VoteWriter:
    """Applies queued gestures in arrival order, a batch per transaction, then their effects."""

    def __init__(self, bot: QABot, *, batch_size: int = BATCH_SIZE) -> None:
        self.bot = bot
        self.batch_size = batch_size
        self._queue: asyncio.Queue[Gesture] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._effects: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="vote writer")

    def submit(self, gesture: Gesture) -> None:
        """Queue a gesture (synchronous, so gestures keep the order they arrived in)."""
        self._queue.put_nowait(gesture)

    async def idle(self) -> None:
        """Until every queued gesture is applied and its effects (REST calls) are done."""
        while True:
            await self._queue.join()
            if not self._effects:
                return
            await asyncio.gather(*list(self._effects), return_exceptions=True)

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        effects = list(self._effects)
        for effect in effects:
            effect.cancel()
        await asyncio.gather(*effects, return_exceptions=True)
        if not self._queue.empty():
            # Reconciliation after the restart re-reads these messages' reactions.
            log.info("vote writer stopped with %d gestures unapplied", self._queue.qsize())

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.batch_size and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._process(batch)
            except Exception:
                log.exception("vote batch of %d gestures failed", len(batch))
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _process(self, batch: list[Gesture]) -> None:
        configs: dict[int, GuildConfig] = {}
        for guild_id in sorted({g.guild_id for g in batch}):
            configs[guild_id] = await guild_config(self.bot, guild_id)
        ops = [op for g in batch if (op := plan(g, configs[g.guild_id])) is not None]
        if not ops:
            return
        # Only one message's gestures must keep their order; grouping by message (a stable
        # sort) keeps that and takes each post's row lock once.
        ops.sort(key=lambda op: op.gesture.message_id)
        try:
            applied = await run_transaction(self.bot, _batch_of(ops))
        except Exception:
            log.warning(
                "a vote batch of %d failed; applying it one by one", len(ops), exc_info=True
            )
            applied = []
            for op in ops:
                try:
                    applied.extend(await run_transaction(self.bot, _batch_of([op])))
                except Exception:
                    log.exception(
                        "vote gesture on message %s in guild %s failed",
                        op.gesture.message_id,
                        op.gesture.guild_id,
                    )
        self._after(applied, configs)

    # ------------------------------------------------------------------ effects

    def _after(self, applied: list[Applied], configs: dict[int, GuildConfig]) -> None:
        questions: set[int] = set()
        points: defaultdict[int, set[int]] = defaultdict(set)
        for item in applied:
            result = item.result
            if result is None:
                continue
            g = item.op.gesture
            config = configs[g.guild_id]
            if isinstance(result, VoteResult):
                assert isinstance(g, Reaction)
                if g.on and g.user_id == result.post.author_id and not result.post.anonymous:
                    self._spawn(self._remove_self_vote(g))
                moved = result.changed
            else:
                moved = result.changed > 0
            if not moved:
                continue
            questions.add(result.question.id)
            if not result.post.anonymous:
                points[g.guild_id].add(result.post.author_id)
            if config.points_vote_cast:
                # The anonymous author's own vote earns nothing: leave them out.
                hidden = {result.post.author_id} if result.post.anonymous else set()
                points[g.guild_id].update(item.voters - hidden)
        for question_id in sorted(questions):
            self._refresh_status_line(question_id)
        for guild_id, user_ids in points.items():
            announce_points_changed(self.bot, guild_id, user_ids)

    def _refresh_status_line(self, question_id: int) -> None:
        status_lines = getattr(self.bot, "status_lines", None)
        if status_lines is None:
            return
        pending = status_lines.request(question_id)
        if inspect.isawaitable(pending):
            self._spawn(pending)

    def _spawn(self, work: Awaitable[Any]) -> None:
        async def run() -> None:
            await work

        task = asyncio.get_running_loop().create_task(run(), name="vote effect")
        self._effects.add(task)
        task.add_done_callback(self._effects.discard)

    def _can_manage_messages(self, guild_id: int, channel_id: int) -> bool | None:
        """Whether the bot has Manage Messages in the channel; None when it cannot tell."""
        guild = self.bot.get_guild(guild_id)
        if guild is None:
            return None
        channel = guild.get_channel_or_thread(channel_id)
        if channel is None:
            return None
        return channel.permissions_for(guild.me).manage_messages

    async def _remove_self_vote(self, g: Reaction) -> None:
        """Take a member's vote reaction off their own named post (it would count nothing)."""
        if self._can_manage_messages(g.guild_id, g.channel_id) is False:
            return
        channel = self.bot.get_partial_messageable(g.channel_id, guild_id=g.guild_id)
        message = channel.get_partial_message(g.message_id)
        try:
            await message.remove_reaction(g.emoji, discord.Object(id=g.user_id))
        except discord.NotFound:
            return
        except discord.HTTPException as exc:
            log.warning(
                "could not remove a self-vote on message %s in guild %s (status %s)",
                g.message_id,
                g.guild_id,
                exc.status,
            )
            return
        log.info("removed a self-vote on message %s in guild %s", g.message_id, g.guild_id)


# --------------------------------------------------------------------------- the cog


class Voting(commands.Cog):
    """Turns reaction events into vote gestures; the writer applies them."""

    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        self.writer = VoteWriter(bot)

    async def cog_load(self) -> None:
        self.writer.start()

    async def cog_unload(self) -> None:
        await self.writer.close()

    async def idle(self) -> None:
        """Until every gesture received so far is applied (tests; a draining shutdown)."""
        await self.writer.idle()

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
        self.writer.submit(
            Reaction(
                guild_id=payload.guild_id,
                channel_id=payload.channel_id,
                message_id=payload.message_id,
                user_id=payload.user_id,
                emoji=payload.emoji,
                on=on,
                is_bot=self._is_bot(payload.user_id, member),
                display_name=member.display_name if member is not None else None,
            )
        )

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        self._reaction(payload, on=True)

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        self._reaction(payload, on=False)

    @commands.Cog.listener()
    async def on_raw_reaction_clear(self, payload: discord.RawReactionClearEvent) -> None:
        if payload.guild_id is None:
            return
        self.writer.submit(Clear(payload.guild_id, payload.channel_id, payload.message_id, None))

    @commands.Cog.listener()
    async def on_raw_reaction_clear_emoji(
        self, payload: discord.RawReactionClearEmojiEvent
    ) -> None:
        if payload.guild_id is None:
            return
        self.writer.submit(
            Clear(payload.guild_id, payload.channel_id, payload.message_id, payload.emoji)
        )


async def setup(bot: QABot) -> None:
    await bot.add_cog(Voting(bot))
