"""``/mydata export`` and ``/mydata erase`` end to end through the fake Discord, on SQLite and
PostgreSQL.

Alice asks (named, native) and asks anonymously (the bot's starter), answers Carol's anonymous
question anonymously through the bot, votes, follows, reports, has a DM, a held post, a draft,
a block on her, a moderator action of hers, and a post in another server. Carol's anonymous
authorship must never show in Alice's export; after Alice's erase no row but the marker and the
block on her names her, points equal a recomputation, and her later reactions count nothing.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import BigInteger, func, select

from bot.clock import utc_now
from bot.db.models import (
    AskDraft,
    Base,
    Flag,
    HeldPost,
    MemberBlock,
    ModAction,
    Notification,
    Post,
    ReportCard,
)
from bot.forum import prefs, settings
from bot.ui.mydata import REMOVED
from tests.cogs.answering.test_answering import button
from tests.cogs.conftest import BotEvents
from tests.cogs.test_voting import DOWN, UP, Posted, Votes, people
from tests.fakediscord import FakeDiscord, GestureRefused, Member, Message
from tests.fakediscord import world as fake_world
from tests.fakediscord.fixtures import BotFactory, BotHarness

OTHER_GUILD = 424242
SECRET = "Zyquorbel"  # words only Alice's posts hold
CAROL_REASON = "carolreason-unrelated"
ALLOWED = {("user_prefs", "user_id"), ("member_blocks", "user_id")}


@dataclass
class Scene:
    v: Votes
    alice: Member
    bob: Member
    carol: Member
    q_named: Posted  # Alice's native question
    q_anon: Posted  # Alice's anonymous question (the bot's starter)
    q_carol: Posted  # Carol's anonymous question
    a_bob: Posted  # Bob's answer to Alice's question
    a_alice: Posted  # Alice's anonymous answer to Carol's question (the bot's message)
    a_carol: Posted  # Carol's anonymous answer to Alice's question (the bot's message)
    dm: Message  # a DM the bot sent Alice
    cards: dict[int, Message]  # report cards in the moderator channel, by post id

    @property
    def fake(self) -> FakeDiscord:
        return self.v.fake

    @property
    def harness(self) -> BotHarness:
        return self.v.h

    async def rows(self, model: Any, *where: Any) -> list[Any]:
        async with self.harness.sessionmaker() as session:
            stmt = select(model).where(*where).execution_options(populate_existing=True)
            return list((await session.execute(stmt)).scalars())


async def _extras(s: Any, scene: Scene, mod_id: int) -> None:
    alice, gid, now = scene.alice.id, scene.v.guild_id, utc_now()
    await prefs.follow(s, guild_id=gid, question_id=scene.q_carol.id, user_id=alice)
    s.add_all(
        [
            Flag(guild_id=gid, post_id=scene.a_carol.id, reporter_id=alice, reason="unkind"),
            Flag(guild_id=gid, post_id=scene.a_alice.id, reporter_id=scene.bob.id, reason="odd"),
            *(
                ReportCard(
                    post_id=post_id, guild_id=gid, channel_id=card.channel_id, message_id=card.id
                )
                for post_id, card in scene.cards.items()
            ),
            Flag(
                guild_id=gid,
                post_id=scene.a_carol.id,
                reporter_id=scene.bob.id,
                reason=CAROL_REASON,
            ),
            Notification(
                guild_id=gid,
                recipient_id=alice,
                kind="new_answer",
                question_id=scene.q_named.id,
                post_id=scene.a_bob.id,
                payload=json.dumps({"title": f"{SECRET} title"}),
                dedupe_key="mydata-test:dm",
                status="sent",
                sent_message_id=scene.dm.id,
                sent_at=now,
            ),
            Notification(
                guild_id=gid,
                recipient_id=scene.bob.id,
                kind="accepted",
                question_id=scene.q_named.id,
                post_id=scene.a_bob.id,
                payload=json.dumps({"title": f"{SECRET} title"}),
                dedupe_key="mydata-test:bob",
            ),
            HeldPost(
                guild_id=gid,
                author_id=alice,
                kind="answer",
                question_id=scene.q_carol.id,
                payload=json.dumps({"body": f"{SECRET} held"}),
            ),
            AskDraft(guild_id=gid, user_id=alice, title=f"{SECRET} draft", expires_at=now),
            MemberBlock(
                guild_id=gid, user_id=alice, scope="anonymous", created_by=mod_id, ends_at=None
            ),
            ModAction(guild_id=gid, moderator_id=alice, action="dismiss", post_id=scene.q_carol.id),
            Post(
                guild_id=OTHER_GUILD,
                kind="question",
                author_id=alice,
                title=f"{SECRET} elsewhere",
                body=f"{SECRET} in another server",
            ),
        ]
    )


@pytest.fixture
async def scene(db_url: str, qa_bot_factory: BotFactory) -> AsyncIterator[Scene]:
    harness = await qa_bot_factory(
        extensions=["cogs.voting", "cogs.lifecycle", "cogs.moderation", "cogs.mydata"],
        database_url=db_url,
    )
    v = Votes(harness)
    alice, bob, carol, olivia = people(v.fake, "alice", "bob", "carol", "olivia")
    q_named = await v.question(alice, f"{SECRET} named question")
    q_anon = await v.anonymous_question(alice, f"{SECRET} anonymous question")
    q_carol = await v.anonymous_question(carol, "Carol's secret question")
    a_bob = await v.answer(q_named, bob)
    a_alice = await v.bot_answer(q_carol, alice, anonymous=True, body=f"{SECRET} my answer")
    a_carol = await v.bot_answer(q_named, carol, anonymous=True)
    dm = v.fake.world.post_message(
        v.fake.dm_channel(alice), v.fake.bot_user.id, {"content": "New answer"}
    )
    for who, posted, emoji in (
        (alice, q_carol, UP),
        (alice, a_bob, UP),
        (alice, a_carol, DOWN),
        (bob, q_named, UP),
        (bob, a_alice, UP),
        (carol, q_anon, UP),
    ):
        await who.react(posted.message, emoji)
    await v.settle()
    mods = v.fake.add_text_channel(v.fake.guild, "mods")
    cards = {
        post.id: v.fake.world.post_message(mods, v.fake.bot_user.id, {"content": "card"})
        for post in (a_carol, a_alice)
    }
    await v.fake.flush()
    s = Scene(v, alice, bob, carol, q_named, q_anon, q_carol, a_bob, a_alice, a_carol, dm, cards)
    await v.run(
        lambda session: settings.set_setting(session, v.guild_id, "mod_channel_id", mods.id)
    )
    await v.run(lambda session: _extras(session, s, olivia.id))
    yield s


def _attachment_json(messages: list[Message]) -> tuple[dict[str, Any], bytes]:
    files = [a for m in messages for a in m.attachments]
    assert len(files) == 1 and files[0].filename.endswith(".json")
    return json.loads(files[0].data), files[0].data


async def _export(scene: Scene, *, in_dm: bool) -> tuple[dict[str, Any], bytes, Message]:
    channel = scene.fake.dm_channel(scene.alice) if in_dm else None
    before = len(scene.fake.dms_to(scene.alice))
    ix = await scene.alice.slash("mydata", {"action": "export"}, channel=channel)
    assert (await ix.response()).type == 5  # deferred at once
    reply = await ix.message()
    assert reply.ephemeral
    sent = [m for m in scene.fake.dms_to(scene.alice)[before:] if m.attachments]
    data, raw = _attachment_json(sent)
    return data, raw, reply


async def test_export_in_a_server_lists_every_row_and_names_no_other_anonymous_author(
    scene: Scene,
) -> None:
    data, raw, reply = await _export(scene, in_dm=False)
    assert "sent to you in a DM" in reply.embeds[0]["description"]
    assert data["schema"]["version"] == 1 and set(data["schema"]["sections"]) <= set(data)
    assert data["scope"] == scene.v.guild_id
    posts = {p["id"]: p for p in data["posts"]}
    assert set(posts) == {scene.q_named.id, scene.q_anon.id, scene.a_alice.id}  # this server's
    assert posts[scene.q_anon.id]["anonymous"] and posts[scene.a_alice.id]["anonymous"]
    assert not posts[scene.q_named.id]["anonymous"]
    assert posts[scene.a_alice.id]["body"] == f"{SECRET} my answer"
    votes = {v["post_id"]: v for v in data["votes"]}
    assert set(votes) == {scene.q_carol.id, scene.a_bob.id, scene.a_carol.id}
    assert "kind" not in votes[scene.q_carol.id] and "kind" not in votes[scene.a_carol.id]
    assert votes[scene.a_bob.id]["kind"] == "answer"
    [points] = data["points"]
    assert points["cached"]["points"] == 20 + 10  # asking, one up vote
    assert points["cached"]["anon_points"] == 20 + 40 + 10 + 20  # her anonymous posts
    assert {e["post_id"] for e in points["by_post"]} == {
        scene.q_named.id,
        scene.q_anon.id,
        scene.a_alice.id,
    }
    assert [f["question_id"] for f in data["follows"]] == [scene.q_carol.id]
    assert [r["reason"] for r in data["reports"]] == ["unkind"]
    assert {n["kind"] for n in data["notifications"]} == {"new_answer"}
    assert "sent" in {n["status"] for n in data["notifications"]}
    assert data["held_posts"][0]["content"] == {"body": f"{SECRET} held"}
    assert [d["title"] for d in data["drafts"]] == [f"{SECRET} draft"]
    assert [b["scope"] for b in data["blocks"]] == ["anonymous"]
    assert "created_by" not in data["blocks"][0]
    assert [a["action"] for a in data["moderator_actions"]] == ["dismiss"]
    assert [p["pseudonym"] for p in data["pseudonyms"]] == ["Member 2"]  # Carol asked: Member 1
    # Carol, the anonymous author of posts Alice voted on, is named nowhere; nor is Bob's report.
    for needle in (str(scene.carol.id), "carol", CAROL_REASON, str(scene.bob.id)):
        assert needle.encode() not in raw.lower()


async def test_export_in_a_dm_covers_every_server(scene: Scene) -> None:
    data, _, _ = await _export(scene, in_dm=True)
    assert data["scope"] == "every server"
    assert {p["guild_id"] for p in data["posts"]} == {scene.v.guild_id, OTHER_GUILD}


async def test_export_with_dms_closed_is_an_ephemeral_attachment(scene: Scene) -> None:
    scene.fake.rules.close_dms(scene.alice)
    before = len(scene.fake.dms_to(scene.alice))
    ix = await scene.alice.slash("mydata", {"action": "export"})
    reply = await ix.message()
    assert reply.ephemeral and "DMs are closed" in reply.content
    data, _ = _attachment_json([reply])
    assert data["user_id"] == scene.alice.id
    assert len(scene.fake.dms_to(scene.alice)) == before  # nothing reached the DM


async def _erase(scene: Scene, *, confirm: bool) -> Message:
    channel = scene.fake.dm_channel(scene.alice)
    ix = await scene.alice.slash("mydata", {"action": "erase"}, channel=channel)
    prompt = await ix.message()
    assert prompt.ephemeral and "cannot be undone" in prompt.content
    label = "Erase my data" if confirm else "Cancel"
    await scene.alice.click(prompt, button(prompt, label))
    [done] = await ix.followups(count=1, timeout=15)
    return done


async def _referencing(scene: Scene, user_id: int) -> set[tuple[str, str]]:
    found = set()
    async with scene.harness.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                named = column.name.endswith(("_id", "_by"))
                if not named or not isinstance(column.type, BigInteger):
                    continue
                stmt = select(func.count()).select_from(table).where(column == user_id)
                if (await session.execute(stmt)).scalar_one():
                    found.add((table.name, column.name))
    return found


async def test_cancelling_the_erase_changes_nothing(scene: Scene) -> None:
    # The DM worker may remember Alice's DM channel (user_prefs) meanwhile: leave that out.
    prefs_row = {("user_prefs", "user_id")}
    before = await _referencing(scene, scene.alice.id) - prefs_row
    done = await _erase(scene, confirm=False)
    assert "Nothing was erased" in done.embeds[0]["description"]
    assert await _referencing(scene, scene.alice.id) - prefs_row == before
    assert len(before) > len(ALLOWED)
    async with scene.harness.sessionmaker() as session:
        assert not await prefs.is_erased(session, scene.alice.id)


async def test_erase_leaves_only_the_marker_and_the_block_and_her_reactions_count_nothing(
    scene: Scene,
) -> None:
    since = scene.fake.mark()
    done = await _erase(scene, confirm=True)
    text = done.embeds[0]["description"]
    assert "yours: delete them in Discord" in text
    assert await _referencing(scene, scene.alice.id) == ALLOWED
    await scene.v.assert_consistent()
    async with scene.harness.sessionmaker() as session:
        texts = (await session.execute(select(Post.title, Post.body))).all()
    assert not any(SECRET in f"{t} {b}" for t, b in texts)
    async with scene.harness.sessionmaker() as session:
        assert await prefs.is_erased(session, scene.alice.id)
        texts = (await session.execute(select(Post.title, Post.body))).all()
        payloads = (await session.execute(select(Notification.payload))).scalars().all()
    assert not any(SECRET in f"{t} {b}" for t, b in texts)
    assert not any(SECRET in p for p in payloads)
    # Points: Bob lost nothing he earned by others' votes; Alice's votes are gone.
    assert (await scene.v.member(scene.bob)).upvotes_received == 0
    assert (await scene.v.get(scene.a_bob)).score == 0
    # The bot's messages: her anonymous answer deleted, her anonymous starter replaced, her DM
    # deleted; her native question's starter is hers (left), its thread renamed.
    assert scene.a_alice.message.deleted
    assert scene.dm.deleted
    assert scene.q_anon.message.embeds[0]["description"] == REMOVED
    assert not scene.q_named.message.deleted
    renamed = scene.fake.find_calls("PATCH", "/channels/{channel_id}", since=since)
    assert {c.id("channel_id") for c in renamed} == {
        scene.q_named.thread.id,
        scene.q_anon.thread.id,
    }
    assert scene.q_named.thread.name == "[removed]"
    # Her own native question's text, edited in Discord afterwards, is not stored again.
    events = BotEvents(scene.harness, "qa_synced")
    await scene.alice.edit(scene.q_named.message, f"{SECRET} edited later")
    await scene.alice.edit_thread(scene.q_named.thread, name=f"{SECRET} renamed later")
    await events.wait_for("qa_synced", lambda kind, *_: kind == "edit")
    await events.wait_for("qa_synced", lambda kind, *_: kind == "rename")
    # Both report cards are shown again: her answer's without its text, Carol's without her
    # report (one open report left, Bob's).
    for card in scene.cards.values():
        await scene.fake.wait_for_call(
            "PATCH",
            "/channels/{channel_id}/messages/{message_id}",
            where=lambda c, card=card: c.id("message_id") == card.id,
            since=since,
        )
        shown = json.dumps(card.embeds)
        assert card.embeds and SECRET not in shown and "unkind" not in shown
    # A later reaction by her counts nothing and is taken off.
    await scene.alice.react(scene.a_bob.message, DOWN)
    await scene.v.settle()
    assert scene.a_bob.message.reactions.get(DOWN) is None
    assert await scene.v.stored(scene.a_bob) == {}
    assert await _referencing(scene, scene.alice.id) == ALLOWED
    await scene.v.assert_consistent()
    async with scene.harness.sessionmaker() as session:
        texts = (await session.execute(select(Post.title, Post.body))).all()
    assert not any(SECRET in f"{t} {b}" for t, b in texts)


async def test_mydata_is_declared_for_guild_and_user_installs_everywhere(scene: Scene) -> None:
    [command] = [c.data for c in scene.fake.commands() if c.data["name"] == "mydata"]
    assert sorted(command["integration_types"]) == [0, 1]  # guild install, user install
    assert sorted(command["contexts"]) == [0, 1, 2]  # servers, the bot's DM, private channels


async def test_someone_who_shares_no_server_exports_after_installing_the_app(
    scene: Scene,
) -> None:
    leaver = scene.fake.add_user("leaver")  # left (or was banned from) every server

    async def old_answer(session: Any) -> None:
        session.add(
            Post(guild_id=OTHER_GUILD, kind="answer", author_id=leaver.id, body="old answer")
        )

    await scene.v.run(old_answer)
    dm = scene.fake.dm_channel(leaver)
    with pytest.raises(GestureRefused):
        await leaver.slash("mydata", {"action": "export"}, channel=dm)
    scene.fake.install_app(leaver)
    ix = await leaver.slash("mydata", {"action": "export"}, channel=dm)
    assert ix.payload["authorizing_integration_owners"] == {"1": str(leaver.id)}
    await ix.message()
    data, _ = _attachment_json([m for m in scene.fake.dms_to(leaver) if m.attachments])
    assert [p["body"] for p in data["posts"]] == ["old answer"]


async def test_a_large_export_is_split_into_numbered_parts_ten_a_message(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = 1000
    monkeypatch.setattr(fake_world, "ATTACHMENT_SIZE_LIMIT", limit)
    before = len(scene.fake.dms_to(scene.alice))
    ix = await scene.alice.slash("mydata", {"action": "export"})
    assert ix.payload["attachment_size_limit"] == limit
    await ix.message()
    sent = [m for m in scene.fake.dms_to(scene.alice)[before:] if m.attachments]
    files = [a for m in sent for a in m.attachments]
    assert len(files) > 10 and all(len(m.attachments) <= 10 for m in sent)
    assert all(len(f.data) <= limit for f in files)
    assert files[0].filename.startswith("qa-bot-my-data.part")
    data = json.loads(b"".join(f.data for f in files))
    assert data["user_id"] == scene.alice.id


async def test_an_erase_in_a_server_keeps_the_other_servers_data(scene: Scene) -> None:
    ix = await scene.alice.slash("mydata", {"action": "erase"})
    prompt = await ix.message()
    await scene.alice.click(prompt, button(prompt, "Erase my data"))
    [done] = await ix.followups(count=1, timeout=15)
    assert "this server" in done.embeds[0]["description"]
    left = await scene.rows(Post, Post.author_id == scene.alice.id)
    assert [p.guild_id for p in left] == [OTHER_GUILD]
    await scene.v.assert_consistent()
