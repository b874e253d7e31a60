"""The set-based vote path: a batch reduced per (post, member) in arrival order, caches exact."""

from __future__ import annotations

import random

from bot.forum import leaderboard, points, prefs, settings, votes
from bot.forum.results import PostSnapshot, RecomputeResult
from tests.bot.forum.core_support import (
    ANSWERER,
    ASKER,
    GUILD,
    NOW,
    OTHER,
    VOTER,
    Forum,
)
from tests.db_support import statements_run

UP = votes.Emoji("👍")
DOWN = votes.Emoji("👎")
LATE = 60
ERASED = 70


def reaction(
    post: PostSnapshot,
    user_id: int,
    emoji: votes.Emoji = UP,
    *,
    on: bool = True,
    display_name: str | None = None,
) -> votes.Reaction:
    assert post.message_id is not None
    return votes.Reaction(
        guild_id=GUILD,
        channel_id=post.thread_id or 0,
        message_id=post.message_id,
        user_id=user_id,
        emoji=emoji,
        on=on,
        is_bot=False,
        display_name=display_name,
    )


def clear(post: PostSnapshot, emoji: votes.Emoji | None) -> votes.Clear:
    assert post.message_id is not None
    return votes.Clear(GUILD, post.thread_id or 0, post.message_id, emoji)


def same_key_gestures(a: PostSnapshot) -> list[votes.Gesture]:
    return [
        reaction(a, VOTER),
        reaction(a, VOTER),  # a duplicate
        reaction(a, VOTER, on=False),
        reaction(a, VOTER, DOWN),
        reaction(a, VOTER),  # both flags: a zero vote, until the clear below
        reaction(a, OTHER),
        reaction(a, OTHER, on=False),  # added and removed: no vote at all
        reaction(a, LATE, DOWN),
        clear(a, DOWN),  # clears VOTER's, LATE's and ASKER's (stored) down flags
        reaction(a, LATE, DOWN),  # after the clear: the down vote is back
        reaction(a, ASKER),
    ]


async def test_a_batch_with_repeats_of_one_key_ends_as_the_gestures_one_by_one(
    forum: Forum,
) -> None:
    q = await forum.ask()
    batched, single = await forum.answer(q), await forum.answer(q, author=OTHER)
    for a in (batched, single):
        await forum.vote(a, ASKER, "down")
    applied = await forum.run(lambda s: votes.apply_gestures(s, same_key_gestures(batched)))
    for gesture in same_key_gestures(single):
        await forum.run(lambda s, g=gesture: votes.apply_gestures(s, [g]))

    expected = {VOTER: (True, False), LATE: (False, True), ASKER: (True, False)}
    assert await forum.run(lambda s: votes.voters(s, post_id=batched.id)) == expected
    assert await forum.run(lambda s: votes.voters(s, post_id=single.id)) == expected
    assert applied.questions == (q.id,)
    after_batch, after_single = await forum.get(batched.id), await forum.get(single.id)
    assert (after_batch.score, after_batch.upvotes, after_batch.downvotes) == (1, 2, 1)
    assert (after_single.score, after_single.upvotes, after_single.downvotes) == (1, 2, 1)
    await forum.check()


