"""Deleted text out of the database files, beyond what a delete itself removes.

A delete blanks a post's words in its transaction (``bot.forum.purge``). What the files may still
hold afterwards, and what ``reclaim_deleted_text`` does about it (``bot.workers.purger`` calls it
after deletes):

- SQLite: ``secure_delete`` (``bot.db.engine``) zeroes freed content, but FTS5 records a
  deletion as a marker in a new segment and keeps the old terms in older segments until they
  are merged; FTS5's ``secure-delete`` option needs SQLite 3.42 and Debian 12's Python has 3.40.
  So the index is merged into one segment (FTS5's ``optimize``: the old segments' pages are
  freed, hence zeroed), then a TRUNCATE checkpoint copies the write-ahead log into the database
  and empties the ``-wal`` file, which held the old pages too.
- PostgreSQL: nothing is done here. The old row versions go at the next VACUUM (autovacuum runs
  it on its own), but a plain VACUUM does not zero the space it frees, and a GIN index (the search
  index) never drops a key once stored; ``VACUUM FULL posts`` rewrites the table and rebuilds its
  indexes, so the operator schedules it (docs/privacy.md). The bot does not run it, nor a
  REINDEX: both lock ``posts`` against the bot's own writes (a REINDEX run after deletes was
  seen to deadlock with them). The write-ahead log (``pg_wal``) keeps the words until its
  segments are recycled; WAL archives, replicas and backups keep what they kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import make_private, private_umask, sqlite_path

log = logging.getLogger(__name__)


def checkpoint_truncate(path: Path) -> tuple[int, int, int]:
    """Copy SQLite's write-ahead log into the database and truncate it to zero bytes. Blocking:
    run it in a thread. SQLite's answer: (busy, log frames, checkpointed frames); busy 1 means a
    reader held on and the log was not emptied."""
    with private_umask(), contextlib.closing(sqlite3.connect(path, timeout=30)) as connection:
        row = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    make_private(path)
    return int(row[0]), int(row[1]), int(row[2])


async def reclaim_deleted_text(engine: AsyncEngine) -> None:
    """After deletes on SQLite: no full-text index segment and no write-ahead log page keeps a
    deleted post's words. Nothing on PostgreSQL (see above)."""
    if engine.dialect.name != "sqlite":
        return
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO posts_search (posts_search) VALUES ('optimize')"))
    path = sqlite_path(str(engine.url))
    if path is not None:
        busy, _, _ = await asyncio.to_thread(checkpoint_truncate, path)
        if busy:
            log.info("the write-ahead log checkpoint waited on a reader; the next pass retries")
