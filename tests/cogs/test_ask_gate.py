"""The similar-questions gate of /ask, end to end through the fake Discord on both backends.

cogs.asking is loaded (the gate is part of it): a submitted question with similar ones is held as a
draft behind "Post my question anyway" / "Cancel"; the buttons keep working after a restart and
say so once the draft expired (its stored expiry is moved into the past: the injected clock).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.models import AskDraft, Post
from bot.forum import categories, votes
from cogs.asking.gate import CANCELLED, GATE_TEXT, POSTED_ANYWAY, RELATED_LIMIT, SIMILAR_LIMIT
from tests.cogs.conftest import add_forum_tag, ask_question_directly, configure_qa_guild, run_domain
from tests.fakediscord import FakeDiscord, InteractionHandle, Member, Message
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.fakediscord.model import Channel

EXTENSIONS = ["cogs.asking"]
THREADS = "/channels/{channel_id}/threads"
POSTED = "Your question is posted"


@dataclass
class Scene:
    fake: FakeDiscord
    factory: BotFactory
    db_url: str
    harness: BotHarness
    forum: Channel
    asker: Member
    others: Member

    @property
    def guild_id(self) -> int:
        assert self.fake.guild is not None
        return self.fake.guild.id

    async def restart(self) -> None:
        await self.harness.close()
        self.harness = await self.factory(extensions=EXTENSIONS, database_url=self.db_url)

    async def seed(self, title: str, details: str = "") -> Channel:
        """A question already in the forum (asked by someone else); its thread."""
        asked = await ask_question_directly(self.harness, self.others, title, details)
        return asked.thread

    async def drafts(self) -> list[AskDraft]:
        async with self.harness.sessionmaker() as session:
            found = await session.execute(select(AskDraft).order_by(AskDraft.id))
            return list(found.scalars())

    async def questions(self) -> list[Post]:
        async with self.harness.sessionmaker() as session:
            found = await session.execute(
                select(Post).where(Post.kind == "question").order_by(Post.id)
            )
            return list(found.scalars())

    async def age_drafts(self, by: timedelta) -> None:
        """Move every draft ``by`` into the past, as if that much time had gone by."""
        async with self.harness.sessionmaker() as session, session.begin():
            for draft in (await session.execute(select(AskDraft))).scalars():
                draft.created_at -= by
                draft.expires_at -= by


@pytest.fixture
async def scene(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    fake = fake_discord
    assert fake.guild is not None and fake.forum is not None
    solved = add_forum_tag(fake, "Solved")
    asker = fake.add_member(fake.guild, "asker")
    others = fake.add_member(fake.guild, "others")
    harness = await qa_bot_factory(extensions=EXTENSIONS, database_url=db_url)
    await configure_qa_guild(harness, solved_tag_id=solved, questions_per_hour=10_000)
    gid = fake.guild.id
    tags = [(t.id, t.name) for t in fake.forum.available_tags]
    await run_domain(harness, lambda s: categories.sync_categories(s, gid, tags, solved))
    yield Scene(fake, qa_bot_factory, db_url, harness, fake.forum, asker, others)


async def submit(scene: Scene, title: str, details: str = "", **options: Any) -> Message:
    """/ask, the modal filled in and submitted: the bot's ephemeral answer."""
    ix = await scene.asker.slash("ask", options, channel=scene.fake.general)
    submitted = await ix.submit_modal({"title": title, "details": details})
    assert await submitted.deferred()
    reply = await submitted.message()
    assert reply.ephemeral
    return reply


def button(message: Message, label: str) -> str:
    for component in message.walk_components():
        if component.get("type") == 2 and component.get("label") == label:
            return str(component["custom_id"])
    raise AssertionError(f"no {label!r} button on message {message.id}")


async def press(scene: Scene, prompt: Message, label: str) -> InteractionHandle:
    ix = await scene.asker.click(prompt, button(prompt, label))
    assert (await ix.response()).type == 6  # a silent update of the prompt
    return ix


def jump(scene: Scene, thread: Channel) -> str:
    return f"https://discord.com/channels/{scene.guild_id}/{thread.id}"


def new_threads(scene: Scene, before: list[Channel]) -> list[Channel]:
    known = {t.id for t in before}
    return [t for t in scene.fake.threads_in(scene.forum) if t.id not in known]


