"""The database gone: recognising an outage, and the sentences that tell of one.

An outage is an error that says nothing about the work asked for, only that the database cannot
do any work now: the server refused or dropped the connection (SQLAlchemy ``OperationalError`` /
``InterfaceError``, a DBAPI error that invalidated its connection, asyncpg's connection errors,
a refused socket), PostgreSQL's connection and operator-intervention classes (SQLSTATE ``08``,
``57P``, ``53300`` too many connections, ``55000`` at connect: the database does not accept
connections), or an SQLite file that cannot be opened or stays locked. A full disk (SQLite's
SQLITE_FULL, PostgreSQL's ``53100``) is told apart: the transaction was rolled back whole and
waiting will not help until someone frees space.

``probe`` opens one connection at start, so ``qa-bot run`` / ``migrate`` end with one sentence
naming ``DATABASE_URL`` (its password hidden) rather than a driver's traceback.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError

#: What a member is told when their interaction met an outage.
UNAVAILABLE_SENTENCE: Final = "The database is not answering; try again in a moment."
#: What a member is told when their interaction met a full disk (nothing was saved).
FULL_SENTENCE: Final = (
    "The bot's database is full, so nothing was saved; please tell the server's moderators."
)
#: Seconds ``probe`` waits for the first connection.
PROBE_TIMEOUT: Final = 10.0

_FULL_SQLSTATES: Final = frozenset({"53100"})  # disk_full
_CONNECTION_SQLSTATES: Final = frozenset({"53300", "55000", "3D000"})
_CONNECTION_CLASSES: Final = ("08", "57P")
_SQLITE_UNAVAILABLE: Final = (
    "unable to open database file",
    "database is locked",
    "disk i/o error",
    "readonly database",
)


def _chain(exc: BaseException) -> list[BaseException]:
    """The error, what it wraps (``orig``) and what caused each, without loops."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo.extend([getattr(current, "orig", None), current.__cause__])
    return seen


def _codes(exc: BaseException) -> set[str]:
    """The SQLSTATEs (PostgreSQL) found along the chain of ``exc``."""
    codes = set()
    for error in _chain(exc):
        code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if isinstance(code, str):
            codes.add(code)
    return codes


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the database's disk (or SQLite's page limit) is full."""
    if _codes(exc) & _FULL_SQLSTATES:
        return True
    return any("database or disk is full" in str(error).lower() for error in _chain(exc))


def _asyncpg_connection_error(error: BaseException) -> bool:
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return False
    return isinstance(
        error,
        asyncpg.exceptions.PostgresConnectionError
        | asyncpg.exceptions.InterfaceError
        | asyncpg.exceptions.ConnectionDoesNotExistError,
    )


_DRIVER_MODULES: Final = ("sqlalchemy.", "asyncpg.", "aiosqlite.")


def _raised_by_driver(error: BaseException) -> bool:
    """Whether ``error`` came up through the database stack (a refused or timed-out connect
    reaches us unwrapped), not through a Discord request."""
    frame = error.__traceback__
    while frame is not None:
        if str(frame.tb_frame.f_globals.get("__name__", "")).startswith(_DRIVER_MODULES):
            return True
        frame = frame.tb_next
    return False


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be reached or used now (see the module)."""
    if is_disk_full(exc):
        return False
    codes = _codes(exc)
    if any(c in _CONNECTION_SQLSTATES or c.startswith(_CONNECTION_CLASSES) for c in codes):
        return True
    for error in _chain(exc):
        if isinstance(error, DBAPIError):
            if error.connection_invalidated or isinstance(error, InterfaceError):
                return True
            if isinstance(error, OperationalError) and not codes:
                message = str(error.orig).lower()
                if any(m in message for m in _SQLITE_UNAVAILABLE) or "connect" in message:
                    return True
        if isinstance(error, ConnectionError | TimeoutError) and _raised_by_driver(error):
            return True
        if _asyncpg_connection_error(error):
            return True
    return False


def sentence_for(exc: BaseException) -> str | None:
    """What a member is told about a database failure, or None when it is not one."""
    if is_disk_full(exc):
        return FULL_SENTENCE
    if is_unavailable(exc):
        return UNAVAILABLE_SENTENCE
    return None


def outage(exc: BaseException) -> str | None:
    """How a log line names the failure: "database full", "database unavailable", or None when
    ``exc`` is not the database gone (then it is a bug, logged with its traceback)."""
    if is_disk_full(exc):
        return "database full"
    if is_unavailable(exc):
        return "database unavailable"
    return None


def redacted(url: str) -> str:
    """``url`` with its password hidden (what may be printed or logged)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(a value that is not a database URL)"


def password(url: str) -> str | None:
    """The password in ``url``, if any (a secret the logs redact: ``bot.logs``)."""
    try:
        return make_url(url).password or None
    except ArgumentError:
        return None


class DatabaseUnreachable(Exception):
    """The database named by DATABASE_URL cannot be used at start (one sentence)."""


def startup_sentence(url: str, exc: BaseException) -> str:
    """The one sentence a failed start prints about the database."""
    shown = redacted(url)
    if is_disk_full(exc):
        return f"The database at DATABASE_URL={shown} is full: free disk space and start again."
    if make_url(url).get_backend_name() == "sqlite":
        return (
            f"The SQLite database at DATABASE_URL={shown} cannot be opened: check that its "
            "directory exists (or can be created) and is writable by this user."
        )
    return (
        f"The database at DATABASE_URL={shown} does not answer: check that the server is "
        "running and that the host, port, database name and credentials are right."
    )


async def probe(url: str, *, seconds: float = PROBE_TIMEOUT) -> None:
    """Open one connection to ``url`` and run ``SELECT 1``; raise ``DatabaseUnreachable`` with
    one sentence when that fails (the engine is disposed either way)."""
    from bot.db.engine import create_engine

    try:
        engine = create_engine(url)
    except OSError as exc:  # SQLite: the directory cannot be made
        raise DatabaseUnreachable(startup_sentence(url, exc)) from None
    try:
        async with asyncio.timeout(seconds), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (DBAPIError, OSError, TimeoutError) as exc:
        raise DatabaseUnreachable(startup_sentence(url, exc)) from None
    finally:
        await engine.dispose()


def log_failure(logger: logging.Logger, exc: BaseException, message: str, *args: object) -> None:
    """Log failed background work: with the database gone, one warning line naming the outage
    (not a bug: the work is tried again later); otherwise the error with its traceback."""
    what = outage(exc)
    if what is not None:
        logger.warning(message + ": %s (%s)", *args, what, type(exc).__name__)
    else:
        logger.error(message, *args, exc_info=(type(exc), exc, exc.__traceback__))
