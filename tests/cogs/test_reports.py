"""Reports end to end through the fake Discord, on both backends: the Report menu and its
reason, one card per reported post in the moderator channel, Dismiss (moderators only, after a
restart too), hide after N reports with points equal to a recomputation, ``/mod queue``, a card
Discord refuses, and an anonymous author nobody sees."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.forum import audit, lookups, reports, settings
from bot.forum.points import get_member_points, recompute_points
from tests.cogs.conftest import (
    BotEvents,
    add_forum_tag,
    ask_question_directly,
    configure_qa_guild,
    run_domain,
    thread_message_handled,
    upvote,
)
from tests.fakediscord import FakeDiscord, GestureRefused, InteractionHandle, Member, Message
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.fakediscord.model import Channel
from tests.leaks import Identity, LeakScanner, LogCapture, settle

ANSWER = "Breathe in for four counts, hold for four, then breathe out slowly for four."
MESSAGE = "/channels/{channel_id}/messages/{message_id}"
MESSAGES = "/channels/{channel_id}/messages"
THANKS = "Reported, thank you."
# Default points (DESIGN.md §3) as cached: an answer, an upvote on it.
POINTS_ANSWER, POINTS_UP_ON_ANSWER = 40, 20


@dataclass
class Scene:
    fake: FakeDiscord
    harness: BotHarness
    events: BotEvents
    mods: Channel
    alice: Member
    bob: Member
    carol: Member
    dave: Member
    mod: Member

    @property
    def guild_id(self) -> int:
        assert self.fake.guild is not None
        return self.fake.guild.id


@pytest.fixture
async def scene(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    fake = fake_discord
    assert fake.guild is not None and fake.moderator_role is not None
    mods = fake.add_text_channel(fake.guild, "mods")
    people = {n: fake.add_member(fake.guild, n) for n in ("alice", "bob", "carol", "dave")}
    mod = fake.add_member(fake.guild, "mia", roles=[fake.moderator_role])
    harness = await qa_bot_factory(database_url=db_url)
    harness.bot.status_lines.coalescer.interval = 0.0
    harness.bot.role_sync.coalescer.interval = 0.0
    await configure_qa_guild(harness, mod_channel_id=mods.id)
    # The start-up reconciliation (its reaction re-read) is over before anyone votes.
    await harness.bot.reconciler.wait_idle()
    events = BotEvents(harness, "qa_thread_message", "raw_reaction_add")
    try:
        yield Scene(fake, harness, events, mods, mod=mod, **people)
    finally:
        events.close()


async def private(ix: InteractionHandle) -> str:
    message = await ix.message()
    assert message.ephemeral, message.content
    return message.content


async def report(who: Member, message: Message, reason: str = "") -> str:
    """``who`` reports ``message`` with ``reason``; the bot's ephemeral answer."""
    opened = await who.context_menu("Report", message)
    return await private(await opened.submit_modal({"reason": reason}))


def field(card: Message, name: str) -> str:
    for item in card.embeds[0].get("fields", []):
        if item["name"] == name:
            return str(item["value"])
    raise AssertionError(f"no field {name!r} on the card")


def dismiss_id(card: Message) -> str:
    for component in card.walk_components():
        if component.get("label") == "Dismiss":
            return str(component["custom_id"])
    raise AssertionError("no Dismiss button on the card")


async def card_edited(scene: Scene, card: Message) -> None:
    await scene.fake.wait_for_call("PATCH", MESSAGE, where=lambda c: c.id("message_id") == card.id)


async def audit_actions(scene: Scene) -> list[tuple[str, int, int | None]]:
    guild_id = scene.guild_id
    shown = await run_domain(scene.harness, lambda s: audit.page(s, guild_id))
    return [(e.action, e.moderator_id, e.post_id) for e in shown.entries]


