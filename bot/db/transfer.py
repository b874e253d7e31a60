"""Copying a community's database from an SQLite file into PostgreSQL (``qa-bot migrate-data``).

The SQLite file is never read directly: SQLite's online backup API copies it into a private
temporary snapshot first (``snapshot``), which is consistent even while a bot still writes the
file, and the snapshot is brought to the newest schema there, so the file itself is never
written. The target must be empty (``check_empty``: every table of the models, row count 0).

``copy_tables`` then copies every table of ``bot.db.models`` in dependency order (a table after
those it refers to), in batches, in ONE PostgreSQL transaction that first locks every table and
checks again that they are empty: a refusal or a failure half-way writes nothing. Rows keep their
ids. A row that refers forward to a row of its own table not copied yet (a question's accepted
answer, a newer duplicate) is inserted with that column empty and completed after the table.
Full-text search needs no copy: SQLite's FTS5 table is left behind, PostgreSQL's
``posts.search_vector`` is a generated column computed as each post arrives. Last, every id
sequence is moved past the largest copied id (``setval``), so the next post gets a fresh id.
"""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from sqlalchemy import Column, Integer, Table, bindparam, func, insert, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.engine import create_engine, is_sqlite, private_umask, sqlite_path
from bot.db.health import redacted
from bot.db.models import Base

#: Rows read and inserted per statement.
BATCH_ROWS: Final = 1000
#: Every table a community's data lives in, each after the tables it refers to.
TABLES: Final[Sequence[Table]] = tuple(Base.metadata.sorted_tables)


class TransferRefused(Exception):
    """``migrate-data`` cannot go on (one sentence; nothing was written to the target)."""


class TransferFailed(Exception):
    """The copy did not check out or could not finish (one sentence; rolled back whole)."""


#: A last check of the copied rows, on the target's connection before the commit; it raises
#: ``TransferFailed`` to roll the copy back.
Check = Callable[[AsyncConnection], Awaitable[None]]


class Progress(Protocol):
    """Told how the copy goes, table by table."""

    def begin(self, table: str, rows: int) -> None: ...

    def advance(self, table: str, rows: int) -> None: ...


@dataclass(frozen=True, slots=True)
class TableCount:
    """A table's rows in the snapshot and in the target after the copy."""

    table: str
    source: int
    target: int


def source_path(url: str) -> Path:
    """The SQLite file ``--from`` names (refused: another kind of URL, in-memory)."""
    path = sqlite_path(url) if is_sqlite(url) else None
    if path is None:
        raise TransferRefused(
            f"--from must name an SQLite file (sqlite+aiosqlite:///path), not {redacted(url)}."
        )
    return path


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise TransferRefused(f"There is no SQLite file at {path}: check the --from path.")
    return path


