"""``/mod link-imported`` end to end through the fake Discord on both backends, after an
import from MariaDB: carol's handle linked to alice's member moves carol's posts, votes and
points in one go; where both voted on one post one vote stays (alice's), carol's vote on one of
alice's posts counts nothing any more. Each refusal (not a moderator, an unknown handle, a bot,
a handle already linked) is one ephemeral sentence and changes nothing."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import select

from bot.db.imported import ImportedAuthor, ImportedPost
from bot.db.models import Member as MemberRow
from bot.db.models import Post, Vote
from bot.q2a_import import import_q2a
from tests.cogs.conftest import configure_qa_guild
from tests.fakediscord import FakeDiscord, Member
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.q2a.site import expected_points, generate, write

CAROL = 3


async def _reply(
    member: Member, options: dict[str, object], fake: FakeDiscord, *, bypass: bool = False
) -> str:
    ix = await member.slash(
        "mod link-imported", options, channel=fake.general, bypass_permissions=bypass
    )
    told = await ix.message()
    assert told.ephemeral
    return told.content


async def _state(harness: BotHarness) -> tuple[list[tuple[int, int, bool, bool]], dict[int, int]]:
    async with harness.sessionmaker() as session:
        votes = (
            await session.execute(select(Vote.post_id, Vote.user_id, Vote.up, Vote.down))
        ).all()
        points = (await session.execute(select(MemberRow.user_id, MemberRow.points))).all()
    return sorted(tuple(v) for v in votes), dict(tuple(p) for p in points)


async def test_linking_a_handle_merges_posts_votes_and_points(
    fake_discord: FakeDiscord,
    qa_bot_factory: BotFactory,
    db_url: str,
    q2a_url: str,
    tmp_path: Path,
) -> None:
    fake = fake_discord
    assert fake.guild and fake.general and fake.moderator_role
    mia = fake.add_member(fake.guild, "mia", roles=[fake.moderator_role])
    alice = fake.add_member(fake.guild, "alice")
    bob = fake.add_member(fake.guild, "bob")
    helper = fake.add_member(fake.guild, "helperbot", bot=True)
    users = tmp_path / "users.csv"
    users.write_text(f"alice,{alice.id}\nbob,{bob.id}\n", encoding="utf-8")

    site = generate()
    await write(q2a_url, site)
    await import_q2a(
        q2a_url,
        guild_id=fake.guild.id,
        database_url=db_url,
        out=io.StringIO(),
        users_file=str(users),
    )
    harness = await qa_bot_factory(database_url=db_url)
    await configure_qa_guild(harness)
    before = await _state(harness)

    # Refusals: one sentence each, nothing changed.
    # Discord hides /mod from a member without Manage Threads; should a server lift that,
    # the bot refuses in code.
    told = await _reply(alice, {"handle": "carol", "member": alice}, fake, bypass=True)
    assert told == "Only this server's moderators can use /mod."
    told = await _reply(mia, {"handle": "nobody", "member": alice}, fake)
    assert told == "No imported author has the handle 'nobody' here."
    told = await _reply(mia, {"handle": "carol", "member": helper}, fake)
    assert told == "Link the handle to a member, not to a bot."
    assert await _state(harness) == before

    told = await _reply(mia, {"handle": "carol", "member": alice}, fake)
    assert told.startswith("Linked the imported handle **carol** to <@")
    live = site.live_votes()
    both = {p for p, u in live if u == 1 and (p, 3) in live}
    own = {p for p, u in live if u == 3 and site.user_of(p) == 1}
    own |= {p for p, u in live if u == 1 and site.user_of(p) == 3}
    assert both and own
    assert f"({len(both)} vote{'s' * (len(both) != 1)} merged)" in told
    assert f"{len(own)} vote{'s' * (len(own) != 1)} on their own posts dropped" in told

    identity = {1: alice.id, 2: bob.id, 3: alice.id, 4: -4, 6: -6}
    votes, points = await _state(harness)
    async with harness.sessionmaker() as session:
        ids = dict(
            (await session.execute(select(ImportedPost.source_id, ImportedPost.post_id))).all()
        )
        authors = dict((await session.execute(select(Post.id, Post.author_id))).all())
        linked = await session.scalar(
            select(ImportedAuthor.linked_user_id).where(ImportedAuthor.handle == "carol")
        )
    assert linked == alice.id
    carol_posts = [p.id for p in site.posts.values() if p.user == CAROL and p.type != "NOTE"]
    assert carol_posts and all(authors[ids[p]] == alice.id for p in carol_posts)
    assert -CAROL not in set(authors.values()) and -CAROL not in points
    # one vote per person per post, none on one's own post
    assert len({(p, u) for p, u, _, _ in votes}) == len(votes)
    assert not any(authors[p] == u for p, u, _, _ in votes)
    assert len(votes) == len(before[0]) - len(both) - len(own)
    for who, want in expected_points(site, identity).items():
        assert points.get(who, 0) == want, who  # type: ignore[call-overload]

    # Linked once: a second link is refused.
    told = await _reply(mia, {"handle": "carol", "member": bob}, fake)
    assert told == "That imported handle is already linked to a member."
    assert await _state(harness) == (votes, points)
