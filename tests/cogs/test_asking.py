"""/ask, native forum posts and status lines, end to end through the fake Discord.

The real ``QABot`` (only ``cogs.asking`` loaded) talks to the fake; every test runs on SQLite and
on PostgreSQL. The guild is configured the way /qa setup leaves it, through the domain.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import discord
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import guilds
from bot.db.models import Post
from bot.forum import categories, posts, questions, settings, text_rules, votes
from bot.transactions import run_transaction
from bot.ui.embeds import embed_problems, parse_footer_text
from cogs.asking.publishing import TAG_REQUIRED
from tests.fakediscord import (
    Call,
    Channel,
    FakeDiscord,
    GestureRefused,
    InteractionHandle,
    Member,
    Message,
    Reply,
)
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.fakediscord.model import IX_MODAL_SUBMIT

T = TypeVar("T")

THREADS = "/channels/{channel_id}/threads"
EDIT = "/channels/{channel_id}/messages/{message_id}"


# --------------------------------------------------------------------------- helpers


@pytest.fixture
async def harness(qa_bot_factory: BotFactory, db_url: str) -> BotHarness:
    return await qa_bot_factory(extensions=["cogs.asking"], database_url=db_url)


@pytest.fixture
def fake(fake_discord: FakeDiscord, harness: BotHarness) -> FakeDiscord:
    return fake_discord


async def run(h: BotHarness, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    return await run_transaction(h.bot, work)


async def configure(h: BotHarness, fake: FakeDiscord, forum: Channel | None = None) -> Channel:
    """What /qa setup stores: the forum, and its tags as the categories."""
    assert fake.guild is not None
    forum = forum or fake.forum
    assert forum is not None
    gid, fid = fake.guild.id, forum.id
    tags = [(t.id, t.name) for t in forum.available_tags]
    await run(h, lambda s: settings.set_setting(s, gid, "forum_channel_id", fid))
    await run(h, lambda s: categories.sync_categories(s, gid, tags, None))
    return forum


async def rows(h: BotHarness) -> list[Post]:
    async with h.sessionmaker() as session:
        return list((await session.execute(select(Post).order_by(Post.id))).scalars())


def member(fake: FakeDiscord, name: str) -> Member:
    assert fake.guild is not None
    return fake.add_member(fake.guild, name)


async def open_ask(who: Member, fake: FakeDiscord, **options: Any) -> InteractionHandle:
    return await who.slash("ask", options, channel=fake.general)


async def ask(who: Member, fake: FakeDiscord, values: dict[str, str], **options: Any) -> Message:
    """/ask, fill in the modal, submit: the bot's final (ephemeral) answer."""
    ix = await open_ask(who, fake, **options)
    submitted = await ix.submit_modal(values)
    assert await submitted.deferred()  # answered at once, the slow work after
    return await submitted.message()


async def refused_at_once(ix: InteractionHandle) -> str:
    """The bot answered the command with an ephemeral sentence instead of the modal."""
    reply = await ix.message()
    assert reply.ephemeral
    return reply.content


async def submit_raw(ix: InteractionHandle, values: dict[str, str]) -> InteractionHandle:
    """Submit the modal with values the Discord client would refuse (past max_length)."""
    modal = await ix.modal()
    for field in modal.fields:
        field.max_length = None  # a modified client ignores the limits
    record = ix.fake.world.new_interaction(
        type=IX_MODAL_SUBMIT,
        user_id=ix.actor.id,
        channel=ix.channel,
        data={"custom_id": modal.custom_id, "components": modal.submission(values)},
        parent=ix.record,
    )
    await ix.fake.flush()
    return InteractionHandle(ix.fake, record, ix.actor)


def refuse_threads(fake: FakeDiscord, status: int, code: int, message: str) -> None:
    """Discord answers every forum post the bot makes with this error."""

    def interceptor(call: Call) -> Reply | None:
        if call.method == "POST" and call.route == THREADS:
            return Reply(status, {"message": message, "code": code})
        return None

    fake.rest.interceptors.append(interceptor)