# --------------------------------------------------------------------------- no gate


async def test_without_similar_questions_the_question_is_posted_at_once(scene: Scene) -> None:
    await scene.seed("Grief after losing a pet", "My dog died last week.")
    before = scene.fake.threads_in(scene.forum)
    reply = await submit(scene, "How do I start running?", "I get out of breath fast.")
    assert POSTED in reply.content and reply.components == []
    (posted,) = new_threads(scene, before)
    assert scene.fake.message(posted.id).content == f"Asked by {scene.asker.mention}"
    assert await scene.drafts() == []


# --------------------------------------------------------------------------- the prompt


async def test_the_prompt_lists_up_to_five_similar_questions_with_links(scene: Scene) -> None:
    seeded = [
        await scene.seed(f"Exam stress and sleep, part {n}", "Sleep before exams is hard.")
        for n in range(SIMILAR_LIMIT + 2)
    ]
    before = scene.fake.threads_in(scene.forum)
    prompt = await submit(
        scene, "Sleep before exams", "Exam stress keeps me awake.", category="Anxiety"
    )
    assert prompt.content == GATE_TEXT
    (embed,) = prompt.embeds
    assert embed["title"] == "Similar questions"
    links = [t for t in seeded if jump(scene, t) in embed["description"]]
    assert len(links) == SIMILAR_LIMIT
    assert new_threads(scene, before) == []  # held, not posted
    (draft,) = await scene.drafts()
    assert (draft.user_id, draft.title, draft.details, draft.category) == (
        scene.asker.id,
        "Sleep before exams",
        "Exam stress keeps me awake.",
        "Anxiety",
    )
    assert draft.expires_at - draft.created_at == timedelta(minutes=15)
    assert button(prompt, "Post my question anyway") == f"qa:ask:post:{draft.id}"
    assert button(prompt, "Cancel") == f"qa:ask:cancel:{draft.id}"
    assert [q.title for q in await scene.questions()] == [
        f"Exam stress and sleep, part {n}" for n in range(SIMILAR_LIMIT + 2)
    ]


# --------------------------------------------------------------------------- the buttons


async def test_post_anyway_after_a_restart_posts_with_related_questions(scene: Scene) -> None:
    seeded = [
        await scene.seed(f"Panic attacks on the bus, case {n}", "My chest tightens on buses.")
        for n in range(4)
    ]
    before = scene.fake.threads_in(scene.forum)
    prompt = await submit(scene, "Panic attacks on buses", "Buses make my chest tight.")
    assert prompt.content == GATE_TEXT
    await scene.restart()

    ix = await press(scene, prompt, "Post my question anyway")
    (confirmation,) = await ix.followups(1)
    assert confirmation.ephemeral and POSTED in confirmation.content
    await scene.fake.wait_until(lambda: prompt.content == POSTED_ANYWAY, what="prompt updated")
    assert prompt.components == []
    (posted,) = new_threads(scene, before)
    assert jump(scene, posted) in confirmation.content
    assert posted.name == "Panic attacks on buses"
    starter = scene.fake.message(posted.id)
    first, related = starter.content.split("\n")
    assert first == f"Asked by {scene.asker.mention}"
    assert related.startswith("-# Related questions: ")
    linked = [t for t in seeded if f"(<{jump(scene, t)}>)" in related]
    assert len(linked) == RELATED_LIMIT
    assert jump(scene, posted) not in related  # never itself
    (draft,) = await scene.drafts()
    assert (draft.outcome, draft.consumed_at is not None) == ("posted", True)
    question = (await scene.questions())[-1]
    assert (question.title, question.state, question.thread_id) == (
        "Panic attacks on buses",
        "live",
        posted.id,
    )

    # A status line re-render (a vote) edits the embed and keeps the related line.
    qid = question.id
    await run_domain(
        scene.harness,
        lambda s: votes.set_vote(s, post_id=qid, user_id=scene.others.id, flag="up", on=True),
    )
    scene.harness.bot.status_lines.request(qid)
    await scene.harness.bot.status_lines.wait_idle()
    assert "▲ 1" in str(starter.embeds[0])
    assert starter.content == f"{first}\n{related}"


