"""Shard processes (issue 22, item 1): two real ``qa-bot run`` processes, shard 0 and shard 1
of 2, against one fake Discord and one PostgreSQL database.

Each server's events reach only the process running its shard (the fake routes by
``(guild_id >> 22) % 2``), and that process handles them: a native post adopted as a question,
an answer recorded, a vote applied, ``/profile`` answered. Both processes drain the outbox, and
every deserved DM is sent exactly once, naming its server whichever process sends it. The two
processes start at the same moment and share one session-start bucket (``max_concurrency`` 1):
the fake enforces one session start per window in it, and the IDENTIFY gate
(``bot.db.identify_gate``) spaces them so that none is refused. Stopping one process (SIGTERM)
leaves the other serving its server.

The bot's database writes are no event the fake sees, so the test polls its own connection.
"""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import create_engine, create_sessionmaker
from bot.db.models import Notification, Post, Vote
from bot.forum import prefs, settings
from bot.forum.shards import shard_of
from bot.forum.uow import run_in_transaction
from tests.db_support import until
from tests.fakediscord import FakeDiscord, Member, Message
from tests.fakediscord.fixtures import BotProcess
from tests.fakediscord.gateway import Session
from tests.fakediscord.model import Channel, Guild

pytestmark = pytest.mark.slow  # two process start-ups

SHARDS = (0, 1)
#: The session-start window: the bots' IDENTIFY_WINDOW and the fake's enforced spacing.
WINDOW = 1.0
ANSWER = "Keep the same wake-up time every day, even at weekends. ({n})"


class Server:
    """One server of the test, on one shard, with its forum, asker, helpers and voter."""

    def __init__(self, fake: FakeDiscord, shard: int) -> None:
        self.fake = fake
        self.shard = shard
        self.guild: Guild = fake.add_guild(f"Shard {shard} Guild", shard=(shard, len(SHARDS)))
        self.forum: Channel = fake.add_forum(self.guild, "questions", tags=["General"])
        self.general: Channel = fake.add_text_channel(self.guild, "general")
        self.asker: Member = fake.add_member(self.guild, f"asker{shard}")
        self.helpers = [fake.add_member(self.guild, f"helper{shard}-{n}") for n in range(2)]
        self.voter: Member = fake.add_member(self.guild, f"voter{shard}")
        self.thread: Channel | None = None


@pytest.fixture
async def processes(
    fake_discord: FakeDiscord, db_url: str, tmp_path: Path
) -> AsyncIterator[dict[int, BotProcess]]:
    """One not-yet-started ``qa-bot run`` per shard on ``db_url``; killed at teardown."""
    if not db_url.startswith("postgresql"):
        pytest.skip("one SQLite file serves one process: shard processes share PostgreSQL")
    made: dict[int, BotProcess] = {}
    for shard in SHARDS:
        cwd = tmp_path / f"shard{shard}"
        cwd.mkdir()
        made[shard] = BotProcess(fake=fake_discord, database_url=db_url, cwd=cwd)
        made[shard].env_overrides.update(
            NOTIFY_POLL_SECONDS="0.1", NOTIFY_LEASE_SECONDS="2", IDENTIFY_WINDOW=str(WINDOW)
        )
    try:
        yield made
    finally:
        for process in made.values():
            if process.running:
                await process.kill()


class Check:
    """Reads of the shared database."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def post(self, message_id: int) -> Post | None:
        async def work(s: AsyncSession) -> Post | None:
            return (await s.execute(select(Post).where(Post.message_id == message_id))).scalar()

        return await run_in_transaction(self.sessionmaker, work)

    async def votes_on(self, message_id: int) -> int:
        async def work(s: AsyncSession) -> int:
            query = (
                select(func.count())
                .select_from(Vote)
                .join(Post, Post.id == Vote.post_id)
                .where(Post.message_id == message_id, Vote.up)
            )
            return int((await s.execute(query)).scalar_one())

        return await run_in_transaction(self.sessionmaker, work)

    async def unsent(self, guild_id: int) -> int:
        """Notifications of the server not yet sent (None when there are none at all)."""

        async def work(s: AsyncSession) -> int:
            query = select(Notification.status).where(Notification.guild_id == guild_id)
            statuses = list((await s.execute(query)).scalars())
            return len([x for x in statuses if x != "sent"]) if statuses else -1

        return await run_in_transaction(self.sessionmaker, work)


def routed_to(fake: FakeDiscord, message: Message, session: Session) -> bool:
    """The message's MESSAGE_CREATE went to ``session`` and to no other."""
    events = fake.find_events("MESSAGE_CREATE", where=lambda e: e.data["id"] == str(message.id))
    return [e.session_id for e in events] == [session.id]