async def settle(h: BotHarness, fake: FakeDiscord) -> None:
    """Until the bot has dispatched every gateway event sent so far and its handlers finished."""
    assert fake.general is not None and fake.guild is not None
    marker_author = fake.add_member(fake.guild, f"marker{len(fake.world.messages)}")
    seen = asyncio.ensure_future(
        h.bot.wait_for("message", check=lambda m: m.author.id == marker_author.id)
    )
    await asyncio.sleep(0)  # let wait_for register its listener
    await marker_author.send(fake.general, "sync")
    await asyncio.wait_for(seen, 5)
    while handlers := [
        t
        for t in asyncio.all_tasks()
        if t.get_name().startswith("discord.py: on_") and not t.done()
    ]:
        await asyncio.wait(handlers, timeout=5)
    await h.bot.status_lines.wait_idle()


def nothing_posted(fake: FakeDiscord) -> None:
    assert fake.forum is not None
    assert fake.threads_in(fake.forum) == []
    assert fake.find_calls("POST", THREADS) == [] or all(
        not c.ok for c in fake.find_calls("POST", THREADS)
    )


class ManualSleep:
    """A status-line cool-down that ends when the test says so."""

    def __init__(self) -> None:
        self.waiting: list[asyncio.Future[None]] = []
        self.changed = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append(future)
        self.changed.set()
        await future

    async def until_cooling(self) -> None:
        async with asyncio.timeout(5):
            while not self.waiting:
                self.changed = asyncio.Event()
                await self.changed.wait()

    def end(self) -> None:
        ending, self.waiting = self.waiting, []
        for future in ending:
            future.set_result(None)


# --------------------------------------------------------------------------- /ask


async def test_ask_posts_the_question_in_the_forum(fake: FakeDiscord, harness: BotHarness) -> None:
    forum = await configure(harness, fake)
    alice = member(fake, "alice")
    ix = await open_ask(alice, fake, category="anxiety")
    modal = await ix.modal()
    assert modal.title == "Ask a question"
    title, details = modal.field("title"), modal.field("details")
    assert (title.label, title.style, title.required, title.max_length) == ("Title", 1, True, 100)
    assert (details.label, details.style, details.required, details.max_length) == (
        "Details",
        2,
        False,
        4000,
    )
    submitted = await ix.submit_modal(
        {"title": "  How do I sleep better?  ", "details": "I wake up at *4 am* every night."}
    )
    assert await submitted.deferred()
    reply = await submitted.message()

    (thread,) = fake.threads_in(forum)
    assert thread.name == "How do I sleep better?"
    assert thread.applied_tags == [forum.tag("Anxiety").id]
    assert thread.owner_id == fake.bot_user.id
    assert reply.ephemeral and reply.visible_to == alice.id
    assert f"https://discord.com/channels/{fake.guild.id}/{thread.id}" in reply.content

    starter = fake.message(thread.id)
    assert starter.author_id == fake.bot_user.id
    assert alice.mention in starter.content
    assert starter.mentions == [alice.id] and not starter.mention_everyone
    assert starter.mention_roles == []
    allowed = starter.allowed_mentions or {}
    assert allowed.get("parse") == [] and [int(u) for u in allowed["users"]] == [alice.id]
    (embed,) = starter.embeds
    assert embed["title"] == "How do I sleep better?"
    assert embed["description"] == "I wake up at *4 am* every night."
    assert embed["author"]["name"] == "alice"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields == {"Status": "▲ 0 · 0 answers", "Category": "Anxiety"}
    assert starter.reaction_users("👍") == [fake.bot_user.id]
    assert starter.reaction_users("👎") == [fake.bot_user.id]

    (row,) = await rows(harness)
    assert parse_footer_text(embed["footer"]["text"]) == row.id
    assert (row.state, row.kind, row.via_bot, row.author_id) == ("live", "question", True, alice.id)
    assert (row.thread_id, row.message_id, row.status_message_id) == (
        thread.id,
        thread.id,
        thread.id,
    )
    assert (row.title, row.body, row.category) == (
        "How do I sleep better?",
        "I wake up at *4 am* every night.",
        "Anxiety",
    )


async def test_ask_without_details_or_category(fake: FakeDiscord, harness: BotHarness) -> None:
    forum = await configure(harness, fake)
    bob = member(fake, "bob")
    reply = await ask(bob, fake, {"title": "Is it normal to feel tired?"})
    assert "Your question is posted" in reply.content
    (thread,) = fake.threads_in(forum)
    assert thread.applied_tags == []
    (embed,) = fake.message(thread.id).embeds
    assert "description" not in embed
    assert [f["name"] for f in embed["fields"]] == ["Status"]


