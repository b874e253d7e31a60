"""Re-read the vote reactions of posts from Discord, so stored votes equal what members see.

Reconciliation calls ``reread_reactions`` with the posts active in its window (each a
``ReactionTarget``: guild, thread, message; with the ``discord.Message`` when it already holds
it, which saves a request) and its remaining request budget. For each post, within the budget:

1. The message's reaction counts (one ``GET`` of the message unless it was given) are compared
   with the stored votes (``bot.forum.reaction_sync.vote_tallies``): normal reactions only
   (``count_details.normal``; super reactions count nothing), the bot's own reaction left out.
   Equal counts: skipped, no further request.
2. Otherwise the members behind each vote emoji are paged (``GET
   /channels/{c}/messages/{m}/reactions/{emoji}?type=0``, 100 a page, bots left out) and the
   post's votes set to them in one transaction (``reaction_sync.sync_reactions``, the live vote
   path's rules and ledger); a question whose score moved gets its status line refreshed.
   Members who react live while the post is being read keep what the live path gives them
   (``VoteWriter.watch``): Discord's listing may predate their gesture.

A post the budget cannot finish is left for the next run (``ReactionReread.remaining``). Every
request is bounded by ``timeout``; a post Discord no longer has, or the bot cannot read, is
skipped. Logs carry ids and counts only.

The reconciliation worker calls it as one of its steps when a shard's session is new (never on a
RESUME, which replays the missed reactions): ``bot.workers.reconcile_steps.reread_votes``. Posts
outside the window are not re-read.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

import discord
from discord.message import convert_emoji_reaction

from bot.forum import reaction_sync
from bot.forum.reaction_sync import VoteTally
from bot.forum.votes import Emoji, emoji_matches
from bot.transactions import TransactionRunner, run_read, run_write
from bot.workers.status_lines import StatusLines
from bot.workers.vote_writer import LiveGestures, VoteWriter

log = logging.getLogger(__name__)

#: Users per page of ``GET .../reactions/{emoji}`` (Discord's maximum).
PAGE_SIZE: Final = 100
#: Seconds one request may take.
REQUEST_TIMEOUT: Final = 10.0


class RereadingBot(Protocol):
    """What a re-read needs of the bot (``QABot`` has it)."""

    @property
    def transaction_runner(self) -> TransactionRunner: ...

    @property
    def status_lines(self) -> StatusLines: ...

    @property
    def vote_writer(self) -> VoteWriter: ...

    @property
    def http(self) -> discord.http.HTTPClient: ...

    @property
    def guilds(self) -> Sequence[discord.Guild]: ...

    def get_partial_messageable(
        self, id: int, *, guild_id: int | None = None, type: discord.ChannelType | None = None
    ) -> discord.PartialMessageable: ...


@dataclass(frozen=True, slots=True)
class ReactionTarget:
    """A post's message to re-read; ``message`` when the caller already fetched it."""

    guild_id: int
    channel_id: int
    message_id: int
    message: discord.Message | None = None


@dataclass(slots=True)
class ReactionReread:
    """One re-read: votes rewritten, requests made, posts skipped as unchanged, and the targets
    the budget left for the next run."""

    votes_backfilled: int = 0
    requests_used: int = 0
    skipped: int = 0
    remaining: list[ReactionTarget] = field(default_factory=list)


def _normal_count(message: discord.Message, configured: str) -> tuple[discord.Reaction | None, int]:
    """The message's reaction with the configured emoji and its members' normal reactions (the
    bot's own left out)."""
    for reaction in message.reactions:
        emoji = reaction.emoji
        if isinstance(emoji, str):
            plain = Emoji(name=emoji)
        else:
            plain = Emoji(name=emoji.name or "", id=emoji.id)
        if emoji_matches(plain, configured):
            return reaction, reaction.normal_count - (1 if reaction.me else 0)
    return None, 0


async def _members(
    bot: RereadingBot, message: discord.Message, reaction: discord.Reaction
) -> tuple[set[int], int]:
    """The members (not bots) behind a reaction's normal reactions, and the pages read (to the
    last one, also when reactions were added since the count was read)."""
    emoji = convert_emoji_reaction(reaction)
    users: set[int] = set()
    after: int | None = None
    pages = 0
    while True:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            page = await bot.http.get_reaction_users(
                message.channel.id,
                message.id,
                emoji,
                PAGE_SIZE,
                after=after,
                type=discord.ReactionType.normal.value,
            )
        pages += 1
        users.update(int(u["id"]) for u in page if not u.get("bot", False))
        if len(page) < PAGE_SIZE:
            return users, pages
        after = int(page[-1]["id"])


