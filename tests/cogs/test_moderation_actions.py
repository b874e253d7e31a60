"""Acting through a post, end to end through the fake Discord on both backends: "Moderate post"
shows a post with Remove / Block author; Remove hides it (the thread's status line, /search),
undoes its points (a recomputation agrees), deletes the message or locks and archives a
question's thread, and DMs the author with the reason; Restore (a button that works after a
restart) brings all of it back, posting a deleted answer again through the bot; a restore after
the window is refused; non-moderators are refused in code."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from bot.clock import utc_now
from bot.db.models import Post
from bot.forum import points
from cogs.moderation.moderators import NOT_A_MODERATOR_HERE
from tests.bot.workers.test_notifier import wait_for_dms
from tests.cogs.conftest import (
    BotEvents,
    ask_question_directly,
    configure_qa_guild,
    run_domain,
    thread_message_handled,
    upvote,
)
from tests.fakediscord import FakeDiscord, Member, Message
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.fakediscord.model import Channel

TITLE = "How do I calm down before an exam?"
BOB = "Breathe in for four counts, hold for four, then breathe out slowly for four."
REASON = "Medical advice from a stranger"


def button_id(message: Message, prefix: str) -> str:
    for component in message.walk_components():
        custom_id = str(component.get("custom_id", ""))
        if component.get("type") == 2 and custom_id.startswith(prefix):
            return custom_id
    raise AssertionError(f"no button {prefix!r} in {message.components}")


async def panel(moderator: Member, message: Message) -> Message:
    """The moderator's "Moderate post" reply on ``message`` (ephemeral)."""
    shown = await (await moderator.context_menu("Moderate post", message)).message()
    assert shown.ephemeral
    return shown


async def press(moderator: Member, message: Message, prefix: str, form: Any = None) -> Message:
    """Press a button of ``message`` (filling in its form when given); the bot's reply."""
    ix = await moderator.click(message, button_id(message, prefix))
    if form is not None:
        ix = await ix.submit_modal(form)
    reply = await ix.message()
    assert reply.ephemeral
    return reply


async def recomputation_agrees(harness: BotHarness, guild_id: int) -> None:
    fixed = await run_domain(harness, lambda s: points.recompute_points(s, guild_id))
    assert (fixed.members_fixed, fixed.posts_fixed) == (0, 0)


async def points_of(harness: BotHarness, guild_id: int, member: Member) -> int:
    got = await run_domain(
        harness, lambda s: points.get_member_points(s, guild_id=guild_id, user_id=member.id)
    )
    return got.points


async def searched(member: Member, channel: Channel, words: str) -> str:
    found = await (await member.slash("search", {"query": words}, channel=channel)).message()
    return found.embed_text() + found.content