async def test_category_autocomplete_offers_the_guilds_categories(
    fake: FakeDiscord, harness: BotHarness
) -> None:
    await configure(harness, fake)
    carol = member(fake, "carol")
    everything = await carol.autocomplete("ask", {"category": ""}, focused="category")
    assert [c["name"] for c in everything] == ["Anxiety", "Depression", "General", "Relationships"]
    typed = await carol.autocomplete("ask", {"category": "re"}, focused="category")
    # Names starting with what was typed come first, then names containing it.
    assert [c["value"] for c in typed] == ["Relationships", "Depression"]
    assert await carol.autocomplete("ask", {"category": "ANX"}, focused="category") == [
        {"name": "Anxiety", "value": "Anxiety"}
    ]


async def test_an_unknown_category_is_refused_before_the_modal(
    fake: FakeDiscord, harness: BotHarness
) -> None:
    await configure(harness, fake)
    text = await refused_at_once(await open_ask(member(fake, "dan"), fake, category="Sleep"))
    assert "no category called `Sleep`" in text
    nothing_posted(fake)


# --------------------------------------------------------------------------- refusals


async def test_no_forum_configured(fake: FakeDiscord, harness: BotHarness) -> None:
    text = await refused_at_once(await open_ask(member(fake, "fay"), fake))
    assert text == guilds.NOT_SET_UP
    nothing_posted(fake)


async def test_the_forum_was_deleted(fake: FakeDiscord, harness: BotHarness) -> None:
    forum = await configure(harness, fake)
    gus = member(fake, "gus")
    opened = await open_ask(gus, fake)  # the modal is open when the forum goes
    await opened.modal()
    fake.world.delete_channel(forum)
    await fake.flush()
    submitted = await opened.submit_modal({"title": "Where did it go?"})
    assert (await submitted.message()).content == guilds.FORUM_GONE
    assert await refused_at_once(await open_ask(gus, fake)) == guilds.FORUM_GONE
    assert fake.find_calls("POST", THREADS) == []
    assert await rows(harness) == []


async def test_the_forum_was_deleted_without_the_bot_knowing(
    fake: FakeDiscord, harness: BotHarness
) -> None:
    forum = await configure(harness, fake)
    forum.deleted = True  # the CHANNEL_DELETE has not reached the bot yet: Discord says 10003
    reply = await ask(member(fake, "hal"), fake, {"title": "Anyone there?"})
    assert reply.content == guilds.FORUM_GONE
    (call,) = fake.find_calls("POST", THREADS)
    assert call.status == 404
    assert await rows(harness) == []


async def test_the_bot_lacks_permissions_in_the_forum(
    fake: FakeDiscord, harness: BotHarness
) -> None:
    assert fake.guild is not None
    locked = fake.add_forum(
        fake.guild,
        "locked",
        tags=["General"],
        overwrites=[fake.overwrite(fake.bot_user, deny=["send_messages", "embed_links"])],
    )
    await configure(harness, fake, locked)
    text = await refused_at_once(await open_ask(member(fake, "ida"), fake))
    assert "missing Send Messages (Create Posts) and Embed Links" in text
    assert fake.threads_in(locked) == [] and fake.find_calls("POST", THREADS) == []
    assert await rows(harness) == []


async def test_discord_refuses_the_post_with_missing_permissions(
    fake: FakeDiscord, harness: BotHarness
) -> None:
    await configure(harness, fake)
    refuse_threads(fake, 403, 50013, "Missing Permissions")
    reply = await ask(member(fake, "jon"), fake, {"title": "Can I post?"})
    assert "missing a permission" in reply.content
    nothing_posted(fake)
    assert await rows(harness) == []  # the pending row was discarded


