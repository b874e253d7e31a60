"""``qa-bot import-q2a --from mysql+asyncmy://… --guild ID [--dry-run] [--users CSV]
[--table-prefix qa_]``: a Question2Answer site's history into a server's community.

Stages, each with a progress bar: the source's categories and users read and the authors
stored (``bot.forum.q2a_import.import_authors``); the posts in batches of ``POST_BATCH`` by Q2A
id, each batch one transaction (``import_posts``); the votes and flags in batches of
``VOTE_BATCH`` (``import_votes``); every member's points recomputed under the server's rules
(``bot.forum.points.recompute_points``). A failure leaves every batch before it committed and
none of the failed one; a second run goes on from there, as it only adds what is new.

``--dry-run`` runs the same stages in one transaction and rolls it back: the counts, problems
and points are what an import would give, and nothing is written (on SQLite the run holds the
database's write lock meanwhile).

The report lists, for each member of the ``--users`` file, Q2A's ``qa_userpoints`` figure
beside qa-bot's, and explains differences (point rules set differently, Q2A's admin bonus,
points Q2A paid for casting votes). A refusal is ``ImportRefused`` (one sentence; nothing was
written). The source URL is printed with its password as ``***``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TextIO, TypeVar

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from rich.console import Console
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import utc_now
from bot.data_move import TransferRefused
from bot.db import health, migrate
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.q2a_source import (
    Q2ASource,
    SourceCategory,
    SourcePoints,
    SourcePost,
    SourceRefused,
)
from bot.forum import q2a_import
from bot.forum.categories import list_categories
from bot.forum.points import get_member_points, recompute_points
from bot.forum.q2a_rules import (
    OPTION_NAMES,
    CategoryPlan,
    UserMapError,
    flatten_categories,
    read_user_map,
    rule_differences,
)
from bot.forum.settings import load_config
from bot.forum.uow import run_in_transaction
from bot.progress import progress_bar

POST_BATCH: Final = 500
VOTE_BATCH: Final = 2000
T = TypeVar("T")


class ImportRefused(TransferRefused):
    """``import-q2a`` cannot go on (one sentence; nothing was written)."""


@dataclass(frozen=True, slots=True)
class PointsLine:
    handle: str
    user_id: int
    q2a: int | None
    here: int
    reasons: list[str]


@dataclass(slots=True)
class ImportReport:
    dry_run: bool
    categories: CategoryPlan | None = None
    authors: q2a_import.AuthorsResult | None = None
    posts: dict[str, int] = field(default_factory=dict)
    not_live: int = 0
    links: int = 0
    votes: int = 0
    flags: int = 0
    members_fixed: int = 0
    problems: list[str] = field(default_factory=list)
    points: list[PointsLine] = field(default_factory=list)
    rule_differences: list[str] = field(default_factory=list)


class _Writer:
    """Runs each batch: in its own transaction, or (dry run) in one that is rolled back."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], dry_run: bool) -> None:
        self.sessions = sessions
        self.dry_run = dry_run
        self.session: AsyncSession | None = None

    async def __aenter__(self) -> _Writer:
        if self.dry_run:
            self.session = self.sessions()
            await self.session.begin()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.session is not None:
            await self.session.rollback()
            await self.session.close()

    async def run(self, op: Callable[[AsyncSession], Awaitable[T]]) -> T:
        if self.session is not None:
            return await op(self.session)
        return await run_in_transaction(self.sessions, op)


def _user_map(path: str | None) -> dict[str, int]:
    if path is None:
        return {}
    try:
        return read_user_map(Path(path).read_text(encoding="utf-8"))
    except OSError:
        raise ImportRefused(f"The users file {path} cannot be read.") from None
    except UserMapError as exc:
        raise ImportRefused(str(exc)) from None