async def test_remove_and_restore_an_answer_and_a_question(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory, db_url: str
) -> None:
    fake = fake_discord
    assert fake.guild and fake.general and fake.moderator_role
    guild_id = fake.guild.id
    mia = fake.add_member(fake.guild, "mia", roles=[fake.moderator_role])
    alice, bob, carol = (fake.add_member(fake.guild, n) for n in ("alice", "bob", "carol"))
    harness = await qa_bot_factory(database_url=db_url)
    harness.bot.status_lines.coalescer.interval = 0.0
    await configure_qa_guild(harness, notify_coalesce_seconds=0)
    events = BotEvents(harness, "qa_thread_message", "raw_reaction_add")
    asked = await ask_question_directly(harness, alice, TITLE)
    answer = await bob.send(asked.thread, BOB)
    assert (await thread_message_handled(events, answer)).post.kind == "answer"
    await upvote(harness, events, carol, answer)
    await fake.wait_until(lambda: "1 answer" in asked.starter.embed_text(), what="1 answer")
    await wait_for_dms(fake, alice, 1)
    bob_before = await points_of(harness, guild_id, bob)
    assert TITLE in await searched(carol, fake.general, "breathe counts")  # through the answer

    # A member who is not a moderator is refused in code (Discord hides the command from them).
    refused = await bob.context_menu("Moderate post", answer, bypass_permissions=True)
    assert NOT_A_MODERATOR_HERE in (await refused.message()).content

    shown = await panel(mia, answer)
    assert BOB in shown.embed_text()
    removed = await press(mia, shown, "qa:act:remove:", {"reason": REASON})
    assert "removed" in removed.content
    await fake.wait_until(lambda: fake.message(answer.id).deleted, what="the answer deleted")
    await fake.wait_until(lambda: "0 answers" in asked.starter.embed_text(), what="0 answers")
    assert await points_of(harness, guild_id, bob) == bob_before - 40 - 20
    await recomputation_agrees(harness, guild_id)
    (dm,) = await wait_for_dms(fake, bob, 1)
    assert REASON in dm.embed_text() and BOB[:40] in dm.embed_text()
    assert TITLE not in await searched(carol, fake.general, "breathe counts")

    # Restore works after a restart: the answer is posted again by the bot, points come back.
    await harness.close()
    harness = await qa_bot_factory(database_url=db_url)
    harness.bot.status_lines.coalescer.interval = 0.0
    restored = await press(mia, removed, "qa:act:restore:")
    assert "restored" in restored.content
    again = await fake.wait_for_message(
        asked.thread, where=lambda m: BOB in m.embed_text(), after=answer
    )
    assert again.author_id == fake.bot_user.id and "bob" in again.embed_text()
    await fake.wait_until(lambda: "1 answer" in asked.starter.embed_text(), what="1 answer again")
    assert await points_of(harness, guild_id, bob) == bob_before
    await recomputation_agrees(harness, guild_id)

    # A question: gone from /search, its thread locked and archived; restored, it is back.
    assert TITLE in await searched(carol, fake.general, "exam")
    alice_before = await points_of(harness, guild_id, alice)
    gone = await press(mia, await panel(mia, asked.starter), "qa:act:remove:", {"reason": ""})
    await fake.wait_until(
        lambda: asked.thread.archived and asked.thread.locked, what="the thread locked"
    )
    assert TITLE not in await searched(carol, fake.general, "exam")
    assert "removed by a moderator" in fake.message(asked.starter.id).embed_text()
    assert await points_of(harness, guild_id, alice) == alice_before - 20
    assert await points_of(harness, guild_id, bob) == bob_before - 40 - 20
    await recomputation_agrees(harness, guild_id)
    await press(mia, gone, "qa:act:restore:")
    await fake.wait_until(lambda: not asked.thread.archived, what="the thread open again")
    assert not asked.thread.locked and TITLE in await searched(carol, fake.general, "exam")
    await fake.wait_until(lambda: TITLE in fake.message(asked.starter.id).embed_text(), what="q")
    assert await points_of(harness, guild_id, alice) == alice_before
    await recomputation_agrees(harness, guild_id)

    # After the restore window a removed post stays removed.
    late = await press(mia, await panel(mia, again), "qa:act:remove:", {"reason": ""})
    old = utc_now() - timedelta(days=31)
    await run_domain(
        harness,
        lambda s: s.execute(
            update(Post).where(Post.removed_at.is_not(None)).values(removed_at=old)
        ),
    )
    refused_restore = await press(mia, late, "qa:act:restore:")
    assert "more than 30 days ago" in refused_restore.content
    events.close()


async def test_a_non_moderator_press_is_refused_in_code(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory, db_url: str
) -> None:
    """Buttons a member can see (a card in a channel) do nothing for them: the bot refuses."""
    fake = fake_discord
    assert fake.guild and fake.general
    alice, bob = fake.add_member(fake.guild, "alice"), fake.add_member(fake.guild, "bob")
    harness = await qa_bot_factory(database_url=db_url)
    await configure_qa_guild(harness)
    asked = await ask_question_directly(harness, alice, TITLE)
    card = fake.world.post_message(
        fake.general,
        fake.bot_user.id,
        {
            "content": "card",
            "components": [
                {
                    "type": 1,
                    "components": [
                        {
                            "type": 2,
                            "style": 4,
                            "label": "Remove",
                            "custom_id": f"qa:act:{a}:{asked.id}",
                        }
                        for a in ("remove", "block")
                    ],
                }
            ],
        },
    )
    await fake.flush()
    for action in ("remove", "block"):
        ix = await bob.click(card, f"qa:act:{action}:{asked.id}")
        told = await ix.message()
        assert told.ephemeral and NOT_A_MODERATOR_HERE in told.content
    assert TITLE in await searched(bob, fake.general, "exam")
