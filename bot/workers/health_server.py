"""``/healthz`` and ``/metrics`` over HTTP, on ``HEALTH_HOST``:``HEALTH_PORT`` (aiohttp).

Started by the bot with its other workers when ``HEALTH_PORT`` is set (``qa-bot run
--health-port``), stopped when it closes. ``/healthz`` answers 200 or 503 with the JSON of
``bot.healthcheck.Report`` (ids and counts only); ``/metrics`` the bot's own registry
(``bot.metrics``) in Prometheus text format, after reading the outbox gauges from the database
and the shards' liveness. No access log: a scrape every few seconds is not worth a line.
A port that cannot be bound is one error line; the bot goes on without the endpoints.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from bot.db import health
from bot.healthcheck import HealthChecks, ShardStates
from bot.metrics import CONTENT_TYPE, Metrics
from bot.workers.base import TaskWorker

if TYPE_CHECKING:
    import discord

    from bot.settings import Settings
    from bot.transactions import TransactionRunner

log = logging.getLogger(__name__)


class HealthServer(TaskWorker):
    """Serves the health check and the metrics of one bot."""

    name = "health server"

    def __init__(
        self,
        bot: discord.Client,
        runner: TransactionRunner,
        checks: HealthChecks,
        metrics: Metrics,
        *,
        host: str,
        port: int,
    ) -> None:
        super().__init__(bot, runner)
        self.checks = checks
        self.metrics = metrics
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._serving = asyncio.Event()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.scrape)
        return app

    async def healthz(self, request: web.Request) -> web.Response:
        report = await self.checks.report()
        self.metrics.outbox(report.backlog)
        return web.json_response(report.body(), status=200 if report.healthy else 503)

    async def scrape(self, request: web.Request) -> web.Response:
        try:
            backlog = await self.checks.read_backlog()
        except Exception as exc:
            if not isinstance(exc, TimeoutError) and health.outage(exc) is None:
                health.log_failure(log, exc, "reading the outbox for /metrics failed")
            backlog = None
        self.metrics.outbox(backlog)
        self.metrics.shards(self.checks.shard_liveness())
        body = self.metrics.exposition()
        response = web.Response(body=body)
        response.headers["Content-Type"] = CONTENT_TYPE
        return response

    async def run(self) -> None:
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        self._runner = runner
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            log.error(
                "health port %s:%s cannot be bound (%s): no /healthz nor /metrics",
                self.host,
                self.port,
                exc.strerror or type(exc).__name__,
            )
            return
        log.info("health and metrics on http://%s:%s/healthz and /metrics", self.host, self.port)
        self._serving.set()
        await asyncio.Event().wait()  # until stopped

    async def after_stop(self) -> None:
        runner, self._runner = self._runner, None
        self._serving.clear()
        if runner is not None:
            await runner.cleanup()
        await self.checks.close()

    async def wait_idle(self) -> None:
        """Until the endpoints answer (tests)."""
        await self._serving.wait()


def from_settings(
    bot: discord.AutoShardedClient,
    runner: TransactionRunner,
    settings: Settings,
    metrics: Metrics,
    states: ShardStates,
) -> HealthServer | None:
    """The bot's health server, or None when ``HEALTH_PORT`` is unset or 0."""
    if not settings.health_port:
        return None
    checks = HealthChecks(bot, runner, settings, states)
    return HealthServer(
        bot, runner, checks, metrics, host=settings.health_host, port=settings.health_port
    )
