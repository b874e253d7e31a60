"""The bot object: ``QABot``, built by the composition root from settings and an engine.

The bot owns its long-lived workers (``bot.workers``): it builds them, starts them in
``setup_hook`` once the extensions are loaded, and stops them in ``close`` in the reverse order.
Then it lets the commands and listeners halfway through their work finish (those that ran a
transaction), closes discord.py (extensions, gateway, HTTP) and waits for the transactions still
running (``bot.transactions.TransactionRunner``), so that nothing holds a database session once
``close`` returns.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import weakref
from collections.abc import Callable, Sequence
from typing import Any, cast

import discord
from discord import app_commands
from discord.ext import commands
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.automod import AutoModRules
from bot.db import health
from bot.db.engine import create_sessionmaker
from bot.db.identify_gate import IdentifyGate
from bot.errors import handle_interaction_error
from bot.forum.common_terms import CommonTerms
from bot.forum.rehearsal import rehearse_batches
from bot.forum.shards import ServerScope
from bot.healthcheck import ShardStates
from bot.message_cache import IndexedConnectionState
from bot.metrics import Metrics
from bot.permission_notices import PermissionNotices
from bot.premod import HeldPublishers
from bot.rest import bound_requests
from bot.settings import Settings
from bot.transactions import CLOSE_GRACE, TransactionRunner, background_context
from bot.workers import health_server
from bot.workers.base import Worker
from bot.workers.digests import StatsDigests
from bot.workers.message_retry import MessageRetry
from bot.workers.notifier import Notifier, from_settings
from bot.workers.purger import Purger
from bot.workers.reconciler import Reconciler
from bot.workers.retention import Retention
from bot.workers.role_sync import RoleSync
from bot.workers.search_tops import SearchTops
from bot.workers.status_lines import StatusLines
from bot.workers.thread_intake import ThreadIntake
from bot.workers.thread_renames import ThreadRenames
from bot.workers.vote_writer import VoteWriter

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
    "cogs.profiles",
    "cogs.moderation",
    "cogs.resources",
    "cogs.retention",
    "cogs.mydata",
    "cogs.archive",
    "cogs.continuing",
)


def bot_intents() -> discord.Intents:
    """Guilds, guild messages, message content, guild reactions, DM messages, moderation (bans:
    a banned member's follows end and their DMs stop) and AutoMod rule changes; no members:
    whether a member left is asked at send time (``bot.workers.memberships``)."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.moderation = True
    intents.guild_messages = True
    intents.message_content = True
    intents.guild_reactions = True
    intents.dm_messages = True
    intents.auto_moderation_configuration = True  # keeps the cached AutoMod rules current
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
        freeze_start_up: bool = False,
    ) -> None:
        sharding: dict[str, object] = {"shard_count": settings.shard_count}
        if settings.shard_ids is not None:
            sharding["shard_ids"] = settings.shard_ids
        super().__init__(
            # qa-bot has no text commands: no prefix matches, and on_message ignores them.
            command_prefix=(),
            intents=bot_intents(),
            help_command=None,
            tree_cls=QATree,
            **sharding,  # type: ignore[arg-type]
            guild_ready_timeout=settings.guild_ready_timeout,
            heartbeat_timeout=settings.gateway_heartbeat_timeout,
            chunk_guilds_at_startup=False,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.settings = settings
        self.engine = engine
        #: ``qa-bot run``: what set-up made is frozen out of the collector (``setup_hook``).
        self.freeze_start_up = freeze_start_up
        #: The servers this process serves: those of its shards (its sweeps keep to them).
        self.server_scope = ServerScope.of(settings.shard_count, settings.shard_ids)
        #: IDENTIFYs spaced per bucket across the processes sharing the database (PostgreSQL).
        self.identify_gate = IdentifyGate(engine, settings.identify_window, self._max_concurrency)
        #: Each missing permission announced once to the moderators (``bot.rest`` reports 50013).
        self.permission_notices = PermissionNotices(self, self)
        bound_requests(self, settings.rest_request_timeout, self.permission_notices.refused)
        self.sessionmaker: async_sessionmaker[AsyncSession] = create_sessionmaker(engine)
        #: Runs every transaction of the bot's cogs and workers (``run_transaction``).
        self.transaction_runner = TransactionRunner(self.sessionmaker, self.dispatch)
        self.extension_names: tuple[str, ...] = tuple(
            EXTENSIONS if extensions is None else extensions
        )
        # False for one-shot processes (sync-commands) that must not start background work.
        self.start_workers = start_workers
        runner = self.transaction_runner
        #: The bot's Prometheus metrics and its shards' liveness, fed by ``dispatch``.
        self.metrics = Metrics()
        self.shard_states = ShardStates()
        self._inline_handlers: dict[str, list[Callable[..., None]]] = {}
        #: Questions' status lines, re-rendered on request with edits coalesced per message.
        self.status_lines = StatusLines(self, runner)
        #: Members' point roles, synced as their public points move.
        self.role_sync = RoleSync(self, runner)
        #: The DM notification worker: drains the outbox into DMs.
        self.notifier: Notifier = from_settings(self, runner, settings, self.metrics)
        #: The retention sweeps: finished notifications, old /ask drafts, departed servers.
        self.retention = Retention(self, runner, scope=self.server_scope)
        #: The weekly community-health digest to the moderator channel (a daily check).
        self.stats_digests = StatsDigests(self, runner)
        #: Blanks removed posts past the restore window; after deletes, rewrites SQLite's search
        #: index and empties its write-ahead log, so deleted words leave the files.
        self.purger = Purger(self, runner, engine, scope=self.server_scope)
        #: Renames question threads to their titles, two per thread in ten minutes (Discord's
        #: limit); a rename past it waits.
        self.thread_renames = ThreadRenames(self, runner, scope=self.server_scope)
        #: Records thread messages, keeping those that met the database gone for a retry.
        self.message_retry = MessageRetry(self, runner)
        #: Records thread messages in batches (answers set-based), for the answering cog.
        self.thread_intake = ThreadIntake(self, runner)
        #: Applies reaction votes in gateway order, then refreshes status lines.
        self.vote_writer = VoteWriter(self, runner, self.status_lines, metrics=self.metrics)
        #: Reconciliation when a shard's session is new: what was missed while away counts.
        self.reconciler = Reconciler(
            self, runner, settings, self.status_lines, metrics=self.metrics
        )
        #: ``/healthz`` and ``/metrics`` when ``HEALTH_PORT`` is set (``qa-bot run --health-port``).
        self.health_server = health_server.from_settings(
            self, runner, settings, self.metrics, self.shard_states
        )
        #: Precomputed top lists of very common search terms, and the worker refreshing them.
        self.common_terms = CommonTerms()
        self.search_tops = SearchTops(self, runner, self.common_terms)
        #: The guilds' AutoMod keyword rules, checked on what the bot posts for members.
        self.automod = AutoModRules(self)
        #: How each kind of post held for review is published once approved (the cogs register).
        self.held_publishers = HeldPublishers()
        self._started: list[Worker] = []
        self._closing: asyncio.Task[None] | None = None
        # Tasks waiting in ``close``: the close does not wait for them in turn.
        self._awaiting_close: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()

    def _get_state(self, **options: Any) -> IndexedConnectionState:
        """discord.py's connection state, with its message cache indexed by id
        (``bot.message_cache``: a reaction event no longer scans the cache)."""
        return IndexedConnectionState(
            dispatch=self.dispatch,
            handlers=self._handlers,
            hooks=self._hooks,
            http=self.http,
            **options,
        )

    @property
    def workers(self) -> tuple[Worker, ...]:
        """The bot's workers in the order they start; they stop in the reverse order, each
        after the workers that feed it (the vote writer asks the status lines for edits)."""
        return (
            self.status_lines,
            self.role_sync,
            self.notifier,
            self.retention,
            self.stats_digests,
            self.purger,
            self.thread_renames,
            self.message_retry,
            self.thread_intake,
            self.vote_writer,
            self.reconciler,
            self.search_tops,
            *([self.health_server] if self.health_server is not None else []),
        )

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        """Every event is first seen by the metrics and the shards' liveness, then by its
        inline handlers (``add_inline_handler``), then by discord.py's listeners."""
        self.metrics.saw(event_name, args)
        self.shard_states.saw(event_name, args)
        for handler in self._inline_handlers.get(event_name, ()):
            try:
                handler(*args)
            except Exception:
                log.exception("an inline handler of %s failed", event_name)
        super().dispatch(event_name, *args, **kwargs)

    def add_inline_handler(self, event_name: str, handler: Callable[..., None]) -> None:
        """Call ``handler(*args)`` for every ``event_name`` as discord.py parses it, in the
        gateway's order, with no task of its own (a listener costs a task per event: tens of
        microseconds, and a turn of the event loop, each of a burst's thousands of reaction
        events). Only for handlers that hand a plain value on without waiting (the voting
        cog's gestures to the vote writer); a failure is logged, the event goes on to the
        listeners."""
        self._inline_handlers.setdefault(event_name, []).append(handler)

    def remove_inline_handler(self, event_name: str, handler: Callable[..., None]) -> None:
        """Stop calling a handler added with ``add_inline_handler`` (absent: nothing)."""
        handlers = self._inline_handlers.get(event_name, [])
        if handler in handlers:
            handlers.remove(handler)

    async def on_message(self, message: discord.Message, /) -> None:
        """No text commands: discord.py's default would parse a message that starts with the
        prefix and log ``Command "word" is not found`` for it. Cogs listen to messages on
        their own."""

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """A listener that met the database gone logs one warning line, no traceback (an
        outage is not a bug); any other error keeps discord.py's report."""
        error = sys.exc_info()[1]
        what = None if error is None else health.outage(error)
        if what is not None:
            log.warning("%s (%s) in %s", what, type(error).__name__, event_method)
            return
        await super().on_error(event_method, *args, **kwargs)

    async def setup_hook(self) -> None:
        for name in self.extension_names:
            await self.load_extension(name)
        log.info("loaded %d extensions", len(self.extension_names))
        if self.start_workers:
            await self._rehearse()
            if self.freeze_start_up:
                freeze_start_up()
            background = background_context()  # the workers' bounded share of connections
            for worker in self.workers:
                background.run(worker.start)
                self._started.append(worker)

    async def _rehearse(self) -> None:
        """The batch writers' statements compiled before a batch holds SQLite's write lock
        (``bot.forum.rehearsal``); a rehearsal that fails only leaves them to the first
        batches."""
        try:
            await self.transaction_runner.rehearse(rehearse_batches)
        except Exception as exc:
            log.warning("the batch writers' rehearsal failed (%s)", type(exc).__name__)

    async def close(self) -> None:
        """Stop the workers (reverse order), let the work in hand finish, close discord.py
        (extensions unloaded, gateway and HTTP closed), then wait for the transactions still
        running (idempotent: a second call waits for the first)."""
        caller = asyncio.current_task()
        if caller is not None:
            self._awaiting_close.add(caller)
        if self._closing is None:
            self._closing = asyncio.get_running_loop().create_task(
                self._close_in_order(), name="qa-bot close"
            )
        await asyncio.shield(self._closing)

    async def _close_in_order(self) -> None:
        while self._started:
            worker = self._started.pop()
            try:
                await worker.stop()
            except Exception:
                log.exception("stopping the %s failed", worker.name)
        await self.transaction_runner.wait_callers(CLOSE_GRACE, besides=self._awaiting_close)
        await super().close()
        await self.transaction_runner.close(CLOSE_GRACE)
        await self.identify_gate.close()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py sleeps 5 s before a re-IDENTIFY; tests shorten it through settings.
        if not initial:
            await asyncio.sleep(self.settings.reidentify_delay)
        await self.identify_gate.wait_turn(shard_id or 0)

    async def _max_concurrency(self) -> int:
        return (await self.fetch_session_start_limits()).max_concurrency

    async def on_shard_ready(self, shard_id: int) -> None:
        """A new session (a RESUME fires ``on_shard_resumed`` instead): reconcile the shard's
        servers in the background (``bot.workers.reconciler``)."""
        log.info("shard %s ready (%d guilds)", shard_id, len(self.guilds))
        self.reconciler.request(shard_id)


def freeze_start_up() -> None:
    """Collect, then freeze what set-up made (``gc.freeze``): modules, extensions, the ORM's
    mappings and compiled statements, rarely freed. A full (generation 2) collection walks
    every object the process holds with the GIL held, and a write transaction whose thread
    waits for the GIL meanwhile holds SQLite's write lock that long: in ``make bench``'s burst
    on SQLite, collections of 150,000-230,000 objects paused 90-165 ms several times a run (a
    vote batch held the lock 146 ms); with the set-up frozen, 10-31 ms. Done before the
    workers start and the gateway connects, so the collection itself pauses no transaction.
    Not in tests, whose process holds far more (``tests/gc_pauses.py``). A frozen object freed
    by its last reference still goes; a cycle among frozen objects stays."""
    gc.collect()
    gc.freeze()
    log.info("%d objects made at set-up frozen out of the collector", gc.get_freeze_count())


def bot_of(interaction: discord.Interaction[Any]) -> QABot:
    """The bot an interaction came to (discord.py types ``interaction.client`` as any client)."""
    return cast(QABot, interaction.client)
