"""Reads show only what the member may see, end to end through the fake Discord on SQLite and
PostgreSQL: a private forum (@everyone denied View Channel, the Helpers role allowed) is the Q&A
forum with a question in it. Dave, without the role, finds nothing with /search, /unanswered,
the autocompletes or a profile, and a question he names by id answers as a missing one; Carol,
with the role, finds it everywhere. The similar-questions gate of /ask shows it only to her.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from discord import Permissions
from sqlalchemy import select

from bot.db.models import Post
from bot.forum.post_rows import QUESTION_GONE
from cogs.asking.gate import GATE_TEXT
from cogs.discovery import NOTHING_FOUND
from tests.cogs.conftest import (
    AskedQuestion,
    add_forum_tag,
    ask_question_directly,
    configure_qa_guild,
)
from tests.fakediscord import FakeDiscord, Member, Message
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.fakediscord.model import Channel

EXTENSIONS = ["cogs.asking", "cogs.answering", "cogs.discovery", "cogs.lifecycle", "cogs.profiles"]
TITLE = "Night panic attacks and breathing"
DETAILS = "Panic wakes me at night; slow breathing helps a little."
BOT_NEEDS = [
    "view_channel",
    "read_message_history",
    "send_messages",
    "send_messages_in_threads",
    "embed_links",
]


@dataclass
class Scene:
    fake: FakeDiscord
    harness: BotHarness
    private: Channel
    asked: AskedQuestion
    carol: Member  # a Helper: sees the private forum
    dave: Member  # no role: does not

    def link(self) -> str:
        assert self.fake.guild is not None
        return f"https://discord.com/channels/{self.fake.guild.id}/{self.asked.thread.id}"


@pytest.fixture
async def scene(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    fake = fake_discord
    guild = fake.guild
    assert guild is not None
    helpers = fake.add_role(guild, "Helpers")
    everyone = guild.roles[guild.id]
    private = fake.add_forum(
        guild,
        "helpers-qa",
        tags=["General"],
        overwrites=[
            fake.overwrite(everyone, deny=["view_channel"]),
            fake.overwrite(helpers, allow=["view_channel"]),
            fake.overwrite(fake.bot_user, allow=BOT_NEEDS),
        ],
    )
    solved = add_forum_tag(fake, "Solved", forum=private)
    alice = fake.add_member(guild, "alice", roles=[helpers])
    carol = fake.add_member(guild, "carol", roles=[helpers])
    dave = fake.add_member(guild, "dave")
    harness = await qa_bot_factory(extensions=EXTENSIONS, database_url=db_url)
    await configure_qa_guild(harness, forum=private, solved_tag_id=solved)
    asked = await ask_question_directly(harness, alice, TITLE, DETAILS, forum=private)
    assert not Permissions(fake.permissions_in(private, dave)).view_channel
    assert Permissions(fake.permissions_in(private, carol)).view_channel
    yield Scene(fake, harness, private, asked, carol, dave)


async def _reply(ix: Any) -> Message:
    reply: Message = await ix.message()
    assert reply.ephemeral
    return reply


def _description(reply: Message) -> str:
    (embed,) = reply.embeds
    return str(embed.get("description", ""))


async def test_search_and_unanswered_show_the_question_only_to_a_member_who_sees_its_forum(
    scene: Scene,
) -> None:
    general = scene.fake.general
    hidden = await _reply(await scene.dave.slash("search", {"query": "panic"}, channel=general))
    assert _description(hidden) == NOTHING_FOUND
    found = await _reply(await scene.carol.slash("search", {"query": "panic"}, channel=general))
    assert scene.link() in _description(found)

    hidden = await _reply(await scene.dave.slash("unanswered", channel=general))
    assert scene.link() not in _description(hidden)
    assert hidden.embeds[0]["title"] == "Unanswered questions (0)"
    found = await _reply(await scene.carol.slash("unanswered", channel=general))
    assert scene.link() in _description(found)
    assert found.embeds[0]["title"] == "Unanswered questions (1)"


@pytest.mark.parametrize(
    ("command", "option"),
    [("search", "query"), ("answer", "question"), ("reply", "question"), ("close", "duplicate_of")],
)
async def test_autocompletes_offer_the_question_only_to_a_member_who_sees_its_forum(
    scene: Scene, command: str, option: str
) -> None:
    general = scene.fake.general
    typed = {option: "panic"}
    if command == "reply":
        typed["text"] = "x"
    assert await scene.dave.autocomplete(command, typed, focused=option, channel=general) == []
    offered = await scene.carol.autocomplete(command, typed, focused=option, channel=general)
    assert [c["name"].startswith(TITLE) for c in offered] == [True]


async def test_a_question_named_by_id_answers_as_a_missing_one_to_a_member_who_cannot_see_it(
    scene: Scene,
) -> None:
    general = scene.fake.general
    named = {"question": str(scene.asked.id)}
    unseen = await _reply(await scene.dave.slash("answer", named, channel=general))
    missing = await _reply(
        await scene.dave.slash("answer", {"question": "999999"}, channel=general)
    )
    assert unseen.content == missing.content == QUESTION_GONE
    by_link = {"question": scene.link()}
    unseen = await _reply(await scene.dave.slash("answer", by_link, channel=general))
    not_a_question = await _reply(
        await scene.dave.slash("answer", {"question": f"<#{general.id}>"}, channel=general)
    )
    assert unseen.content == not_a_question.content
    modal = await (await scene.carol.slash("answer", named, channel=general)).modal()
    assert modal.fields


async def test_a_profile_links_the_question_only_for_a_reader_who_sees_its_forum(
    scene: Scene,
) -> None:
    general = scene.fake.general
    alice = scene.asked.asker
    hidden = await _reply(await scene.dave.slash("profile", {"member": alice}, channel=general))
    fields = {f["name"]: f["value"] for f in hidden.embeds[0]["fields"]}
    assert fields["Questions"] == "1" and "Recent questions" not in fields
    found = await _reply(await scene.carol.slash("profile", {"member": alice}, channel=general))
    fields = {f["name"]: f["value"] for f in found.embeds[0]["fields"]}
    assert scene.link() in fields["Recent questions"]
    # Shown to the channel, it links only what @everyone can read too.
    ix = await scene.carol.slash("profile", {"member": alice, "public": True}, channel=general)
    shown = await ix.message()
    assert not shown.ephemeral
    assert "Recent questions" not in {f["name"] for f in shown.embeds[0]["fields"]}


async def _ask(member: Member, fake: FakeDiscord) -> Message:
    ix = await member.slash("ask", channel=fake.general)
    submitted = await ix.submit_modal({"title": "Panic at night", "details": "Breathing?"})
    return await _reply(submitted)


async def test_the_ask_gate_shows_the_question_only_to_a_member_who_sees_its_forum(
    scene: Scene,
) -> None:
    fake = scene.fake
    assert fake.forum is not None
    # The server moved its Q&A to the open forum; the question stays in the private one.
    await configure_qa_guild(scene.harness, forum=fake.forum)
    held = await _ask(scene.carol, fake)
    assert held.content == GATE_TEXT and scene.link() in _description(held)
    posted = await _ask(scene.dave, fake)
    assert posted.content != GATE_TEXT and scene.link() not in posted.content
    assert all(scene.link() not in str(e) for e in posted.embeds)
    async with scene.harness.sessionmaker() as session:
        forums = (
            await session.execute(
                select(Post.forum_id).where(Post.kind == "question").order_by(Post.id)
            )
        ).scalars()
        assert list(forums) == [scene.private.id, fake.forum.id]
