"""``/healthz`` and ``/metrics`` (``HEALTH_PORT``), end to end on both backends: the real bot
against the fake Discord, its endpoints read over HTTP as Prometheus or a load balancer would.

The endpoints are polled with a bounded wait (``until``): what they show moves after the
bot's own work (a callback accepted, a batch committed), which the fake cannot signal.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.cogs.conftest import (
    BotEvents,
    add_forum_tag,
    ask_question_directly,
    configure_qa_guild,
    thread_message_handled,
    upvote,
)
from tests.cogs.test_database_gone import Outage, outage  # noqa: F401 - the fixture
from tests.fakediscord import FakeDiscord
from tests.fakediscord.fixtures import BotFactory, BotHarness, BotProcess

EXTENSIONS = ["cogs.asking", "cogs.answering", "cogs.notifications", "cogs.voting"]
LONG = "Breathe in for four counts, hold for four, then breathe out slowly for four."
MESSAGES = "/channels/{channel_id}/messages"

#: Every metric issue 22 names, by family name (counters without their ``_total``).
FAMILIES = {
    "qabot_gateway_events": "counter",
    "qabot_votes_applied": "counter",
    "qabot_vote_batch_size": "histogram",
    "qabot_vote_batch_seconds": "histogram",
    "qabot_interactions_received": "counter",
    "qabot_interactions_answered": "counter",
    "qabot_interaction_response_seconds": "histogram",
    "qabot_dms_sent": "counter",
    "qabot_dms_failed": "counter",
    "qabot_outbox_backlog": "gauge",
    "qabot_outbox_oldest_age_seconds": "gauge",
    "qabot_reconciliation_runs": "counter",
    "qabot_gateway_shard_up": "gauge",
}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def get(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as r:
        return r.status, await r.text()


class Endpoints:
    """The health port of one bot, read over HTTP."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.types: dict[str, str] = {}

    async def metrics(self) -> Samples:
        status, text = await get(self.port, "/metrics")
        assert status == 200
        samples: Samples = {}
        for family in text_string_to_metric_families(text):
            self.types[family.name] = family.type
            for s in family.samples:
                samples[(s.name, frozenset(s.labels.items()))] = s.value
        return samples

    async def until_metrics(self, check: Callable[[Samples], bool], timeout: float = 10) -> Samples:  # noqa: ASYNC109
        return await until(self.metrics, check, timeout, "/metrics")

    async def health(self) -> tuple[int, dict[str, Any]]:
        status, text = await get(self.port, "/healthz")
        return status, json.loads(text)

    async def until_health(
        self, status: int, check: Callable[[dict[str, Any]], bool] = lambda _: True
    ) -> dict[str, Any]:
        _, body = await until(
            self.health, lambda sb: sb[0] == status and check(sb[1]), 10, f"/healthz {status}"
        )
        return body


async def until(
    read: Callable[[], Any],
    check: Callable[[Any], bool],
    timeout: float,  # noqa: ASYNC109
    what: str,
) -> Any:
    """Read until ``check`` holds, at most ``timeout`` seconds (polled every 20 ms)."""
    last = None
    try:
        async with asyncio.timeout(timeout):
            while True:
                last = await read()
                if check(last):
                    return last
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"{what} never matched within {timeout} s; last: {last}") from None


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def start(factory: BotFactory, db_url: str, **settings: Any) -> tuple[BotHarness, Endpoints]:
    port = free_port()
    harness = await factory(
        extensions=EXTENSIONS, database_url=db_url, health_port=port, **settings
    )
    await harness.bot.health_server.wait_idle()
    return harness, Endpoints(port)


# --------------------------------------------------------------------------- /metrics