def dm_lines(processes: dict[int, BotProcess], guild: Guild) -> int:
    """How many DMs the processes logged as sent for the server."""
    pattern = re.compile(rf"DM \d+ sent for notifications [\d, ]+ \(guild {guild.id},")
    return sum(len(pattern.findall(p.output)) for p in processes.values())


async def serve(fake: FakeDiscord, check: Check, server: Server, session: Session, n: int) -> None:
    """One answer (and on the first visit a question, a vote, /profile) in the server, each
    handled by the process of its shard."""
    if server.thread is None:
        server.thread = await server.asker.create_post(
            server.forum, "How do I sleep better?", "I wake up at 3 am most nights."
        )

        async def adopted() -> bool:
            assert server.thread is not None
            return await check.post(server.thread.id) is not None

        await until(adopted, f"the question on shard {server.shard} adopted")
    helper = server.helpers[n % len(server.helpers)]
    answer = await helper.send(server.thread, ANSWER.format(n=n))
    assert routed_to(fake, answer, session)

    async def recorded() -> bool:
        post = await check.post(answer.id)
        return post is not None and post.kind == "answer"

    await until(recorded, f"answer {n} on shard {server.shard} recorded")
    await server.voter.react(answer, "👍")

    async def voted() -> bool:
        return await check.votes_on(answer.id) == 1

    await until(voted, f"the vote on shard {server.shard} applied")
    ix = await helper.slash("profile", {}, channel=server.general)
    reply = await ix.message(timeout=10)
    assert reply.ephemeral and "Points" in reply.embed_text()


async def dms_settled(
    fake: FakeDiscord,
    check: Check,
    server: Server,
    processes: dict[int, BotProcess],
    expected: int,
) -> None:
    """Until ``expected`` DMs reached the server's asker, were logged by the processes and the
    server's notifications are all marked sent."""
    await fake.wait_until(
        lambda: (
            (
                len(fake.dms_to(server.asker)) >= expected
                and dm_lines(processes, server.guild) >= expected
            )
            or None
        ),
        timeout=15,
        what=f"{expected} DMs to the asker on shard {server.shard}, logged",
    )

    async def all_sent() -> bool:
        return await check.unsent(server.guild.id) == 0

    await until(all_sent, f"the notifications of shard {server.shard} marked sent")


