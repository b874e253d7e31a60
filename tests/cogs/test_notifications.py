"""End to end through the fake Discord: DMs about answers and accepts, /notifications, /follow,
/unfollow, the DMs-closed notice, coalescing and /qa status, on both database backends.

Answers are real thread messages handled by the answering cog; the worker polls only every
30 s here, so a DM that arrives within the test's few seconds was sent because the bot woke it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.models import Notification
from bot.forum import prefs
from cogs import notifications as cog
from tests.bot.workers.test_notifier import is_dm_send, pinged, wait_for_dms
from tests.cogs.conftest import (
    AskedQuestion,
    BotEvents,
    add_forum_tag,
    ask_question_directly,
    configure_qa_guild,
    thread_message_handled,
)
from tests.fakediscord import FakeDiscord, GestureRefused, InteractionHandle, Member, Message
from tests.fakediscord.fixtures import BotFactory, BotHarness

EXTENSIONS = ["cogs.admin", "cogs.answering", "cogs.notifications"]
LONG = "Breathe in for four counts, hold for four, then breathe out slowly for four."
OTHER = "Write the worries down on paper before bed, then close the notebook."
MESSAGES = "/channels/{channel_id}/messages"


class NoStatusLines:
    """Stands in for ``bot.status_lines`` (status messages are not what these tests are about)."""

    def request(self, question_id: int) -> None:
        return None


@dataclass
class Scene:
    fake: FakeDiscord
    harness: BotHarness
    events: BotEvents
    alice: Member  # asks
    bob: Member  # answers
    carol: Member  # follows
    dave: Member  # answers too

    @property
    def notifier(self) -> Any:
        return self.harness.bot.notifier

    async def ask(self, title: str = "How do I calm down before an exam?") -> AskedQuestion:
        return await ask_question_directly(self.harness, self.alice, title)

    async def say(self, who: Member, asked: AskedQuestion, text: str = LONG) -> Message:
        """``who`` writes in the thread; returns once the answering cog has stored it."""
        message = await who.send(asked.thread, text)
        await thread_message_handled(self.events, message)
        return message

    async def rows(self) -> list[Notification]:
        async with self.harness.sessionmaker() as session:
            result = await session.execute(
                select(Notification)
                .order_by(Notification.id)
                .execution_options(populate_existing=True)
            )
            return list(result.scalars())

    async def prefs_of(self, member: Member) -> prefs.Prefs:
        async with self.harness.sessionmaker() as session:
            return await prefs.get_prefs(session, member.id)


async def make_scene(
    fake: FakeDiscord, factory: BotFactory, db_url: str, **overrides: Any
) -> Scene:
    assert fake.guild is not None
    solved = add_forum_tag(fake, "Solved")
    members = {n: fake.add_member(fake.guild, n) for n in ("alice", "bob", "carol", "dave")}
    harness = await factory(
        extensions=EXTENSIONS, database_url=db_url, **{"notify_poll_seconds": 30, **overrides}
    )
    harness.bot.status_lines = NoStatusLines()  # type: ignore[assignment]
    await configure_qa_guild(harness, solved_tag_id=solved, notify_coalesce_seconds=0)
    return Scene(fake, harness, BotEvents(harness, "qa_thread_message"), **members)


@pytest.fixture
async def scene(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    made = await make_scene(fake_discord, qa_bot_factory, db_url)
    try:
        yield made
    finally:
        made.events.close()


async def reply_of(ix: InteractionHandle) -> str:
    message = await ix.message()
    assert message.ephemeral
    return message.embed_text() or message.content


# --------------------------------------------------------------------------- who gets a DM


async def test_a_new_answer_dms_the_asker_and_followers_but_never_the_answerer(
    scene: Scene,
) -> None:
    fake = scene.fake
    asked = await scene.ask()
    for follower in (scene.carol, scene.bob):  # bob follows, then answers himself
        assert cog.FOLLOW_REPLIES[True, True] in await reply_of(
            await follower.slash("follow", channel=asked.thread)
        )
    answer = await scene.say(scene.bob, asked)
    [to_alice] = await wait_for_dms(fake, scene.alice, 1)
    [to_carol] = await wait_for_dms(fake, scene.carol, 1)
    await scene.notifier.wait_idle()
    assert fake.dms_to(scene.bob) == []
    for dm in (to_alice, to_carol):
        [embed] = dm.embeds
        assert embed["title"] == "New answer to “How do I calm down before an exam?”"
        assert embed["description"] == f"**bob** answered:\n>>> {LONG}"
        assert not pinged(fake, dm)
        [[link]] = [row["components"] for row in dm.components]
        assert link["url"] == (
            f"https://discord.com/channels/{asked.thread.guild_id}/{asked.thread.id}/{answer.id}"
        )
    assert {r.status for r in await scene.rows()} == {"sent"}


async def test_an_accept_dms_the_answerer(scene: Scene) -> None:
    fake = scene.fake
    asked = await scene.ask()
    answer = await scene.say(scene.bob, asked)
    await wait_for_dms(fake, scene.alice, 1)
    ix = await scene.alice.context_menu("Accept answer", answer)
    await ix.message()
    [dm] = await wait_for_dms(fake, scene.bob, 1)
    [embed] = dm.embeds
    assert embed["title"] == "✅ Your answer was accepted"
    assert embed["description"] == f"On “How do I calm down before an exam?”\n>>> {LONG}"
    [[link]] = [row["components"] for row in dm.components]
    assert (link["label"], link["url"].rsplit("/", 1)[1]) == ("Open your answer", str(answer.id))
    await scene.notifier.wait_idle()
    assert len(fake.dms_to(scene.alice)) == 1  # accepting tells the asker nothing


async def test_an_answer_through_the_answer_command_dms_the_asker(scene: Scene) -> None:
    fake = scene.fake
    asked = await scene.ask()
    ix = await scene.bob.slash("answer", channel=asked.thread)
    submitted = await ix.submit_modal({"answer": OTHER})
    await submitted.message()
    [dm] = await wait_for_dms(fake, scene.alice, 1)
    assert dm.embeds[0]["description"] == f"**bob** answered:\n>>> {OTHER}"


async def test_a_comment_on_an_answer_dms_the_answerer(scene: Scene) -> None:
    fake = scene.fake
    asked = await scene.ask()
    answer = await scene.say(scene.bob, asked)
    await wait_for_dms(fake, scene.alice, 1)
    comment = await scene.carol.send(asked.thread, "Does it help *every* night?", reply_to=answer)
    await thread_message_handled(scene.events, comment)
    [dm] = await wait_for_dms(fake, scene.bob, 1)
    [embed] = dm.embeds
    assert embed["title"] == "New comment on your answer to “How do I calm down before an exam?”"
    assert embed["description"] == "**carol** commented:\n>>> Does it help \\*every\\* night?"
    [[link]] = [row["components"] for row in dm.components]
    assert (link["label"], link["url"].rsplit("/", 1)[1]) == ("Open the comment", str(comment.id))


async def test_off_means_no_dm_and_on_brings_them_back(scene: Scene) -> None:
    fake = scene.fake
    text = await reply_of(await scene.alice.slash("notifications", {"mode": "off"}))
    assert "DM notifications are off" in text.replace("*", "")
    assert not (await scene.prefs_of(scene.alice)).notifications
    asked = await scene.ask()
    await scene.say(scene.bob, asked)
    await scene.notifier.wait_idle()
    assert fake.dms_to(scene.alice) == []
    assert await scene.rows() == []  # nothing was even queued
    # On again, from the DM with the bot this time.
    in_dm = fake.dm_channel(scene.alice)
    text = await reply_of(await scene.alice.slash("notifications", {"mode": "on"}, channel=in_dm))
    assert "DM notifications are on" in text.replace("*", "")
    await scene.say(scene.dave, asked, OTHER)
    [dm] = await wait_for_dms(fake, scene.alice, 1)
    assert OTHER in dm.embeds[0]["description"]


async def test_follow_and_unfollow(scene: Scene) -> None:
    fake = scene.fake
    asked = await scene.ask()
    carol, alice = scene.carol, scene.alice

    async def run(who: Member, command: str, channel: Any = asked.thread) -> str:
        return await reply_of(await who.slash(command, channel=channel))

    assert cog.FOLLOW_REPLIES[True, True] in await run(carol, "follow")
    assert cog.FOLLOW_REPLIES[True, False] in await run(carol, "follow")
    assert cog.ASKER_FOLLOWS in await run(alice, "follow")
    assert "You asked this question" in await run(alice, "unfollow")
    assert "inside a question's thread" in await run(carol, "follow", fake.general)
    await scene.say(scene.bob, asked)
    await wait_for_dms(fake, carol, 1)
    assert cog.FOLLOW_REPLIES[False, True] in await run(carol, "unfollow")
    assert cog.FOLLOW_REPLIES[False, False] in await run(carol, "unfollow")
    await scene.say(scene.dave, asked, OTHER)
    await wait_for_dms(fake, alice, 2)
    await scene.notifier.wait_idle()
    assert len(fake.dms_to(carol)) == 1
    # Following with DMs off says so.
    await reply_of(await carol.slash("notifications", {"mode": "off"}))
    assert cog.DMS_OFF_NOTE in await run(carol, "follow")
    with pytest.raises(GestureRefused):
        await carol.slash("follow", channel=fake.dm_channel(carol))  # not in DMs


# --------------------------------------------------------------------------- DMs closed


async def test_closed_dms_stop_at_once_mark_the_user_and_the_next_command_tells_them_once(
    scene: Scene,
) -> None:
    fake = scene.fake
    fake.rules.close_dms(scene.alice)
    asked = await scene.ask()
    await scene.say(scene.bob, asked)
    await scene.notifier.wait_idle()
    [row] = await scene.rows()
    assert row.status == "undeliverable"
    assert len(fake.find_calls("POST", MESSAGES, where=is_dm_send)) == 1  # no retry
    assert (await scene.prefs_of(scene.alice)).dms_closed
    # Later events queue nothing for her.
    await scene.say(scene.dave, asked, OTHER)
    await scene.notifier.wait_idle()
    assert len(await scene.rows()) == 1
    # Her next command (any of them) is answered as usual, then she is told once.
    ix = await scene.alice.slash("follow", channel=asked.thread)
    assert cog.ASKER_FOLLOWS in await reply_of(ix)
    [notice] = await ix.followups(count=1)
    assert notice.ephemeral
    assert "could not send you a DM" in notice.embed_text()
    assert not (await scene.prefs_of(scene.alice)).dms_closed
    again = await scene.alice.slash("follow", channel=asked.thread)
    await again.message()
    await scene.notifier.wait_idle()
    assert again.followup_messages == []
    # With her DMs open again, the next answer reaches her.
    fake.rules.open_dms(scene.alice)
    await scene.say(scene.carol, asked, "Go for a short walk in the evening, away from screens.")
    [dm] = await wait_for_dms(fake, scene.alice, 1)
    assert "short walk" in dm.embeds[0]["description"]


# --------------------------------------------------------------------------- coalescing


@pytest.mark.slow
async def test_a_burst_of_five_answers_makes_two_dms(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    fake = fake_discord
    scene = await make_scene(fake, qa_bot_factory, db_url)
    try:
        await configure_qa_guild(scene.harness, notify_coalesce_seconds=2)
        asked = await scene.ask()
        assert fake.guild is not None
        writers = [fake.add_member(fake.guild, f"helper{n}") for n in range(5)]
        tips = []
        for n, who in enumerate(writers):
            tips.append(await scene.say(who, asked, f"{LONG} (tip number {n})"))
            if n == 0:  # the first one goes out at once
                [first] = await wait_for_dms(fake, scene.alice, 1)
        assert "(tip number 0)" in first.embeds[0]["description"]
        assert first.timestamp - tips[0].timestamp < 1.5
        assert tips[-1].timestamp - tips[0].timestamp < 2  # the burst was within the window
        assert len(fake.dms_to(scene.alice)) == 1
        # The other four wait for the window, then come as one follow-up.
        second = (await wait_for_dms(fake, scene.alice, 2, timeout=10))[1]
        assert second.timestamp - tips[0].timestamp >= 1.9  # not before the window ended
        [embed] = second.embeds
        assert embed["title"] == "4 new answers to “How do I calm down before an exam?”"
        assert embed["description"].startswith("The latest, from **helper4**:")
        assert "(tip number 4)" in embed["description"]
        await scene.notifier.wait_idle()
        rows = await scene.rows()
        assert [r.status for r in rows] == ["sent"] * 5
        assert {r.sent_message_id for r in rows[1:]} == {second.id}
        assert len(fake.dms_to(scene.alice)) == 2
    finally:
        scene.events.close()


# --------------------------------------------------------------------------- /qa status


async def test_qa_status_shows_the_outbox_to_server_managers(scene: Scene) -> None:
    fake = scene.fake
    assert fake.owner is not None
    fake.rules.close_dms(scene.carol)
    asked = await scene.ask()
    followed = await scene.carol.slash("follow", channel=asked.thread)
    await followed.message()  # Carol follows before Bob answers
    await scene.say(scene.bob, asked)
    await wait_for_dms(fake, scene.alice, 1)
    await scene.notifier.wait_idle()
    ix = await fake.owner.slash("qa status", channel=fake.general)
    message = await ix.message()
    assert message.ephemeral
    [embed] = message.embeds
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Pending"] == "0"
    assert fields["Sent"] == "1"
    assert fields["Undeliverable"] == "1"
    assert fields["Failed"] == "0"
    assert fields["Oldest pending"] == "—"
    assert "50007" in fields["Last failure"]
    with pytest.raises(GestureRefused):  # Discord hides /qa from members without Manage Server
        await scene.bob.slash("qa status", channel=fake.general)


async def test_qa_status_is_declared_by_the_admin_cog(scene: Scene) -> None:
    admin = scene.harness.cog("Admin")
    status = admin.qa.get_command("status")
    assert status is not None
    await scene.harness.bot.unload_extension("cogs.notifications")
    assert admin.qa.get_command("status") is status  # /qa is whole whatever else is loaded
    assert scene.notifier.running  # the DM worker is the bot's: it stops when the bot closes
