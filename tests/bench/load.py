"""The load of the hardening issue (issue 20, item 4): reactions and new answers across several
servers at once, shared by ``make test`` (``tests/cogs/test_load.py``, the real bot in the test's
event loop) and ``make bench`` (``tests/bench/load_run.py``, ``qa-bot run`` as its own process).

* ``build_servers(fake, scale)`` (before the bot starts): ``scale.servers`` servers, each with its
  own #general, Q&A forum, askers, answerers and voters (nobody is in two servers).
* ``seed(servers, scale, until)``: each asker posts a question in their forum (adopted by the
  bot), then the answerers post the answers the reactions will target; ``until(sql, rows)``
  returns once the bot's database shows them.
* ``plan(servers, scale)``: the reaction workload (``tests.bench.burst.reaction_workload`` with
  ``servers=``) and the new answers ``drive_load`` spreads among its reactions.
* ``expected_state(fake, servers, quiet)`` recomputes from the fake's world alone (every
  reaction a message carries, every message in a question's thread) the votes, answers and
  points the bot must store and the "new answer" DMs it must queue; ``stored_state(rows)``
  reads the same from the database; ``differences`` names what differs, duplicated outbox rows
  included.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.forum import points
from bot.forum.settings import DEFAULTS, GuildConfig
from bot.forum.uow import run_in_transaction
from tests.bench.burst import DOWN, UP, ThreadPost, Workload, reaction_workload
from tests.fakediscord.actors import Member
from tests.fakediscord.model import Channel, Guild, Message
from tests.fakediscord.server import FakeDiscord

ANSWER = "Try box breathing: in for four counts, hold for four, out for four, hold for four. #{}"
Rows = Callable[[str], Awaitable[list[tuple[Any, ...]]]]
Until = Callable[[str, list[tuple[Any, ...]]], Awaitable[None]]


@dataclass(frozen=True)
class LoadScale:
    servers: int
    # Per server:
    questions: int
    targets: int  # answers posted before the load, which the reactions target
    answerers: int
    voters: int
    # In all:
    reactions: int
    answers: int  # new answers posted during the load
    distinct_keys: int


#: Issue 20: 20,000 reaction events and 2,000 answer messages across 10 servers.
LOAD_FULL = LoadScale(10, 4, 20, 20, 200, 20_000, 2_000, 7_000)
#: ``make test`` and ``make bench --quick``: about 2,000 events.
LOAD_SCALED = LoadScale(10, 2, 4, 4, 20, 1_800, 200, 600)


@dataclass
class Server:
    guild: Guild
    general: Channel
    forum: Channel
    askers: list[Member]
    answerers: list[Member]
    voters: list[Member]
    threads: list[Channel] = field(default_factory=list)
    targets: list[Message] = field(default_factory=list)

    @property
    def quiet(self) -> Member:
        """The asker who turns their DMs off (``/notifications mode:off``) before the load."""
        return self.askers[0]


def build_servers(fake: FakeDiscord, scale: LoadScale) -> list[Server]:
    servers = []
    for s in range(scale.servers):
        guild = fake.add_guild(f"Server {s}", owner=f"owner{s}")
        servers.append(
            Server(
                guild,
                fake.add_text_channel(guild, "general"),
                fake.add_forum(guild, "questions", tags=["General", "Anxiety"]),
                [fake.add_member(guild, f"s{s}asker{i}") for i in range(scale.questions)],
                [fake.add_member(guild, f"s{s}helper{i}") for i in range(scale.answerers)],
                [fake.add_member(guild, f"s{s}voter{i}") for i in range(scale.voters)],
            )
        )
    return servers


async def poll_until(
    rows: Rows,
    sql: str,
    expected: list[tuple[Any, ...]],
    timeout: float,  # noqa: ASYNC109
) -> bool:
    """Whether ``rows(sql)`` equals ``expected`` within ``timeout`` seconds (read every 20 ms:
    the bot is another process, or the database is the only place the result shows)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if await rows(sql) == expected:
            return True
        await asyncio.sleep(0.02)
    return False


def _count(kind: str) -> str:
    return f"SELECT COUNT(*) FROM posts WHERE kind = '{kind}'"


async def seed(servers: Sequence[Server], scale: LoadScale, until: Until) -> None:
    """Questions (members' forum posts, adopted by the bot), then the target answers."""
    for s, server in enumerate(servers):
        for i, asker in enumerate(server.askers):
            title = f"How do I sleep before exam {i} of server {s}?"
            server.threads.append(await asker.create_post(server.forum, title, "I lie awake."))
    await until(_count("question"), [(scale.servers * scale.questions,)])
    n = 0
    for server in servers:
        for i in range(scale.targets):
            thread = server.threads[i % len(server.threads)]
            author = server.answerers[i % len(server.answerers)]
            server.targets.append(await author.send(thread, ANSWER.format(n)))
            n += 1
    await until(_count("answer"), [(n,)])


@dataclass
class Plan:
    workload: Workload
    messages: list[Message]  # the targets of every server, in server order
    voters: list[int]  # the voters of every server, in server order
    posts: list[ThreadPost]  # the new answers, servers and threads taken in turn


def load_workload(scale: LoadScale) -> Workload:
    """The reaction workload of a scale, split between its servers (the same in every run)."""
    return reaction_workload(
        targets=scale.servers * scale.targets,
        voters=scale.servers * scale.voters,
        events=scale.reactions,
        distinct_keys=scale.distinct_keys,
        servers=scale.servers,
        seed=20,
    )


