"""The composition root: settings -> engine -> migrations -> QABot, and their shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Final

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket

from bot import shutdown
from bot.client import QABot
from bot.db import migrate
from bot.db.engine import create_engine
from bot.settings import Settings, SettingsError

log = logging.getLogger(__name__)

#: How long a thread may keep the GIL while another waits for it (seconds; Python's default is
#: 5 ms). SQLite's writing thread (``bot.db.writes``) lets the GIL go at each statement and
#: waits for it back while the main thread parses gateway frames: with the default a batch of
#: a dozen statements held the write lock up to 60 ms longer, waiting for the GIL.
GIL_SWITCH_INTERVAL: Final = 0.001


class StartupError(Exception):
    """A failure to start that is one clear sentence, not a traceback."""


def point_discord_at(settings: Settings) -> None:
    """Aim discord.py's REST base and gateway at the configured URLs (proxy or fake)."""
    if settings.discord_api_base_url:
        discord.http.Route.BASE = settings.discord_api_base_url
    if settings.discord_gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url + "/")


def _api_base(settings: Settings) -> str:
    return settings.discord_api_base_url or discord.http.Route.BASE


async def _login(bot: QABot, settings: Settings, token: str) -> None:
    try:
        await bot.login(token)
    except discord.LoginFailure:
        raise StartupError(
            "Discord refused the token: check DISCORD_TOKEN (Bot > Reset Token in the "
            "developer portal)."
        ) from None
    except (TimeoutError, aiohttp.ClientConnectionError, OSError):
        raise StartupError(
            f"Discord's API cannot be reached at {_api_base(settings)}: check the network "
            "or DISCORD_API_BASE_URL."
        ) from None


async def run_bot(
    settings: Settings, *, apply_migrations: bool = True, extensions: Sequence[str] | None = None
) -> None:
    """Run until closed by a signal; raises StartupError with one sentence on failure."""
    token = settings.token()
    point_discord_at(settings)
    url = settings.effective_database_url
    if apply_migrations:
        await migrate.upgrade(url)
        log.info("database schema is up to date")
    engine = create_engine(url)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    bot = QABot(settings, engine, extensions=extensions, freeze_start_up=True)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    closers: list[asyncio.Task[None]] = []

    async def stop_under_load() -> None:
        # The gateway closed and the gestures received applied first (``bot.shutdown``).
        await shutdown.drain(bot)
        await bot.close()

    def request_stop(signame: str) -> None:
        if not stopping.is_set():
            log.info("%s received: shutting down", signame)
            stopping.set()
            closers.append(loop.create_task(stop_under_load()))

    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(RuntimeError):  # also raised where signals are unsupported
            loop.add_signal_handler(sig, request_stop, sig.name)
    try:
        async with bot:
            await _login(bot, settings, token)
            try:
                await bot.connect(reconnect=True)
            except discord.PrivilegedIntentsRequired:
                raise StartupError(
                    "Discord refused the message content intent: switch on 'Message Content "
                    "Intent' under Bot > Privileged Gateway Intents in the developer portal."
                ) from None
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(RuntimeError):  # also raised where signals are unsupported
                loop.remove_signal_handler(sig)
        # A signal's close may still be waiting for the last transactions: the engine is
        # disposed only once nothing holds a session.
        await bot.close()
        shutdown.log_transaction_stats(bot)
        await engine.dispose()
        log.info("stopped")


async def sync_commands(settings: Settings, *, guild_id: int | None) -> int:
    """Sync the command tree once (to one guild, or globally); returns the command count."""
    token = settings.token()
    point_discord_at(settings)
    engine = create_engine(settings.effective_database_url)
    bot = QABot(settings, engine, start_workers=False)
    try:
        async with bot:
            await _login(bot, settings, token)
            if guild_id is not None:
                guild = discord.Object(id=guild_id)
                bot.tree.copy_global_to(guild=guild)
                synced = await bot.tree.sync(guild=guild)
            else:
                synced = await bot.tree.sync()
            return len(synced)
    finally:
        await engine.dispose()


__all__ = ["SettingsError", "StartupError", "point_discord_at", "run_bot", "sync_commands"]