async def test_cancel_after_a_restart_posts_nothing(scene: Scene) -> None:
    await scene.seed("Talking to my parents about therapy", "They think it is useless.")
    before = scene.fake.threads_in(scene.forum)
    prompt = await submit(scene, "How to tell parents about therapy?", "They disapprove.")
    assert prompt.content == GATE_TEXT
    await scene.restart()
    await press(scene, prompt, "Cancel")
    await scene.fake.wait_until(lambda: prompt.content == CANCELLED, what="prompt updated")
    assert prompt.components == []
    assert prompt.embeds[0]["title"] == "Similar questions"  # the links stay for reading
    assert new_threads(scene, before) == []
    (draft,) = await scene.drafts()
    assert draft.outcome == "cancelled"
    assert len(await scene.questions()) == 1
    with pytest.raises(KeyError):  # the buttons are gone
        await scene.asker.click(prompt, f"qa:ask:post:{draft.id}")


@pytest.mark.parametrize("label", ["Post my question anyway", "Cancel"])
async def test_after_fifteen_minutes_the_buttons_say_it_expired(scene: Scene, label: str) -> None:
    await scene.seed("Coping with loneliness at university", "I know nobody here.")
    before = scene.fake.threads_in(scene.forum)
    prompt = await submit(scene, "Loneliness at university", "Everyone has friends but me.")
    await scene.age_drafts(timedelta(minutes=15, seconds=1))
    await scene.restart()
    ix = await press(scene, prompt, label)
    (sentence,) = await ix.followups(1)
    assert sentence.ephemeral
    assert "expired" in sentence.content and "/ask" in sentence.content
    await scene.fake.wait_until(lambda: prompt.components == [], what="buttons removed")
    assert new_threads(scene, before) == []
    (draft,) = await scene.drafts()
    assert draft.outcome is None
    assert len(await scene.questions()) == 1


async def test_just_before_expiry_the_question_is_still_posted(scene: Scene) -> None:
    await scene.seed("Feeling numb after a breakup", "I cannot cry.")
    before = scene.fake.threads_in(scene.forum)
    prompt = await submit(scene, "Numb after my breakup", "No tears at all.")
    await scene.age_drafts(timedelta(minutes=14, seconds=50))
    ix = await press(scene, prompt, "Post my question anyway")
    (confirmation,) = await ix.followups(1)
    assert POSTED in confirmation.content
    assert len(new_threads(scene, before)) == 1


async def test_a_second_press_while_posting_is_told_it_was_posted(scene: Scene) -> None:
    await scene.seed("Afraid of the dentist", "My hands shake in the waiting room.")
    before = scene.fake.threads_in(scene.forum)
    prompt = await submit(scene, "Dentist fear", "Shaking hands at the dentist.")
    post_anyway = button(prompt, "Post my question anyway")
    held = scene.fake.faults.hold("POST", THREADS, times=1)
    first = await press(scene, prompt, "Post my question anyway")
    await held.arrived()  # the draft is used; the forum post is on its way
    second = await scene.asker.click(prompt, post_anyway)
    (sentence,) = await second.followups(1)
    assert sentence.ephemeral and sentence.content == "This question was already posted."
    held.release()
    (confirmation,) = await first.followups(1)
    assert POSTED in confirmation.content
    await scene.fake.wait_until(lambda: prompt.content == POSTED_ANYWAY, what="prompt updated")
    assert len(new_threads(scene, before)) == 1
    assert [q.title for q in await scene.questions()][-1] == "Dentist fear"


async def test_a_post_discord_refuses_uses_the_draft_up(scene: Scene) -> None:
    await scene.seed("Sleep paralysis at night", "I wake and cannot move.")
    before = scene.fake.threads_in(scene.forum)
    prompt = await submit(scene, "Sleep paralysis every night", "Cannot move when waking.")
    refusal = scene.fake.faults.fail("POST", THREADS, code=50013, times=1)
    ix = await press(scene, prompt, "Post my question anyway")
    (sentence,) = await ix.followups(1)
    assert sentence.ephemeral and "missing a permission" in sentence.content
    assert refusal.hits and new_threads(scene, before) == []
    assert [q.title for q in await scene.questions()] == ["Sleep paralysis at night"]
    (draft,) = await scene.drafts()
    assert draft.outcome == "posted"  # used up; the pending row went with Discord's refusal
    await scene.fake.wait_until(lambda: prompt.components == [], what="buttons removed")
