"""The burst harness itself: the workload keeps its promises and the driver delivers all of it
over the fake's WebSocket (a plain client counts the frames)."""

from __future__ import annotations

import asyncio

import pytest

from tests.bench.burst import DOWN, UP, drive_reactions, reaction_workload
from tests.fakediscord.fixtures import BotHarness


def test_workload_keeps_its_shape() -> None:
    w = reaction_workload(targets=20, voters=200, events=2000, distinct_keys=700)
    assert w.events == 2000
    assert w.distinct_keys >= 700
    assert w.most_active <= 10
    assert 0 < w.duplicates < len(w.gestures)
    assert {g.on for g in w.gestures} == {True, False}
    assert {g.emoji for g in w.gestures} == {UP, DOWN}
    replayed: dict[tuple[int, int], tuple[bool, bool]] = {}
    for g in w.gestures:
        up, down = replayed.get((g.target, g.voter), (False, False))
        new = (g.on, down) if g.emoji == UP else (up, g.on)
        assert new != (up, down), "every gesture changes the member's reaction"
        replayed[(g.target, g.voter)] = new
    assert {k: v for k, v in replayed.items() if any(v)} == w.final


def test_workload_refuses_what_it_cannot_deliver() -> None:
    with pytest.raises(ValueError, match="distinct keys"):
        reaction_workload(targets=20, voters=200, events=200, distinct_keys=700)


async def test_drive_reactions_sends_every_event_to_the_client(probe_bot: BotHarness) -> None:
    fake = probe_bot.fake
    author = fake.add_member(fake.guild, "author")
    voters = [fake.add_member(fake.guild, f"v{i}").id for i in range(50)]
    messages = [await author.send(fake.general, f"answer {i}") for i in range(5)]
    received: list[bool] = []
    w = reaction_workload(targets=5, voters=50, events=300, distinct_keys=100)
    all_in = asyncio.Event()

    def got(on: bool) -> None:
        received.append(on)
        if len(received) == w.events:
            all_in.set()

    async def added(payload: object) -> None:
        got(True)

    async def removed(payload: object) -> None:
        got(False)

    probe_bot.bot.add_listener(added, "on_raw_reaction_add")
    probe_bot.bot.add_listener(removed, "on_raw_reaction_remove")

    sent = await drive_reactions(fake, messages, voters, w)

    assert sent == w.events
    async with asyncio.timeout(10):
        await all_in.wait()
    assert received.count(True) == sum((1 + g.duplicate) for g in w.gestures if g.on)
    for t, message in enumerate(messages):
        ups, downs = (
            sorted(voters[v] for (tt, v), flags in w.final.items() if tt == t and flags[i])
            for i in (0, 1)
        )
        assert sorted(message.reaction_users(UP)) == ups
        assert sorted(message.reaction_users(DOWN)) == downs
