"""Blocks made through a post, end to end through the fake Discord on both backends: blocked
from posting anonymously, the member's anonymous /ask is refused and a named one allowed;
blocked from everything, /answer is refused and a typed thread message counts as nothing (no
answer, no DM to the asker) and is deleted; /mod blocks lists them with Unblock buttons, and
unblocked the member may post again. Everything a moderator saw on the anonymous post (the panel,
the replies, /mod blocks, /mod log, a removal and a restore) names the author nowhere; the audit
log lists remove, restore, block and unblock."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.db.models import Post
from tests.cogs.conftest import (
    BotEvents,
    ask_question_directly,
    configure_qa_guild,
    thread_message_handled,
)
from tests.cogs.test_moderation_actions import button_id, panel, press
from tests.fakediscord import FakeDiscord, Member
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.leaks import Identity, LeakScanner, LogCapture, settle

#: The anonymous author's names: words no text of the bot contains by chance.
USERNAME, GLOBAL_NAME, NICK = "zqvortle", "Yssbrandt", "Klypthora"
SECRET_TEXT = "I feel like nobody at work would notice if I disappeared for a week."


async def answers(harness: BotHarness) -> int:
    async with harness.sessionmaker() as session:
        found = await session.scalar(
            select(func.count()).select_from(Post).where(Post.kind == "answer")
        )
    return found or 0


async def refusal(member: Member, command: str, options: dict[str, object], channel: object) -> str:
    ix = await member.slash(command, options, channel=channel)  # type: ignore[arg-type]
    told = await ix.message()
    assert told.ephemeral
    return told.content


async def test_blocks_through_an_anonymous_post(
    leak_logs: LogCapture, fake_discord: FakeDiscord, qa_bot_factory: BotFactory, db_url: str
) -> None:
    fake = fake_discord
    assert fake.guild and fake.general and fake.moderator_role
    user = fake.world.add_user(USERNAME, global_name=GLOBAL_NAME)
    ghost = fake.add_member(fake.guild, USERNAME, user=user, nick=NICK)
    mia = fake.add_member(fake.guild, "mia", roles=[fake.moderator_role])
    alice = fake.add_member(fake.guild, "alice")
    harness = await qa_bot_factory(database_url=db_url)
    harness.bot.status_lines.coalescer.interval = 0.0
    await configure_qa_guild(harness, notify_coalesce_seconds=0)
    events = BotEvents(harness, "qa_thread_message")
    secret = await ask_question_directly(
        harness, ghost, "Does anyone else feel invisible?", SECRET_TEXT, anonymous=True
    )
    shown = await panel(mia, secret.starter)
    assert SECRET_TEXT in shown.embed_text()

    # Blocked from posting anonymously: the anonymous /ask refused, a named one allowed.
    form = {"scope": ["anonymous"], "days": "7", "reason": "Harassment in anonymous posts"}
    blocked = await press(mia, shown, "qa:act:block:", form)
    assert "blocked from posting anonymously until <t:" in blocked.content
    told = await refusal(ghost, "ask", {"anonymous": True}, fake.general)
    assert told.startswith("You can't post anonymously here until <t:") and told.endswith(":f>.")
    named = await ghost.slash("ask", {}, channel=fake.general)
    assert (await named.modal()).title == "Ask a question"

    # Removed (the author is DMed; a restore before the DM went out would cancel it) and
    # restored: the starter reads "Anonymous" again.
    gone = await press(mia, shown, "qa:act:remove:", {"reason": "Checking"})
    await fake.wait_until(lambda: secret.thread.locked, what="the thread locked")
    await fake.wait_until(lambda: fake.dms_to(ghost), what="the removal DM")
    await press(mia, gone, "qa:act:restore:")
    await fake.wait_until(
        lambda: "Anonymous" in fake.message(secret.starter.id).embed_text(), what="restored"
    )

    # Blocked from everything (until lifted): /answer refused.
    everything = {"scope": ["all"], "reason": ""}
    blocked_all = await press(mia, shown, "qa:act:block:", everything)
    assert "from posting through the bot until a moderator lifts it" in blocked_all.content
    question = await ask_question_directly(harness, alice, "How do I sleep better?", "Hints?")
    told = await refusal(ghost, "answer", {"question": str(question.id)}, fake.general)
    assert told == "You can't post through the bot here until a moderator lifts your block."

    listed = await (await mia.slash("mod blocks", {}, channel=fake.general)).message()
    assert listed.ephemeral and "Blocks in force (2)" in listed.embed_text()
    assert f"post #{secret.id}" in listed.embed_text()
    log = await (await mia.slash("mod log", {}, channel=fake.general)).message()
    for words in ("removed post", "restored post", "blocked the author of post"):
        assert words in log.embed_text(), log.embed_text()
    await settle(harness)
    scan = LeakScanner(fake, leak_logs, Identity.of(fake, ghost))
    assert scan.hits() == [], scan.report()

    # A typed message while blocked counts as nothing and is deleted; no DM to the asker.
    before, dms = await answers(harness), len(fake.dms_to(alice))
    typed = await ghost.send(question.thread, "Try a warm shower an hour before bed, it helps me.")
    assert await thread_message_handled(events, typed) is None
    await fake.wait_until(lambda: fake.message(typed.id).deleted, what="the message deleted")
    await harness.bot.notifier.wait_idle()
    assert await answers(harness) == before and len(fake.dms_to(alice)) == dms

    # Unblocked (both blocks, after a restart): the member may answer again.
    await harness.close()
    harness = await qa_bot_factory(database_url=db_url)
    for block_button in [c for c in listed.walk_components() if c.get("type") == 2]:
        lifted = await (await mia.click(listed, str(block_button["custom_id"]))).message()
        assert "is lifted" in lifted.content
    ix = await ghost.slash("answer", {"question": str(question.id)}, channel=fake.general)
    assert (await ix.modal()).title == "Your answer"
    again = await mia.click(listed, button_id(listed, "qa:unblock:"))
    assert "lifted or has ended already" in (await again.message()).content
    log = await (await mia.slash("mod log", {}, channel=fake.general)).message()
    assert "lifted a block made through post" in log.embed_text()
    events.close()
