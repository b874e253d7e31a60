"""/search and /unanswered end to end through the fake Discord, on both database backends.

Questions are asked the way /ask leaves them (``ask_question_directly``); answers, votes,
acceptance, closing and deleting go through the domain, as the other cogs would.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from bot.clock import utc_now
from bot.db.models import Post
from bot.forum import acceptance, categories, deletion, drafts, posts, questions, search, votes
from bot.forum.errors import NotFound
from bot.forum.rights import Actor
from bot.forum.visibility import VisibleForums
from cogs.discovery import NOTHING_FOUND, UnansweredPages
from tests.cogs.conftest import (
    AskedQuestion,
    BotEvents,
    add_forum_tag,
    ask_question_directly,
    configure_qa_guild,
    run_domain,
)
from tests.fakediscord import FakeDiscord, GestureRefused, Member, Message
from tests.fakediscord.fixtures import BotFactory, BotHarness

EXTENSIONS = ["cogs.discovery"]
ANSWER = "Keep a regular bedtime and get daylight in the morning; it helps most people."


@dataclass
class Scene:
    fake: FakeDiscord
    factory: BotFactory
    db_url: str
    harness: BotHarness
    alice: Member
    bob: Member
    ids: Any = field(default_factory=lambda: itertools.count(9_000_000))

    @property
    def guild_id(self) -> int:
        assert self.fake.guild is not None
        return self.fake.guild.id

    async def ask(self, title: str, details: str = "", **kw: Any) -> AskedQuestion:
        return await ask_question_directly(self.harness, self.alice, title, details, **kw)

    async def answer(self, asked: AskedQuestion, body: str = ANSWER) -> Any:
        gid, mid = self.guild_id, next(self.ids)
        change = await run_domain(
            self.harness,
            lambda s: posts.post_answer(
                s,
                post=posts.MemberPost(gid, author_id=self.bob.id, body=body, question_id=asked.id),
                message_id=mid,
                state="live",
            ),
        )
        return change.post

    async def upvote(self, asked: AskedQuestion, voters: int) -> None:
        for voter in range(voters):
            await run_domain(
                self.harness,
                lambda s, voter=voter: votes.set_vote(
                    s, post_id=asked.id, user_id=700 + voter, flag="up", on=True
                ),
            )

    async def restart(self) -> BotHarness:
        await self.harness.close()
        self.harness = await self.factory(extensions=EXTENSIONS, database_url=self.db_url)
        return self.harness


@pytest.fixture
async def scene(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    fake = fake_discord
    assert fake.guild is not None
    solved = add_forum_tag(fake, "Solved")
    add_forum_tag(fake, "Sleep")
    alice = fake.add_member(fake.guild, "alice")
    bob = fake.add_member(fake.guild, "bob")
    harness = await qa_bot_factory(extensions=EXTENSIONS, database_url=db_url)
    await configure_qa_guild(harness, solved_tag_id=solved, questions_per_hour=10_000)
    yield Scene(fake, qa_bot_factory, db_url, harness, alice, bob)


async def search_reply(scene: Scene, query: str, who: Member | None = None) -> Message:
    ix = await (who or scene.bob).slash("search", {"query": query}, channel=scene.fake.general)
    assert await ix.deferred()
    reply = await ix.message()
    assert reply.ephemeral
    return reply


def result_lines(reply: Message) -> list[str]:
    """The linked titles of a results embed, in order."""
    (embed,) = reply.embeds
    return [line for line in embed.get("description", "").split("\n") if line.startswith("**")]


def link(scene: Scene, asked: AskedQuestion, title: str) -> str:
    return f"**[{title}](https://discord.com/channels/{scene.guild_id}/{asked.thread.id})**"


def button(message: Message, text: str) -> dict[str, Any]:
    for component in message.walk_components():
        if component.get("type") == 2 and component.get("label") == text:
            return dict(component)
    raise AssertionError(f"no {text!r} button on message {message.id}")


# --------------------------------------------------------------------------- /search


async def test_search_ranks_by_relevance_then_score_with_marks_and_links(scene: Scene) -> None:
    in_answer = await scene.ask("Evenings are hard", "I feel restless after dinner.")
    await scene.answer(in_answer, "A therapist once told me to walk after dinner.")
    plain = await scene.ask("Finding a therapist", "Where do I look for a therapist?")
    voted = await scene.ask("Finding a therapist", "Where do I look for a therapist?")
    await scene.upvote(voted, 3)
    solved = await scene.ask("Changing my therapist", "Is it rude to switch?")
    accepted = await scene.answer(solved, "It is not rude; any good counsellor understands.")
    await run_domain(
        scene.harness,
        lambda s: acceptance.accept_answer(
            s, answer_ref=acceptance.PostRef(accepted.id), actor=Actor(scene.alice.id)
        ),
    )
    closed = await scene.ask("Therapist on holiday", "Mine is away for a month.")
    await run_domain(
        scene.harness,
        lambda s: questions.close_question(
            s, closing=questions.Closing(closed.id), actor=Actor(scene.alice.id)
        ),
    )
    await scene.ask("Unrelated: learning to swim", "Cold water scares me.")

    reply = await search_reply(scene, "therapists")
    (embed,) = reply.embeds
    assert embed["title"] == "Results for “therapists”"
    lines = embed["description"].split("\n")
    titles = result_lines(reply)
    # Title and details outrank a title, which outranks an answer; equal relevance: higher score.
    assert titles[:2] == [
        link(scene, voted, "Finding a therapist"),
        link(scene, plain, "Finding a therapist"),
    ]
    assert titles[-1] == link(scene, in_answer, "Evenings are hard")
    assert len(titles) == 5
    assert lines[lines.index(titles[0]) + 1] == "▲ 3 · 0 answers"
    solved_line = lines[lines.index(link(scene, solved, "Changing my therapist")) + 1]
    assert solved_line == "▲ 0 · 1 answer · ✅ Solved"
    closed_line = lines[lines.index(link(scene, closed, "Therapist on holiday")) + 1]
    assert closed_line.endswith("🔒 Closed")
    # The order is the domain's.
    gid = scene.guild_id
    assert scene.harness.fake.forum is not None
    visible = VisibleForums.of([scene.harness.fake.forum.id])
    hits = await run_domain(
        scene.harness,
        lambda s: search.search_questions(s, guild_id=gid, visible=visible, query="therapists"),
    )
    assert [h.thread_id for h in hits] == [int(t.rsplit("/", 1)[1].rstrip(")*")) for t in titles]


async def test_search_shows_at_most_ten(scene: Scene) -> None:
    for n in range(12):
        await scene.ask(f"Journaling prompt number {n}", "Does journaling help?")
    assert len(result_lines(await search_reply(scene, "journaling"))) == 10


async def test_deleted_questions_and_answers_never_appear(scene: Scene) -> None:
    kept = await scene.ask("Nightmares every night", "They wake me at three.")
    gone = await scene.ask("Nightmares after moving", "Since the move I dream badly.")
    await run_domain(
        scene.harness,
        lambda s: deletion.delete_question(s, actor=Actor(scene.alice.id), question_id=gone.id),
    )
    other = await scene.ask("Waking up tired", "Even after nine hours.")
    answer = await scene.answer(other, "Nightmares can do that; keep a dream diary.")
    assert result_lines(await search_reply(scene, "nightmares")) == [
        link(scene, kept, "Nightmares every night"),
        link(scene, other, "Waking up tired"),
    ]
    assert answer.message_id is not None
    mid = answer.message_id
    await run_domain(scene.harness, lambda s: deletion.delete_message(s, message_id=mid))
    assert result_lines(await search_reply(scene, "nightmares")) == [
        link(scene, kept, "Nightmares every night")
    ]


async def test_a_very_common_term_is_read_from_its_top_list(scene: Scene) -> None:
    bot = scene.harness.bot
    bot.common_terms.threshold = 3
    asked = [await scene.ask(f"Breathing exercise {n}", "Breathing slowly.") for n in range(3)]
    await scene.ask("Unrelated: learning to swim", "Cold water scares me.")
    # The full ranking; three matches make the term very common: the worker ranks it.
    full = result_lines(await search_reply(scene, "breathing"))
    assert len(full) == 3
    await bot.search_tops.wait_idle()
    assert bot.common_terms.top(scene.guild_id, "breathing") is not None
    newest = await scene.ask("Breathing, breathing, breathing", "Breathing first.")
    # Read from the list: a new question counts from the next refresh...
    assert result_lines(await search_reply(scene, "breathing")) == full
    gone = asked[0]
    await run_domain(
        scene.harness,
        lambda s: deletion.delete_question(s, actor=Actor(scene.alice.id), question_id=gone.id),
    )
    # ... a deleted one leaves at once.
    gone_line = link(scene, gone, "Breathing exercise 0")
    assert result_lines(await search_reply(scene, "breathing")) == [
        line for line in full if line != gone_line
    ]
    bot.search_tops.wake()
    await bot.search_tops.wait_idle()
    refreshed = result_lines(await search_reply(scene, "breathing"))
    assert refreshed[0] == link(scene, newest, "Breathing, breathing, breathing")
    assert gone_line not in refreshed and len(refreshed) == 3


async def test_nothing_found_says_so_and_suggests_ask(scene: Scene) -> None:
    await scene.ask("Grief after a loss", "My grandmother passed away.")
    reply = await search_reply(scene, "astronomy telescopes")
    (embed,) = reply.embeds
    assert embed["description"] == NOTHING_FOUND
    assert "/ask" in embed["description"]
    assert reply.components == []


async def test_another_guilds_questions_never_appear(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    fake = fake_discord
    assert fake.guild is not None and fake.forum is not None
    other_guild = fake.add_guild(name="Other Guild")
    other_forum = fake.add_forum(other_guild, "questions")
    other_general = fake.add_text_channel(other_guild, "general")
    alice = fake.add_member(fake.guild, "alice")
    olga = fake.add_member(other_guild, "olga")
    harness = await qa_bot_factory(extensions=EXTENSIONS, database_url=db_url)
    await configure_qa_guild(harness)
    await configure_qa_guild(harness, forum=other_forum)
    mine = await ask_question_directly(harness, alice, "Sleep and caffeine", "Coffee at 4pm?")
    theirs = await ask_question_directly(
        harness, olga, "Caffeine and anxiety", "Coffee makes me shaky.", forum=other_forum
    )

    ix = await alice.slash("search", {"query": "caffeine"}, channel=fake.general)
    here = (await ix.message()).embeds[0]["description"]
    assert f"/{mine.thread.id})" in here and f"/{theirs.thread.id})" not in here
    ix = await olga.slash("search", {"query": "caffeine"}, channel=other_general)
    there = (await ix.message()).embeds[0]["description"]
    assert f"/{theirs.thread.id})" in there and f"/{mine.thread.id})" not in there
    choices = await olga.autocomplete(
        "search", {"query": "sle"}, focused="query", channel=other_general
    )
    assert choices == []
    ix = await olga.slash("unanswered", channel=other_general)
    listed = (await ix.message()).embeds[0]["description"]
    assert f"/{theirs.thread.id})" in listed and f"/{mine.thread.id})" not in listed


HOSTILE_QUERIES = [
    '"',
    '"unbalanced quote',
    "sleep AND OR NOT",
    "NEAR(sleep therapist, 2)",
    "sleep*",
    "*",
    "^sleep",
    "title: sleep",
    "{title body}: sleep",
    "(sleep",
    "sleep)",
    "-sleep",
    "sleep -therapist",
    "'; DROP TABLE posts; --",
    "%_%",
    "\\",
    "😴🛌 sleep 💤",
    "🔥" * 50,
    "<@123> @everyone sleep",
    "sleep & | ! <-> :*",
    "the of and",
    "x" * 300,
    " ".join(["sleep"] * 200),
    "\u200b\u200d\ufeff",
    "Schlafstörung über Nacht",
    "sl\x00eep",
]


async def test_hostile_queries_never_error(scene: Scene) -> None:
    asked = await scene.ask("How much sleep do I need?", "Seven hours feels short.")
    for query in HOSTILE_QUERIES:
        reply = await search_reply(scene, query)
        (embed,) = reply.embeds
        description = embed.get("description", "")
        assert description == NOTHING_FOUND or f"/{asked.thread.id})" in description, query
    assert scene.harness.errors == []
    choices = []
    for query in HOSTILE_QUERIES:
        choices += await scene.bob.autocomplete("search", {"query": query}, focused="query")
    assert {c["value"] for c in choices} <= {"How much sleep do I need?"}


async def test_search_autocomplete_offers_at_most_25_matching_titles(scene: Scene) -> None:
    long_title = "Sleepless " + "very " * 15 + "long nights!! 😴"
    assert len(long_title) == 100
    await scene.ask(long_title, "A question with the longest title there may be.")
    for n in range(30):
        await scene.ask(f"Sleepless night number {n}", "I cannot sleep.")
    await scene.ask("Something else entirely", "Unrelated.")

    choices = await scene.bob.autocomplete("search", {"query": "sleeple"}, focused="query")
    assert len(choices) == 25
    assert all(c["value"].startswith("Sleepless") for c in choices)
    assert all(1 <= len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices)
    everything = await scene.bob.autocomplete("search", {"query": ""}, focused="query")
    assert len(everything) == 25
    exact = await scene.bob.autocomplete("search", {"query": "something el"}, focused="query")
    assert exact == [{"name": "Something else entirely", "value": "Something else entirely"}]
    # A picked choice is a query that finds its question.
    reply = await search_reply(scene, exact[0]["value"])
    assert result_lines(reply)[0].startswith("**[Something else entirely](")


async def test_an_autocomplete_past_its_budget_offers_no_choices(scene: Scene) -> None:
    await scene.ask("Sleep hygiene basics", "Screens before bed?")
    assert await scene.bob.autocomplete("search", {"query": "sle"}, focused="query") != []
    scene.harness.cog("Discovery").autocomplete_budget = 0.0
    assert await scene.bob.autocomplete("search", {"query": "sle"}, focused="query") == []
    assert await scene.bob.autocomplete("unanswered", {"category": ""}, focused="category") == []
    assert scene.harness.errors == []


# --------------------------------------------------------------------------- /unanswered


async def unanswered(scene: Scene, options: dict[str, Any] | None = None) -> Message:
    ix = await scene.bob.slash("unanswered", options or {}, channel=scene.fake.general)
    assert await ix.deferred()
    reply = await ix.message()
    assert reply.ephemeral
    return reply


async def click(scene: Scene, message: Message, text: str) -> Message:
    ix = await scene.bob.click(message, str(button(message, text)["custom_id"]))
    cb = await ix.response()
    assert cb.type == 6  # a silent update of the page message
    return await ix.message()


def footer(message: Message) -> str:
    return str(message.embeds[0]["footer"]["text"])


async def test_unanswered_pages_oldest_first_and_buttons_work_after_a_restart(
    scene: Scene,
) -> None:
    asked = [await scene.ask(f"Open question {n:02d}", "Still waiting.") for n in range(23)]
    await scene.answer(asked[0])
    gone = asked[1]
    await run_domain(
        scene.harness,
        lambda s: deletion.delete_question(s, actor=Actor(scene.alice.id), question_id=gone.id),
    )
    first = await unanswered(scene)
    (embed,) = first.embeds
    assert embed["title"] == "Unanswered questions (21)"
    assert footer(first) == "Page 1 of 3 · oldest first"
    assert result_lines(first) == [
        link(scene, a, f"Open question {n:02d}") for n, a in enumerate(asked) if 2 <= n < 12
    ]
    assert "▲ 0 · 0 answers · asked <t:" in embed["description"]
    assert button(first, "Previous")["disabled"] is True
    assert not button(first, "Next").get("disabled")

    second = await click(scene, first, "Next")
    assert second.id == first.id and footer(second) == "Page 2 of 3 · oldest first"
    assert result_lines(second)[0] == link(scene, asked[12], "Open question 12")

    await scene.restart()
    third = await click(scene, second, "Next")
    assert footer(third) == "Page 3 of 3 · oldest first"
    assert result_lines(third)[-1] == link(scene, asked[22], "Open question 22")
    assert button(third, "Next")["disabled"] is True
    back = await click(scene, third, "Previous")
    assert footer(back) == "Page 2 of 3 · oldest first"


async def test_a_page_that_shrank_shows_the_last_one_and_one_page_has_no_buttons(
    scene: Scene,
) -> None:
    asked = [await scene.ask(f"Lonely question {n:02d}", "Anyone?") for n in range(11)]
    first = await unanswered(scene)
    assert footer(first) == "Page 1 of 2 · oldest first"
    await scene.answer(asked[0])
    after = await click(scene, first, "Next")  # page 2 no longer exists: page 1 it is
    assert footer(after) == "Page 1 of 1 · oldest first"
    assert after.components == []
    for question in asked[1:]:
        await scene.answer(question)
    empty = await unanswered(scene)
    assert empty.embeds[0]["description"] == "Every open question has an answer."
    assert empty.components == []


async def test_unanswered_in_one_category_and_its_autocomplete(scene: Scene) -> None:
    fake = scene.fake
    assert fake.forum is not None
    gid = scene.guild_id
    tags = [(t.id, t.name) for t in fake.forum.available_tags]
    solved = fake.forum.tag("Solved").id
    await run_domain(scene.harness, lambda s: categories.sync_categories(s, gid, tags, solved))
    sleep = [
        await scene.ask(f"Sleep question {n:02d}", "Tired.", tags=["Sleep"]) for n in range(12)
    ]
    await scene.ask("An anxious question", "Worried.", tags=["Anxiety"])
    for asked in sleep:
        # ask_question_directly does not store the category: set it as /ask would have.
        await run_domain(
            scene.harness,
            lambda s, asked=asked: _set_category(s, asked.id, "Sleep"),
        )

    choices = await scene.bob.autocomplete("unanswered", {"category": "sl"}, focused="category")
    assert choices == [{"name": "Sleep", "value": "Sleep"}]
    everything = await scene.bob.autocomplete("unanswered", {"category": ""}, focused="category")
    assert [c["value"] for c in everything] == sorted(
        (n for _, n in tags if n != "Solved"), key=str.casefold
    )
    assert [
        c["value"]
        for c in await scene.bob.autocomplete("unanswered", {"category": "IET"}, focused="category")
    ] == ["Anxiety"]

    first = await unanswered(scene, {"category": "sleep"})
    assert first.embeds[0]["title"] == "Unanswered questions in Sleep (12)"
    assert len(result_lines(first)) == 10
    custom_id = str(button(first, "Next")["custom_id"])
    assert UnansweredPages.custom_id_for(gid, 2, "1") != custom_id  # the id, not a guess
    assert custom_id.startswith(f"qa:unans:{gid}:2:")
    await scene.restart()
    second = await click(scene, first, "Next")
    assert result_lines(second) == [
        link(scene, sleep[10], "Sleep question 10"),
        link(scene, sleep[11], "Sleep question 11"),
    ]

    ix = await scene.bob.slash("unanswered", {"category": "Gardening"}, channel=fake.general)
    refusal = await ix.message()
    assert refusal.ephemeral and "no category called `Gardening`" in refusal.content
    # The category is removed while its pages are shown: the button says so.
    await run_domain(scene.harness, lambda s: categories.remove_category(s, gid, "Sleep"))
    ix = await scene.bob.click(second, str(button(second, "Previous")["custom_id"]))
    gone = await ix.followups(count=1)
    assert gone[0].ephemeral and "no longer exists" in gone[0].content


async def _set_category(session: Any, question_id: int, name: str) -> None:
    question = await session.get(Post, question_id)
    question.category = name


async def test_search_and_unanswered_are_ephemeral_and_guild_only(scene: Scene) -> None:
    await scene.ask("Visible only to me?", "Ephemeral check.")
    assert (await search_reply(scene, "visible")).ephemeral
    assert (await unanswered(scene)).ephemeral
    stranger = scene.fake.add_user("stranger")
    with pytest.raises(GestureRefused):
        await stranger.slash("search", {"query": "visible"})


# --------------------------------------------------------------------------- draft purge


async def test_old_drafts_are_purged_while_the_bot_runs(scene: Scene) -> None:
    gid, uid = scene.guild_id, scene.alice.id
    now = utc_now()

    async def hold(at: Any) -> drafts.AskDraftSnapshot:
        return await run_domain(  # type: ignore[no-any-return]
            scene.harness,
            lambda s: drafts.create_draft(
                s, guild_id=gid, user_id=uid, asked=questions.AskedQuestion("Held"), now=at
            ),
        )

    old = await hold(now - timedelta(days=1, hours=1))
    recent = await hold(now - timedelta(hours=2))  # expired, but kept a day for its sentence
    fresh = await hold(now)
    purger = scene.harness.bot.retention
    assert purger.running
    events = BotEvents(scene.harness, "qa_retention_swept")
    try:
        purger.wake()
        await events.wait_for("qa_retention_swept", lambda swept: swept.drafts == 1)
    finally:
        events.close()
    with pytest.raises(NotFound):
        await run_domain(scene.harness, lambda s: drafts.get_draft(s, draft_id=old.id, user_id=uid))
    with pytest.raises(drafts.DraftExpired):
        await run_domain(
            scene.harness, lambda s: drafts.get_draft(s, draft_id=recent.id, user_id=uid)
        )
    assert (
        await run_domain(
            scene.harness, lambda s: drafts.get_draft(s, draft_id=fresh.id, user_id=uid)
        )
    ).title == "Held"
    await scene.harness.close()
    assert not purger.running