async def test_two_shard_processes_share_the_servers_and_the_outbox(
    fake_discord: FakeDiscord, db_url: str, processes: dict[int, BotProcess]
) -> None:
    fake = fake_discord
    fake.gateway.session_start_window = WINDOW  # Discord's session-start limit, enforced
    servers = {shard: Server(fake, shard) for shard in SHARDS}
    assert {shard_of(s.guild.id, len(SHARDS)) for s in servers.values()} == set(SHARDS)
    engine = create_engine(db_url)
    sessionmaker = create_sessionmaker(engine)
    check = Check(sessionmaker)
    try:
        for server in servers.values():
            values = {"forum_channel_id": server.forum.id, "notify_coalesce_seconds": 0}
            for key, value in values.items():
                await run_in_transaction(
                    sessionmaker,
                    lambda s, g=server.guild.id, key=key, value=value: settings.set_setting(
                        s, g, key, value
                    ),
                )
            # A private preview names the server: whichever process sends the DM knows it.
            await run_in_transaction(
                sessionmaker,
                lambda s, u=server.asker.id: prefs.set_dm_options(s, u, preview="no-text"),
            )
        code, output = await processes[0].run_command("sync-commands", "--global")
        assert code == 0, output

        # Both processes start together, each with its shard.
        await asyncio.gather(
            *(
                p.start("--shard-count", str(len(SHARDS)), "--shard-ids", str(shard))
                for shard, p in processes.items()
            )
        )
        sessions: dict[int, Session] = {}
        for shard, process in processes.items():
            (sessions[shard],) = await process.wait_ready(shards=(shard,), timeout=30)
        identifies = fake.gateway.identifies
        assert [i.too_soon for i in identifies] == [False, False], identifies
        assert sorted(i.shard for i in identifies) == [(0, 2), (1, 2)]
        assert abs(identifies[1].time - identifies[0].time) >= WINDOW
        for shard, process in processes.items():
            await process.wait_for_output(rf"shard {shard} ready")
            assert f"shard {1 - shard} ready" not in process.output

        # Each server is served by the process of its shard; each DM is sent once.
        for shard, server in servers.items():
            await serve(fake, check, server, sessions[shard], n=0)
        for server in servers.values():
            await dms_settled(fake, check, server, processes, expected=1)
            (dm,) = fake.dms_to(server.asker)
            assert f"in {server.guild.name}" in dm.embed_text()
            assert dm_lines(processes, server.guild) == 1

        # Shard 0's process stops; shard 1's keeps serving its server.
        assert await processes[0].terminate(signal.SIGTERM) == 0
        assert "Traceback" not in processes[0].output
        await serve(fake, check, servers[1], sessions[1], n=1)
        await dms_settled(fake, check, servers[1], processes, expected=2)
        assert len(fake.dms_to(servers[1].asker)) == 2
        assert dm_lines(processes, servers[1].guild) == 2
        assert len(fake.gateway.identifies) == len(SHARDS)  # no session started again
        assert processes[1].running
        assert await processes[1].terminate(signal.SIGTERM) == 0
        assert "Traceback" not in processes[1].output
    finally:
        await engine.dispose()


# ---------------------------------------------------------------------- one process, its flags


async def test_one_process_runs_every_shard_discord_recommends(
    fake_discord: FakeDiscord, bot_process: BotProcess
) -> None:
    fake = fake_discord
    assert fake.guild is not None
    fake.recommended_shards = 2
    fake.add_guild("Second Guild", shard=(1 - shard_of(fake.guild.id, 2), 2))
    await bot_process.start()
    await bot_process.wait_ready(shards=SHARDS)
    assert sorted(i.shard for i in fake.gateway.identifies) == [(0, 2), (1, 2)]
    for shard in SHARDS:
        await bot_process.wait_for_output(rf"shard {shard} ready")
    assert await bot_process.terminate(signal.SIGTERM) == 0


async def test_the_flags_override_the_shard_settings(
    fake_discord: FakeDiscord, bot_process: BotProcess
) -> None:
    fake = fake_discord
    bot_process.env_overrides.update(SHARD_COUNT="3", SHARD_IDS="0,2")
    await bot_process.start("--shard-count", "2", "--shard-ids", "1")
    await bot_process.wait_ready(shards=(1,))
    await bot_process.wait_for_output(r"shard 1 ready")
    assert [i.shard for i in fake.gateway.identifies] == [(1, 2)]
    assert set(fake.gateway.current) == {1}
    assert await bot_process.terminate(signal.SIGTERM) == 0


async def test_shard_ids_outside_the_count_are_refused(bot_process: BotProcess) -> None:
    await bot_process.start("--shard-count", "2", "--shard-ids", "0,2")
    await bot_process.wait_for_output(r"qa-bot: Bad setting")
    assert bot_process.proc is not None
    assert await bot_process.proc.wait() == 2
    assert "SHARD_IDS [2] are outside 0..SHARD_COUNT-1" in bot_process.output
    assert "Traceback" not in bot_process.output
