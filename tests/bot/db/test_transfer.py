"""``qa-bot migrate-data``: an SQLite community moved into a fresh PostgreSQL database."""

from __future__ import annotations

import asyncio
import io
import re
import shutil
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.data_move import TransferFailed, TransferRefused, migrate_data
from bot.db import migrate, transfer
from bot.db.models import Member, Notification, Post
from bot.forum import search
from tests.bot.db.transfer_support import (
    ANSWER_WORD,
    QUESTION_WORD,
    SECOND_GUILD,
    populate,
    recomputed,
    sessions,
    table_counts,
    table_rows,
)
from tests.bot.forum.core_support import ANSWERER, GUILD, SEEN, Forum
from tests.bot.test_cli import _run
from tests.db_support import drop_postgres_database, new_postgres_database

PASSWORD = "s3cret-Pw0rd"


@pytest.fixture
def source_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "community.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def target_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database (no schema yet)."""
    url = await new_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(url)


async def test_round_trip_keeps_every_row_and_the_points(source_url: str, target_url: str) -> None:
    await populate(source_url)
    before = await table_rows(source_url)
    out = io.StringIO()
    await migrate_data(source_url, target_url, out)
    assert await table_rows(target_url) == before
    counts = await table_counts(target_url)
    assert all(counts[t] for t in ("posts", "votes", "members", "notifications", "flags"))
    assert all(counts[t] for t in ("mod_actions", "member_blocks", "held_posts", "report_cards"))
    for guild in (GUILD, SECOND_GUILD):
        assert await recomputed(target_url, guild) == await recomputed(source_url, guild)
    report = out.getvalue()
    assert re.search(rf"votes +{counts['votes']} read, +{counts['votes']} copied", report)
    assert "Row counts equal in all" in report and "equal the copied totals" in report
    assert "in 2 servers" in report


async def test_a_post_after_the_move_gets_a_fresh_id(source_url: str, target_url: str) -> None:
    community = await populate(source_url)
    await migrate_data(source_url, target_url, io.StringIO())
    async with sessions(target_url) as sm:
        async with sm() as session:
            top = await session.scalar(select(func.max(Post.id)))
            notes = await session.scalar(select(func.max(Notification.id)))
        forum = Forum(sm, first_id=90_000)
        asked = await forum.ask(title="A question asked after the move")
        answered = await forum.answer(community.question, body="An answer written after it.")
        await forum.vote(answered, 40)
        assert (asked.id, answered.id) == (top + 1, top + 2)
        async with sm() as session:
            assert await session.scalar(select(func.max(Notification.id))) == notes + 1
        await forum.check()  # caches still equal a recomputation


async def test_search_finds_the_moved_posts(source_url: str, target_url: str) -> None:
    community = await populate(source_url)
    await migrate_data(source_url, target_url, io.StringIO())
    async with sessions(target_url) as sm:
        forum = Forum(sm)
        for word in (QUESTION_WORD, ANSWER_WORD):
            hits = await forum.run(
                lambda s, w=word: search.search_questions(s, guild_id=GUILD, visible=SEEN, query=w)
            )
            assert [h.question_id for h in hits] == [community.question.id]
        nothing = await forum.run(
            lambda s: search.search_questions(s, guild_id=GUILD, visible=SEEN, query="zebra")
        )
        assert nothing == []


async def test_a_target_holding_rows_is_refused_and_nothing_is_written(
    source_url: str, target_url: str
) -> None:
    await populate(source_url)
    await migrate.upgrade(target_url)
    async with sessions(target_url) as sm:
        await Forum(sm).ask(title="Already here")
    before = await table_rows(target_url)
    with pytest.raises(
        TransferRefused, match=r"is not empty \(rows in members, posts\): .* nothing was written\.$"
    ):
        await migrate_data(source_url, target_url, io.StringIO())
    assert await table_rows(target_url) == before


async def test_an_empty_target_is_moved_into(source_url: str, target_url: str) -> None:
    """The twin: a migrated target without a row is empty, and the move goes in."""
    await populate(source_url)
    await migrate.upgrade(target_url)
    await migrate_data(source_url, target_url, io.StringIO())
    assert await table_rows(target_url) == await table_rows(source_url)


async def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(_run, ["migrate-data", *args], {}, tmp_path)


