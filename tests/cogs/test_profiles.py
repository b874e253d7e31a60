"""/profile, /leaderboard and point roles end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from bot.forum import acceptance, points, roles
from bot.forum.rights import Actor
from cogs.admin.forum_setup import point_role_notes
from cogs.profiles import NO_PROFILE_FOR_BOTS
from tests.cogs.test_voting import DOWN, UP, Votes, people
from tests.fakediscord import FakeDiscord, GestureRefused, Member, Message, Role
from tests.fakediscord.clock import SleepLog
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.fakediscord.permissions import MANAGE_ROLES

EXTENSIONS = ["cogs.admin", "cogs.voting", "cogs.profiles"]


@pytest.fixture
async def profile_bot(db_url: str, qa_bot_factory: BotFactory) -> BotHarness:
    return await qa_bot_factory(extensions=EXTENSIONS, database_url=db_url)


@pytest.fixture
def v(profile_bot: BotHarness) -> Votes:
    return Votes(profile_bot)


def fields(message: Message) -> dict[str, str]:
    (embed,) = message.embeds
    return {f["name"]: f["value"] for f in embed.get("fields", [])}


def bot_role(fake: FakeDiscord) -> Role:
    return next(r for r in fake.guild.roles.values() if r.bot_id == fake.bot_user.id)


async def answered_with_votes(v: Votes, answerer: Member, ups: int) -> Any:
    asker, *voters = people(v.fake, f"asker-{answerer.name}", *(f"v{i}" for i in range(ups)))
    q = await v.question(asker)
    a = await v.answer(q, answerer)
    for voter in voters:
        await voter.react(a.message, UP)
    await v.settle()
    return q, a, asker, voters


# --------------------------------------------------------------------------- /profile


async def test_profile_shows_points_counters_and_rank_only_to_the_member(v: Votes) -> None:
    (alice,) = people(v.fake, "alice")
    _, _, asker, _ = await answered_with_votes(v, alice, ups=2)
    ix = await alice.slash("profile", channel=v.fake.general)
    message = await ix.message()
    assert await ix.ephemeral()
    shown = fields(message)
    assert shown["Points"] == str(100 + 40 + 2 * 20)
    assert shown["Rank"] == "#1"
    assert (shown["Questions"], shown["Answers"], shown["Best answers"]) == ("0", "1", "0")
    assert "2" in shown["Votes received"]
    assert "Anonymous posts" not in shown
    assert message.embeds[0]["author"]["name"] == "alice"
    other = await alice.slash("profile", {"member": asker}, channel=v.fake.general)
    theirs = fields(await other.message())
    assert (theirs["Points"], theirs["Rank"], theirs["Questions"]) == ("120", "#2", "1")


async def test_anonymous_points_show_only_on_ones_own_ephemeral_profile(v: Votes) -> None:
    alice, voter, bob = people(v.fake, "alice", "voter", "bob")
    q = await v.question(bob)
    anon = await v.bot_answer(q, alice, anonymous=True)
    await voter.react(anon.message, UP)
    await v.settle()
    own = fields(await (await alice.slash("profile", channel=v.fake.general)).message())
    assert own["Points"] == "100" and own["Answers"] == "0" and own["Rank"] == "—"
    assert "+60" in own["Anonymous posts"]
    public = await alice.slash("profile", {"public": True}, channel=v.fake.general)
    public_message = await public.message()
    assert not public_message.ephemeral
    assert "Anonymous posts" not in fields(public_message)
    assert public_message.allowed_mentions is not None
    assert not public_message.allowed_mentions.get("parse")
    seen_by_bob = await bob.slash("profile", {"member": alice}, channel=v.fake.general)
    assert "Anonymous posts" not in fields(await seen_by_bob.message())


async def test_bots_have_no_profile(v: Votes) -> None:
    (alice,) = people(v.fake, "alice")
    helper_bot = v.fake.add_member(v.fake.guild, "helperbot", bot=True)
    ix = await alice.slash("profile", {"member": helper_bot}, channel=v.fake.general)
    message = await ix.message()
    assert message.ephemeral and message.content == NO_PROFILE_FOR_BOTS


# --------------------------------------------------------------------------- /leaderboard


async def test_leaderboard_pages_keep_working_after_a_restart(
    db_url: str, qa_bot_factory: BotFactory, fake_discord: FakeDiscord
) -> None:
    fake = fake_discord
    first = await qa_bot_factory(extensions=EXTENSIONS, database_url=db_url)
    v = Votes(first)
    answerers = people(fake, *(f"a{i:02d}" for i in range(11)))
    asker, *voters = people(fake, "asker", *(f"voter{i:02d}" for i in range(10)))
    q = await v.question(asker)
    for i, answerer in enumerate(answerers):
        a = await v.answer(q, answerer)
        for voter in voters[:i]:
            await voter.react(a.message, UP)
    await v.settle()

    viewer = answerers[0]
    ix = await viewer.slash("leaderboard", channel=fake.general)
    board = await ix.message()
    assert board.ephemeral
    (embed,) = board.embeds
    assert embed["footer"]["text"] == "Page 1 of 2"
    lines = embed["description"].split("\n")
    assert len(lines) == 10
    # The best answerer (10 up votes: capped at 200) first; never seen by name: a mention.
    assert f"<@{answerers[10].id}>" in lines[0] and "340 points" in lines[0]
    next_id = f"qa:lb:{fake.guild.id}:2"
    assert board.component(next_id)["disabled"] is False
    assert board.component(f"qa:lb:{fake.guild.id}:0")["disabled"] is True

    await first.close()
    second = await qa_bot_factory(extensions=EXTENSIONS, database_url=db_url)
    assert second.bot is not first.bot
    click = await viewer.click(board, next_id)
    page = await click.message()
    (embed,) = page.embeds
    assert embed["footer"]["text"] == "Page 2 of 2"
    rest = embed["description"].split("\n")
    assert len(rest) == 2
    assert "#11" in rest[0] and "#12" in rest[1]
    # The viewer's name was remembered when they asked for the board.
    assert "a00" in rest[0]
    # The asker (120 points) is last; voters earned nothing public and are not listed.
    assert "120 points" in rest[1]
    assert page.component(f"qa:lb:{fake.guild.id}:3")["disabled"] is True
    back = await viewer.click(page, f"qa:lb:{fake.guild.id}:1")
    assert (await back.message()).embeds[0]["footer"]["text"] == "Page 1 of 2"


async def test_the_leaderboard_names_members_without_pinging_anyone(v: Votes) -> None:
    alice, voter = people(v.fake, "alice", "voter")
    v.fake.world.member(v.fake.guild.id, alice.id).nick = "Alice Nick"
    await answered_with_votes(v, alice, ups=1)
    # Alice reacts somewhere countable, so the bot sees her current display name.
    q = await v.question(voter, "Another question")
    await alice.react(q.message, UP)
    await v.settle()
    ix = await voter.slash("leaderboard", channel=v.fake.general)
    board = await ix.message()
    description = board.embeds[0]["description"]
    assert "Alice Nick" in description
    # Members never seen by name show as a mention; the message pings nobody.
    assert "<@" in description
    assert board.allowed_mentions is not None and not board.allowed_mentions.get("parse")
    assert not board.components  # one page: no buttons


# --------------------------------------------------------------------------- point roles


async def manageable(v: Votes, *names: str) -> list[Role]:
    """Roles below the bot's, which is given Manage Roles."""
    fake = v.fake
    made = [fake.add_role(fake.guild, name) for name in names]
    mine = bot_role(fake)
    fake.world.update_role(mine, position=100, permissions=mine.permissions | MANAGE_ROLES)
    await v.settle()
    return made