async def test_a_forum_that_requires_a_tag(fake: FakeDiscord, harness: BotHarness) -> None:
    assert fake.guild is not None
    strict = fake.add_forum(fake.guild, "strict", tags=["Sleep", "Work"], require_tag=True)
    await configure(harness, fake, strict)
    kim = member(fake, "kim")
    assert await refused_at_once(await open_ask(kim, fake)) == TAG_REQUIRED
    assert fake.find_calls("POST", THREADS) == []
    reply = await ask(kim, fake, {"title": "Night shifts?"}, category="Work")
    assert "Your question is posted" in reply.content
    (thread,) = fake.threads_in(strict)
    assert thread.applied_tags == [strict.tag("Work").id]


async def test_discord_requires_a_tag_the_bot_did_not_know_about(
    fake: FakeDiscord, harness: BotHarness
) -> None:
    await configure(harness, fake)
    refuse_threads(fake, 400, 40067, "A tag is required to create a forum post in this channel")
    reply = await ask(member(fake, "lou"), fake, {"title": "Untagged?"})
    assert reply.content == TAG_REQUIRED
    nothing_posted(fake)
    assert await rows(harness) == []


async def test_the_hourly_question_limit(fake: FakeDiscord, harness: BotHarness) -> None:
    assert fake.guild is not None
    gid = fake.guild.id
    forum = await configure(harness, fake)
    await run(harness, lambda s: settings.set_setting(s, gid, "questions_per_hour", 2))
    mia = member(fake, "mia")
    # Three modals opened while under the limit; only two questions get through.
    opened = [await open_ask(mia, fake) for _ in range(3)]
    for ix in opened:
        await ix.modal()
    # Titles with no word in common: the similar-questions gate holds none of them.
    titles = ["Sleeping badly lately", "Budget planning help", "Learning the violin"]
    for title, ix in zip(titles[:2], opened[:2], strict=True):
        done = await ix.submit_modal({"title": title})
        assert "Your question is posted" in (await done.message()).content
    third = await opened[2].submit_modal({"title": titles[2]})
    assert (await third.message()).content.startswith("You can ask 2 questions per hour")
    text = await refused_at_once(await open_ask(mia, fake))  # refused before the modal now
    assert text.startswith("You can ask 2 questions per hour; try again in")
    assert len(fake.threads_in(forum)) == 2
    assert [r.title for r in await rows(harness)] == titles[:2]
    # Someone else may still ask.
    assert "posted" in (await ask(member(fake, "ned"), fake, {"title": "Mine?"})).content


@pytest.mark.parametrize(
    ("title", "sentence"),
    [
        ("   ", "Please give your question a title."),
        ("\u200b\u200b\u200b", "Please give your question a title."),
        ("\u200d\u2060\u200d", "The title needs at least one visible character."),
        ("\u3164\u3164", "The title needs at least one visible character."),
    ],
)
async def test_bad_titles_are_refused(
    fake: FakeDiscord, harness: BotHarness, title: str, sentence: str
) -> None:
    await configure(harness, fake)
    reply = await ask(member(fake, "olga"), fake, {"title": title, "details": "body"})
    assert reply.content == sentence
    nothing_posted(fake)
    assert await rows(harness) == []


async def test_a_title_over_100_characters_is_refused(
    fake: FakeDiscord, harness: BotHarness
) -> None:
    await configure(harness, fake)
    pat = member(fake, "pat")
    ix = await open_ask(pat, fake)
    with pytest.raises(GestureRefused, match="longer than 100"):
        await ix.submit_modal({"title": "x" * 101})  # the Discord client stops it...
    done = await submit_raw(ix, {"title": "x" * 101, "details": ""})  # ...the bot does too
    assert (await done.message()).content == (
        "The title can be at most 100 characters; yours has 101."
    )
    nothing_posted(fake)
    assert await rows(harness) == []