async def import_q2a(
    source_url: str,
    *,
    guild_id: int,
    database_url: str,
    out: TextIO,
    dry_run: bool = False,
    users_file: str | None = None,
    table_prefix: str = "qa_",
) -> ImportReport:
    """Import (see the module); the report, also printed to ``out``."""
    if guild_id <= 0:
        raise ImportRefused("--guild needs the server's id.")
    user_map = _user_map(users_file)
    console = Console(file=out, markup=False, highlight=False, soft_wrap=True)
    try:
        source = Q2ASource(source_url, table_prefix)
    except SourceRefused as exc:
        raise ImportRefused(str(exc)) from None
    except Exception:
        raise ImportRefused(
            f"--from {health.redacted(source_url)} is no MySQL/MariaDB URL "
            "(mysql+asyncmy://user:password@host/database)."
        ) from None
    if not dry_run:
        await migrate.upgrade(database_url)
    engine = create_engine(database_url)
    report = ImportReport(dry_run=dry_run)
    try:
        if dry_run and not await _schema_is_current(engine, database_url):
            raise ImportRefused(
                "The database is not at qa-bot's newest schema: run `qa-bot migrate` first "
                "(a dry run writes nothing)."
            )
        console.print(f"Importing {health.redacted(source_url)} into server {guild_id}")
        async with _Writer(create_sessionmaker(engine), dry_run) as writer:
            await _stages(source, writer, guild_id, user_map, report, console)
    finally:
        await source.close()
        await engine.dispose()
    _print(console, report)
    return report


async def _schema_is_current(engine: AsyncEngine, url: str) -> bool:
    """Whether the database is at the newest migration (a dry run applies none)."""
    heads = set(ScriptDirectory.from_config(migrate.alembic_config(url)).get_heads())

    def current(conn: Connection) -> set[str]:
        return set(MigrationContext.configure(conn).get_current_heads())

    async with engine.connect() as conn:
        return await conn.run_sync(current) == heads


@dataclass(frozen=True, slots=True)
class SourceFacts:
    """What the import reads from the Q2A site before its first write."""

    categories: list[SourceCategory]
    #: Each user's handle, by Q2A user id.
    handles: dict[int, str]
    points: dict[int, SourcePoints]
    #: Q2A's point settings (``OPTION_NAMES``).
    options: dict[str, str]
    post_total: int
    vote_total: int


async def _read_source(source: Q2ASource) -> SourceFacts:
    try:
        return SourceFacts(
            categories=await source.categories(),
            handles=await source.handles(),
            points=await source.points(),
            options=await source.options(OPTION_NAMES),
            post_total=await source.post_count(),
            vote_total=await source.vote_count(),
        )
    except Exception as exc:
        raise ImportRefused(
            f"The Q2A database does not answer or has no Q2A tables with prefix "
            f"{source.prefix!r} ({type(exc).__name__})."
        ) from None


async def _stages(
    source: Q2ASource,
    writer: _Writer,
    guild_id: int,
    user_map: Mapping[str, int],
    report: ImportReport,
    console: Console,
) -> None:
    facts = await _read_source(source)
    now = utc_now()
    with progress_bar(console, label_width=10) as progress:
        task = progress.add_task("authors", total=len(facts.handles) + 1)

        async def existing(session: AsyncSession) -> list[str]:
            return [c.name for c in await list_categories(session, guild_id)]

        report.categories = flatten_categories(facts.categories, await writer.run(existing))
        authors_op = functools.partial(
            q2a_import.import_authors, guild_id=guild_id, handles=facts.handles, user_map=user_map
        )
        report.authors = authors = await writer.run(authors_op)
        report.problems += authors.problems
        progress.advance(task, len(facts.handles) + 1)

        task = progress.add_task("posts", total=facts.post_total)
        async for batch in source.posts(batch=POST_BATCH):
            related = await _related(source, batch)
            posts_op = functools.partial(
                q2a_import.import_posts,
                guild_id=guild_id,
                batch=batch,
                related=related,
                authors=authors.authors,
                categories=report.categories.names,
                now=now,
            )
            result = await writer.run(posts_op)
            for kind, count in result.imported.items():
                report.posts[kind] = report.posts.get(kind, 0) + count
            report.not_live += result.not_live
            report.links += result.links
            report.problems += result.problems
            progress.advance(task, len(batch))
        progress.update(task, completed=facts.post_total)

        task = progress.add_task("votes", total=facts.vote_total)
        async for votes in source.votes(batch=VOTE_BATCH):
            votes_op = functools.partial(
                q2a_import.import_votes,
                guild_id=guild_id,
                batch=votes,
                authors=authors.authors,
                now=now,
            )
            counted = await writer.run(votes_op)
            report.votes += counted.votes
            report.flags += counted.flags
            progress.advance(task, len(votes))

        task = progress.add_task("points", total=1)
        recomputed = await writer.run(functools.partial(recompute_points, guild_id=guild_id))
        report.members_fixed = recomputed.members_fixed
        progress.advance(task, 1)
    await _points_report(writer, guild_id, facts, user_map, report)


