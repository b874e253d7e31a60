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

A post the budget cannot finish is left for the next run (``ReactionReread.remaining``). Every
request is bounded by ``timeout``; a post Discord no longer has, or the bot cannot read, is
skipped. Logs carry ids and counts only.

Until the reconciliation worker (issue 19, item 1) calls ``reread_reactions`` itself,
``start_reaction_reread`` runs it in the background when a shard's session is new
(``QABot.on_shard_ready``; never on a RESUME, which replays the missed reactions): the posts of
questions active in the last ``REREAD_WINDOW``, within ``REREAD_BUDGET`` requests. The rest (the
window's remainder beyond the budget, older posts) is not re-read.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final, Protocol

import discord
from discord.message import convert_emoji_reaction

from bot.clock import utc_now
from bot.forum import reaction_sync
from bot.forum.reaction_sync import VoteTally
from bot.forum.votes import Emoji, emoji_matches
from bot.transactions import TransactionRunner, run_transaction
from bot.workers.status_lines import StatusLines

log = logging.getLogger(__name__)

#: Users per page of ``GET .../reactions/{emoji}`` (Discord's maximum).
PAGE_SIZE: Final = 100
#: Seconds one request may take.
REQUEST_TIMEOUT: Final = 10.0
#: Questions active this recently have their posts' reactions re-read on a new session.
REREAD_WINDOW: Final = timedelta(days=14)
#: Requests one re-read on a new session may make; posts most recently active first.
REREAD_BUDGET: Final = 500
#: Re-reads running in the background (kept referenced until they end).
_running: set[asyncio.Task[None]] = set()


class RereadingBot(Protocol):
    """What a re-read needs of the bot (``QABot`` has it)."""

    @property
    def transaction_runner(self) -> TransactionRunner: ...

    @property
    def status_lines(self) -> StatusLines: ...

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
    a run's budget can list is not carried from run to run for ever."""
    first = done.requests_used == 0
    fetch = 0 if target.message is not None else 1
    if fetch > budget:
        return False
    message = await _message(bot, target)
    done.requests_used += fetch
    # The stored votes read after Discord's counts: a live vote applied in between makes them
    # differ (and the post re-read), never hides a difference.
    fresh = await run_transaction(
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
    synced = await run_transaction(
        bot,
        lambda s: reaction_sync.sync_reactions(
            s, post_id=tally.post_id, up_user_ids=up_users, down_user_ids=down_users
        ),
    )
    if synced is not None and synced.changed:
        done.votes_backfilled += synced.changed
        bot.status_lines.request(synced.question_id)
    return True


async def reread_reactions(
    bot: RereadingBot, targets: Sequence[ReactionTarget], *, budget: int
) -> ReactionReread:
    """Make stored votes equal the countable reactions Discord shows on ``targets``, within
    ``budget`` requests (see the module docstring). Targets that are no live post are dropped;
    those the budget cannot reach are returned in ``remaining``."""
    done = ReactionReread()
    tallies = await run_transaction(
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


async def reread_recent_reactions(bot: RereadingBot, guild_ids: Sequence[int]) -> ReactionReread:
    """Re-read the reactions of the posts of questions active within ``REREAD_WINDOW`` in these
    guilds, within ``REREAD_BUDGET`` requests."""
    since = utc_now() - REREAD_WINDOW
    voted = await run_transaction(
        bot,
        lambda s: reaction_sync.recent_voted_messages(
            s, guild_ids=guild_ids, since=since, limit=REREAD_BUDGET
        ),
    )
    targets = [ReactionTarget(v.guild_id, v.thread_id, v.message_id) for v in voted]
    return await reread_reactions(bot, targets, budget=REREAD_BUDGET)


def start_reaction_reread(bot: RereadingBot, shard_id: int) -> None:
    """Re-read in the background the reactions of the guilds of a shard whose session is new
    (see the module docstring); a failure is logged, never raised."""
    guild_ids = [g.id for g in bot.guilds if g.shard_id == shard_id]

    async def reread() -> None:
        try:
            await reread_recent_reactions(bot, guild_ids)
        except Exception as exc:  # the bot may be closing: the next new session re-reads
            log.warning("reactions of shard %s not re-read (%s)", shard_id, type(exc).__name__)

    task = asyncio.get_running_loop().create_task(reread(), name=f"reaction re-read {shard_id}")
    _running.add(task)
    task.add_done_callback(_running.discard)


async def wait_rereads() -> None:
    """Until the re-reads started on new sessions so far have ended (tests; a clean stop)."""
    while _running:
        await asyncio.gather(*list(_running), return_exceptions=True)
