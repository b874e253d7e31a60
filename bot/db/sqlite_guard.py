"""One ``qa-bot run`` per SQLite file.

SQLite serves one writing process well; two bots on one file would both answer every event.
``qa-bot run`` holds an exclusive ``flock`` on ``<database>.lock`` beside the file for the
process's life. The kernel releases the lock when the process ends, however it ends (SIGKILL
included), so a crashed bot never blocks its own restart, and no pid file can go stale. The
lock file itself stays (removing it would let two processes lock two different files).

Read-only commands (``sync-commands``, ``migrate-data --from`` reading the file through SQLite's
backup API) take no lock; an in-memory database has nothing to share and is not guarded.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from bot.db.engine import FOLDER_MODE, is_sqlite, private_umask, sqlite_path


class AlreadyRunning(Exception):
    """Another ``qa-bot run`` holds the SQLite file (one sentence)."""


def lock_path(database: Path) -> Path:
    """The lock file of an SQLite database file."""
    return database.with_name(database.name + ".lock")


def refusal(database: Path) -> str:
    """The sentence a second ``qa-bot run`` on ``database`` ends with."""
    return (
        f"Another qa-bot process already runs on the SQLite database {database}: stop it "
        "first, or to run several processes move the community to PostgreSQL with `qa-bot "
        'migrate-data` (README: "Moving from SQLite to PostgreSQL").'
    )


@contextlib.contextmanager
def hold(url: str) -> Iterator[None]:
    """Hold the SQLite file of ``url`` for this process while the block runs; raise
    ``AlreadyRunning`` at once when another process holds it. Not SQLite, or in memory: no-op."""
    database = sqlite_path(url) if is_sqlite(url) else None
    if database is None:
        yield
        return
    with private_umask():  # the data folder and the lock file are the owner's alone
        database.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        handle = lock_path(database).open("a")
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning(refusal(database)) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