def _pages(count: int) -> int:
    return max(1, math.ceil((count + 1) / PAGE_SIZE))


async def _message(bot: RereadingBot, target: ReactionTarget) -> discord.Message:
    if target.message is not None:
        return target.message
    channel = bot.get_partial_messageable(target.channel_id, guild_id=target.guild_id)
    async with asyncio.timeout(REQUEST_TIMEOUT):
        return await channel.fetch_message(target.message_id)


async def _reread_one(
    bot: RereadingBot, target: ReactionTarget, tally: VoteTally, budget: int, done: ReactionReread
) -> bool:
    """Re-read one post within ``budget`` requests; False when the budget cannot finish it.

    The first post of a run is finished whatever it costs, so a post with more reactions than
    a run's budget can list is not carried from run to run for ever. Members who react live
    while the post is being read keep the vote the live path gives them (Discord's answer may
    predate their gesture); a reaction clear meanwhile leaves the post to the live path."""
    with bot.vote_writer.watch(target.message_id) as live:
        return await _reread_watched(bot, target, tally, budget, done, live)


async def _reread_watched(
    bot: RereadingBot,
    target: ReactionTarget,
    tally: VoteTally,
    budget: int,
    done: ReactionReread,
    live: LiveGestures,
) -> bool:
    first = done.requests_used == 0
    fetch = 0 if target.message is not None else 1
    if fetch > budget:
        return False
    message = await _message(bot, target)
    done.requests_used += fetch
    # The stored votes read after Discord's counts: a live vote applied in between makes them
    # differ (and the post re-read), never hides a difference.
    fresh = await run_read(
        bot, lambda s: reaction_sync.vote_tallies(s, message_ids=[target.message_id])
    )
    tally = fresh.get(target.message_id, tally)
    up, ups = _normal_count(message, tally.up_emoji)
    down, downs = _normal_count(message, tally.down_emoji)
    if (ups, downs) == (tally.ups, tally.downs):
        done.skipped += 1
        return True
    needed = (_pages(ups) if up else 0) + (_pages(downs) if down else 0)
    if needed > budget - fetch and not first:
        return False
    up_users: set[int] = set()
    down_users: set[int] = set()
    if up is not None:
        up_users, pages = await _members(bot, message, up)
        done.requests_used += pages
    if down is not None:
        down_users, pages = await _members(bot, message, down)
        done.requests_used += pages
    if live.cleared:
        done.skipped += 1
        return True
    # ``live.users`` itself: the domain reads it once the post is locked, so a gesture the
    # vote writer applied before the sync is always among the members kept.
    synced = await run_write(
        bot,
        lambda s: reaction_sync.sync_reactions(
            s,
            post_id=tally.post_id,
            up_user_ids=up_users,
            down_user_ids=down_users,
            keep_user_ids=live.users,
        ),
    )
    if synced is not None and synced.changed:
        done.votes_backfilled += synced.changed
        bot.status_lines.request(synced.question.id)
    return True


async def reread_reactions(
    bot: RereadingBot, targets: Sequence[ReactionTarget], *, budget: int
) -> ReactionReread:
    """Make stored votes equal the countable reactions Discord shows on ``targets``, within
    ``budget`` requests (see the module docstring). Targets that are no live post are dropped;
    those the budget cannot reach are returned in ``remaining``."""
    done = ReactionReread()
    tallies = await run_read(
        bot,
        lambda s: reaction_sync.vote_tallies(s, message_ids=[t.message_id for t in targets]),
    )
    for index, target in enumerate(targets):
        tally = tallies.get(target.message_id)
        if tally is None:
            continue
        try:
            finished = await _reread_one(bot, target, tally, budget - done.requests_used, done)
        except (discord.HTTPException, TimeoutError) as exc:
            done.requests_used += 1
            log.warning(
                "reactions of message %s in guild %s not re-read (%s)",
                target.message_id,
                target.guild_id,
                type(exc).__name__,
            )
            continue
        if not finished:
            done.remaining = [t for t in targets[index:] if t.message_id in tallies]
            break
    log.info(
        "reactions re-read: %d posts, %d skipped, %d votes back-filled, %d requests, %d left",
        len(tallies),
        done.skipped,
        done.votes_backfilled,
        done.requests_used,
        len(done.remaining),
    )
    return done
