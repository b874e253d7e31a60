"""The bot object: ``QABot``, built by the composition root from settings and an engine."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import discord
from discord import app_commands
from discord.ext import commands
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db.engine import create_sessionmaker
from bot.errors import handle_interaction_error
from bot.settings import Settings
from bot.workers.notifier import Notifier, from_settings
from bot.workers.status_lines import StatusLines

log = logging.getLogger(__name__)

# Loaded in this order by ``setup_hook``; an explicit list, never a directory scan.
EXTENSIONS: tuple[str, ...] = (
    "cogs.admin",
    "cogs.asking",
    "cogs.answering",
    "cogs.lifecycle",
    "cogs.discovery",
    "cogs.notifications",
    "cogs.voting",
    "cogs.profiles",  # after cogs.admin: it adds /qa roles to the /qa group
)


def bot_intents() -> discord.Intents:
    """Guilds, guild messages, message content, guild reactions, DM messages; no members."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.message_content = True
    intents.guild_reactions = True
    intents.dm_messages = True
    return intents


class QATree(app_commands.CommandTree["QABot"]):
    """The command tree; errors go to the one handler in ``bot.errors``."""

    async def on_error(
        self, interaction: discord.Interaction[QABot], error: app_commands.AppCommandError
    ) -> None:
        await handle_interaction_error(interaction, error)


# qa-bot never joins voice: silence discord.py's start-up warnings about voice libraries.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False


class QABot(commands.AutoShardedBot):
    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        *,
        extensions: Sequence[str] | None = None,
        start_workers: bool = True,
    ) -> None:
        sharding: dict[str, object] = {"shard_count": settings.shard_count}
        if settings.shard_ids is not None:
            sharding["shard_ids"] = settings.shard_ids
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=bot_intents(),
            help_command=None,
            tree_cls=QATree,
            **sharding,  # type: ignore[arg-type]
            guild_ready_timeout=settings.guild_ready_timeout,
            chunk_guilds_at_startup=False,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.settings = settings
        self.engine = engine
        self.sessionmaker: async_sessionmaker[AsyncSession] = create_sessionmaker(engine)
        self.extension_names: tuple[str, ...] = tuple(
            EXTENSIONS if extensions is None else extensions
        )
        # False for one-shot processes (sync-commands) that must not start background work.
        self.start_workers = start_workers
        # The DM notification worker; the notifications cog starts and stops it.
        self.notifier: Notifier = from_settings(self)
        # Questions' status lines, re-rendered on request with edits coalesced per message.
        self.status_lines = StatusLines(self)

    async def setup_hook(self) -> None:
        for name in self.extension_names:
            await self.load_extension(name)
        log.info("loaded %d extensions", len(self.extension_names))

    async def close(self) -> None:
        await self.status_lines.close()
        await super().close()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py sleeps 5 s before a re-IDENTIFY; tests shorten it through settings.
        if not initial:
            await asyncio.sleep(self.settings.reidentify_delay)

    async def on_shard_ready(self, shard_id: int) -> None:
        log.info("shard %s ready (%d guilds)", shard_id, len(self.guilds))