async def test_metrics_hold_every_metric_and_move_with_the_bots_work(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    fake = fake_discord
    assert fake.guild is not None
    solved = add_forum_tag(fake, "Solved")
    alice, bob, carol, dave = (
        fake.add_member(fake.guild, n) for n in ("alice", "bob", "carol", "dave")
    )
    harness, ends = await start(qa_bot_factory, db_url, notify_poll_seconds=30)
    await configure_qa_guild(harness, solved_tag_id=solved, notify_coalesce_seconds=0)
    events = BotEvents(harness, "qa_thread_message", "raw_reaction_add")

    before = await ends.metrics()
    assert {name: ends.types.get(name) for name in FAMILIES} == FAMILIES
    assert value(before, "qabot_reconciliation_runs_total", outcome="done") == 1  # at start
    assert value(before, "qabot_gateway_shard_up", shard="0") == 1
    assert value(before, "qabot_gateway_events_total", type="READY") == 1
    assert value(before, "qabot_outbox_backlog") == 0

    # An /ask: the modal is the interaction's answer.
    ix = await alice.slash("ask", {}, channel=fake.general)
    await ix.modal()
    after_ask = await ends.until_metrics(
        lambda m: value(m, "qabot_interactions_answered_total", command="ask") == 1
    )
    assert value(after_ask, "qabot_interactions_received_total", command="ask") == 1
    assert value(after_ask, "qabot_interaction_response_seconds_count", command="ask") == 1

    # An answer whose DM waits in Discord: the outbox shows it, then it is sent.
    asked = await ask_question_directly(harness, alice)
    gate = fake.faults.hold("POST", MESSAGES, where=lambda c: "nonce" in (c.json or {}))
    answer = await bob.send(asked.thread, LONG)
    await thread_message_handled(events, answer)
    await gate.arrived()
    waiting = await ends.metrics()
    assert value(waiting, "qabot_outbox_backlog") == 1
    assert value(waiting, "qabot_outbox_oldest_age_seconds") > 0
    gate.release()
    # (a scrape reads the outbox before it renders the counters: the two may be a commit apart)
    await ends.until_metrics(
        lambda m: value(m, "qabot_dms_sent_total") == 1 and value(m, "qabot_outbox_backlog") == 0
    )

    # A vote.
    await upvote(harness, events, carol, answer)
    voted = await ends.until_metrics(lambda m: value(m, "qabot_votes_applied_total") >= 1)
    assert value(voted, "qabot_vote_batch_size_count") >= 1
    assert value(voted, "qabot_vote_batch_seconds_count") >= 1
    assert value(voted, "qabot_gateway_events_total", type="MESSAGE_REACTION_ADD") == 1

    # A DM that fails: the asker's DMs are closed.
    fake.rules.close_dms(alice)
    other = await dave.send(asked.thread, LONG + " Twice.")
    await thread_message_handled(events, other)
    harness.bot.notifier.wake()
    failed = await ends.until_metrics(
        lambda m: value(m, "qabot_dms_failed_total", reason="undeliverable") == 1
    )
    assert value(failed, "qabot_dms_failed_total", reason="retry") == 0

    # A new session: reconciled again.
    fake.faults.invalidate_session(0)
    again = await ends.until_metrics(
        lambda m: value(m, "qabot_reconciliation_runs_total", outcome="done") == 2
    )
    assert value(again, "qabot_gateway_events_total", type="READY") == 2
    events.close()


# --------------------------------------------------------------------------- /healthz


async def test_healthz_is_200_with_each_check_while_all_is_well(
    db_url: str, qa_bot_factory: BotFactory
) -> None:
    _, ends = await start(qa_bot_factory, db_url)
    status, body = await ends.health()
    assert status == 200
    assert body["healthy"] is True
    checks = body["checks"]
    assert checks["gateway"] == {
        "ok": True,
        "grace_seconds": 60.0,
        "shards": {"0": {"live": True, "down_seconds": 0.0}},
    }
    assert checks["database"] == {"ok": True}
    assert checks["outbox"] == {
        "ok": True,
        "backlog": 0,
        "threshold": 1000,
        "oldest_age_seconds": None,
    }


async def test_a_gateway_drop_within_the_grace_stays_healthy(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    _, ends = await start(qa_bot_factory, db_url)
    async with fake_discord.gateway.paused():
        await fake_discord.faults.drop_connection(0)
        body = await ends.until_health(
            200, lambda b: not b["checks"]["gateway"]["shards"]["0"]["live"]
        )
        assert body["healthy"] is True


async def test_a_gateway_down_past_the_grace_is_unhealthy_until_it_resumes(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    _, ends = await start(qa_bot_factory, db_url, health_gateway_grace=0.3)
    await ends.until_health(200)
    resumes = len(fake_discord.gateway.resume_attempts)
    async with fake_discord.gateway.paused():
        await fake_discord.faults.drop_connection(0)
        body = await ends.until_health(503)
        gateway = body["checks"]["gateway"]
        assert gateway["ok"] is False
        assert gateway["shards"]["0"]["live"] is False
        assert gateway["shards"]["0"]["down_seconds"] >= 0.3
        assert body["checks"]["database"] == {"ok": True}
        metrics = await ends.metrics()
        assert value(metrics, "qabot_gateway_shard_up", shard="0") == 0
    body = await ends.until_health(200)
    assert body["checks"]["gateway"]["shards"]["0"]["live"] is True
    assert len(fake_discord.gateway.resume_attempts) > resumes  # resumed, not a new session


async def test_healthz_is_503_while_the_database_is_unreachable(
    outage: Outage,  # noqa: F811 - the fixture
    db_url: str,
    qa_bot_factory: BotFactory,
) -> None:
    _, ends = await start(qa_bot_factory, db_url, health_database_timeout=1.0)
    await ends.until_health(200)
    await outage.begin()
    body = await ends.until_health(503)
    checks = body["checks"]
    # PostgreSQL refuses the connection; SQLite's lock is retried until the bound.
    assert checks["database"] in (
        {"ok": False, "error": "database unavailable"},
        {"ok": False, "error": "no answer within 1 s"},
    )
    assert checks["outbox"] == {"ok": False, "error": "database did not answer"}
    assert checks["gateway"]["ok"] is True
    await outage.end()
    await ends.until_health(200)


async def test_a_backlog_past_the_threshold_is_unhealthy(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    fake = fake_discord
    assert fake.guild is not None
    alice, bob = (fake.add_member(fake.guild, n) for n in ("alice", "bob"))
    harness, ends = await start(
        qa_bot_factory, db_url, health_outbox_backlog=1, notify_poll_seconds=30
    )
    await configure_qa_guild(harness, notify_coalesce_seconds=0)
    events = BotEvents(harness, "qa_thread_message")
    asked = await ask_question_directly(harness, alice)
    gate = fake.faults.hold("POST", MESSAGES, where=lambda c: "nonce" in (c.json or {}))
    await thread_message_handled(events, await bob.send(asked.thread, LONG))
    await gate.arrived()
    body = await ends.until_health(503)
    assert body["checks"]["outbox"]["backlog"] == 1
    assert body["checks"]["outbox"]["threshold"] == 1
    gate.release()
    body = await ends.until_health(200)
    assert body["checks"]["outbox"]["backlog"] == 0
    events.close()


async def test_no_health_port_serves_nothing(db_url: str, qa_bot_factory: BotFactory) -> None:
    harness = await qa_bot_factory(extensions=[], database_url=db_url)
    assert harness.bot.health_server is None
    assert all(w.name != "health server" for w in harness.bot.workers)


# --------------------------------------------------------------------------- the process


@pytest.mark.slow
async def test_qa_bot_run_health_port_serves_both_endpoints(
    db_url: str, bot_process: BotProcess
) -> None:
    port = free_port()
    bot_process.database_url = db_url
    await bot_process.start("--health-port", str(port))
    await bot_process.wait_ready()
    await bot_process.wait_for_output(r"health and metrics on http://127\.0\.0\.1:\d+/healthz")
    ends = Endpoints(port)
    await ends.until_health(200)
    samples = await ends.metrics()
    assert set(FAMILIES) <= set(ends.types)
    assert value(samples, "qabot_gateway_shard_up", shard="0") == 1
    assert value(samples, "process_resident_memory_bytes") > 0
    assert await bot_process.terminate() == 0


async def test_a_health_port_in_use_is_one_error_line_and_the_bot_runs_on(
    db_url: str, qa_bot_factory: BotFactory
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        harness = await qa_bot_factory(extensions=[], database_url=db_url, health_port=port)
        harness.allow_errors()
        [record] = await harness.wait_for_errors()
        assert record.getMessage().startswith(f"health port 127.0.0.1:{port} cannot be bound")
        assert not harness.bot.is_closed()


@pytest.mark.slow
async def test_a_bad_health_port_stops_the_start_with_one_sentence(
    bot_process: BotProcess,
) -> None:
    code, output = await bot_process.run_command("run", "--health-port", "70000")
    assert code == 2
    assert output.strip().splitlines()[-1].startswith("qa-bot: Bad setting HEALTH_PORT:")