async def bobs_points(scene: Scene) -> int:
    guild_id, bob_id = scene.guild_id, scene.bob.id
    got = await run_domain(
        scene.harness, lambda s: get_member_points(s, guild_id=guild_id, user_id=bob_id)
    )
    return got.points


async def recomputed_equals_cached(scene: Scene) -> None:
    guild_id = scene.guild_id
    result = await run_domain(scene.harness, lambda s: recompute_points(s, guild_id))
    assert (result.members_fixed, result.posts_fixed) == (0, 0)


async def post_id_of(scene: Scene, message: Message) -> int:
    post = await run_domain(
        scene.harness, lambda s: lookups.find_post_by_message(s, message_id=message.id)
    )
    assert post is not None
    return int(post.id)


async def test_reports_gather_on_one_card_and_a_dismissal_survives_a_restart(
    scene: Scene, qa_bot_factory: BotFactory, db_url: str
) -> None:
    fake, mods = scene.fake, scene.mods
    asked = await ask_question_directly(scene.harness, scene.alice)
    post_id = asked.id

    assert await report(scene.bob, asked.starter, "Rude to <@123> and @everyone") == THANKS
    card = await fake.wait_for_message(channel=mods)
    assert card.embeds[0]["title"] == f"⚠️ Reported question #{post_id}"
    assert field(card, "Open reports") == "1"
    assert field(card, "Latest reasons") == "• Rude to \\<@\u200b123> and @\u200beveryone"
    assert f"/{asked.thread.id}/{asked.starter.id})" in field(card, "Post")
    assert "How do I calm down" in card.embeds[0]["description"]
    assert card.allowed_mentions == {"parse": []}
    assert str(scene.alice.id) not in card.embed_text()

    # A second member's report updates the same card.
    assert await report(scene.carol, asked.starter) == THANKS
    await card_edited(scene, card)
    assert field(card, "Open reports") == "2"
    assert [m.id for m in fake.messages_in(mods)] == [card.id]

    # The same member again is refused, before the form; so is a non-moderator's Dismiss.
    again = await scene.bob.context_menu("Report", asked.starter)
    assert await private(again) == "You have already reported this post."
    refused = await scene.dave.click(card, dismiss_id(card))
    assert await private(refused) == "Only this server's moderators can handle reports."
    assert await audit_actions(scene) == []

    # After a restart the card's Dismiss still works.
    await scene.harness.close()
    harness = await qa_bot_factory(database_url=db_url)
    scene.harness = harness
    dismissed = await scene.mod.click(card, dismiss_id(card))
    handled = await dismissed.message()
    assert handled.id == card.id
    assert card.embeds[0]["title"] == f"✅ Reported question #{post_id}"
    assert field(card, "Open reports") == "0"
    assert field(card, "Handled") == f"Reports dismissed by <@{scene.mod.id}>."
    assert card.component(dismiss_id(card)).get("disabled") is True
    assert await audit_actions(scene) == [("dismiss", scene.mod.id, post_id)]

    # The first member may report again: a new card.
    assert await report(scene.bob, asked.starter, "Still rude") == THANKS
    fresh = await fake.wait_for_message(channel=mods, after=card)
    assert field(fresh, "Open reports") == "1"
    assert field(fresh, "Latest reasons") == "• Still rude"

    # /mod queue: the post, its count, a link; never the author.
    queued = await scene.mod.slash("mod queue", {}, channel=fake.general)
    page = await queued.message()
    assert page.ephemeral
    (embed,) = page.embeds
    assert embed["title"] == "Report queue (1)"
    assert embed["description"].startswith("**1 report** · [“How do I calm down before an exam?”]")
    assert f"/{asked.thread.id}/{asked.starter.id})" in embed["description"]
    assert str(scene.alice.id) not in embed["description"]
    with pytest.raises(GestureRefused):  # Discord hides /mod from members
        await scene.dave.slash("mod queue", {}, channel=fake.general)
    refused = await scene.dave.slash("mod queue", {}, channel=fake.general, bypass_permissions=True)
    assert await private(refused) == "Only this server's moderators can use /mod."


