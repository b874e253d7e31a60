"""Ask drafts on both backends: held, used up once, expired, kept across restarts."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import create_engine, create_sessionmaker
from bot.db.models import AskDraft, Category, Post
from bot.forum import drafts, retention, search
from bot.forum.drafts import AskDraftSnapshot, DraftExpired, DraftUsed
from bot.forum.errors import ForumError, NotFound, PermissionDenied, ValidationError
from bot.forum.questions import AskedQuestion
from bot.forum.uow import run_in_transaction
from tests.bot.forum.core_support import GUILD, NOW, SEEN, Forum

ASKER = 11
STRANGER = 12


async def hold(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    now: datetime = NOW,
    ttl: timedelta = drafts.DRAFT_TTL,
    **asked: Any,
) -> AskDraftSnapshot:
    fields: dict[str, Any] = {
        "title": "  How do I stop ruminating at night?  ",
        "details": "It goes on for hours.",
    }
    fields.update(asked)
    return await run_in_transaction(
        sessionmaker,
        lambda s: drafts.create_draft(
            s, guild_id=GUILD, user_id=ASKER, asked=AskedQuestion(**fields), now=now, ttl=ttl
        ),
    )


async def use(
    sessionmaker: async_sessionmaker[AsyncSession],
    draft: AskDraftSnapshot,
    *,
    user_id: int = ASKER,
    after: timedelta = timedelta(minutes=1),
    cancel: bool = False,
) -> AskDraftSnapshot:
    op = drafts.cancel_draft if cancel else drafts.consume_draft
    return await run_in_transaction(
        sessionmaker, lambda s: op(s, draft_id=draft.id, user_id=user_id, now=NOW + after)
    )


async def get(
    sessionmaker: async_sessionmaker[AsyncSession],
    draft: AskDraftSnapshot,
    *,
    user_id: int = ASKER,
    after: timedelta = timedelta(minutes=1),
) -> AskDraftSnapshot:
    return await run_in_transaction(
        sessionmaker,
        lambda s: drafts.get_draft(s, draft_id=draft.id, user_id=user_id, now=NOW + after),
    )


async def test_a_draft_holds_what_was_typed(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    draft = await hold(sessionmaker, anonymous=True, display_name="  Night owl ")
    assert draft.title == "How do I stop ruminating at night?"
    assert draft.details == "It goes on for hours."
    assert (draft.anonymous, draft.display_name, draft.category) == (True, "Night owl", None)
    assert draft.created_at == NOW
    assert draft.expires_at == NOW + drafts.DRAFT_TTL == NOW + timedelta(minutes=15)
    assert (draft.consumed_at, draft.outcome) == (None, None)
    assert str(ASKER) not in repr(draft)
    assert await get(sessionmaker, draft) == draft
    named = await hold(sessionmaker, display_name="Ignored when not anonymous")
    assert named.display_name is None


async def test_invalid_fields_are_refused_at_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(ValidationError, match="title"):
        await hold(sessionmaker, title="   ")
    with pytest.raises(ValidationError, match="at most 100"):
        await hold(sessionmaker, title="x" * 101)
    with pytest.raises(ValidationError, match="category does not exist"):
        await hold(sessionmaker, category="Nope")
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(AskDraft))).scalar() == 0


async def test_a_draft_is_used_up_once(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    draft = await hold(sessionmaker)
    used = await use(sessionmaker, draft)
    assert (used.outcome, used.consumed_at) == ("posted", NOW + timedelta(minutes=1))
    with pytest.raises(DraftUsed, match="already posted"):
        await use(sessionmaker, draft)
    with pytest.raises(DraftUsed, match="already posted"):
        await use(sessionmaker, draft, cancel=True)
    with pytest.raises(DraftUsed, match="already posted"):
        await get(sessionmaker, draft)

    other = await hold(sessionmaker)
    assert (await use(sessionmaker, other, cancel=True)).outcome == "cancelled"
    with pytest.raises(DraftUsed, match="cancelled; use /ask"):
        await use(sessionmaker, other)


async def test_a_draft_expires_after_fifteen_minutes(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    draft = await hold(sessionmaker)
    almost = timedelta(minutes=14, seconds=59)
    assert (await get(sessionmaker, draft, after=almost)).id == draft.id
    sentence = "waited more than 15 minutes and expired; please use /ask again"
    for after in (timedelta(minutes=15), timedelta(hours=3)):
        with pytest.raises(DraftExpired, match=sentence):
            await get(sessionmaker, draft, after=after)
        with pytest.raises(DraftExpired, match=sentence):
            await use(sessionmaker, draft, after=after)
        with pytest.raises(DraftExpired, match=sentence):
            await use(sessionmaker, draft, after=after, cancel=True)
    assert (await use(sessionmaker, draft, after=almost)).outcome == "posted"


async def test_only_the_asker_uses_an_existing_draft(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    draft = await hold(sessionmaker)
    with pytest.raises(PermissionDenied, match="Only the member who asked"):
        await use(sessionmaker, draft, user_id=STRANGER)
    with pytest.raises(PermissionDenied):
        await get(sessionmaker, draft, user_id=STRANGER)
    missing = dataclasses.replace(draft, id=draft.id + 1000)
    with pytest.raises(NotFound, match="no longer waiting"):
        await use(sessionmaker, missing)
    assert (await use(sessionmaker, draft)).outcome == "posted"


async def test_a_draft_survives_a_restart(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        draft = await hold(create_sessionmaker(engine))
    finally:
        await engine.dispose()
    restarted = create_engine(db_url)
    try:
        sm = create_sessionmaker(restarted)
        assert (await get(sm, draft, after=timedelta(minutes=10))).title == draft.title
        assert (await use(sm, draft, after=timedelta(minutes=10))).outcome == "posted"
    finally:
        await restarted.dispose()


async def test_two_presses_at_once_use_it_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    draft = await hold(sessionmaker)
    results = await asyncio.gather(
        use(sessionmaker, draft),
        use(sessionmaker, draft, cancel=True),
        use(sessionmaker, draft),
        return_exceptions=True,
    )
    succeeded = [r for r in results if isinstance(r, AskDraftSnapshot)]
    refused = [r for r in results if isinstance(r, DraftUsed)]
    assert len(succeeded) == 1 and len(refused) == 2


async def test_posting_a_draft_stores_its_question_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        session.add(Category(guild_id=GUILD, name="Sleep", created_at=NOW))
    draft = await hold(sessionmaker, category="sleep", anonymous=True, display_name="Owl")
    change = await run_in_transaction(
        sessionmaker,
        lambda s: drafts.ask_draft(
            s, draft_id=draft.id, user_id=ASKER, now=NOW + timedelta(minutes=2)
        ),
    )
    question = change.post
    assert change.created
    assert (question.kind, question.state, question.guild_id) == ("question", "pending", GUILD)
    assert question.author_id == ASKER
    assert (question.title, question.body) == (draft.title, draft.details)
    assert (question.category, question.anonymous, question.display_name) == (
        "Sleep",
        True,
        "Owl",
    )
    with pytest.raises(DraftUsed):
        await run_in_transaction(
            sessionmaker,
            lambda s: drafts.ask_draft(
                s, draft_id=draft.id, user_id=ASKER, now=NOW + timedelta(minutes=3)
            ),
        )
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(Post))).scalar() == 1


async def test_a_refused_question_leaves_the_draft_usable(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        session.add(Category(guild_id=GUILD, name="Work", created_at=NOW))
    draft = await hold(sessionmaker, category="Work")
    async with sessionmaker() as session, session.begin():
        await session.execute(delete(Category).where(Category.name == "Work"))
    with pytest.raises(ForumError, match="category does not exist"):
        await run_in_transaction(
            sessionmaker,
            lambda s: drafts.ask_draft(
                s, draft_id=draft.id, user_id=ASKER, now=NOW + timedelta(minutes=2)
            ),
        )
    assert (await get(sessionmaker, draft, after=timedelta(minutes=3))).consumed_at is None
    assert (await use(sessionmaker, draft, cancel=True)).outcome == "cancelled"


async def test_purge_deletes_only_long_gone_drafts(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    expired_long_ago = await hold(sessionmaker, now=NOW - timedelta(days=3))
    used_long_ago = await hold(sessionmaker, now=NOW - timedelta(days=2), ttl=timedelta(days=5))
    await run_in_transaction(
        sessionmaker,
        lambda s: drafts.consume_draft(
            s, draft_id=used_long_ago.id, user_id=ASKER, now=NOW - timedelta(days=2)
        ),
    )
    expired_lately = await hold(sessionmaker, now=NOW - timedelta(hours=1))
    waiting = await hold(sessionmaker)
    purged = await run_in_transaction(sessionmaker, lambda s: retention.purge_drafts(s, now=NOW))
    assert purged == 2
    async with sessionmaker() as session:
        left = set((await session.execute(select(AskDraft.id))).scalars())
    assert left == {expired_lately.id, waiting.id}
    assert expired_long_ago.id not in left
    with pytest.raises(NotFound):
        await use(sessionmaker, expired_long_ago)


async def test_the_gate_holds_a_question_only_when_similar_ones_exist(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    forum = Forum(sessionmaker)

    async def gate(title: str) -> drafts.HeldQuestion:
        asked = AskedQuestion(title)
        similar = await run_in_transaction(
            sessionmaker,
            lambda s: search.similar_questions(
                s, guild_id=GUILD, visible=SEEN, title=asked.title, limit=5
            ),
            read_only=True,
        )
        return await run_in_transaction(
            sessionmaker,
            lambda s: drafts.hold_if_similar(
                s, guild_id=GUILD, user_id=ASKER, asked=asked, similar=similar, now=NOW
            ),
        )

    alone = await gate("How do I stop ruminating at night?")
    assert (alone.similar, alone.draft) == ([], None)
    asked = await forum.ask(STRANGER, title="Ruminating at night: how do I stop?")
    held = await gate("How do I stop ruminating at night?")
    assert [hit.id for hit in held.similar] == [asked.id]
    assert held.draft is not None and held.draft.title == "How do I stop ruminating at night?"
    assert (held.draft.user_id, held.draft.expires_at) == (ASKER, NOW + drafts.DRAFT_TTL)
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(AskDraft))).scalar() == 1


async def test_posting_a_held_question_finds_its_related_questions_first(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    forum = Forum(sessionmaker)
    asked = await forum.ask(STRANGER, title="Ruminating at night: how do I stop?")
    draft = await hold(sessionmaker)

    async def post(user_id: int = ASKER) -> drafts.PostedDraft:
        related = await run_in_transaction(
            sessionmaker,
            lambda s: search.similar_questions(
                s, guild_id=GUILD, visible=SEEN, title=draft.title, limit=3
            ),
            read_only=True,
        )
        return await run_in_transaction(
            sessionmaker,
            lambda s: drafts.post_held_question(
                s, draft_id=draft.id, user_id=user_id, related=related, now=NOW
            ),
        )

    with pytest.raises(PermissionDenied):
        await post(STRANGER)
    posted = await post()
    assert [hit.id for hit in posted.related] == [asked.id]  # not the new question itself
    assert posted.change.created and posted.change.post.state == "pending"
    assert posted.change.post.title == draft.title
    with pytest.raises(DraftUsed):
        await post()