async def roles_add(v: Votes, threshold: int, role: Role) -> Message:
    ix = await v.fake.owner.slash(
        "qa roles add", {"threshold": threshold, "role": role}, channel=v.fake.general
    )
    return await ix.message()


def holds(fake: FakeDiscord, member: Member, role: Role) -> bool:
    return role.id in fake.world.member(fake.guild.id, member.id).roles


async def test_point_roles_are_given_and_taken_as_points_move(v: Votes) -> None:
    v.bot.role_sync.coalescer.interval = 0
    helper, expert = await manageable(v, "Helper", "Expert")
    alice, asker, voter1, voter2 = people(v.fake, "alice", "asker", "voter1", "voter2")
    q = await v.question(asker)
    a = await v.answer(q, alice)
    await v.settle()
    reply = await roles_add(v, 150, helper)
    assert reply.ephemeral and "150" in reply.embeds[0]["description"]
    await roles_add(v, 180, expert)
    assert await v.run(lambda s: roles.point_roles(s, v.guild_id)) == [
        roles.PointRole(150, helper.id),
        roles.PointRole(180, expert.id),
    ]
    await v.bot.role_sync.wait_idle()
    assert not holds(v.fake, alice, helper)  # 140 points
    await voter1.react(a.message, UP)  # 160
    await v.settle()
    await v.bot.role_sync.wait_idle()
    assert holds(v.fake, alice, helper) and not holds(v.fake, alice, expert)
    await voter2.react(a.message, UP)  # 180
    await v.settle()
    await v.bot.role_sync.wait_idle()
    assert holds(v.fake, alice, helper) and holds(v.fake, alice, expert)
    await voter1.unreact(a.message, UP)
    await voter2.unreact(a.message, UP)
    await voter2.react(a.message, DOWN)  # 120
    await v.settle()
    await v.bot.role_sync.wait_idle()
    assert not holds(v.fake, alice, helper) and not holds(v.fake, alice, expert)
    # Role edits carry an audit-log reason.
    put = v.fake.find_calls("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
    assert put and all(c.headers.get("X-Audit-Log-Reason") for c in put)


async def test_point_roles_are_given_through_rate_limits_and_5xx(
    v: Votes, discord_sleep: SleepLog
) -> None:
    v.bot.role_sync.coalescer.interval = 0
    (helper,) = await manageable(v, "Helper")
    alice, asker = people(v.fake, "alice", "asker")
    await v.answer(await v.question(asker), alice)  # 140 points
    await v.settle()
    route = "/guilds/{guild_id}/members/{user_id}/roles/{role_id}"
    per_route = v.fake.faults.rate_limit("PUT", route, retry_after=2.0)
    shared = v.fake.faults.rate_limit("PUT", route, retry_after=2.0, is_global=True)
    failing = v.fake.faults.fail("PUT", route, status=502, times=1)  # discord.py retries it
    await roles_add(v, 140, helper)
    await v.bot.role_sync.wait_idle()
    assert holds(v.fake, alice, helper)
    assert per_route.hits and shared.hits and failing.hits
    assert discord_sleep.requested.count(2.0) >= 2


async def test_a_new_point_role_goes_to_members_who_already_reach_it(v: Votes) -> None:
    v.bot.role_sync.coalescer.interval = 0
    (helper,) = await manageable(v, "Helper")
    alice, bob = people(v.fake, "alice", "bob")
    await answered_with_votes(v, alice, ups=1)  # alice 160, her asker 120
    await answered_with_votes(v, bob, ups=0)  # bob 140
    reply = await roles_add(v, 140, helper)
    assert "2 members" in reply.embeds[0]["description"]
    await v.bot.role_sync.wait_idle()
    assert holds(v.fake, alice, helper) and holds(v.fake, bob, helper)


async def test_role_edits_are_coalesced_per_member_under_a_burst(v: Votes) -> None:
    gate = asyncio.Event()

    async def cool_down(_seconds: float) -> None:
        await gate.wait()

    v.bot.role_sync.coalescer.interval = 0
    (helper,) = await manageable(v, "Helper")
    alice, asker, *voters = people(v.fake, "alice", "asker", *(f"v{i}" for i in range(5)))
    q = await v.question(asker)
    a = await v.answer(q, alice)
    await v.bot.role_sync.wait_idle()  # the syncs of asking and answering are over
    v.bot.role_sync.coalescer.sleep = cool_down
    await roles_add(v, 150, helper)
    since = v.fake.mark()
    for voter in voters:
        await voter.react(a.message, UP)
    await v.settle()
    # The first change is applied at once...
    await v.fake.wait_for_call("PUT", f"/guilds/*/members/{alice.id}/roles/{helper.id}")
    for voter in voters:
        await voter.unreact(a.message, UP)
        await voter.react(a.message, DOWN)
    await v.settle()
    # ...and every later one in the cool-down is gathered into one more edit.
    assert not v.fake.find_calls("DELETE", "/guilds/*/roles/*", since=since)
    gate.set()
    await v.bot.role_sync.wait_idle()
    edits = v.fake.find_calls("*", f"/guilds/*/members/{alice.id}/roles/*", since=since)
    assert [c.method for c in edits] == ["PUT", "DELETE"]
    assert not holds(v.fake, alice, helper)


async def test_a_role_the_bot_cannot_give_is_skipped_logged_and_reported(
    v: Votes, caplog: pytest.LogCaptureFixture
) -> None:
    v.bot.role_sync.coalescer.interval = 0
    mine = bot_role(v.fake)
    v.fake.world.update_role(mine, permissions=mine.permissions | MANAGE_ROLES)
    high = v.fake.add_role(v.fake.guild, "Legend")  # above the bot's role
    await v.settle()
    (alice,) = people(v.fake, "alice")
    since = v.fake.mark()
    reply = await roles_add(v, 100, high)
    assert "not below the bot's highest role" in reply.embeds[0]["description"]
    with caplog.at_level(logging.WARNING, logger="bot.workers.role_sync"):
        await answered_with_votes(v, alice, ups=1)
        await v.bot.role_sync.wait_idle()
    assert not v.fake.find_calls("PUT", "/guilds/*", since=since)
    assert any("skipped" in r.getMessage() for r in caplog.records)
    guild = v.bot.get_guild(v.guild_id)
    assert guild is not None
    notes = await point_role_notes(v.bot, guild)
    assert len(notes) == 1 and "Server Settings" in notes[0]


async def test_anonymous_points_never_give_a_role(v: Votes) -> None:
    v.bot.role_sync.coalescer.interval = 0
    (helper,) = await manageable(v, "Helper")
    await roles_add(v, 120, helper)
    alice, bob, voter = people(v.fake, "alice", "bob", "voter")
    q = await v.question(bob)
    anon = await v.bot_answer(q, alice, anonymous=True)
    await voter.react(anon.message, UP)
    await v.settle()
    await v.bot.role_sync.wait_idle()
    assert (await v.member(alice)).anon_points == 60
    assert not holds(v.fake, alice, helper)
    assert not v.fake.find_calls("GET", f"/guilds/*/members/{alice.id}")


async def test_roles_show_remove_and_refusals(v: Votes) -> None:
    (helper,) = await manageable(v, "Helper")
    owner = v.fake.owner
    show = await owner.slash("qa roles show", channel=v.fake.general)
    assert "No point roles yet" in (await show.message()).embeds[0]["description"]
    await roles_add(v, 500, helper)
    show = await owner.slash("qa roles show", channel=v.fake.general)
    shown = (await show.message()).embeds[0]["description"]
    assert "**500** points" in shown and f"<@&{helper.id}>" in shown
    removed = await owner.slash("qa roles remove", {"role": helper}, channel=v.fake.general)
    assert "no longer a point role" in (await removed.message()).embeds[0]["description"]
    again = await owner.slash("qa roles remove", {"role": helper}, channel=v.fake.general)
    assert (await again.message()).content == "That role is not a point role."
    everyone = v.fake.guild.roles[v.fake.guild.id]
    refused = await owner.slash(
        "qa roles add", {"threshold": 5, "role": everyone}, channel=v.fake.general
    )
    assert "@everyone" in (await refused.message()).content
    (member,) = people(v.fake, "member")
    with pytest.raises(GestureRefused):
        await member.slash("qa roles show", channel=v.fake.general)
    sneaky = await member.slash("qa roles show", channel=v.fake.general, bypass_permissions=True)
    assert "Manage Server" in (await sneaky.message()).content
    assert await v.run(lambda s: roles.point_roles(s, v.guild_id)) == []


async def test_a_deleted_role_is_dropped_from_the_point_roles(v: Votes) -> None:
    (helper,) = await manageable(v, "Helper")
    await roles_add(v, 500, helper)
    del v.fake.guild.roles[helper.id]
    gateway = v.fake.gateway
    gateway.send_dispatch(
        gateway.session_for(0),
        "GUILD_ROLE_DELETE",
        {"guild_id": str(v.guild_id), "role_id": str(helper.id)},
    )

    async def mapping() -> list[roles.PointRole]:
        return await v.run(lambda s: roles.point_roles(s, v.guild_id))

    # Each round trip lets the bot's listener run further; it needs one domain call.
    for _ in range(50):
        if not await mapping():
            break
        await v.settle()
    assert await mapping() == []


async def test_point_values_come_from_the_guild_settings(v: Votes) -> None:
    (alice,) = people(v.fake, "alice")
    await v.set("points_base", 0)
    await v.set("points_answer_upvote", 7)
    await answered_with_votes(v, alice, ups=2)
    shown = fields(await (await alice.slash("profile", channel=v.fake.general)).message())
    assert shown["Points"] == str(40 + 14)
    fixed = await v.run(lambda s: points.recompute_points(s, v.guild_id))
    assert (fixed.members_fixed, fixed.posts_fixed) == (0, 0)


async def test_qa_setup_says_when_the_bots_role_is_too_low_for_a_point_role(v: Votes) -> None:
    mine = bot_role(v.fake)
    v.fake.world.update_role(mine, permissions=mine.permissions | MANAGE_ROLES)
    high = v.fake.add_role(v.fake.guild, "Legend")
    await v.settle()
    await roles_add(v, 1000, high)
    ix = await v.fake.owner.slash("qa setup", {"forum": v.fake.forum}, channel=v.fake.general)
    report = fields(await ix.message())
    assert f"<@&{high.id}>" in report["Notes"]
    assert "not below the bot's highest role" in report["Notes"]
    v.fake.world.update_role(mine, position=high.position + 1)
    await v.settle()
    again = await v.fake.owner.slash("qa setup", {"forum": v.fake.forum}, channel=v.fake.general)
    # Only the point role's note is gone (the AutoMod note stays: the bot lacks Manage Server).
    assert "not below the bot's highest role" not in fields(await again.message()).get("Notes", "")


async def test_points_from_an_accepted_answer_give_a_role_without_any_vote(v: Votes) -> None:
    """Every domain change that moves public points reaches the point roles (through
    ``bot.transactions.run_transaction``), not only reaction votes."""
    v.bot.role_sync.coalescer.interval = 0
    (helper,) = await manageable(v, "Helper")
    alice, asker = people(v.fake, "alice", "asker")
    q = await v.question(asker)
    a = await v.answer(q, alice)  # 100 + 40
    await roles_add(v, 400, helper)
    await v.bot.role_sync.wait_idle()
    assert not holds(v.fake, alice, helper)
    await v.run(
        lambda s: acceptance.accept_answer(
            s, answer_ref=acceptance.PostRef(a.post.id), actor=Actor(asker.id)
        )
    )
    await v.settle()  # the dispatched listener runs
    await v.bot.role_sync.wait_idle()
    assert holds(v.fake, alice, helper)  # 100 + 40 + 300
