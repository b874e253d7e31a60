"""A reaction burst: a reproducible workload of vote gestures and the driver that sends it.

Reusable beyond ``make bench`` (the hardening issue's load test drives the same burst):

* ``reaction_workload(...)`` makes ``events`` gestures on ``targets`` answers by ``voters``
  members: adds and removes of the up and down emoji, a share of them delivered twice (as after
  an at-least-once redelivery), with at least ``distinct_keys`` distinct (answer, member) keys
  and at most ``max_active`` members holding a vote on any answer at any moment. It also says
  the final state the gestures imply.
* ``drive_reactions(fake, messages, voters, workload)`` sends them back to back over the fake
  Discord's WebSocket (the fake's world applies each reaction and emits the gateway event; a
  duplicate is delivered twice with its own sequence numbers) and returns how many gateway
  events went out.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from tests.fakediscord.model import Message
from tests.fakediscord.server import FakeDiscord

UP, DOWN = "👍", "👎"
REACTION_EVENTS = ("MESSAGE_REACTION_ADD", "MESSAGE_REACTION_REMOVE")


@dataclass(frozen=True, slots=True)
class Gesture:
    """One member's reaction gesture on one target answer (indexes into the caller's lists)."""

    target: int
    voter: int
    emoji: str
    on: bool
    # Delivered twice (the second copy changes nothing: votes are state).
    duplicate: bool = False


@dataclass
class Workload:
    gestures: list[Gesture]
    # (target, voter) -> (up, down) after every gesture; keys with no flag set are left out.
    final: dict[tuple[int, int], tuple[bool, bool]]
    distinct_keys: int
    most_active: int = 0
    duplicates: int = field(init=False)

    def __post_init__(self) -> None:
        self.duplicates = sum(g.duplicate for g in self.gestures)

    @property
    def events(self) -> int:
        """Gateway events the gestures become (a duplicate is two)."""
        return len(self.gestures) + self.duplicates

    def counts(self, target: int) -> tuple[int, int]:
        """Up and down votes on a target at the end (a vote's value is up - down: both flags
        set is neither)."""
        ups = downs = 0
        for (t, _), (up, down) in self.final.items():
            if t == target:
                ups += up and not down
                downs += down and not up
        return ups, downs


def reaction_workload(
    *,
    targets: int,
    voters: int,
    events: int,
    distinct_keys: int,
    max_active: int = 10,
    duplicate_share: float = 0.1,
    seed: int = 18,
) -> Workload:
    """Gestures until ``events`` gateway events (duplicates counted twice)."""
    rng = random.Random(seed)
    per_target = -(-distinct_keys * 6 // (5 * targets))  # headroom: some keys go unused
    if per_target > voters:
        raise ValueError("not enough voters for that many distinct keys")
    pools = [rng.sample(range(voters), per_target) for _ in range(targets)]
    unused = [list(pool) for pool in pools]
    state: dict[tuple[int, int], tuple[bool, bool]] = {}
    active = [0] * targets
    used: set[tuple[int, int]] = set()
    gestures: list[Gesture] = []
    sent = most = 0
    while sent < events:
        t = rng.randrange(targets)
        held = [v for v in pools[t] if (t, v) in state]
        free = [v for v in pools[t] if (t, v) not in state]
        if held and (active[t] >= max_active or not free or rng.random() < 0.45):
            v = rng.choice(held)
            up, down = state[(t, v)]
            if up and down:
                emoji, on = rng.choice((UP, DOWN)), False
            elif up:
                emoji, on = (DOWN, True) if rng.random() < 0.15 else (UP, False)
            else:
                emoji, on = DOWN, False
        else:
            v = unused[t].pop() if unused[t] else rng.choice(free)
            emoji, on = (UP, True) if rng.random() < 0.75 else (DOWN, True)
        up, down = state.get((t, v), (False, False))
        up, down = (on, down) if emoji == UP else (up, on)
        if up or down:
            if (t, v) not in state:
                active[t] += 1
            state[(t, v)] = (up, down)
        else:
            del state[(t, v)]
            active[t] -= 1
        most = max(most, active[t])
        used.add((t, v))
        duplicate = rng.random() < duplicate_share and sent + 2 <= events
        gestures.append(Gesture(t, v, emoji, on, duplicate))
        sent += 2 if duplicate else 1
    if len(used) < distinct_keys:
        raise ValueError(f"only {len(used)} distinct keys; give more events or fewer keys")
    return Workload(gestures, state, len(used), most)


async def drive_reactions(
    fake: FakeDiscord,
    messages: Sequence[Message],
    voters: Sequence[int],
    workload: Workload,
    *,
    chunk: int = 256,
) -> int:
    """Send every gesture of ``workload`` back to back (``messages[target]``, user id
    ``voters[voter]``) and return the number of gateway events sent.

    The frames are queued on the bot's connection as fast as the fake's world applies the
    reactions; the loop yields every ``chunk`` gestures so the socket writer keeps up, and the
    function returns once every frame has been written.
    """
    world = fake.world
    faults = fake.faults
    start = len(fake.events)
    for i, g in enumerate(workload.gestures):
        message = messages[g.target]
        user_id = voters[g.voter]
        fault = faults.duplicate_next_event(REACTION_EVENTS) if g.duplicate else None
        if g.on:
            world.add_reaction(message, g.emoji, user_id)
        else:
            world.remove_reaction(message, g.emoji, user_id)
        if fault is not None:
            faults.event_faults.remove(fault)
        if i % chunk == chunk - 1:
            await asyncio.sleep(0)
    await fake.flush()
    return sum(1 for e in fake.events[start:] if e.name in REACTION_EVENTS)
