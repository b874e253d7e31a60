"""``qa-bot migrate-data --from sqlite+aiosqlite:///… --to postgresql+asyncpg://…``.

Moves a community from its SQLite file to PostgreSQL, in this order: a consistent snapshot of
the file (SQLite's backup API) brought to the newest schema; cached points that differ from a
recomputation there recomputed in the snapshot (and said so; the file is only read); the target
refused unless empty, then migrated to the newest schema (under the migrations' lock); every
table copied in one transaction with a progress bar per table (``bot.db.transfer``); before the
commit, the row counts of every table compared and every member's points recomputed from the
copied posts, votes and accepts and compared with the copied totals
(``bot.forum.points.audit_points``). A difference rolls the whole copy back. Every URL printed
has its password shown as ``***``.
"""

from __future__ import annotations

import functools
from typing import TextIO

from alembic.util.exc import CommandError
from rich.console import Console
from rich.progress import Progress, TaskID
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.db import health, migrate, transfer
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.transfer import TableCount, TransferFailed, TransferRefused
from bot.forum.points import audit_points, point_guilds, recompute_points
from bot.forum.results import PointsAudit
from bot.forum.uow import run_in_transaction
from bot.progress import progress_bar


class _Bar:
    """``transfer.Progress`` on a rich progress bar: one line per table, rows copied of all."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def begin(self, table: str, rows: int) -> None:
        self.tasks[table] = self.progress.add_task(table, total=rows)

    def advance(self, table: str, rows: int) -> None:
        self.progress.advance(self.tasks[table], rows)


class _PointsCheck:
    """The copy's last check: the points recomputed on the target equal the copied totals."""

    def __init__(self) -> None:
        self.audit: PointsAudit | None = None

    async def __call__(self, conn: AsyncConnection) -> None:
        async with AsyncSession(bind=conn) as session:
            audit = await audit_points(session)
        if audit.members_off or audit.posts_off:
            raise TransferFailed(
                f"The copied points do not match a recomputation ({audit.members_off} members' "
                f"totals and {audit.posts_off} posts' scores differ), so the copy was rolled back."
            )
        self.audit = audit


async def _repair(snapshot_url: str, console: Console) -> None:
    """Points cached wrong in the SQLite file (a bug, a crash of an old version) are recomputed
    in the snapshot, so the copy's check compares like with like; the file stays as it was."""
    engine = create_engine(snapshot_url)
    try:
        sessions = create_sessionmaker(engine)
        audit = await run_in_transaction(sessions, audit_points, read_only=True)
        if not (audit.members_off or audit.posts_off):
            return
        for guild_id in await run_in_transaction(sessions, point_guilds, read_only=True):
            recompute = functools.partial(recompute_points, guild_id=guild_id)
            await run_in_transaction(sessions, recompute)
    finally:
        await engine.dispose()
    console.print(
        f"The SQLite file's cached points differ from a recomputation for {audit.members_off} "
        f"members and {audit.posts_off} posts: the copy carries the recomputed values (the file "
        "is left as it was)."
    )


async def _probe_target(url: str) -> None:
    try:
        await health.probe(url)
    except health.DatabaseUnreachable:
        raise TransferRefused(
            f"The target database {health.redacted(url)} does not answer: check that the server "
            "is running and that the host, port, database name and credentials are right."
        ) from None


async def migrate_data(source_url: str, target_url: str, out: TextIO) -> None:
    """Move the community (see the module); ``TransferRefused`` or ``TransferFailed`` (one
    sentence each) when it cannot, with nothing written to the target but its schema."""
    transfer.source_path(source_url)
    transfer.check_target_url(target_url)
    shown = health.redacted(target_url)
    console = Console(file=out, markup=False, highlight=False, soft_wrap=True)
    with transfer.snapshot(source_url) as snapshot_url:
        try:
            await migrate.upgrade(snapshot_url)
        except CommandError:
            raise TransferRefused(
                "The SQLite file is at a database revision this qa-bot does not know: "
                "upgrade qa-bot first."
            ) from None
        await _repair(snapshot_url, console)
        await _probe_target(target_url)
        console.print(f"Copying {health.redacted(source_url)} into {shown}")
        try:
            counts, audit = await _copy(snapshot_url, target_url, console)
        except Exception as exc:
            if health.sentence_for(exc) is None:
                raise
            raise TransferFailed(
                f"The target database {shown} went away during the move; no row was kept: "
                "start migrate-data again once it answers."
            ) from None
    _report(console, counts, audit, shown)


async def _copy(
    snapshot_url: str, target_url: str, console: Console
) -> tuple[list[TableCount], PointsAudit]:
    await transfer.check_empty(target_url)
    await migrate.upgrade(target_url)
    check = _PointsCheck()
    with progress_bar(console, label_width=20) as progress:
        counts = await transfer.copy_tables(snapshot_url, target_url, _Bar(progress), check)
    assert check.audit is not None
    return counts, check.audit


def _report(console: Console, counts: list[TableCount], audit: PointsAudit, shown: str) -> None:
    for count in counts:
        console.print(f"  {count.table:<20} {count.source:>9} read, {count.target:>9} copied")
    rows = sum(c.target for c in counts)
    console.print(
        f"Row counts equal in all {len(counts)} tables ({rows} rows). Points recomputed from "
        f"the copied votes and accepts equal the copied totals for all {audit.members} members "
        f"in {audit.guilds} servers."
    )
    console.print(
        f"Done: point DATABASE_URL at {shown} and start qa-bot; keep the SQLite file as a backup."
    )


__all__ = ["TransferFailed", "TransferRefused", "migrate_data"]