async def test_a_batch_that_ends_where_it_started_changes_nothing(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.answer(q)
    await forum.vote(a, VOTER)
    before = await forum.get(a.id)
    applied = await forum.run(
        lambda s: votes.apply_gestures(s, [reaction(a, VOTER, on=False), reaction(a, VOTER)])
    )
    assert applied.questions == ()
    assert await forum.get(a.id) == before
    await forum.check()


async def _random_world(forum: Forum) -> list[PostSnapshot]:
    """Questions with named and anonymous answers, one closed, one deleted, an erased member."""
    await forum.run(lambda s: settings.set_setting(s, GUILD, "points_vote_cast", 1))
    await forum.run(lambda s: prefs.mark_erased(s, ERASED, NOW))
    voted: list[PostSnapshot] = []
    for i in range(4):
        q = await forum.ask(ASKER + i, anonymous=i == 1)
        voted.append(q)
        for author in (ANSWERER, OTHER, ASKER + i):
            voted.append(await forum.answer(q, author, anonymous=author == OTHER))
    await forum.close(voted[4], actor=ASKER + 1)
    await forum.delete(voted[9])
    return voted


async def test_cached_points_equal_a_recomputation_after_large_random_batches(
    forum: Forum,
) -> None:
    posts = await _random_world(forum)
    rng = random.Random(18)
    users = [ASKER, ASKER + 1, ANSWERER, OTHER, ERASED, *range(100, 140)]
    gestures: list[votes.Gesture] = []
    for _ in range(3_000):
        post = rng.choice(posts)
        if rng.random() < 0.01:
            gestures.append(clear(post, rng.choice([UP, DOWN, None])))
            continue
        emoji = rng.choice([UP, UP, DOWN])
        gestures.append(reaction(post, rng.choice(users), emoji, on=rng.random() < 0.7))
    for start in range(0, len(gestures), 1_000):
        chunk = gestures[start : start + 1_000]
        await forum.run(lambda s, chunk=chunk: votes.apply_gestures(s, chunk))

    await forum.check()
    assert await forum.run(lambda s: points.recompute_points(s, GUILD)) == RecomputeResult(
        guild_id=GUILD, members_fixed=0, posts_fixed=0
    )
    expected = expected_votes(gestures)
    for post in posts:
        stored = await forum.run(lambda s, p=post: votes.voters(s, post_id=p.id))
        assert stored == expected.get(post.message_id, {})


def expected_votes(gestures: list[votes.Gesture]) -> dict[int | None, dict[int, tuple[bool, bool]]]:
    """The votes the gestures leave, one at a time in order (a plain model): message id ->
    member -> (up, down), erased members left out."""
    model: dict[int | None, dict[int, tuple[bool, bool]]] = {}
    for g in gestures:
        on_message = model.setdefault(g.message_id, {})
        if isinstance(g, votes.Clear):
            for user, (up, down) in on_message.items():
                on_message[user] = (
                    up and g.emoji not in (None, UP),
                    down and g.emoji not in (None, DOWN),
                )
        elif g.user_id != ERASED:
            up, down = on_message.get(g.user_id, (False, False))
            on_message[g.user_id] = (g.on, down) if g.emoji == UP else (up, g.on)
    return {
        message: {user: flags for user, flags in voters.items() if any(flags)}
        for message, voters in model.items()
    }


async def test_a_batch_runs_as_many_statements_whatever_its_size(forum: Forum) -> None:
    """SQLite's writing thread must not wait for the GIL once per row with the write lock held
    (``bot.db.packed``): there a batch's reads and writes are one statement each, no
    ``executemany``, as many for 400 gestures as for 4, the voters' names included. Elsewhere
    it is exact all the same."""
    posts = await _random_world(forum)
    users = range(200, 300)

    async def apply(count: int, up: bool) -> list[tuple[str, bool]]:
        gestures: list[votes.Gesture] = [
            reaction(
                posts[i % len(posts)],
                users[i % len(users)],
                UP if up else DOWN,
                display_name=f"voter {users[i % len(users)]} {up}",
            )
            for i in range(count)
        ]
        with statements_run(forum.sessionmaker) as seen:
            await forum.run(lambda s: votes.apply_gestures(s, gestures))
        return seen

    small = await apply(4, up=True)
    large = await apply(400, up=False)
    await forum.check()
    names = await forum.run(
        lambda s: leaderboard.unremembered_names(
            s, guild_id=GUILD, names={user: f"voter {user} False" for user in users}
        )
    )
    assert names == {}  # every voter's latest name stored
    if forum.sessionmaker.kw["bind"].dialect.name == "sqlite":
        assert not any(many for _, many in large)
        assert len(large) == len(small)
