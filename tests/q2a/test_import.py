"""``qa-bot import-q2a`` end to end: a generated Q2A site in MariaDB into SQLite and PostgreSQL."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from bot import q2a_import as q2a_runner
from bot.db.imported import ImportedAuthor, ImportedPost, ImportedVote
from bot.db.models import Base, Flag, Member, Post, Vote
from bot.forum import q2a_import
from bot.forum.leaderboard import top_members
from bot.q2a_import import ImportReport, import_q2a
from tests.q2a.site import (
    HANDLES,
    QPost,
    Site,
    email_of,
    expected_points,
    expected_scores,
    generate,
    ip_of,
    write,
)

GUILD = 4242
ALICE, BOB = 1001, 1002


def _users_file(tmp_path: Path, extra: str = "") -> str:
    path = tmp_path / "users.csv"
    path.write_text(f"handle,discord_id\nalice,{ALICE}\nbob,{BOB}\n{extra}", encoding="utf-8")
    return str(path)


async def _import(
    db_url: str, q2a_url: str, tmp_path: Path, *, extra_users: str = "", **kw: Any
) -> ImportReport:
    out = io.StringIO()
    report = await import_q2a(
        q2a_url,
        guild_id=GUILD,
        database_url=db_url,
        out=out,
        users_file=_users_file(tmp_path, extra_users),
        **kw,
    )
    assert "Importing" in out.getvalue()
    return report


async def _snapshot(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, list[Any]]:
    """Every row of every table, sorted."""
    async with sessionmaker() as session:
        rows = {}
        for table in Base.metadata.sorted_tables:
            result = await session.execute(select(table))
            rows[table.name] = sorted(tuple(map(repr, r)) for r in result.all())
        return rows


async def _source_ids(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(select(ImportedPost.source_id, ImportedPost.post_id))
    return dict(rows.all())


def _identity(site: Site) -> dict[int, object]:
    """Q2A user id -> the id qa-bot stores for them (mapped members, else synthetic)."""
    return {n: {1: ALICE, 2: BOB}.get(n, -n) for n in range(1, len(HANDLES) + 1)}


async def test_an_import_carries_the_whole_site(
    db_url: str,
    q2a_url: str,
    tmp_path: Path,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    site = generate()
    await write(q2a_url, site)
    report = await _import(db_url, q2a_url, tmp_path)

    posts = [p for p in site.posts.values() if p.type != "NOTE"]
    async with sessionmaker() as session:
        ids = await _source_ids(session)
        rows = {r.id: r for r in (await session.scalars(select(Post))).all()}
        assert set(ids) == {p.id for p in posts}
        kinds = {"Q": "question", "A": "answer", "C": "comment"}
        for source in posts:
            row = rows[ids[source.id]]
            assert row.kind == kinds[source.kind]
            # hidden and queued posts are not live
            assert (row.removed_at is not None) == (not source.visible)
            assert row.created_at.replace(tzinfo=None) == source.created
            if source.user is None or source.user == 5:
                assert row.anonymous and row.author_id < 0
                assert row.display_name == (source.name if source.user is None else None)
            else:
                assert not row.anonymous
                assert row.author_id == _identity(site)[source.user]
            if source.format == "html":
                assert "<" not in row.body and ("**" in row.body or "Answer" in row.body)
            if source.kind == "Q":
                selected = ids.get(source.selected) if source.selected else None
                assert row.accepted_answer_id == selected
                assert (row.closed_at is not None) == (source.closed_by is not None)
        qs = [p for p in site.posts.values() if p.type == "Q"]
        noted = rows[ids[qs[1].id]]
        assert noted.closed_reason == "Closed: *off topic* here"
        assert rows[ids[qs[-1].id]].duplicate_of_id == ids[qs[0].id]
        assert {r.display_name for r in rows.values() if r.author_id == -3} == {"carol"}

        scores = expected_scores(site)
        for source_id, want in scores.items():
            assert rows[ids[source_id]].score == want, source_id
        views = dict(
            (await session.execute(select(ImportedPost.source_id, ImportedPost.views))).all()
        )
        assert views == {p.id: p.views for p in posts}

        members = dict((await session.execute(select(Member.user_id, Member.points))).all())
        for user, want in expected_points(site, _identity(site)).items():
            assert members.get(user, 0) == want, user
        votes = (await session.execute(select(Vote.post_id, Vote.user_id))).all()
        assert len(votes) == sum(1 for (p, u) in site.live_votes() if site.posts[p].type != "NOTE")
        marked = (await session.execute(select(ImportedVote.post_id))).all()
        assert len(marked) == len(votes)
        flags = (await session.scalars(select(Flag))).all()
        assert len(flags) == len({f for f in site.flags if f[1] != 5})
        assert all(f.status == "open" for f in flags)
        authors = (await session.scalars(select(ImportedAuthor.handle))).all()
        assert sorted(authors) == ["carol", "dave", "frank"]  # erin was deleted on Q2A

        board = await top_members(session, guild_id=GUILD, per_page=50)
        assert board.entries and all(entry.user_id > 0 for entry in board.entries)
        assert {e.user_id for e in board.entries} == {ALICE, BOB}

    assert report.posts == {
        kind: sum(1 for p in posts if p.kind == letter) for letter, kind in kinds.items()
    }
    assert report.not_live == sum(1 for p in posts if not p.visible)
    lines = {line.handle: line for line in report.points}
    assert lines["alice"].q2a == 137 and lines["bob"].q2a == 174
    assert lines["alice"].here == 100 + expected_points(site, _identity(site))[ALICE]
    assert any("bonus +50" in reason for reason in lines["bob"].reasons)

    # No e-mail address or IP address of the Q2A site is anywhere in qa-bot's database.
    dump = repr(await _snapshot(sessionmaker))
    for n, handle in enumerate(HANDLES, start=1):
        assert email_of(handle) not in dump and ip_of(n) not in dump
    for n in range(100, 150):
        assert ip_of(n) not in dump


async def test_a_second_run_changes_nothing_and_a_third_imports_only_what_is_new(
    db_url: str,
    q2a_url: str,
    tmp_path: Path,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    site = generate()
    await write(q2a_url, site)
    await _import(db_url, q2a_url, tmp_path)
    before = await _snapshot(sessionmaker)

    again = await _import(db_url, q2a_url, tmp_path)
    assert again.posts == {} and again.votes == 0 and again.flags == 0
    assert await _snapshot(sessionmaker) == before

    # Q2A goes on: a new answer to the first question, up-voted by dave.
    first = next(p for p in site.posts.values() if p.type == "Q")
    engine = create_async_engine(q2a_url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO qa_posts (postid, type, parentid, userid, format, created, content) "
                "VALUES (900, 'A', :q, 6, '', NOW(), 'A late answer')"
            ),
            {"q": first.id},
        )
        await conn.execute(
            text("INSERT INTO qa_uservotes (postid, userid, vote, flag) VALUES (900, 4, 1, 0)")
        )
    await engine.dispose()
    # Frank is mapped only now: his handle is linked, his new answer is his member's.
    third = await _import(db_url, q2a_url, tmp_path, extra_users="frank,1006\nzed,1007\n")
    assert third.posts == {"answer": 1} and third.votes == 1
    assert third.authors is not None and third.authors.linked_now == 1
    assert third.problems == ["users file: 'zed' is no Q2A user"]
    after = await _snapshot(sessionmaker)
    assert len(after["posts"]) == len(before["posts"]) + 1
    async with sessionmaker() as session:
        late = await session.scalar(
            select(Post.author_id)
            .join(ImportedPost, ImportedPost.post_id == Post.id)
            .where(ImportedPost.source_id == 900)
        )
    assert late == 1006
    assert len(before["imported_authors"]) == len(after["imported_authors"])
    async with sessionmaker() as session:
        frank = (await session.execute(select(Vote.post_id).where(Vote.user_id == -6))).all()
        assert frank == []  # his votes are his member's now, each once
    identity = {**_identity(site), 6: 1006}
    site.posts[900] = QPost(id=900, type="A", parent=first.id, user=6, created=first.created)
    site.votes[(900, 4)] = 1
    async with sessionmaker() as session:
        points = dict((await session.execute(select(Member.user_id, Member.points))).all())
    for user, want in expected_points(site, identity).items():
        assert points.get(user, 0) == want, user


async def test_a_dry_run_writes_nothing_and_reports_what_an_import_gives(
    db_url: str,
    q2a_url: str,
    tmp_path: Path,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    site = generate(seed=11)
    await write(q2a_url, site)
    before = await _snapshot(sessionmaker)
    dry = await _import(db_url, q2a_url, tmp_path, dry_run=True)
    assert await _snapshot(sessionmaker) == before
    assert dry.dry_run and dry.posts.get("question", 0) > 0

    real = await _import(db_url, q2a_url, tmp_path)
    assert (dry.posts, dry.votes, dry.flags, dry.links) == (
        real.posts,
        real.votes,
        real.flags,
        real.links,
    )
    assert [(p.handle, p.here) for p in dry.points] == [(p.handle, p.here) for p in real.points]


async def test_a_failure_midway_keeps_the_batches_before_it_and_a_rerun_completes(
    db_url: str,
    q2a_url: str,
    tmp_path: Path,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site = generate()
    await write(q2a_url, site)
    monkeypatch.setattr(q2a_runner, "POST_BATCH", 5)
    real = q2a_import.import_posts
    calls = 0

    async def failing_third_batch(session: AsyncSession, **kw: Any) -> q2a_import.PostsResult:
        nonlocal calls
        calls += 1
        result = await real(session, **kw)
        if calls == 3:
            raise RuntimeError("the database went away")
        return result

    monkeypatch.setattr(q2a_import, "import_posts", failing_third_batch)
    with pytest.raises(RuntimeError):
        await _import(db_url, q2a_url, tmp_path)
    async with sessionmaker() as session:
        imported = sorted(await _source_ids(session))
    non_notes = sorted(p.id for p in site.posts.values() if p.type != "NOTE")
    assert imported == non_notes[:10]  # two whole batches, nothing of the third

    monkeypatch.setattr(q2a_import, "import_posts", real)
    await _import(db_url, q2a_url, tmp_path)
    async with sessionmaker() as session:
        assert sorted(await _source_ids(session)) == non_notes
        members = dict((await session.execute(select(Member.user_id, Member.points))).all())
    for user, want in expected_points(site, _identity(site)).items():
        assert members.get(user, 0) == want, user
