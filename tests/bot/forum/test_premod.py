"""Pre-moderation in the domain, on both backends: which posts are held, what holding refuses
(and then writes nothing), decisions taken once, the audit entries and the author's DMs."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.db.models import HeldPost
from bot.forum import audit, blocks, dm_content, drafts, outbox, prefs, premod
from bot.forum import premod_decisions as decisions
from bot.forum.blocks import MemberBlocked
from bot.forum.drafts import DraftUsed
from bot.forum.errors import InvalidState, RateLimited
from bot.forum.premod import AlreadyDecided, HeldPostSnapshot, holds
from bot.forum.questions import AskedQuestion
from bot.forum.settings import DEFAULTS, set_setting
from bot.ui.premod import dm_held, held_card
from tests.bot.forum.core_support import ASKER, GUILD, NOW, Forum, queued_notifications

MEMBER, MODERATOR = 21, 31


def test_what_is_held() -> None:
    base = dataclasses.replace(DEFAULTS, mod_channel_id=5)
    anon = dataclasses.replace(base, premod_anonymous=True)
    new = dataclasses.replace(base, premod_new_member_days=3)
    day = timedelta(days=1)
    assert holds(anon, anonymous=True, joined_at=None, now=NOW)
    assert not holds(anon, anonymous=False, joined_at=NOW - day, now=NOW)
    assert holds(new, anonymous=False, joined_at=NOW - day, now=NOW)
    assert not holds(new, anonymous=True, joined_at=NOW - 10 * day, now=NOW)
    assert not holds(new, anonymous=False, joined_at=None, now=NOW)  # unknown: not held
    # Without a moderator channel nothing can be reviewed, so nothing is held.
    no_channel = dataclasses.replace(anon, mod_channel_id=None, premod_new_member_days=3)
    assert not holds(no_channel, anonymous=True, joined_at=NOW - day, now=NOW)


async def configure(forum: Forum, **values: Any) -> None:
    for key, value in {"mod_channel_id": 5, **values}.items():
        await forum.run(lambda s, k=key, v=value: set_setting(s, GUILD, k, v))


async def hold(forum: Forum, kind: str = "answer", **kw: Any) -> HeldPostSnapshot | None:
    fields: dict[str, Any] = {
        "guild_id": GUILD,
        "author_id": MEMBER,
        "kind": kind,
        "payload": {"body": "Breathe slowly, in for four and out for six."},
        "anonymous": True,
        "joined_at": None,
        "now": forum.now,
    }
    fields.update(kw)
    return await forum.run(lambda s: premod.hold_if_due(s, **fields))


async def held_rows(forum: Forum) -> int:
    return int(await forum.run(lambda s: s.scalar(select(func.count()).select_from(HeldPost))))


async def test_holding_refuses_as_posting_would_and_then_writes_nothing(forum: Forum) -> None:
    question = await forum.ask()
    assert await hold(forum, question_id=question.id) is None  # pre-moderation is off
    await configure(forum, premod_anonymous=True)
    assert await hold(forum, question_id=question.id, anonymous=False) is None
    await forum.close(question)
    with pytest.raises(InvalidState, match="closed"):
        await hold(forum, question_id=question.id)
    assert await held_rows(forum) == 0

    other = await forum.ask(title="How do I wind down after work?", anonymous=True)
    # The asker of an anonymous question replies as the question shows them: held too.
    named = {"body": "Thank you all.", "author_name": "Sam"}
    reply = await hold(
        forum, "comment", question_id=other.id, author_id=ASKER, anonymous=False, payload=named
    )
    assert reply is not None and reply.anonymous and reply.waiting
    assert "author_name" not in reply.payload  # no name of theirs is kept
    assert reply.text == "Thank you all."

    # Held posts count in no hourly limit: at most that many of a kind wait at once.
    await configure(forum, answers_per_hour=2)
    for _ in range(2):
        assert await hold(forum, question_id=other.id) is not None
    with pytest.raises(RateLimited, match="2 posts like this waiting"):
        await hold(forum, question_id=other.id)

    # A member blocked from posting anonymously (through one of their posts) is refused.
    theirs = await forum.ask(author=MEMBER, title="Why do I wake at four?", anonymous=True)
    await forum.run(
        lambda s: blocks.block_member_through_post(
            s, post_id=theirs.id, moderator_id=MODERATOR, scope="anonymous", days=3, now=NOW
        )
    )
    with pytest.raises(MemberBlocked):
        await hold(forum, question_id=question.id)
    assert await hold(forum, question_id=other.id, anonymous=False) is None  # named: allowed


async def test_a_decision_is_taken_once_audited_and_dmed(forum: Forum) -> None:
    await configure(forum, premod_anonymous=True)
    question = await forum.ask()
    held = await hold(forum, question_id=question.id)
    assert held is not None
    shown = await forum.run(
        lambda s: decisions.reject(
            s, held_id=held.id, guild_id=GUILD, moderator_id=MODERATOR, reason=" Be kind. "
        )
    )
    assert shown.held.status == "rejected" and shown.held.why == "Be kind."
    assert "Rejected by" in (held_card(shown).fields[-1].value or "")
    for decide in (
        lambda s: decisions.reject(s, held_id=held.id, guild_id=GUILD, moderator_id=MODERATOR),
        lambda s: decisions.claim_approval(
            s, held_id=held.id, guild_id=GUILD, moderator_id=MODERATOR
        ),
    ):
        with pytest.raises(AlreadyDecided):
            await forum.run(decide)
    page = await forum.run(lambda s: audit.page(s, GUILD))
    assert [(e.action, e.post_id, e.detail) for e in page.entries] == [
        ("reject", None, f"held answer #{held.id}: Be kind.")
    ]

    # The DM reads the decision at send time, and only the author gets it.
    claimed = await forum.run(
        lambda s: outbox.claim_due(
            s, worker_id="w", now=NOW + timedelta(days=400), lease=timedelta(minutes=1), limit=9
        )
    )
    (item,) = claimed
    assert item.recipient_id == MEMBER and item.kind == "held_rejected"
    content = await forum.run(lambda s: dm_content.notification_content(s, [item]))
    assert content.held is not None and content.held.reason == "Be kind."
    embed, view = dm_held(content)
    assert "not approved" in (embed.title or "") and "Be kind." in (embed.description or "")
    assert view is None


async def test_an_approval_that_cannot_be_published_is_told_and_one_that_fails_waits_again(
    forum: Forum,
) -> None:
    await configure(forum, premod_anonymous=True)
    question = await forum.ask()
    first = await hold(forum, question_id=question.id)
    second = await hold(forum, question_id=question.id)
    assert first is not None and second is not None

    async def claim(held: HeldPostSnapshot) -> HeldPostSnapshot:
        return await forum.run(
            lambda s: decisions.claim_approval(
                s, held_id=held.id, guild_id=GUILD, moderator_id=MODERATOR
            )
        )

    await claim(first)
    await forum.run(lambda s: decisions.release(s, held_id=first.id, guild_id=GUILD))
    assert (await claim(first)).status == "approved"  # it waited again after a failure

    await forum.run(lambda s: prefs.set_notifications(s, user_id=MEMBER, on=False))
    await claim(second)
    shown = await forum.run(
        lambda s: decisions.unpublished(
            s, held_id=second.id, guild_id=GUILD, sentence="This question is closed."
        )
    )
    assert shown.held.unpublished and shown.held.why == "This question is closed."
    assert "but not published" in (held_card(shown).fields[-1].value or "")
    page = await forum.run(lambda s: audit.page(s, GUILD))
    (entry,) = page.entries
    assert entry.action == "approve" and "not published: This question is closed." in entry.detail
    # Notifications off: the author's choice holds for this DM too.
    assert await queued_notifications(forum.sessionmaker) == []


async def test_a_question_from_the_gate_uses_its_draft_up_and_a_discarded_one_gives_it_back(
    forum: Forum,
) -> None:
    await configure(forum, premod_anonymous=True)
    draft = await forum.run(
        lambda s: drafts.create_draft(
            s,
            guild_id=GUILD,
            user_id=MEMBER,
            asked=AskedQuestion("Why do I wake at four?"),
            now=NOW,
        )
    )
    payload = {"title": draft.title, "details": "", "category": None, "display_name": None}
    held = await hold(forum, "question", payload=payload, draft_id=draft.id)
    assert held is not None
    with pytest.raises(DraftUsed):
        await forum.run(lambda s: drafts.get_draft(s, draft_id=draft.id, user_id=MEMBER, now=NOW))
    # The card could not be sent: nothing is held and the draft can be posted again.
    await forum.run(lambda s: premod.discard(s, held_id=held.id, guild_id=GUILD))
    again = await forum.run(
        lambda s: drafts.get_draft(s, draft_id=draft.id, user_id=MEMBER, now=NOW)
    )
    assert again.consumed_at is None and await held_rows(forum) == 0