async def _related(source: Q2ASource, batch: list[SourcePost]) -> dict[int, SourcePost]:
    """The Q2A posts a batch's links name, and the questions whose links name the batch."""
    ids = {p.id for p in batch}
    wanted = {p.parent_id for p in batch} | {p.selected_id for p in batch}
    wanted |= {p.closed_by_id for p in batch}
    related = await source.posts_by_id({i for i in wanted if i is not None} - ids)
    related.update((p.id, p) for p in await source.referrers(ids) if p.id not in ids)
    return related


async def _points_report(
    writer: _Writer,
    guild_id: int,
    facts: SourceFacts,
    user_map: Mapping[str, int],
    report: ImportReport,
) -> None:
    async def read(session: AsyncSession) -> None:
        config = await load_config(session, guild_id)
        report.rule_differences = rule_differences(facts.options, config)
        for source_id, handle in facts.handles.items():
            if handle not in user_map:
                continue
            member_id = user_map[handle]
            here = await get_member_points(session, guild_id=guild_id, user_id=member_id)
            theirs = facts.points.get(source_id)
            reasons = []
            if theirs is not None and theirs.bonus:
                reasons.append(f"Q2A admin bonus {theirs.bonus:+d} (not imported)")
            if theirs is not None and theirs.votes_cast:
                reasons.append(f"{theirs.votes_cast} votes cast (Q2A may pay for voting)")
            shown = config.points_shown(here.points)
            report.points.append(
                PointsLine(handle, member_id, theirs.points if theirs else None, shown, reasons)
            )

    await writer.run(read)


def _print(console: Console, report: ImportReport) -> None:
    head = "Dry run: nothing was written. An import would give:" if report.dry_run else "Imported:"
    console.print(head)
    posts = report.posts
    console.print(
        f"  {posts.get('question', 0)} questions, {posts.get('answer', 0)} answers, "
        f"{posts.get('comment', 0)} comments ({report.not_live} hidden or queued: not live); "
        f"{report.links} selected answers, closings and duplicate links; "
        f"{report.votes} votes, {report.flags} flags"
    )
    if report.authors is not None:
        a = report.authors
        console.print(
            f"  authors: {a.count('mapped')} mapped by --users ({a.linked_now} of them linked "
            f"now), {a.count('linked')} linked before, "
            f"{a.count('synthetic')} imported under their Q2A handle ({a.new_synthetic} new)"
        )
    if report.categories is not None:
        if report.categories.new:
            console.print(
                "  categories to add as forum tags (/qa settings set categories add <name>): "
                + ", ".join(report.categories.new)
            )
        for name in report.categories.overflow:
            report.problems.append(f"category {name!r}: no room among 20 forum tags")
    console.print(f"  points recomputed: {report.members_fixed} members' totals changed")
    if report.points:
        console.print("  points of the mapped members (Q2A / qa-bot):")
        for line in report.points:
            q2a = "-" if line.q2a is None else str(line.q2a)
            why = "; ".join(line.reasons)
            if line.q2a != line.here and report.rule_differences:
                why = "; ".join([*line.reasons, "rules set differently (below)"])
            console.print(f"    {line.handle:<20} {q2a:>8} / {line.here:<8} {why}")
    for difference in report.rule_differences:
        console.print(f"  rule: {difference}")
    for problem in report.problems:
        console.print(f"  problem: {problem}")


async def run_cli(args: Any, database_url: str, out: TextIO) -> None:
    """``qa-bot import-q2a`` with its parsed arguments, into ``DATABASE_URL``."""
    await import_q2a(
        args.source,
        guild_id=args.guild,
        database_url=database_url,
        out=out,
        dry_run=args.dry_run,
        users_file=args.users,
        table_prefix=args.table_prefix,
    )


__all__ = ["ImportRefused", "ImportReport", "import_q2a", "run_cli"]
