"""``qa-bot import-q2a --guild ID --publish N``: forum posts for the N most-viewed imported
questions that have none yet, created by a short-lived client (a REST login, no gateway, like
``sync-commands``) through discord.py's rate limiter, which waits on Discord's buckets and
429s by itself. Each question is claimed and written as a press of "Continue in Discord" does
(``bot.continuing``), so a re-run (after a stop, a crash or a refusal) skips those that have a
thread already, and a member pressing meanwhile never makes a second one. A progress bar shows
the posts; a refusal of Discord's stops the run with one sentence (run it again to resume).
"""

from __future__ import annotations

import functools
from typing import TextIO

import discord
from rich.console import Console

from bot.client import QABot
from bot.clock import utc_now
from bot.continuing import open_thread
from bot.db.engine import create_engine
from bot.forum import continuation
from bot.forum.continuation import Claimed
from bot.forum.settings import GuildConfig, load_config
from bot.forum.visibility import VisibleForums
from bot.progress import progress_bar
from bot.runtime import _login, point_discord_at
from bot.settings import Settings
from bot.transactions import run_read, run_transaction

NO_FORUM = "The server has no Q&A forum configured: run /qa setup first."


class PublishStopped(Exception):
    """The run stopped with one sentence (a refusal of Discord's, no forum); what was created
    stays, and a re-run resumes."""


async def _forum(bot: QABot, guild_id: int, config: GuildConfig) -> discord.ForumChannel:
    """The guild's Q&A forum, read over REST (this client has no gateway cache)."""
    if config.forum_channel_id is None:
        raise PublishStopped(NO_FORUM)
    guild = await bot.fetch_guild(guild_id, with_counts=False)
    data = await bot.http.get_channel(config.forum_channel_id)
    if data.get("type") != discord.ChannelType.forum.value:
        raise PublishStopped(NO_FORUM)
    return discord.ForumChannel(state=bot._connection, guild=guild, data=data)  # type: ignore[arg-type]


async def publish_imported(settings: Settings, *, guild_id: int, count: int, out: TextIO) -> int:
    """Open the threads of up to ``count`` imported questions (most viewed first); how many
    this run created."""
    token = settings.token()
    point_discord_at(settings)
    engine = create_engine(settings.effective_database_url)
    bot = QABot(settings, engine, extensions=(), start_workers=False)
    console = Console(file=out, width=100)
    created = 0
    try:
        async with bot:
            await _login(bot, settings, token)
            config = await run_read(bot, lambda s: load_config(s, guild_id))
            forum = await _forum(bot, guild_id, config)
            visible = VisibleForums.of([forum.id])
            waiting = await run_read(
                bot,
                lambda s: continuation.most_viewed_waiting(s, guild_id=guild_id, limit=count),
            )
            with progress_bar(console) as progress:
                task = progress.add_task("threads", total=len(waiting))
                for question_id in waiting:
                    claim = await run_transaction(
                        bot,
                        functools.partial(
                            continuation.claim_continuation,
                            guild_id=guild_id,
                            visible=visible,
                            question_id=question_id,
                            now=utc_now(),
                        ),
                    )
                    if isinstance(claim, Claimed):
                        try:
                            await open_thread(bot, forum, config, claim)
                        except discord.HTTPException as exc:
                            raise PublishStopped(
                                f"Discord refused the post of imported question {question_id} "
                                f"(HTTP {exc.status}, code {exc.code}) after {created} new "
                                "posts: run the same command again to resume."
                            ) from None
                        created += 1
                    progress.advance(task)
    finally:
        await engine.dispose()
    console.print(f"{created} imported questions published as forum posts in guild {guild_id}.")
    return created
