"""``qa-bot web``: serve the archive until interrupted."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.db.engine import create_engine, create_sessionmaker
from bot.web.app import build_app

log = logging.getLogger(__name__)


async def serve(
    url: str, *, host: str, port: int, base_url: str | None = None, name: str = "Q&A archive"
) -> None:
    """Serve the archive of the database at ``url`` on ``host:port`` until cancelled; the
    engine is read-only (``PRAGMA query_only`` on SQLite, read-only transactions on
    PostgreSQL)."""
    engine = create_engine(url, read_only=True)
    runner = web.AppRunner(
        build_app(create_sessionmaker(engine), base_url or f"http://{host}:{port}", name=name),
        access_log=None,
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        log.info("web archive serving on port %d", port)
        print(f"The archive is at http://{host}:{port}/ (Ctrl-C stops it).", flush=True)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await engine.dispose()
