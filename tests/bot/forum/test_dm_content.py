"""What a DM shows, read at send time, and what is no longer to be sent."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Member
from bot.forum import dm_content, notifications, outbox, prefs, settings
from tests.bot.forum.outbox_support import (
    ANSWERER,
    ASKER,
    GUILD,
    NOW,
    add_question,
    add_reply,
    claim,
)


async def test_content_reads_live_posts_at_send_time(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        await settings.set_setting(session, GUILD, "notify_coalesce_seconds", 0)
        question = await add_question(session)
        named = await add_reply(session, question, author_id=ANSWERER)
        hidden = await add_reply(session, question, author_id=987_654_321, anonymous=True)
        hidden.display_name = "Night owl"
        faceless = await add_reply(session, question, author_id=987_654_322, anonymous=True)
        for answer in (named, hidden, faceless):
            await notifications.notify_new_answer(
                session, question=question, answer=answer, now=NOW
            )
        session.add(Member(guild_id=GUILD, user_id=ANSWERER, display_name="Bea"))
        named.body = "Edited after queueing."
        await session.flush()
        [group] = outbox.group_claimed(await claim(session, NOW))
        await prefs.remember_dm_channel(session, ASKER, 4242)
        content = await dm_content.notification_content(session, group)
    assert content.kind == "new_answer"
    assert (content.guild_id, content.question_id) == (GUILD, question.id)
    assert content.question_title == question.title
    assert content.question_thread_id == question.thread_id
    assert content.dm_channel_id == 4242
    assert content.cancelled == {}
    assert content.notification_ids == [i.id for i in group]
    assert [(p.post_id, p.anonymous, p.display_name) for p in content.posts] == [
        (named.id, False, "Bea"),
        (hidden.id, True, "Night owl"),
        (faceless.id, True, None),
    ]
    assert content.posts[0].body == "Edited after queueing."
    assert content.posts[0].author_id == ANSWERER
    assert content.posts[0].message_id == named.message_id
    assert content.latest == content.posts[-1]
    # The identity behind an anonymous answer is not in the result, nor in its repr.
    for post in content.posts[1:]:
        assert post.author_id is None
    assert "987654321" not in repr(content) and "987654322" not in repr(content)


async def test_content_cancels_what_should_no_longer_be_sent(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        await settings.set_setting(session, GUILD, "notify_coalesce_seconds", 0)
        question = await add_question(session)
        kept = await add_reply(session, question, author_id=100)
        deleted = await add_reply(session, question, author_id=101)
        for answer in (kept, deleted):
            await notifications.notify_new_answer(
                session, question=question, answer=answer, now=NOW
            )
        await notifications.notify_accepted(
            session, question=question, answer=kept, actor_id=ASKER, now=NOW
        )
        deleted.deleted_at = NOW
        await session.flush()
        groups = outbox.group_claimed(await claim(session, NOW))
        by_kind = {g[0].kind: g for g in groups}
        answers = await dm_content.notification_content(session, by_kind["new_answer"])
        assert [p.post_id for p in answers.posts] == [kept.id]
        assert list(answers.cancelled.values()) == ["the post was deleted"]
        # The acceptance is not on the answer (it was never stored as accepted here).
        accepted = await dm_content.notification_content(session, by_kind["accepted"])
        assert accepted.posts == ()
        assert list(accepted.cancelled.values()) == ["the answer is no longer accepted"]
        # Notifications turned off after queueing: nothing is sent.
        await prefs.set_notifications(session, ASKER, False)
        muted = await dm_content.notification_content(session, by_kind["new_answer"])
        assert muted.posts == ()
        assert set(muted.cancelled.values()) == {"the recipient turned notifications off"}
        question.deleted_at = NOW
        await session.flush()
        await prefs.set_notifications(session, ASKER, True)
        gone = await dm_content.notification_content(session, by_kind["new_answer"])
        assert set(gone.cancelled.values()) == {"the question was deleted"}
        with pytest.raises(ValueError):
            await dm_content.notification_content(session, [])
        with pytest.raises(ValueError):
            await dm_content.notification_content(
                session, [*by_kind["new_answer"], *by_kind["accepted"]]
            )


async def test_many_dms_are_read_in_a_few_statements_as_each_alone(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        await settings.set_setting(session, GUILD, "notify_coalesce_seconds", 0)
        session.add(Member(guild_id=GUILD, user_id=ANSWERER, display_name="Bea"))
        for n in range(6):
            question = await add_question(session, author_id=ASKER + n)
            named = await add_reply(session, question, author_id=ANSWERER)
            hidden = await add_reply(session, question, author_id=987_654_321, anonymous=True)
            for answer in (named, hidden):
                await notifications.notify_new_answer(
                    session, question=question, answer=answer, now=NOW
                )
            if n == 2:
                hidden.deleted_at = NOW
        await prefs.set_dm_options(session, ASKER + 1, preview="minimal")
        await prefs.remember_dm_channel(session, ASKER + 3, 4242)
        await session.flush()
        groups = outbox.group_claimed(await claim(session, NOW))
        assert len(groups) == 6
        alone = [await dm_content.notification_content(session, group) for group in groups]
        statements: list[str] = []

        def count(*args: Any) -> None:
            statements.append(args[2])

        bind = session.get_bind()
        event.listen(bind, "before_cursor_execute", count)
        try:
            together = await dm_content.notification_contents(session, groups)
        finally:
            event.remove(bind, "before_cursor_execute", count)
    assert together == alone
    # The recipients' preferences, the questions and posts, the named authors' names.
    assert len(statements) == 3, statements
    assert {c.preview for c in together} == {"full", "minimal"}
    assert [c.dm_channel_id for c in together].count(4242) == 1
    assert sum(len(c.cancelled) for c in together) == 1
    assert [p.display_name for c in together for p in c.posts if not p.anonymous] == ["Bea"] * 6
