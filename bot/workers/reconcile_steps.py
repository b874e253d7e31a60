"""The steps of a server's reconciliation run, in order (``STEPS``; ``bot.workers.reconciler``
says what each catches and its limits). Every Discord request goes through the run's budget."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import partial
from typing import cast

import discord

from bot.forum import deletion, edits, pending_posts, reaction_sync, reconcile
from bot.forum.reconcile import WindowThread
from bot.reaction_sync import ReactionTarget, RereadingBot, reread_reactions
from bot.rest import UNKNOWN_CHANNEL
from bot.ui.embeds import parse_footer_key
from bot.workers.reconcile_run import GuildRun, Step

log = logging.getLogger(__name__)

#: Messages per history page (Discord's maximum).
PAGE = 100
#: The bot's recent messages searched for a pending row's footer key.
RECENT = 50
#: Requests a run's reaction re-read may make (its own allowance, beside the run's budget).
REREAD_BUDGET = 500


async def list_threads(run: GuildRun) -> None:
    """The forum's threads: the guild's active ones and the forum's newest archived ones."""
    forum_id = run.config.forum_channel_id
    forum = run.guild.get_channel(forum_id) if forum_id else None
    if not isinstance(forum, discord.ForumChannel):
        return
    active = await run.budget.call(run.guild.active_threads)
    archived = await run.budget.call(
        lambda: _collect(forum.archived_threads(limit=PAGE))  # one page
    )
    for thread in [*active, *archived]:
        if thread.parent_id == forum.id:
            run.threads[thread.id] = thread


async def _collect(threads: AsyncIterator[discord.Thread]) -> list[discord.Thread]:
    return [t async for t in threads]


async def adopt_threads(run: GuildRun) -> None:
    """Threads created in the forum while the bot was away become questions (native posts);
    the bot's own unknown threads are kept for the pending /ask rows."""
    ids = list(run.threads)
    known = await run.runner.run(lambda s: reconcile.known_threads(s, ids))
    me = run.guild.me.id if run.guild.me is not None else None
    for thread in [run.threads[i] for i in sorted(set(ids) - known)]:
        if thread.owner_id == me:
            run.own_threads.append(thread)
        elif run.adopt is not None:
            starter = await _starter(run, thread)
            if starter is not None:
                await run.adopt(thread, starter)


async def _starter(run: GuildRun, thread: discord.Thread) -> discord.Message | None:
    try:
        return await run.budget.call(lambda: thread.fetch_message(thread.id))
    except discord.NotFound:
        return None


async def complete_pending(run: GuildRun) -> None:
    """Pending rows of an earlier process: confirmed from the bot's message that carries their
    footer key, else discarded (they never counted and no longer count toward a limit)."""
    rows = await run.runner.run(
        lambda s: reconcile.orphan_pending(s, run.guild.id, before=run.started_at)
    )
    if not rows:
        return
    found: dict[int, tuple[int, int | None]] = {}  # post id -> (message id, thread id)
    for thread in run.own_threads:
        starter = await _starter(run, thread)
        key = _own_key(run, starter)
        if starter is not None and key is not None:
            found[key] = (starter.id, thread.id)
    for thread_id in sorted({r.thread_id for r in rows if r.thread_id is not None}):
        channel = run.channel(thread_id)
        recent = await run.budget.call(partial(_page, channel.history(limit=RECENT)))
        for message in recent:
            key = _own_key(run, message)
            if key is not None:
                found[key] = (message.id, None)
    for row in rows:
        await _settle_pending(run, row.post_id, row.kind, found.get(row.post_id))


def _own_key(run: GuildRun, message: discord.Message | None) -> int | None:
    """The footer key of a message the bot itself sent (anyone can write a footer-like text)."""
    me = run.guild.me
    if message is None or me is None or message.author.id != me.id:
        return None
    return next((k for e in message.embeds if (k := parse_footer_key(e)) is not None), None)


async def _settle_pending(
    run: GuildRun, post_id: int, kind: str, found: tuple[int, int | None] | None
) -> None:
    if found is None or (kind == "question") != (found[1] is not None):
        await run.runner.run(lambda s: pending_posts.discard_pending_post(s, post_id=post_id))
        return
    message_id, thread_id = found
    change = await run.runner.run(
        lambda s: pending_posts.confirm_post(
            s, post_id=post_id, message_id=message_id, thread_id=thread_id
        )
    )
    log.info("pending post %s completed in guild %s", post_id, run.guild.id)
    run.status_lines.request(change.question.id)


async def _page(messages: AsyncIterator[discord.Message]) -> list[discord.Message]:
    return [m async for m in messages]