def _backup(source: Path, snapshot: Path) -> None:
    """Copy ``source`` into ``snapshot`` with SQLite's online backup API (read only on the
    source: a bot may still run on it)."""
    try:
        reader = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        raise TransferRefused(f"The SQLite file at {source} cannot be opened.") from None
    try:
        names = {r[0] for r in reader.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "alembic_version" not in names:
            raise TransferRefused(f"The SQLite file at {source} holds no qa-bot database.")
        with private_umask():
            writer = sqlite3.connect(snapshot)
        try:
            reader.backup(writer)
        finally:
            writer.close()
    except sqlite3.DatabaseError:
        raise TransferRefused(f"The file at {source} is not a readable SQLite database.") from None
    finally:
        reader.close()


@contextlib.contextmanager
def snapshot(url: str) -> Iterator[str]:
    """A consistent copy of the SQLite database of ``url`` in a private temporary folder, as a
    URL; removed when the block ends."""
    source = _existing(source_path(url))
    with tempfile.TemporaryDirectory(prefix="qa-bot-snapshot-") as folder:  # mode 0700
        copy = Path(folder) / "snapshot.sqlite3"
        _backup(source, copy)
        yield f"sqlite+aiosqlite:///{copy.as_posix()}"


def check_target_url(url: str) -> None:
    """Refuse a ``--to`` that is no PostgreSQL URL."""
    if is_sqlite(url):
        raise TransferRefused(
            f"--to must name a PostgreSQL database (postgresql+asyncpg://…), not {redacted(url)}."
        )


async def _counts(conn: AsyncConnection, tables: Sequence[Table]) -> dict[str, int]:
    return {
        t.name: int(await conn.scalar(select(func.count()).select_from(t)) or 0) for t in tables
    }


def _not_empty(url: str, counts: dict[str, int]) -> TransferRefused | None:
    filled = sorted(name for name, rows in counts.items() if rows)
    if not filled:
        return None
    return TransferRefused(
        f"The target database {redacted(url)} is not empty (rows in {', '.join(filled)}): "
        "migrate-data copies into an empty database only, so nothing was written."
    )


async def check_empty(url: str) -> None:
    """Refuse a target holding any row in any table of the models (tables it lacks yet, before
    its migrations, count as empty). Reads only."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            present = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            refusal = _not_empty(url, await _counts(conn, [t for t in TABLES if t.name in present]))
    finally:
        await engine.dispose()
    if refusal is not None:
        raise refusal


def _single_integer_key(table: Table) -> Column[Any] | None:
    keys = list(table.primary_key.columns)
    if len(keys) == 1 and isinstance(keys[0].type, Integer):
        return keys[0]
    return None


class _TableCopy:
    """One table's rows on their way: inserted batch by batch, forward references completed
    at the end."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.columns = list(table.columns)
        self.self_refs = [fk.parent for fk in table.foreign_keys if fk.column.table is table]
        self.key = _single_integer_key(table)
        if self.self_refs and self.key is None:
            raise ValueError(f"{table.name}: a self-reference needs a single integer key")
        # The columns an UPDATE would stamp by itself (``updated_at``): given their copied value.
        self.stamped = [c for c in self.columns if c.onupdate is not None]
        self.pending: list[dict[str, Any]] = []

    def rows(self, batch: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        rows = [{c.key: v for c, v in zip(self.columns, row, strict=True)} for row in batch]
        if self.key is not None:
            for row in rows:
                later = {c.key: row[c.key] for c in self.self_refs if _forward(row, self.key, c)}
                if later:
                    self.pending.append(
                        {
                            "k_": row[self.key.key],
                            **{f"v_{c}": v for c, v in later.items()},
                            **{f"v_{c.key}": row[c.key] for c in self.stamped},
                        }
                    )
                    row.update(dict.fromkeys(later))
        return rows

    async def complete(self, conn: AsyncConnection) -> None:
        """Set the forward references held back, grouped by the columns they fill."""
        if self.key is None:
            return  # nothing is held back without a key (``rows``)
        key = self.key
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for params in self.pending:
            groups.setdefault(tuple(sorted(params)), []).append(params)
        for names, params_list in groups.items():
            values: dict[str, Any] = {n[2:]: bindparam(n) for n in names if n.startswith("v_")}
            stmt = update(self.table).where(key == bindparam("k_")).values(values)
            for start in range(0, len(params_list), BATCH_ROWS):
                await conn.execute(stmt, params_list[start : start + BATCH_ROWS])


def _forward(row: dict[str, Any], key: Column[Any], column: Column[Any]) -> bool:
    value = row[column.key]
    return value is not None and value >= row[key.key]


async def _copy_table(
    source: AsyncConnection, target: AsyncConnection, table: Table, progress: Progress
) -> None:
    copy = _TableCopy(table)
    order = list(table.primary_key.columns)
    result = await source.stream(select(*copy.columns).order_by(*order))
    async for batch in result.partitions(BATCH_ROWS):
        await target.execute(insert(table), copy.rows(batch))
        progress.advance(table.name, len(batch))
    await copy.complete(target)


async def _move_sequences(conn: AsyncConnection) -> None:
    """Every id sequence past the largest copied id (an empty table's starts at 1)."""
    for table in TABLES:
        key = _single_integer_key(table)
        if key is None:
            continue
        sequence = await conn.scalar(select(func.pg_get_serial_sequence(table.name, key.name)))
        if sequence is None:
            continue
        top = int(await conn.scalar(select(func.coalesce(func.max(key), 0))) or 0)
        await conn.execute(select(func.setval(sequence, top + 1, False)))


def _counts_differ(counts: list[TableCount]) -> TransferFailed | None:
    off = [c for c in counts if c.source != c.target]
    if not off:
        return None
    first = off[0]
    return TransferFailed(
        f"The copy does not match the snapshot ({first.table}: {first.source} rows read, "
        f"{first.target} in the target; {len(off)} tables differ), so it was rolled back."
    )


async def copy_tables(
    source_url: str, target_url: str, progress: Progress, check: Check
) -> list[TableCount]:
    """Copy every table of the (migrated) snapshot ``source_url`` into the (migrated, empty)
    PostgreSQL ``target_url`` in one transaction; before the commit, compare the row counts of
    every table (``TransferFailed`` when one differs) and run ``check``. Returns the counts."""
    source_engine = create_engine(source_url)
    target_engine = create_engine(target_url)
    try:
        async with source_engine.connect() as source:
            counts = await _counts(source, TABLES)
            async with target_engine.begin() as target:
                names = ", ".join(target.dialect.identifier_preparer.quote(t.name) for t in TABLES)
                await target.exec_driver_sql(f"LOCK TABLE {names} IN EXCLUSIVE MODE")
                refusal = _not_empty(target_url, await _counts(target, TABLES))
                if refusal is not None:
                    raise refusal
                for table in TABLES:
                    progress.begin(table.name, counts[table.name])
                    await _copy_table(source, target, table, progress)
                await _move_sequences(target)
                copied = await _counts(target, TABLES)
                result = [TableCount(t.name, counts[t.name], copied[t.name]) for t in TABLES]
                failure = _counts_differ(result)
                if failure is not None:
                    raise failure
                await check(target)
    finally:
        await source_engine.dispose()
        await target_engine.dispose()
    return result
