"""A reaction burst: a reproducible workload of vote gestures and the driver that sends it.

Reusable beyond ``make bench`` (the hardening issue's load test drives the same burst):

* ``reaction_workload(...)`` makes ``events`` gestures on ``targets`` answers by ``voters``
  members: adds and removes of the up and down emoji, a share of them delivered twice (as after
  an at-least-once redelivery), with at least ``distinct_keys`` distinct (answer, member) keys
  and at most ``max_active`` members holding a vote on any answer at any moment. It also says
  the final state the gestures imply. ``servers=N`` splits targets and voters into N equal,
  consecutive blocks (server ``s`` owns targets ``s*T/N ...`` and voters ``s*V/N ...``): a
  member votes only on answers of their own server.
* ``drive_reactions(fake, messages, voters, workload)`` sends them back to back over the fake
  Discord's WebSocket (the fake's world applies each reaction and emits the gateway event; a
  duplicate is delivered twice with its own sequence numbers) and returns how many gateway
  events went out. ``drive_load(..., posts=[...])`` does the same with thread messages (new
  answers) interleaved evenly among the reactions, and also returns the messages it posted.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from tests.fakediscord.model import Channel, Message
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
    servers: int = 1,
) -> Workload:
    """Gestures until ``events`` gateway events (duplicates counted twice)."""
    if targets % servers or voters % servers:
        raise ValueError("targets and voters must split evenly between the servers")
    rng = random.Random(seed)
    per_target = -(-distinct_keys * 6 // (5 * targets))  # headroom: some keys go unused
    per_server, own = targets // servers, voters // servers
    if per_target > own:
        raise ValueError("not enough voters for that many distinct keys")
    pools = [
        rng.sample(range(t // per_server * own, (t // per_server + 1) * own), per_target)
        for t in range(targets)
    ]
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


@dataclass(frozen=True, slots=True)
class ThreadPost:
    """A member's message in a thread, sent amid the reactions (``drive_load``)."""

    thread: Channel
    author_id: int
    body: str


@dataclass
class Driven:
    reaction_events: int
    # The messages of ``posts``, in order.
    posted: list[Message]


async def drive_load(
    fake: FakeDiscord,
    messages: Sequence[Message],
    voters: Sequence[int],
    workload: Workload,
    *,
    posts: Sequence[ThreadPost] = (),
    chunk: int = 256,
    write_timeout: float = 300.0,
) -> Driven:
    """Send every gesture of ``workload`` back to back (``messages[target]``, user id
    ``voters[voter]``) with ``posts`` spread evenly among them, and say how many reaction
    events went out and which messages were posted.

    The frames are queued on the bot's connection as fast as the fake's world applies the
    reactions and messages (the client's own checks are skipped, as in ``fake.reaction_burst``);
    the loop yields every ``chunk`` gestures so the socket writer (and anything else in this
    event loop) keeps up, and the function returns once every frame has been written (a bot busy
    with the load reads its socket late: ``write_timeout`` seconds are allowed).
    """
    world = fake.world
    faults = fake.faults
    start = len(fake.events)
    gestures = workload.gestures
    # Post j goes out after gesture due[j]: evenly spread, the last one before the last gesture.
    due = [len(gestures) * (j + 1) // (len(posts) + 1) for j in range(len(posts))]
    posted: list[Message] = []
    for i, g in enumerate(gestures):
        while len(posted) < len(posts) and due[len(posted)] <= i:
            post = posts[len(posted)]
            posted.append(world.post_message(post.thread, post.author_id, {"content": post.body}))
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
    for post in posts[len(posted) :]:
        posted.append(world.post_message(post.thread, post.author_id, {"content": post.body}))
    await fake.gateway.flush(timeout=write_timeout)
    sent = sum(1 for e in fake.events[start:] if e.name in REACTION_EVENTS)
    return Driven(sent, posted)


async def drive_reactions(
    fake: FakeDiscord,
    messages: Sequence[Message],
    voters: Sequence[int],
    workload: Workload,
    *,
    chunk: int = 256,
) -> int:
    """``drive_load`` without posts: the number of reaction events sent."""
    driven = await drive_load(fake, messages, voters, workload, chunk=chunk)
    return driven.reaction_events