async def catch_up(run: GuildRun) -> None:
    """The window's threads: the messages after each high-water mark go through the live path.
    A thread Discord lists with its last message at the mark costs no request."""
    if run.ingest is None:
        return
    run.window = await run.runner.run(
        lambda s: reconcile.window_questions(s, run.guild.id, window_days=run.window_days)
    )
    for question in run.window:
        listed = run.threads.get(question.thread_id)
        if listed is not None and (listed.last_message_id or 0) <= question.high_water:
            continue
        await _catch_up_thread(run, question)


async def _catch_up_thread(run: GuildRun, question: WindowThread) -> None:
    assert run.ingest is not None
    channel = run.channel(question.thread_id)
    mark = question.high_water
    missed = False
    while True:
        after = discord.Object(mark)
        try:
            page = await run.budget.call(
                partial(_page, channel.history(limit=PAGE, after=after, oldest_first=True))
            )
        except discord.NotFound as exc:
            if exc.code == UNKNOWN_CHANNEL:  # deleted while the bot was away: no event comes
                run.client.dispatch("qa_found_gone", run.guild.id, question.thread_id, None)
            return
        except discord.Forbidden as exc:  # 50001: access lost, the thread is still there
            log.warning(
                "thread %s of question %s not caught up (status %s, code %s)",
                question.thread_id,
                question.question_id,
                exc.status,
                exc.code,
            )
            return
        for message in page:
            await run.ingest(message)
            run.scanned.append(message)
            if not message.author.bot:
                run.messages_backfilled += 1
            missed = True
        if page:
            mark = max(m.id for m in page)
            await run.runner.run(
                partial(
                    reconcile.advance_high_water, question_id=question.question_id, message_id=mark
                )
            )
        if len(page) < PAGE:
            break
    if missed and question.high_water > question.starter_id:
        await run.runner.run(
            lambda s: reconcile.mark_repage(s, question.question_id, question.high_water)
        )


async def repage(run: GuildRun) -> None:
    """Earlier messages of the threads that missed some, re-paged up to the old mark: a stored
    post whose message is gone is deleted, one whose text changed is edited."""
    due = await run.runner.run(lambda s: reconcile.repages_due(s, run.guild.id))
    window = {q.question_id: q for q in run.window}
    for question_id, through in sorted(due.items()):
        question = window.get(question_id)
        if question is not None:
            await _repage_thread(run, question, through)
        await run.runner.run(partial(reconcile.repaged, question_ids=[question_id]))


async def _repage_thread(run: GuildRun, question: WindowThread, through: int) -> None:
    channel = run.channel(question.thread_id)
    held: dict[int, str] = {}
    mark = question.starter_id
    while mark < through:
        after = discord.Object(mark)
        page = await run.budget.call(
            partial(_page, channel.history(limit=PAGE, after=after, oldest_first=True))
        )
        held.update((m.id, m.content) for m in page if m.id <= through)
        if len(page) < PAGE:
            break
        mark = max(m.id for m in page)
    stored = await run.runner.run(lambda s: reconcile.stored_messages(s, question.question_id))
    changed = False
    for post in [p for p in stored if p.message_id <= through]:
        message_id = post.message_id
        if message_id not in held:
            await run.runner.run(partial(deletion.delete_message, message_id=message_id))
            changed = True
        elif not post.via_bot and held[message_id] != post.body:
            await run.runner.run(
                partial(edits.edit_message, message_id=message_id, body=held[message_id])
            )
    if changed:
        run.status_lines.request(question.question_id)


async def reread_votes(run: GuildRun) -> None:
    """The window's posts, most recently active first: stored votes made equal to the countable
    reactions Discord shows (``bot.reaction_sync``), the messages already paged reused. Reading
    a post's counts costs a request unless its message was paged, so the re-read has its own
    allowance (``REREAD_BUDGET`` requests a run, logged on its own line) instead of spending the
    run's budget for messages; what it cannot reach waits for the next new session."""
    since = run.started_at - timedelta(days=run.window_days)
    guild_id = run.guild.id
    voted = await run.runner.run(
        lambda s: reaction_sync.recent_voted_messages(
            s, guild_ids=[guild_id], since=since, limit=REREAD_BUDGET
        )
    )
    held = {message.id: message for message in run.scanned}
    targets = [
        ReactionTarget(v.guild_id, v.thread_id, v.message_id, held.get(v.message_id)) for v in voted
    ]
    done = await reread_reactions(cast(RereadingBot, run.client), targets, budget=REREAD_BUDGET)
    run.votes_backfilled += done.votes_backfilled


#: The steps of a server's run, in order.
STEPS: tuple[tuple[str, Step], ...] = (
    ("list threads", list_threads),
    ("adopt threads", adopt_threads),
    ("complete pending rows", complete_pending),
    ("catch up messages", catch_up),
    ("re-page earlier messages", repage),
    ("re-read vote reactions", reread_votes),
)