def plan(servers: Sequence[Server], scale: LoadScale) -> Plan:
    workload = load_workload(scale)
    posts = []
    for j in range(scale.answers):
        server = servers[j % len(servers)]
        k = j // len(servers)
        thread = server.threads[k % len(server.threads)]
        # Answerers take turns from the one after the targets' last, so nobody nears the
        # guild's answers_per_hour limit (an answer over it would be stored as a comment).
        author = server.answerers[(scale.targets + k) % len(server.answerers)]
        posts.append(ThreadPost(thread, author.id, ANSWER.format(f"load {j}")))
    return Plan(
        workload,
        [m for server in servers for m in server.targets],
        [v.id for server in servers for v in server.voters],
        posts,
    )


# --------------------------------------------------------------------------- what must be stored


@dataclass
class State:
    """Votes, answers, points and "new answer" outbox rows, by Discord ids."""

    # (message, member) -> (up, down); only keys with a flag set.
    votes: dict[tuple[int, int], tuple[bool, bool]]
    # Message ids of the answers.
    answers: set[int]
    # (guild, member) -> earned points (the base not included); members with none left out.
    points: dict[tuple[int, int], int]
    # (answer message, recipient) -> rows queued (exactly 1 each when all is well).
    new_answer_dms: Counter[tuple[int, int]]


def vote_points(config: GuildConfig, kind: str, ups: int, downs: int) -> int:
    """The points an author's post earns from its votes (each direction capped)."""
    if kind == "question":
        up, down = config.points_question_upvote, config.points_question_downvote
        cap_up, cap_down = config.question_vote_cap_up, config.question_vote_cap_down
    else:
        up, down = config.points_answer_upvote, config.points_answer_downvote
        cap_up, cap_down = config.answer_vote_cap_up, config.answer_vote_cap_down
    return min(ups * up, cap_up) - min(downs * down, cap_down)


def expected_state(fake: FakeDiscord, servers: Iterable[Server], quiet: set[int]) -> State:
    """What the fake's world implies (default settings): each thread's starter is its asker's
    question; every other message by a member (not a bot) is an answer; a reaction with the up or
    down emoji by anyone but a bot is a vote; askers outside ``quiet`` get one DM row per answer
    on their question."""
    config = DEFAULTS
    bots = {u.id for u in fake.world.users.values() if u.bot}
    state = State({}, set(), {}, Counter())
    earned: Counter[tuple[int, int]] = Counter()
    for server in servers:
        gid = server.guild.id
        for thread in server.threads:
            asker = thread.owner_id
            assert asker is not None
            earned[(gid, asker)] += config.points_ask
            for message in fake.messages_in(thread):
                if message.id == thread.id or message.author_id in bots:
                    continue
                state.answers.add(message.id)
                earned[(gid, message.author_id)] += config.points_answer
                if asker not in quiet:
                    state.new_answer_dms[(message.id, asker)] += 1
                up = set(message.reaction_users(UP)) - bots
                down = set(message.reaction_users(DOWN)) - bots
                for user in up | down:
                    state.votes[(message.id, user)] = (user in up, user in down)
                earned[(gid, message.author_id)] += vote_points(
                    config, "answer", len(up - down), len(down - up)
                )
    state.points = {key: p for key, p in earned.items() if p}
    return state


VOTES_SQL = (
    "SELECT p.message_id, v.user_id, v.up, v.down FROM votes v JOIN posts p ON p.id = v.post_id"
)
NEW_ANSWER_DMS_SQL = (
    "SELECT p.message_id, n.recipient_id FROM notifications n JOIN posts p ON p.id = n.post_id"
    " WHERE n.kind = 'new_answer'"
)


async def stored_state(rows: Rows) -> State:
    votes = {(m, u): (bool(up), bool(down)) for m, u, up, down in await rows(VOTES_SQL)}
    answers = {m for (m,) in await rows("SELECT message_id FROM posts WHERE kind = 'answer'")}
    members = await rows("SELECT guild_id, user_id, points FROM members")
    dms = Counter((m, r) for m, r in await rows(NEW_ANSWER_DMS_SQL))
    return State(votes, answers, {(g, u): p for g, u, p in members if p}, dms)


def differences(expected: State, stored: State) -> list[str]:
    """One line per kind of difference (empty: exact)."""
    notes = []
    if stored.votes != expected.votes:
        wrong = set(stored.votes.items()) ^ set(expected.votes.items())
        notes.append(f"votes differ on {len(wrong)} (message, member) keys")
    if stored.answers != expected.answers:
        notes.append(
            f"answers: {len(expected.answers - stored.answers)} missing, "
            f"{len(stored.answers - expected.answers)} unexpected"
        )
    if stored.points != expected.points:
        keys = stored.points.keys() | expected.points.keys()
        wrong_points = [k for k in keys if stored.points.get(k) != expected.points.get(k)]
        notes.append(f"points differ for {len(wrong_points)} members")
    twice = sum(1 for n in stored.new_answer_dms.values() if n > 1)
    missing = expected.new_answer_dms.keys() - stored.new_answer_dms.keys()
    undeserved = stored.new_answer_dms.keys() - expected.new_answer_dms.keys()
    if twice or missing or undeserved:
        notes.append(
            f"new-answer DMs: {len(missing)} missing, {twice} queued more than once, "
            f"{len(undeserved)} undeserved"
        )
    return notes


async def recompute_fixes(sessionmaker: Any, guild_ids: Iterable[int]) -> int:
    """Cached scores and points ``points.recompute_points`` had to fix, in all the servers."""

    async def recompute(session: Any) -> int:
        fixed = 0
        for gid in guild_ids:
            result = await points.recompute_points(session, gid)
            fixed += result.members_fixed + result.posts_fixed
        return fixed

    return await run_in_transaction(sessionmaker, recompute)
