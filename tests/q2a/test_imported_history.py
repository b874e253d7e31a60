"""Imported history beside live Discord on both backends: imported votes are facts no
reaction reconciliation removes (a live vote beside them goes), a linked member's reaction
changes their one imported vote, posts imported hidden or queued are never blanked by the
restore window (a moderator's removal of an imported post is), and erasing a linked member
forgets the link and their imported votes."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.clock import utc_now
from bot.db.imported import ImportedAuthor, ImportedPost, ImportedVote
from bot.db.models import Notification, Post, Vote
from bot.forum.imported import link_imported
from bot.forum.moderation import Removal, remove_post
from bot.forum.mydata.erase import erase_member
from bot.forum.purge import purge_removed
from bot.forum.rights import Actor
from bot.forum.uow import run_in_transaction
from bot.forum.votes import reconcile_votes
from bot.q2a_import import import_q2a
from tests.q2a.site import generate, write

GUILD = 777
ALICE = 1001
STRANGER = 5555


async def _imported(db_url: str, q2a_url: str, tmp_path: Path) -> None:
    users = tmp_path / "users.csv"
    users.write_text(f"alice,{ALICE}\n", encoding="utf-8")
    await write(q2a_url, generate())
    await import_q2a(
        q2a_url, guild_id=GUILD, database_url=db_url, out=io.StringIO(), users_file=str(users)
    )


async def _votes(session: AsyncSession, post_id: int) -> dict[int, tuple[bool, bool]]:
    rows = await session.execute(
        select(Vote.user_id, Vote.up, Vote.down).where(Vote.post_id == post_id)
    )
    return {user: (up, down) for user, up, down in rows}


async def test_reconciliation_keeps_imported_votes_and_a_linked_reaction_changes_its_own(
    db_url: str, q2a_url: str, tmp_path: Path, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _imported(db_url, q2a_url, tmp_path)
    async with sessionmaker() as session:
        post_id = await session.scalar(
            select(ImportedVote.post_id).where(ImportedVote.user_id == ALICE).limit(1)
        )
        assert post_id is not None
        imported = await _votes(session, post_id)
    alice_up, alice_down = imported[ALICE]

    async def add_live_vote(session: AsyncSession) -> None:
        session.add(Vote(post_id=post_id, user_id=STRANGER, guild_id=GUILD, up=True))

    await run_in_transaction(sessionmaker, add_live_vote)

    # Discord shows no reaction: the live vote goes, every imported one stays.
    await run_in_transaction(
        sessionmaker,
        lambda s: reconcile_votes(s, post_id=post_id, up_user_ids=(), down_user_ids=()),
    )
    async with sessionmaker() as session:
        assert await _votes(session, post_id) == imported

    # Alice (mapped) reacts the other way: her one vote turns, no second vote appears.
    ups, downs = ((), (ALICE,)) if alice_up else ((ALICE,), ())
    await run_in_transaction(
        sessionmaker,
        lambda s: reconcile_votes(s, post_id=post_id, up_user_ids=ups, down_user_ids=downs),
    )
    async with sessionmaker() as session:
        after = await _votes(session, post_id)
    assert after == {**imported, ALICE: (alice_down, alice_up)}


async def test_posts_imported_hidden_are_never_blanked_by_the_restore_window(
    db_url: str, q2a_url: str, tmp_path: Path, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _imported(db_url, q2a_url, tmp_path)
    async with sessionmaker() as session:
        hidden = list(
            await session.scalars(
                select(Post.id).where(Post.removed_at.is_not(None), Post.kind != "question")
            )
        )
        visible = await session.scalar(
            select(Post.id)
            .join(ImportedPost, ImportedPost.post_id == Post.id)
            .where(Post.removed_at.is_(None), Post.kind == "answer")
            .limit(1)
        )
    assert hidden and visible is not None

    async def moderator_removes(session: AsyncSession) -> None:
        await session.execute(
            update(Post)
            .where(Post.id == visible)
            .values(removed_at=utc_now(), removal_reason="Spam", removed_by=9)
        )

    await run_in_transaction(sessionmaker, moderator_removes)
    later = utc_now() + timedelta(days=400)
    blanked = await run_in_transaction(sessionmaker, lambda s: purge_removed(s, now=later))
    assert blanked == 1
    async with sessionmaker() as session:
        bodies = dict(
            (await session.execute(select(Post.id, Post.body).where(Post.id.in_(hidden)))).all()
        )
        assert all(bodies[p] for p in hidden)
        assert await session.scalar(select(Post.body).where(Post.id == visible)) == ""


async def test_erasing_a_linked_member_forgets_the_link_and_their_imported_votes(
    db_url: str, q2a_url: str, tmp_path: Path, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _imported(db_url, q2a_url, tmp_path)
    carol = 2002
    linked = await run_in_transaction(
        sessionmaker, lambda s: link_imported(s, guild_id=GUILD, handle="carol", user_id=carol)
    )
    assert linked.posts and linked.votes

    async def traces(session: AsyncSession) -> tuple[int, int, int]:
        links = await session.scalar(
            select(func.count()).where(ImportedAuthor.linked_user_id == carol)
        )
        marks = await session.scalar(select(func.count()).where(ImportedVote.user_id == carol))
        named = await session.scalar(select(func.count()).where(Post.author_id == carol))
        return links or 0, marks or 0, named or 0

    async with sessionmaker() as session:
        assert await traces(session) == (1, linked.votes, linked.posts)
    await run_in_transaction(sessionmaker, lambda s: erase_member(s, user_id=carol, guild_id=GUILD))
    async with sessionmaker() as session:
        assert await traces(session) == (0, 0, 0)


async def test_removing_imported_posts_dms_members_only(
    db_url: str, q2a_url: str, tmp_path: Path, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _imported(db_url, q2a_url, tmp_path)
    async with sessionmaker() as session:
        question = aliased(Post)
        live = (
            select(Post.id)
            .join(question, question.id == Post.question_id)
            .where(Post.removed_at.is_(None), Post.kind == "answer")
            .where(question.removed_at.is_(None))
            .limit(1)
        )
        synthetic = await session.scalar(live.where(Post.author_id < 0, Post.anonymous.is_(False)))
        member = await session.scalar(live.where(Post.author_id == ALICE))
    assert synthetic is not None and member is not None
    for post_id in (synthetic, member):
        await run_in_transaction(
            sessionmaker,
            lambda s, p=post_id: remove_post(
                s,
                removal=Removal(p),
                moderator=Actor(9, is_moderator=True, guild_id=GUILD),
            ),
        )
    async with sessionmaker() as session:
        recipients = list(await session.scalars(select(Notification.recipient_id)))
    assert recipients == [ALICE]  # the imported author has no account: no DM is queued
