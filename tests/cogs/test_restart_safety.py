"""Restart safety (issue 19, item 3): ``qa-bot run`` killed with SIGKILL during a burst of
answers, votes and accepts, restarted on the same database, ends in the state the burst deserves
and every deserved DM is sent exactly once.

The burst and its kill points come from a seeded schedule; the seed is printed (shown on a
failure) and ``QA_KILL_SEED=<seed>`` replays it. Votes are sent without waiting for the bot, so a
kill loses the ones in flight, and members vote while the bot is dead; the bot re-reads the
reactions when its new session is ready (``bot.reaction_sync``). Answers and accepts are made
while the bot is up and waited for (an answer posted while it is down is the reconciler's
message back-fill, tested with it; an interaction Discord never redelivers). Per reaction and
message, the votes between two re-reads move one way only: a lost add and a lost remove of the
same emoji would leave the count equal, which the re-read skips by design; so the burst goes on
after a restart once the bot logged its re-read.

The bot's database writes are no event the fake sees, so the test polls its own connection.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import create_engine, create_sessionmaker
from bot.db.models import Notification, Post, Vote
from bot.forum import points, settings
from bot.forum.uow import run_in_transaction
from tests.db_support import until
from tests.fakediscord import FakeDiscord, Member, Message
from tests.fakediscord.fixtures import BotProcess
from tests.fakediscord.model import Channel

pytestmark = pytest.mark.slow  # several process start-ups

EMOJIS = ("👍", "👎")
ANSWER = "Breathe in for four counts, hold for four, then breathe out slowly for six. ({n})"
STEPS = 24


@dataclass
class Burst:
    fake: FakeDiscord
    process: BotProcess
    sessionmaker: async_sessionmaker[AsyncSession]
    rng: random.Random
    seed: int
    asker: Member
    helpers: list[Member]
    voters: list[Member]
    threads: list[Channel] = field(default_factory=list)
    answers: dict[int, list[Message]] = field(default_factory=dict)  # thread id -> answers
    accepted: dict[int, Message] = field(default_factory=dict)  # thread id -> accepted answer
    #: Per (message id, emoji), the way votes moved since the last re-read: "add" or "remove".
    moved: dict[tuple[int, str], str] = field(default_factory=dict)
    kills: list[int] = field(default_factory=list)
    counter: int = 0

    @property
    def up(self) -> bool:
        return self.process.running

    async def read(self, work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
        return await run_in_transaction(self.sessionmaker, work)

    async def posts_by_message(self) -> dict[int, Post]:
        async def work(s: AsyncSession) -> dict[int, Post]:
            rows = (await s.execute(select(Post))).scalars().all()
            return {p.message_id: p for p in rows if p.message_id is not None}

        return await self.read(work)

    async def start(self) -> None:
        mark = len(self.fake.gateway.identifies)
        await self.process.start()
        await self.process.wait_ready(since_identify=mark)
        await self.process.wait_for_output(r"reactions re-read: ", timeout=30)
        self.moved.clear()  # the new session re-read every post's reactions

    async def kill(self, step: int) -> None:
        self.kills.append(step)
        await self.process.kill()
        await self.fake.wait_until(
            lambda: all(s.conn is None for s in self.fake.gateway.sessions.values()),
            what="the dead bot's connection to close",
        )

    # ------------------------------------------------------------------ gestures

    async def ask(self, n: int) -> None:
        thread = await self.asker.create_post(self.fake.forum, f"Question {n}", "I lie awake.")

        async def adopted() -> bool:
            return thread.id in await self.posts_by_message()

        await until(adopted, f"question {n} adopted")
        self.threads.append(thread)
        self.answers[thread.id] = []

    async def answer(self) -> None:
        thread = self.rng.choice(self.threads)
        helper = self.rng.choice(self.helpers)
        self.counter += 1
        message = await helper.send(thread, ANSWER.format(n=self.counter))

        async def recorded() -> bool:
            post = (await self.posts_by_message()).get(message.id)
            return post is not None and post.kind == "answer"

        await until(recorded, f"answer {message.id} recorded")
        self.answers[thread.id].append(message)

    async def accept(self) -> bool:
        open_threads = [t for t in self.threads if self.answers[t.id] and t.id not in self.accepted]
        if not open_threads:
            return False
        thread = self.rng.choice(open_threads)
        answer = self.rng.choice(self.answers[thread.id])
        ix = await self.asker.context_menu("Accept answer", answer)
        await ix.message(timeout=15)
        self.accepted[thread.id] = answer
        return True

    def votable(self) -> list[Message]:
        starters = [self.fake.message(t.id) for t in self.threads]
        return starters + [a for answers in self.answers.values() for a in answers]

    async def vote(self) -> None:
        """One member adds or takes back one vote reaction (not waited for)."""
        for _ in range(20):
            message = self.rng.choice(self.votable())
            voter = self.rng.choice(self.voters)
            emoji = self.rng.choice(EMOJIS)
            on = voter.id not in message.reaction_users(emoji)
            way = "add" if on else "remove"
            if self.moved.setdefault((message.id, emoji), way) != way:
                continue
            if on:
                await voter.react(message, emoji)
            else:
                await voter.unreact(message, emoji)
            return

    # ------------------------------------------------------------------ the expected state

    def expected_votes(self) -> dict[int, dict[int, tuple[bool, bool]]]:
        """message id -> member -> (up, down), as the reactions stand on Discord."""
        expected: dict[int, dict[int, tuple[bool, bool]]] = {}
        for message in self.votable():
            ups = set(message.reaction_users(EMOJIS[0])) - {self.fake.bot_user.id}
            downs = set(message.reaction_users(EMOJIS[1])) - {self.fake.bot_user.id}
            if ups | downs:
                expected[message.id] = {u: (u in ups, u in downs) for u in ups | downs}
        return expected

    async def stored_votes(self) -> dict[int, dict[int, tuple[bool, bool]]]:
        async def work(s: AsyncSession) -> dict[int, dict[int, tuple[bool, bool]]]:
            rows = await s.execute(
                select(Post.message_id, Vote.user_id, Vote.up, Vote.down).join(
                    Post, Post.id == Vote.post_id
                )
            )
            stored: dict[int, dict[int, tuple[bool, bool]]] = {}
            for message_id, user_id, up, down in rows:
                if up or down:
                    stored.setdefault(message_id, {})[user_id] = (up, down)
            return stored

        return await self.read(work)

    async def notifications(self) -> list[Notification]:
        async def work(s: AsyncSession) -> list[Notification]:
            return list((await s.execute(select(Notification))).scalars().all())

        return await self.read(work)


async def play(burst: Burst) -> None:
    for n in range(2):
        await burst.ask(n)
    kill_at = set(burst.rng.sample(range(2, STEPS), 3))
    for step in range(STEPS):
        roll = burst.rng.random()
        if roll < 0.3 or not any(burst.answers.values()):
            await burst.answer()
        elif roll < 0.45 and await burst.accept():
            pass
        else:
            for _ in range(burst.rng.randint(1, 4)):
                await burst.vote()
        if step in kill_at:
            await burst.kill(step)
            for _ in range(burst.rng.randint(0, 4)):  # members vote while the bot is dead
                await burst.vote()
            await burst.start()
    # A last burst of votes, then a last kill and restart: they are re-read too.
    for _ in range(3):
        await burst.vote()
    await burst.kill(STEPS)
    await burst.start()


async def test_sigkill_during_a_burst_loses_no_vote_answer_accept_or_dm(
    db_url: str, fake_discord: FakeDiscord, bot_process: BotProcess
) -> None:
    seed = int(os.environ.get("QA_KILL_SEED") or random.randrange(1 << 32))
    print(f"restart-safety seed {seed}: replay with QA_KILL_SEED={seed}")
    fake = fake_discord
    assert fake.guild is not None and fake.forum is not None
    bot_process.database_url = db_url
    bot_process.env_overrides.update(NOTIFY_POLL_SECONDS="0.1", NOTIFY_LEASE_SECONDS="2")
    engine = create_engine(db_url)
    sessionmaker = create_sessionmaker(engine)
    guild_id = fake.guild.id
    try:
        values = {
            "forum_channel_id": fake.forum.id,
            "notify_coalesce_seconds": 0,
            "questions_per_hour": 10_000,
            "answers_per_hour": 10_000,
        }
        for key, value in values.items():
            await run_in_transaction(
                sessionmaker,
                lambda s, key=key, value=value: settings.set_setting(s, guild_id, key, value),
            )
        code, output = await bot_process.run_command("sync-commands", "--global")
        assert code == 0, output
        burst = Burst(
            fake,
            bot_process,
            sessionmaker,
            random.Random(seed),
            seed,
            asker=fake.add_member(fake.guild, "asker"),
            helpers=[fake.add_member(fake.guild, f"helper{n}") for n in range(3)],
            voters=[fake.add_member(fake.guild, f"voter{n}") for n in range(5)],
        )
        await burst.start()
        await play(burst)
        where = f"seed {seed}, kills after steps {burst.kills}"

        expected = burst.expected_votes()

        async def votes_settled() -> bool:
            return await burst.stored_votes() == expected

        try:
            await until(votes_settled, f"stored votes equal the reactions ({where})")
        except AssertionError:
            stored = await burst.stored_votes()
            diff = {
                m: (stored.get(m), expected.get(m))
                for m in stored.keys() | expected.keys()
                if stored.get(m) != expected.get(m)
            }
            log = "\n".join(line for line in bot_process.output.splitlines() if "re-read" in line)
            raise AssertionError(f"{where}: stored, expected differ: {diff}\n{log}") from None

        async def dms_settled() -> bool:
            return all(n.status == "sent" for n in await burst.notifications())

        await until(dms_settled, f"every notification sent ({where})")

        by_message = await burst.posts_by_message()
        answers = {m.id for answers in burst.answers.values() for m in answers}
        stored_answers = {mid for mid, p in by_message.items() if p.kind == "answer"}
        assert stored_answers == answers, where
        for thread in burst.threads:
            accepted = burst.accepted.get(thread.id)
            want = None if accepted is None else by_message[accepted.id].id
            assert by_message[thread.id].accepted_answer_id == want, where
        fixed = await run_in_transaction(
            sessionmaker, lambda s: points.recompute_points(s, guild_id)
        )
        assert (fixed.members_fixed, fixed.posts_fixed) == (0, 0), where

        # Every deserved DM exactly once: one notification per answer (to the asker) and per
        # accept (to the answerer), each in a DM to its recipient; no DM twice for one key.
        rows = await burst.notifications()
        kinds = Counter(n.kind for n in rows)
        assert kinds == Counter(new_answer=len(answers), accepted=len(burst.accepted)), where
        # (Answers to one question queued while the bot was dead go out as one DM.)
        members = [burst.asker, *burst.helpers]
        recipient_of = {dm.id: m.id for m in members for dm in fake.dms_to(m)}
        keys = Counter((recipient_of[dm.id], dm.nonce) for m in members for dm in fake.dms_to(m))
        assert all(count == 1 for count in keys.values()), (where, keys)
        assert set(recipient_of) == {n.sent_message_id for n in rows}, where
        assert all(recipient_of[n.sent_message_id] == n.recipient_id for n in rows), where
        assert "Traceback" not in bot_process.output, where
    finally:
        await engine.dispose()