async def test_what_cannot_be_reported_is_refused_and_nothing_is_stored(scene: Scene) -> None:
    fake = scene.fake
    assert fake.general is not None
    asked = await ask_question_directly(scene.harness, scene.alice, native=True)
    chat = await scene.bob.send(fake.general, "hello there")

    refused = await scene.bob.context_menu("Report", chat)
    assert await private(refused) == reports.NOT_A_POST
    own = await scene.alice.context_menu("Report", asked.starter)
    assert await private(own) == "You cannot report your own post."
    queued = await scene.mod.slash("mod queue", {}, channel=fake.general)
    assert (await queued.message()).embeds[0]["title"] == "Report queue (0)"
    assert fake.messages_in(scene.mods) == []

    # The member's own message of a native question is the post: it can be reported.
    assert await report(scene.bob, asked.starter) == THANKS
    card = await fake.wait_for_message(channel=scene.mods)
    assert field(card, "Open reports") == "1"


async def test_hide_after_n_reports_undoes_points_and_a_dismissal_gives_them_back(
    scene: Scene,
) -> None:
    fake, harness = scene.fake, scene.harness
    await configure_qa_guild(harness, reports_hide_after=2)
    asked = await ask_question_directly(harness, scene.alice)
    answer = await scene.bob.send(asked.thread, ANSWER)
    await thread_message_handled(scene.events, answer)
    await upvote(harness, scene.events, scene.dave, answer)

    assert await bobs_points(scene) == POINTS_ANSWER + POINTS_UP_ON_ANSWER
    assert await report(scene.carol, answer, "spam") == THANKS
    card = await fake.wait_for_message(channel=scene.mods)
    assert await bobs_points(scene) == POINTS_ANSWER + POINTS_UP_ON_ANSWER
    assert await report(scene.dave, answer) == THANKS
    await card_edited(scene, card)
    assert field(card, "Open reports") == "2"
    assert field(card, "Status").startswith("Hidden after reports")
    assert await bobs_points(scene) == 0
    await recomputed_equals_cached(scene)
    question = await run_domain(harness, lambda s: lookups.get_post(s, asked.id))
    assert question.answer_count == 0

    dismissed = await scene.mod.click(card, dismiss_id(card))
    await dismissed.message()
    assert field(card, "Status") == "Visible."
    assert await bobs_points(scene) == POINTS_ANSWER + POINTS_UP_ON_ANSWER
    await recomputed_equals_cached(scene)
    post_id = await post_id_of(scene, answer)
    assert await audit_actions(scene) == [("dismiss", scene.mod.id, post_id)]


async def test_a_report_is_kept_when_there_is_no_card_to_show(scene: Scene) -> None:
    fake, harness = scene.fake, scene.harness
    asked = await ask_question_directly(harness, scene.alice)
    # Discord refuses the card: the reporter is still thanked, the report waits in the queue.
    refusal = fake.faults.fail(
        "POST", MESSAGES, code=50013, where=lambda c: c.id("channel_id") == scene.mods.id
    )
    assert await report(scene.bob, asked.starter, "first") == THANKS
    await fake.wait_until(lambda: refusal.hits or None, what="the card refused")
    refusal.cancel()
    # Without a moderator channel there is no card at all.
    await run_domain(
        harness,
        lambda s: settings.set_setting(s, scene.guild_id, "mod_channel_id", None),
    )
    assert await report(scene.carol, asked.starter, "second") == THANKS
    queued = await scene.mod.slash("mod queue", {}, channel=fake.general)
    embed = (await queued.message()).embeds[0]
    assert embed["title"] == "Report queue (1)"
    assert embed["description"].startswith("**2 reports**")
    assert fake.messages_in(scene.mods) == []