async def test_long_details_with_markdown_and_mentions_render_inert(
    fake: FakeDiscord, harness: BotHarness
) -> None:
    assert fake.moderator_role is not None
    forum = await configure(harness, fake)
    quinn, victim = member(fake, "quinn"), member(fake, "victim")
    chunk = (
        f"@everyone @here <@{victim.id}> <@&{fake.moderator_role.id}> **bold** `code` "
        "[link](https://example.com) > quote\n# heading\n"
    )
    details = (chunk * (4000 // len(chunk) + 1))[:4000]
    reply = await ask(quinn, fake, {"title": "@everyone look", "details": details})
    assert "posted" in reply.content
    (thread,) = fake.threads_in(forum)
    starter = fake.message(thread.id)
    assert starter.mentions == [quinn.id]
    assert starter.mention_roles == [] and not starter.mention_everyone
    (embed,) = starter.embeds
    assert embed_problems(discord.Embed.from_dict(embed)) == []
    description = embed["description"]
    assert len(description) <= 4096
    assert "@everyone" not in description and "@here" not in description
    assert (
        f"<@{victim.id}>" not in description and f"<@&{fake.moderator_role.id}>" not in description
    )
    assert re.search(r"(?<!\\)<@", description) is None  # every mention shown, none rendered
    assert "**bold**" in description  # the asker's own markdown still works
    assert thread.name == "@everyone look"
    (row,) = await rows(harness)
    assert row.body == text_rules.trim(details)  # stored as written


# --------------------------------------------------------------------------- native posts


async def test_a_native_forum_post_is_adopted(fake: FakeDiscord, harness: BotHarness) -> None:
    forum = await configure(harness, fake)
    rita = member(fake, "rita")
    thread = await rita.create_post(
        forum, "  Native question ", "What helps with panic?", tags=["Depression", "Anxiety"]
    )
    status = await fake.wait_for_message(thread)
    await settle(harness, fake)
    assert status.content.splitlines()[0] == "▲ 0 · 0 answers"
    assert status.mentions == [] and status.allowed_mentions is not None
    bot_messages = [m for m in fake.messages_in(thread) if m.author_id == fake.bot_user.id]
    assert bot_messages == [status]  # one status reply, even with two events per post
    starter = fake.message(thread.id)
    assert starter.reaction_users("👍") == [fake.bot_user.id]

    (row,) = await rows(harness)
    assert (row.kind, row.state, row.via_bot, row.author_id) == ("question", "live", False, rita.id)
    assert (row.thread_id, row.message_id, row.status_message_id) == (
        thread.id,
        thread.id,
        status.id,
    )
    assert (row.title, row.body, row.category) == (
        "Native question",
        "What helps with panic?",
        "Depression",
    )


async def test_a_native_post_whose_starter_arrives_before_the_thread(
    fake: FakeDiscord, harness: BotHarness
) -> None:
    forum = await configure(harness, fake)
    sam = member(fake, "sam")
    held: list[tuple[str, Any, dict[str, Any]]] = []
    emit = fake.world.emit

    def hold_thread_create(name: str, data: Any, **kw: Any) -> None:
        if name == "THREAD_CREATE":
            held.append((name, data, kw))
        else:
            emit(name, data, **kw)

    fake.world.emit = hold_thread_create
    try:
        thread = await sam.create_post(forum, "Order?", "The message comes first here.")
    finally:
        fake.world.emit = emit
    assert [name for name, _, _ in held] == ["THREAD_CREATE"]
    for name, data, kw in held:
        emit(name, data, **kw)
    await fake.flush()
    status = await fake.wait_for_message(thread)
    await settle(harness, fake)
    assert [m for m in fake.messages_in(thread) if m.author_id == fake.bot_user.id] == [status]
    (row,) = await rows(harness)
    assert (row.message_id, row.status_message_id) == (thread.id, status.id)


async def test_posts_outside_the_qa_forum_and_by_bots_are_not_adopted(
    fake: FakeDiscord, harness: BotHarness
) -> None:
    assert fake.guild is not None
    await configure(harness, fake)
    other = fake.add_forum(fake.guild, "off-topic")
    await member(fake, "tom").create_post(other, "Not a question", "chat")
    assert fake.forum is not None
    helper_bot = fake.add_member(fake.guild, "helper-bot", bot=True)
    await helper_bot.create_post(fake.forum, "Daily digest", "automated")
    await settle(harness, fake)
    assert await rows(harness) == []
    assert fake.find_calls("POST", "/channels/{channel_id}/messages") == []


async def test_the_bots_own_post_is_not_adopted(fake: FakeDiscord, harness: BotHarness) -> None:
    forum = await configure(harness, fake)
    await ask(member(fake, "uma"), fake, {"title": "Asked with /ask", "details": "body"})
    await settle(harness, fake)
    (thread,) = fake.threads_in(forum)
    assert [m.id for m in fake.messages_in(thread)] == [thread.id]  # no status reply
    (row,) = await rows(harness)
    assert row.via_bot and row.status_message_id == thread.id


# --------------------------------------------------------------------------- status lines


async def test_a_burst_of_changes_is_two_edits_showing_the_final_state(
    fake: FakeDiscord, harness: BotHarness
) -> None:
    assert fake.guild is not None
    gid = fake.guild.id
    forum = await configure(harness, fake)
    await ask(member(fake, "vic"), fake, {"title": "Burst?", "details": "Many answers at once."})
    (thread,) = fake.threads_in(forum)
    (question,) = await rows(harness)
    sleep = ManualSleep()
    lines = harness.bot.status_lines
    lines.coalescer.sleep = sleep
    mark = fake.mark()

    async def answer(n: int) -> None:
        await run(
            harness,
            lambda s: posts.record_thread_message(
                s,
                guild_id=gid,
                thread_id=thread.id,
                message_id=10_000 + n,
                author_id=20_000 + n,
                body=f"Answer number {n}, long enough to count.",
            ),
        )
        lines.request(question.id)

    await answer(1)
    first = await fake.wait_for_call("PATCH", EDIT, since=mark)  # the leading edit, at once
    await sleep.until_cooling()
    for n in range(2, 21):
        await answer(n)
    voter = 30_000
    await run(
        harness,
        lambda s: votes.set_vote(s, user_id=voter, flag="up", on=True, post_id=question.id),
    )
    lines.request(question.id)
    assert len(fake.find_calls("PATCH", EDIT, since=mark)) == 1  # nothing during the cool-down
    sleep.end()
    second = await fake.wait_for_call("PATCH", EDIT, since=mark)  # the trailing edit
    await sleep.until_cooling()
    sleep.end()
    await lines.wait_idle()
    assert len(fake.find_calls("PATCH", EDIT, since=mark)) == 2
    assert first.id("message_id") == second.id("message_id") == thread.id

    def status_of(embed: dict[str, Any]) -> str:
        return next(f["value"] for f in embed["fields"] if f["name"] == "Status")

    assert status_of(first.json["embeds"][0]) == "▲ 0 · 1 answer"
    final = fake.message(thread.id)
    assert status_of(final.embeds[0]) == "▲ 1 · 20 answers"
    assert final.embeds[0]["title"] == "Burst?" and final.embeds[0]["author"]["name"] == "vic"
    assert "content" not in second.json  # the asker mention is not sent again


async def test_a_native_posts_status_reply_follows_the_question(
    fake: FakeDiscord, harness: BotHarness
) -> None:
    forum = await configure(harness, fake)
    wes = member(fake, "wes")
    thread = await wes.create_post(forum, "Native status", "details")
    status = await fake.wait_for_message(thread)
    await settle(harness, fake)
    (question,) = await rows(harness)
    helper = member(fake, "helper")
    await run(
        harness,
        lambda s: votes.set_vote(s, user_id=helper.id, flag="down", on=True, post_id=question.id),
    )
    mark = fake.mark()
    harness.bot.status_lines.request(question.id)
    call = await fake.wait_for_call("PATCH", EDIT, since=mark)
    assert call.id("message_id") == status.id
    assert fake.message(status.id).content.splitlines()[0] == "▼ 1 · 0 answers"
    assert fake.message(thread.id).content == "details"  # the member's starter is untouched


async def test_status_lines_of_gone_or_pending_questions_are_left_alone(
    fake: FakeDiscord, harness: BotHarness
) -> None:
    assert fake.guild is not None
    gid = fake.guild.id
    await configure(harness, fake)
    pending = await run(
        harness,
        lambda s: questions.create_question(
            s,
            guild_id=gid,
            author_id=1,
            asked=questions.AskedQuestion(title="Pending"),
            state="pending",
        ),
    )
    mark = fake.mark()
    lines = harness.bot.status_lines
    lines.request(pending.post.id)
    lines.request(987654)  # no such question
    await lines.wait_idle()
    assert fake.find_calls("PATCH", EDIT, since=mark) == []


async def test_closing_the_bot_stops_pending_status_edits(
    fake: FakeDiscord, harness: BotHarness
) -> None:
    forum = await configure(harness, fake)
    await ask(member(fake, "xia"), fake, {"title": "Closing?"})
    (question,) = await rows(harness)
    sleep = ManualSleep()
    lines = harness.bot.status_lines
    lines.coalescer.sleep = sleep
    lines.request(question.id)
    await sleep.until_cooling()
    lines.request(question.id)  # a trailing edit is due when the bot closes
    mark = fake.mark()
    await harness.close()
    lines.request(question.id)
    await lines.wait_idle()
    assert fake.find_calls("PATCH", EDIT, since=mark) == []
    assert len(fake.threads_in(forum)) == 1


# --------------------------------------------------------------------------- the gate


@pytest.fixture
async def gated(qa_bot_factory: BotFactory, db_url: str, fake_discord: FakeDiscord) -> BotHarness:
    """The bot with cogs.asking alone: its gate shows similar questions before /ask posts (no
    other cog is needed for it)."""
    return await qa_bot_factory(extensions=["cogs.asking"], database_url=db_url)


def button(message: Message, prefix: str) -> str:
    return next(
        c["custom_id"]
        for c in message.walk_components()
        if c.get("type") == 2 and c.get("custom_id", "").startswith(prefix)
    )


async def test_a_similar_question_is_posted_anyway_with_links_to_the_others(
    fake_discord: FakeDiscord, gated: BotHarness
) -> None:
    from cogs.asking.gate import GATE_TEXT, POSTED_ANYWAY

    fake = fake_discord
    forum = await configure(gated, fake)
    await ask(member(fake, "yan"), fake, {"title": "How can I sleep better at night?"})
    (first,) = fake.threads_in(forum)
    zoe = member(fake, "zoe")
    ix = await open_ask(zoe, fake, category="General")
    submitted = await ix.submit_modal({"title": "Sleep better at night without pills?"})
    prompt = await submitted.message()
    assert prompt.content == GATE_TEXT and prompt.ephemeral
    assert len(fake.threads_in(forum)) == 1  # held, not posted
    assert [r.title for r in await rows(gated)] == ["How can I sleep better at night?"]

    pressed = await zoe.click(prompt, button(prompt, "qa:ask:post:"))
    (confirmation,) = await pressed.followups(1)
    assert confirmation.ephemeral and "Your question is posted" in confirmation.content
    await fake.wait_until(lambda: prompt.content == POSTED_ANYWAY, what="the prompt updated")
    second = next(t for t in fake.threads_in(forum) if t.id != first.id)
    assert second.name == "Sleep better at night without pills?"
    assert second.applied_tags == [forum.tag("General").id]
    assert f"https://discord.com/channels/{fake.guild.id}/{second.id}" in confirmation.content
    starter = fake.message(second.id)
    assert zoe.mention in starter.content and starter.mentions == [zoe.id]
    assert "Related questions" in starter.content
    assert f"https://discord.com/channels/{fake.guild.id}/{first.id}" in starter.content
    titles = {r.title: r for r in await rows(gated)}
    posted = titles["Sleep better at night without pills?"]
    assert (posted.state, posted.thread_id, posted.category) == ("live", second.id, "General")


async def test_a_held_question_can_be_cancelled(
    fake_discord: FakeDiscord, gated: BotHarness
) -> None:
    from cogs.asking.gate import CANCELLED

    fake = fake_discord
    forum = await configure(gated, fake)
    await ask(member(fake, "amy"), fake, {"title": "Tips for a calmer morning routine?"})
    ben = member(fake, "ben")
    prompt = await (await open_ask(ben, fake)).submit_modal(
        {"title": "Calmer morning routine tips?"}
    )
    held = await prompt.message()
    pressed = await ben.click(held, button(held, "qa:ask:cancel:"))
    await pressed.response()
    await fake.wait_until(lambda: held.content == CANCELLED, what="the prompt updated")
    assert len(fake.threads_in(forum)) == 1
    assert len(await rows(gated)) == 1


async def test_a_bad_title_is_refused_before_the_gate(
    fake_discord: FakeDiscord, gated: BotHarness
) -> None:
    fake = fake_discord
    await configure(gated, fake)
    await ask(member(fake, "cal"), fake, {"title": "Morning anxiety help"})
    reply = await ask(member(fake, "dee"), fake, {"title": "\u200b", "details": "morning anxiety"})
    assert reply.content == "Please give your question a title."
