"""A deleted post keeps a tombstone, never its words; a removed post's words go once its restore
window has passed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.db.models import AskDraft, HeldPost, Post, Vote
from bot.forum import deletion, drafts, moderation, purge, settings
from bot.forum.questions import AskedQuestion
from bot.forum.rights import Actor
from tests.bot.forum.core_support import (
    ANSWERER,
    ASKER,
    GUILD,
    MODERATOR,
    NOW,
    OTHER,
    VOTER,
    Forum,
)

MOD = Actor(MODERATOR, is_moderator=True)
TITLE = "Why does my chest feel tight at night?"


async def _row(forum: Forum, post_id: int) -> Post:
    async with forum.sessionmaker() as session:
        row = await session.get(Post, post_id)
        assert row is not None
        return row


async def test_a_deleted_question_keeps_a_tombstone_and_no_words(forum: Forum) -> None:
    q = await forum.ask(
        title=TITLE, details="Every night around two.", anonymous=True, display_name="Night owl"
    )
    a = await forum.answer(q, ANSWERER, "Write the worries down before bed, then close the book.")
    await forum.vote(a, VOTER)
    mine = await forum.run(
        lambda s: drafts.create_draft(
            s, guild_id=GUILD, user_id=ASKER, asked=AskedQuestion(TITLE), now=NOW
        )
    )
    theirs = await forum.run(
        lambda s: drafts.create_draft(
            s, guild_id=GUILD, user_id=OTHER, asked=AskedQuestion(TITLE), now=NOW
        )
    )
    async with forum.sessionmaker.begin() as session:
        session.add(
            HeldPost(
                guild_id=GUILD,
                author_id=ANSWERER,
                kind="answer",
                question_id=q.id,
                payload='{"body": "Write the worries down"}',
                status="approved",
                post_id=a.id,
            )
        )
    await forum.run(lambda s: deletion.delete_question(s, actor=Actor(ASKER), question_id=q.id))

    for post_id, kind in ((q.id, "question"), (a.id, "answer")):
        row = await _row(forum, post_id)
        assert (row.kind, row.title, row.body, row.display_name) == (kind, None, "", None)
        assert row.deleted_at is not None and row.guild_id == GUILD
    async with forum.sessionmaker() as session:
        assert await session.get(Vote, (a.id, VOTER)) is not None  # the vote stays with its post
        left = set(await session.scalars(select(AskDraft.id)))
        held = await session.scalar(select(HeldPost.payload))
    assert left == {theirs.id} and mine.id not in left  # another member's draft is theirs
    assert held == "{}"
    await forum.check()


async def test_a_deleted_answer_loses_its_words_and_the_question_keeps_its_own(
    forum: Forum,
) -> None:
    q = await forum.ask(title=TITLE)
    a = await forum.answer(q, ANSWERER, "Breathe in for four counts and out for four.")
    await forum.run(lambda s: deletion.delete_post(s, actor=Actor(ANSWERER), post_id=a.id))
    assert (await _row(forum, a.id)).body == ""
    assert (await _row(forum, q.id)).title == TITLE
    assert await forum.run(lambda s: purge.blank_posts(s, [a.id])) == 0  # nothing left to blank


async def _remove(forum: Forum, post_id: int, days_ago: float) -> None:
    """A moderator's removal (``bot.forum.moderation``) ``days_ago`` days before NOW."""
    when = NOW - timedelta(days=days_ago)
    await forum.run(
        lambda s: moderation.remove_post(
            s, removal=moderation.Removal(post_id, reason="spam"), moderator=MOD, now=when
        )
    )


async def test_the_restore_window_purge_blanks_exactly_the_removed_posts_past_it(
    forum: Forum,
) -> None:
    other_guild = Forum(forum.sessionmaker, GUILD + 1, first_id=50_000)
    await forum.run(
        lambda s: settings.set_setting(s, other_guild.guild_id, "restore_window_days", 7)
    )
    old = await forum.ask(title="Removed thirty-one days ago")
    in_old = await forum.answer(old, ANSWERER, "An answer in the removed question's thread.")
    recent = await forum.ask(title="Removed twenty-nine days ago")
    kept = await forum.ask(title="Never removed, asked long ago")
    elsewhere = await other_guild.ask(title="Removed eight days ago, window seven")
    elsewhere_recent = await other_guild.ask(title="Removed six days ago, window seven")
    await _remove(forum, old.id, 31)
    await _remove(forum, recent.id, 29)
    await _remove(other_guild, elsewhere.id, 8)
    await _remove(other_guild, elsewhere_recent.id, 6)

    blanked = await forum.run(lambda s: purge.purge_removed(s, now=NOW))
    assert blanked == 3
    assert (await _row(forum, in_old.id)).body == ""  # the removed question's thread with it
    titles = {
        p.id: (await _row(forum, p.id)).title
        for p in (old, recent, kept, elsewhere, elsewhere_recent)
    }
    assert titles == {
        old.id: None,
        recent.id: "Removed twenty-nine days ago",
        kept.id: "Never removed, asked long ago",
        elsewhere.id: None,
        elsewhere_recent.id: "Removed six days ago, window seven",
    }
    assert (await _row(forum, old.id)).deleted_at is None  # removed, still a post: a tombstone
    assert await forum.run(lambda s: purge.purge_removed(s, now=NOW)) == 0


async def test_a_deleted_questions_thread_is_named_removed(forum: Forum) -> None:
    q = await forum.ask(title=TITLE)
    assert await forum.run(lambda s: purge.thread_name(s, question_id=q.id)) == (GUILD, TITLE)
    a = await forum.answer(q)
    assert await forum.run(lambda s: purge.thread_name(s, question_id=a.id)) is None
    await forum.run(lambda s: deletion.delete_question(s, actor=Actor(ASKER), question_id=q.id))
    assert await forum.run(lambda s: purge.thread_name(s, question_id=q.id)) == (
        GUILD,
        purge.REMOVED_THREAD_NAME,
    )
