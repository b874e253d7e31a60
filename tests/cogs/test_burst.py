"""A scaled reaction burst against the real bot, on SQLite and PostgreSQL (issue 18).

The fake Discord sends 2,000 reaction add/remove events back to back over its WebSocket
(``fake.reaction_burst``); halfway through, a member runs ``/profile``. The command is
acknowledged and answered while the vote writer works through the burst (no timing is asserted:
timings live in ``make bench``), and afterwards the stored votes are exactly the reactions
Discord shows, every score is ups minus downs, every author's points moved by the capped totals
the final votes imply, and the cached points equal a recomputation.
"""

from __future__ import annotations

import random

import pytest

from bot.forum import settings
from tests.cogs.test_voting import DOWN, EXTENSIONS, UP, Posted, Votes, people
from tests.fakediscord import Member
from tests.fakediscord.fixtures import BotFactory

EVENTS = 2_000
VOTERS = 80


def capped(config: settings.GuildConfig, kind: str, ups: int, downs: int) -> int:
    """The points an author's post earns from its votes (each direction capped)."""
    if kind == "question":
        up, down = config.points_question_upvote, config.points_question_downvote
        cap_up, cap_down = config.question_vote_cap_up, config.question_vote_cap_down
    else:
        up, down = config.points_answer_upvote, config.points_answer_downvote
        cap_up, cap_down = config.answer_vote_cap_up, config.answer_vote_cap_down
    return min(ups * up, cap_up) - min(downs * down, cap_down)


def workload(
    rng: random.Random, voters: list[Member], targets: list[Posted], events: int
) -> list[tuple[Member, Posted, str, bool]]:
    """``events`` gestures that each send an event: a reaction a voter has is taken off, one
    they lack is put on (so a key flips back and forth: duplicates of a state and removes)."""
    state: set[tuple[int, int, str]] = set()
    gestures = []
    for _ in range(events):
        who, target, emoji = rng.choice(voters), rng.choice(targets), rng.choice((UP, DOWN))
        key = (who.id, target.id, emoji)
        on = key not in state
        state.symmetric_difference_update({key})
        gestures.append((who, target, emoji, on))
    return gestures


@pytest.mark.slow
async def test_a_command_during_a_burst_is_answered_and_the_votes_end_exact(
    db_url: str, qa_bot_factory: BotFactory
) -> None:
    harness = await qa_bot_factory(extensions=EXTENSIONS, database_url=db_url)
    v = Votes(harness)
    fake = v.fake
    rng = random.Random(18)
    authors = people(fake, *(f"author{i}" for i in range(4)))
    voters = people(fake, *(f"voter{i}" for i in range(VOTERS)))
    questions = [await v.question(authors[i], f"Burst question number {i}") for i in range(2)]
    targets = [*questions]
    for i in range(8):
        targets.append(await v.answer(questions[(i // 2) % 2], authors[2 + i % 2]))
    before = {a.id: (await v.member(a)).points for a in authors}

    gestures = [
        (who, t.message, emoji, on) for who, t, emoji, on in workload(rng, voters, targets, EVENTS)
    ]
    half = EVENTS // 2
    assert await fake.reaction_burst(gestures[:half]) == half
    # Mid-burst: the member's command goes out behind a thousand reaction events.
    asking = voters[0]
    ix = await asking.slash("profile", {}, channel=fake.general)
    assert await fake.reaction_burst(gestures[half:]) == EVENTS - half
    assert await ix.deferred(timeout=30)  # acknowledged
    answer = await ix.message(timeout=60)
    assert "Points" in answer.embed_text()

    await v.settle()
    config = settings.DEFAULTS
    expected = dict(before)
    keys = 0
    for posted in targets:
        shown = {
            user: (
                user in posted.message.reaction_users(UP),
                user in posted.message.reaction_users(DOWN),
            )
            for user in {*posted.message.reaction_users(UP), *posted.message.reaction_users(DOWN)}
        }
        keys += len(shown)
        # The stored votes are exactly the reactions Discord shows...
        assert await v.stored(posted) == shown, posted.id
        ups = sum(up for up, _ in shown.values())
        downs = sum(down for _, down in shown.values())
        post = await v.get(posted)
        # ... each score is ups minus downs ...
        assert post.score == ups - downs, posted.id
        expected[post.author_id] += capped(config, post.kind, ups, downs)
    assert keys > VOTERS  # many (post, member) keys end with a vote
    # ... each author's points moved by the capped totals those votes imply ...
    assert {a.id: (await v.member(a)).points for a in authors} == expected
    # ... and every cached score and point equals a recomputation.
    await v.assert_consistent()
