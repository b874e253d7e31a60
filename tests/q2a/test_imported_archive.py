"""The public archive and imported history, on both backends (``bot.forum.publishing``): the
imported history is published only when the server opts it in (``archive_imported``), its
authors are never named, and a member mapped to an imported handle decides for their own
posts like anyone else."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.imported import ImportedPost
from bot.db.models import Category, Post
from bot.forum import consent, publishing
from bot.forum.publishing import A_MEMBER, ANONYMOUS
from bot.forum.settings import set_setting
from bot.forum.uow import run_in_transaction
from bot.q2a_import import import_q2a
from tests.q2a.site import ANON_NAMES, HANDLES, generate, write

GUILD = 777
ALICE = 1001

Sessions = async_sessionmaker[AsyncSession]


async def _imported_archive(db_url: str, q2a_url: str, tmp_path: Path, sessions: Sessions) -> None:
    """The Q2A site imported (alice mapped to a member), its categories added (the import
    reports them for /qa settings), publishing on, every category chosen."""
    users = tmp_path / "users.csv"
    users.write_text(f"alice,{ALICE}\n", encoding="utf-8")
    await write(q2a_url, generate())
    await import_q2a(
        q2a_url, guild_id=GUILD, database_url=db_url, out=io.StringIO(), users_file=str(users)
    )

    async def open_archive(session: AsyncSession) -> None:
        names = await session.scalars(
            select(Post.category).where(Post.category.is_not(None)).distinct()
        )
        known = set(await session.scalars(select(Category.name)))
        session.add_all(Category(guild_id=GUILD, name=n) for n in set(names) - known)
        await session.flush()
        await session.execute(
            update(Category).where(Category.guild_id == GUILD).values(archived=True)
        )
        await set_setting(session, GUILD, "publishing", True)

    await run_in_transaction(sessions, open_archive)


async def _imported_questions(sessions: Sessions, *, by_alice: bool) -> set[int]:
    """The live imported questions in a category, alice's or the synthetic authors'."""
    async with sessions() as session:
        rows = await session.scalars(
            select(Post.id)
            .join(ImportedPost, ImportedPost.post_id == Post.id)
            .where(Post.kind == "question", Post.removed_at.is_(None), Post.category.is_not(None))
            .where(Post.author_id == ALICE if by_alice else Post.author_id < 0)
        )
        return set(rows)


async def _published(sessions: Sessions) -> set[int]:
    async with sessions() as session:
        found = await session.run_sync(
            lambda s: publishing.publishable_questions(s.connection(), GUILD, limit=100)
        )
    return {q.id for q in found}


async def test_imported_history_is_published_only_when_the_server_opts_it_in(
    db_url: str, q2a_url: str, tmp_path: Path, sessionmaker: Sessions
) -> None:
    await _imported_archive(db_url, q2a_url, tmp_path, sessionmaker)
    synthetic = await _imported_questions(sessionmaker, by_alice=False)
    alices = await _imported_questions(sessionmaker, by_alice=True)
    assert synthetic and alices
    # Off by default: nothing imported is published, not even alice's (she has said nothing).
    assert await _published(sessionmaker) == set()

    async def opt_in(session: AsyncSession) -> None:
        await set_setting(session, GUILD, "archive_imported", True)

    await run_in_transaction(sessionmaker, opt_in)
    # On: the imported authors' questions; alice's own stay hers to decide.
    assert await _published(sessionmaker) == synthetic
    await run_in_transaction(
        sessionmaker, lambda s: consent.set_prefs(s, GUILD, ALICE, by_default=True)
    )
    assert await _published(sessionmaker) == synthetic | alices


async def test_a_mapped_member_decides_for_their_imported_posts_with_the_setting_off(
    db_url: str, q2a_url: str, tmp_path: Path, sessionmaker: Sessions
) -> None:
    await _imported_archive(db_url, q2a_url, tmp_path, sessionmaker)
    alices = await _imported_questions(sessionmaker, by_alice=True)
    await run_in_transaction(
        sessionmaker, lambda s: consent.set_prefs(s, GUILD, ALICE, by_default=True)
    )
    assert await _published(sessionmaker) == alices


async def test_no_imported_author_is_ever_named(
    db_url: str, q2a_url: str, tmp_path: Path, sessionmaker: Sessions
) -> None:
    await _imported_archive(db_url, q2a_url, tmp_path, sessionmaker)

    async def opt_in(session: AsyncSession) -> None:
        await set_setting(session, GUILD, "archive_imported", True)

    await run_in_transaction(sessionmaker, opt_in)
    # Alice allows and asks to be named: her name may show, no imported author's ever does.
    await run_in_transaction(
        sessionmaker, lambda s: consent.set_prefs(s, GUILD, ALICE, by_default=True, named=True)
    )
    async with sessionmaker() as session:
        questions = await session.run_sync(
            lambda s: publishing.publishable_questions(s.connection(), GUILD, limit=100)
        )
        threads = await session.run_sync(
            lambda s: [publishing.publishable_thread(s.connection(), q.id) for q in questions]
        )
    authors = {q.author for q in questions}
    authors |= {p.author for t in threads if t is not None for p in t.posts if p.author}
    anonymous_posts = [p for t in threads if t is not None for p in t.posts if not p.withheld]
    assert anonymous_posts and ANONYMOUS in authors and A_MEMBER in authors
    text = repr([dataclasses.asdict(q) for q in questions]) + repr(
        [dataclasses.asdict(t) for t in threads if t is not None]
    )
    names = [h for h in HANDLES if h != "alice"] + [n for n in ANON_NAMES if n] + ["Helper"]
    assert not [name for name in names if name in text]