async def test_the_command_line_moves_a_community_then_refuses_to_again(
    source_url: str, target_url: str, tmp_path: Path
) -> None:
    await populate(source_url)
    first = await _cli(tmp_path, "--from", source_url, "--to", target_url)
    assert first.returncode == 0, first.stderr
    assert "Row counts equal in all" in first.stdout and "Traceback" not in first.stderr
    posts = (await table_counts(target_url))["posts"]
    assert re.search(rf"posts +{posts} read, +{posts} copied", first.stdout)
    rows = await table_rows(target_url)
    again = await _cli(tmp_path, "--from", source_url, "--to", target_url)
    assert again.returncode == 2
    lines = again.stderr.strip().splitlines()
    assert lines[-1].startswith("qa-bot: The target database ") and "is not empty" in lines[-1]
    assert "Traceback" not in again.stderr
    assert await table_rows(target_url) == rows


async def test_passwords_are_hidden_in_every_refusal(source_url: str, tmp_path: Path) -> None:
    closed = f"postgresql+asyncpg://qa:{PASSWORD}@127.0.0.1:1/qa"
    result = await _cli(tmp_path, "--from", source_url, "--to", closed)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "qa-bot: The target database postgresql+asyncpg://qa:***@127.0.0.1:1/qa does not "
        "answer: check that the server is running and that the host, port, database name and "
        "credentials are right."
    )
    assert PASSWORD not in result.stderr + result.stdout
    wrong_way = await _cli(tmp_path, "--from", closed, "--to", source_url)
    assert wrong_way.returncode == 2
    assert "qa:***@127.0.0.1:1/qa" in wrong_way.stderr
    assert PASSWORD not in wrong_way.stderr + wrong_way.stdout


async def test_the_command_is_documented(tmp_path: Path) -> None:
    result = await _cli(tmp_path, "--help")
    assert result.returncode == 0
    assert "usage: qa-bot migrate-data" in result.stdout and "--from SQLITE_URL" in result.stdout


async def test_a_missing_or_foreign_source_file_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.sqlite3"
    result = await _cli(
        tmp_path, "--from", f"sqlite+aiosqlite:///{missing}", "--to", "postgresql+asyncpg:///x"
    )
    assert result.stderr.strip().splitlines()[-1] == (
        f"qa-bot: There is no SQLite file at {missing}: check the --from path."
    )
    foreign = tmp_path / "other.sqlite3"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(TransferRefused, match="holds no qa-bot database"):
        await migrate_data(
            f"sqlite+aiosqlite:///{foreign}", "postgresql+asyncpg:///x", io.StringIO()
        )


async def test_points_cached_wrong_in_the_file_arrive_recomputed(
    source_url: str, target_url: str
) -> None:
    community = await populate(source_url)
    async with sessions(source_url) as sm, sm() as session, session.begin():
        mine = (Member.guild_id == GUILD) & (Member.user_id == ANSWERER)
        await session.execute(update(Member).where(mine).values(points=1))
    wrong = await table_rows(source_url)
    out = io.StringIO()
    await migrate_data(source_url, target_url, out)
    assert "cached points differ from a recomputation for 1 members and 0 posts" in out.getvalue()
    assert await table_rows(source_url) == wrong  # the file is only read
    async with sessions(target_url) as sm:
        forum = Forum(sm)
        await forum.check()
        assert await forum.points(ANSWERER) > 1
        assert community.answer.author_id == ANSWERER


async def test_a_failed_check_rolls_the_whole_copy_back(source_url: str, target_url: str) -> None:
    await populate(source_url)
    await migrate.upgrade(target_url)

    class Quiet:
        def begin(self, table: str, rows: int) -> None:
            pass

        def advance(self, table: str, rows: int) -> None:
            pass

    async def refuse(conn: AsyncConnection) -> None:
        assert await conn.scalar(select(func.count()).select_from(Post))  # copied so far
        raise TransferFailed("the check says no")

    with (
        transfer.snapshot(source_url) as snapshot_url,
        pytest.raises(TransferFailed, match="the check says no"),
    ):
        await transfer.copy_tables(snapshot_url, target_url, Quiet(), refuse)
    assert set((await table_counts(target_url)).values()) == {0}
    await migrate_data(source_url, target_url, io.StringIO())  # and a new try goes in


async def test_the_snapshot_leaves_out_what_a_writer_has_not_committed(source_url: str) -> None:
    await populate(source_url)
    async with sessions(source_url) as sm:
        await Forum(sm, first_id=70_000).ask(title="Committed before the snapshot")
        committed = await table_rows(source_url)
        async with sm() as session, session.begin():
            await session.execute(update(Member).values(points=12345))  # holds the write lock
            with transfer.snapshot(source_url) as snapshot_url:
                taken = await table_rows(snapshot_url)
            await session.rollback()
    assert taken == committed
