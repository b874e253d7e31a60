"""The bot's Prometheus metrics, one registry per bot (``QABot.metrics``), served by ``/metrics``.

Each bot has its own ``CollectorRegistry``, not prometheus-client's global default, so several
bots in one process (the tests) never count into each other. The call sites add one line each:

- ``qabot_gateway_events_total{type}``: gateway events received, by Discord's event type
  (``QABot.dispatch`` passes discord.py's ``socket_event_type`` here: ``saw``);
- ``qabot_votes_applied_total``: reaction gestures written (``bot.workers.vote_writer``), and per
  batch ``qabot_vote_batch_size`` and ``qabot_vote_batch_seconds`` (from taking the batch to its
  commit, waits for an outage included);
- ``qabot_interactions_received_total{command}`` and ``qabot_interactions_answered_total
  {command}``, with ``qabot_interaction_response_seconds{command}``: from the interaction's
  arrival to Discord accepting its first response (a reply, a deferral, a modal: what Discord's
  three seconds are about). ``command`` is the command's full name (``qa settings set``, a
  context menu's name), or ``component``, ``modal`` or ``autocomplete``: never user text;
- ``qabot_dms_sent_total`` and ``qabot_dms_failed_total{reason}`` (``retry``: Discord or the
  network failed, tried again later; ``undeliverable``: the member's DMs are closed), from the
  notifier's outcomes (``bot.workers.outcomes``);
- ``qabot_outbox_backlog`` and ``qabot_outbox_oldest_age_seconds``: the undelivered DMs of every
  server and the age of the oldest, read from the database at each scrape (NaN when it did not
  answer);
- ``qabot_reconciliation_runs_total{outcome}`` (``done``, ``failed``): ``bot.workers.reconciler``;
- ``qabot_gateway_shard_up{shard}``: 1 while the shard's session is live (``bot.healthcheck``);
- ``process_*``: prometheus-client's process collector (CPU seconds, resident memory, open
  files) of this process.

Labels are bounded: event types, command names, fixed words. No metric carries an id.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final

import discord
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from bot.bounded import BoundedMap
from bot.forum.outbox import OutboxBacklog
from bot.rest import watch_answers

#: What ``/metrics`` answers with (Prometheus text format 0.0.4).
CONTENT_TYPE: Final = CONTENT_TYPE_LATEST
#: Interactions waiting for their first response that the bot remembers (more: the oldest go).
OPEN_INTERACTIONS: Final = 2000

_BATCH_SIZES: Final = (1, 2, 5, 10, 20, 50, 100, 200, 500)
_BATCH_SECONDS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_RESPONSE_SECONDS: Final = (0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10)
_KINDS: Final[Mapping[discord.InteractionType, str]] = {
    discord.InteractionType.component: "component",
    discord.InteractionType.modal_submit: "modal",
    discord.InteractionType.autocomplete: "autocomplete",
}
DM_RETRY: Final = "retry"
DM_UNDELIVERABLE: Final = "undeliverable"
RUN_DONE: Final = "done"
RUN_FAILED: Final = "failed"


def command_label(interaction: discord.Interaction[Any]) -> str | None:
    """The ``command`` label of an interaction (None: not counted, a ping)."""
    if interaction.type is discord.InteractionType.application_command:
        command = interaction.command
        return command.qualified_name if command is not None else "unknown"
    return _KINDS.get(interaction.type)


class Metrics:
    """The metrics of one bot (see the module docstring); ``registry`` is what is served."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.gateway_events = self._counter(
            "qabot_gateway_events", "Gateway events received, by type.", "type"
        )
        self.votes_applied = self._counter(
            "qabot_votes_applied", "Reaction vote gestures written to the database."
        )
        self.vote_batch_size = self._histogram(
            "qabot_vote_batch_size", "Gestures per vote batch (one transaction).", _BATCH_SIZES
        )
        self.vote_batch_seconds = self._histogram(
            "qabot_vote_batch_seconds",
            "Seconds from taking a vote batch to its commit.",
            _BATCH_SECONDS,
        )
        self.interactions_received = self._counter(
            "qabot_interactions_received", "Interactions received, by command.", "command"
        )
        self.interactions_answered = self._counter(
            "qabot_interactions_answered",
            "Interactions whose first response Discord accepted, by command.",
            "command",
        )
        self.interaction_seconds = self._histogram(
            "qabot_interaction_response_seconds",
            "Seconds from an interaction's arrival to Discord accepting its first response.",
            _RESPONSE_SECONDS,
            "command",
        )
        self.dms_sent = self._counter("qabot_dms_sent", "DMs Discord accepted.")
        self.dms_failed = self._counter(
            "qabot_dms_failed",
            "DMs that failed: retry (tried again later) or undeliverable (DMs closed).",
            "reason",
        )
        self.outbox_backlog = self._gauge(
            "qabot_outbox_backlog", "Notifications not yet delivered (every server)."
        )
        self.outbox_oldest_age = self._gauge(
            "qabot_outbox_oldest_age_seconds",
            "Age of the oldest undelivered notification (0: none).",
        )
        self.reconciliation_runs = self._counter(
            "qabot_reconciliation_runs",
            "Reconciliation runs after a new gateway session, by outcome.",
            "outcome",
        )
        self.shard_up = self._gauge(
            "qabot_gateway_shard_up", "1 while the shard's gateway session is live.", "shard"
        )
        for reason in (DM_RETRY, DM_UNDELIVERABLE):
            self.dms_failed.labels(reason)
        for outcome in (RUN_DONE, RUN_FAILED):
            self.reconciliation_runs.labels(outcome)
        #: Interactions received and not yet answered: id -> (command label, arrival).
        self._open: BoundedMap[int, tuple[str, float]] = BoundedMap(OPEN_INTERACTIONS)
        watch_answers(self)

    def _counter(self, name: str, documentation: str, *labels: str) -> Counter:
        return Counter(name, documentation, labels, registry=self.registry)

    def _gauge(self, name: str, documentation: str, *labels: str) -> Gauge:
        return Gauge(name, documentation, labels, registry=self.registry)

    def _histogram(
        self, name: str, documentation: str, buckets: Sequence[float], *labels: str
    ) -> Histogram:
        return Histogram(name, documentation, labels, buckets=buckets, registry=self.registry)

    # ------------------------------------------------------------------ call sites

    def saw(self, event_name: str, args: tuple[Any, ...]) -> None:
        """Every event the bot dispatches passes here (``QABot.dispatch``): gateway event types
        are counted, and interactions start their response clock."""
        if event_name == "socket_event_type":
            self.gateway_events.labels(args[0]).inc()
        elif event_name == "interaction":
            self.received(args[0])

    def received(self, interaction: discord.Interaction[Any]) -> None:
        label = command_label(interaction)
        if label is None:
            return
        self.interactions_received.labels(label).inc()
        self._open.put(interaction.id, (label, time.monotonic()))

    def answered(self, interaction_id: int) -> None:
        """Discord accepted the first response of ``interaction_id`` (``bot.rest``)."""
        entry = self._open.get(interaction_id)
        if entry is None:
            return  # another bot's interaction (tests), or forgotten
        self._open.pop(interaction_id)
        label, arrived = entry
        self.interactions_answered.labels(label).inc()
        self.interaction_seconds.labels(label).observe(time.monotonic() - arrived)

    def vote_batch(self, size: int, seconds: float) -> None:
        self.vote_batch_size.observe(size)
        self.vote_batch_seconds.observe(seconds)

    def outbox(self, backlog: OutboxBacklog | None) -> None:
        """The outbox as read at a scrape (None: the database did not answer)."""
        if backlog is None:
            self.outbox_backlog.set(math.nan)
            self.outbox_oldest_age.set(math.nan)
            return
        self.outbox_backlog.set(backlog.undelivered)
        age = backlog.oldest_age
        self.outbox_oldest_age.set(0.0 if age is None else age.total_seconds())

    def shards(self, up: Mapping[int, bool]) -> None:
        for shard_id, live in up.items():
            self.shard_up.labels(str(shard_id)).set(1 if live else 0)

    def exposition(self) -> bytes:
        """The registry in Prometheus text format."""
        return generate_latest(self.registry)