async def test_moderators_never_see_the_anonymous_author(
    leak_logs: LogCapture, db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    fake = fake_discord
    assert fake.guild is not None and fake.moderator_role is not None
    user = fake.world.add_user("zqvortle", global_name="Yssbrandt")
    ghost = fake.add_member(fake.guild, "zqvortle", user=user, nick="Klypthora")
    bob = fake.add_member(fake.guild, "bob")
    mod = fake.add_member(fake.guild, "mia", roles=[fake.moderator_role])
    mods = fake.add_text_channel(fake.guild, "mods")
    solved = add_forum_tag(fake, "Solved")
    harness = await qa_bot_factory(database_url=db_url)
    harness.bot.status_lines.coalescer.interval = 0.0
    harness.bot.role_sync.coalescer.interval = 0.0
    await configure_qa_guild(harness, solved_tag_id=solved, mod_channel_id=mods.id)
    asked = await ask_question_directly(harness, ghost, anonymous=True)

    assert await report(bob, asked.starter, "Worrying") == THANKS
    card = await fake.wait_for_message(channel=mods)
    dismissed = await mod.click(card, dismiss_id(card))
    await dismissed.message()
    assert await report(bob, asked.starter, "Again") == THANKS
    await fake.wait_for_message(channel=mods, after=card)
    for command in ("mod queue", "mod log"):
        shown = await mod.slash(command, {}, channel=fake.general)
        await shown.message()

    await settle(harness)
    scan = LeakScanner(fake, leak_logs, Identity.of(fake, ghost))
    assert scan.hits() == [], scan.report()


def button_id(card: Message, label: str) -> str:
    for component in card.walk_components():
        if component.get("type") == 2 and component.get("label") == label:
            return str(component["custom_id"])
    raise AssertionError(f"no {label!r} button on the card")


async def test_report_then_remove_and_restore_from_the_card(
    scene: Scene, qa_bot_factory: BotFactory, db_url: str
) -> None:
    """Issue 16's flow: a report's card → Remove (points undone, equal to a recomputation, the
    reports actioned, the card following) → Restore after a restart (points back)."""
    fake, harness = scene.fake, scene.harness
    asked = await ask_question_directly(harness, scene.alice)
    answer = await scene.bob.send(asked.thread, ANSWER)
    await thread_message_handled(scene.events, answer)
    await upvote(harness, scene.events, scene.dave, answer)

    assert await bobs_points(scene) == POINTS_ANSWER + POINTS_UP_ON_ANSWER
    assert await report(scene.carol, answer, "spam") == THANKS
    card = await fake.wait_for_message(channel=scene.mods)
    post_id = await post_id_of(scene, answer)
    assert [c.get("label") for c in card.walk_components() if c.get("type") == 2] == [
        "Remove",
        "Block author",
        "Dismiss",
    ]

    removing = await scene.mod.click(card, button_id(card, "Remove"))
    told = await private(await removing.submit_modal({"reason": "Spam"}))
    assert "removed" in told.lower()
    await card_edited(scene, card)
    assert await bobs_points(scene) == 0
    await recomputed_equals_cached(scene)
    assert field(card, "Open reports") == "0"
    assert "Restore" in [c.get("label") for c in card.walk_components()]
    count = await run_domain(harness, lambda s: reports.count_open(s, post_id))
    assert count == 0
    # The reporter may report again later: the report was actioned, not left open.
    await fake.wait_until(lambda: fake.dms_to(scene.bob), what="Bob's DM about the removal")

    await harness.close()
    harness = scene.harness = await qa_bot_factory(database_url=db_url)
    restoring = await scene.mod.click(card, button_id(card, "Restore"))
    assert "restored" in (await private(restoring)).lower()
    assert await bobs_points(scene) == POINTS_ANSWER + POINTS_UP_ON_ANSWER
    await recomputed_equals_cached(scene)
    actions = [action for action, _mod, _post in await audit_actions(scene)]
    assert actions == ["restore", "remove"]
