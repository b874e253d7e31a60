"""The status-line coalescer and renderers: leading and trailing runs, per key, with a manual
cool-down (no timing), errors, shutdown; the text and embed a status message shows."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import UTC, datetime

import pytest

from bot.forum.results import PostSnapshot
from bot.ui.embeds import embed_problems, parse_footer_key
from bot.workers.status_lines import (
    Coalescer,
    author_label_of,
    question_message_embed,
    status_reply_text,
)


class ManualSleep:
    """A cool-down that ends when the test says so."""

    def __init__(self) -> None:
        self.waiting: list[tuple[float, asyncio.Future[None]]] = []
        self._changed = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append((seconds, future))
        self._pulse()
        try:
            await future
        finally:
            self.waiting = [w for w in self.waiting if w[1] is not future]
            self._pulse()

    def _pulse(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def until(self, count: int) -> None:
        """Until exactly ``count`` cool-downs are running."""
        async with asyncio.timeout(5):
            while len(self.waiting) != count:
                changed = self._changed
                await changed.wait()

    def end_all(self) -> None:
        ending, self.waiting = self.waiting, []
        for _, future in ending:
            if not future.done():
                future.set_result(None)


class Recorder:
    """The work: records which key ran and the state it saw; can be held mid-run."""

    def __init__(self) -> None:
        self.runs: list[tuple[int, int]] = []
        self.state: dict[int, int] = {}
        self.hold: asyncio.Event | None = None
        self.started = asyncio.Event()
        self.fail_next = False

    async def __call__(self, key: int) -> None:
        self.started.set()
        if self.hold is not None:
            await self.hold.wait()
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("edit failed")
        self.runs.append((key, self.state.get(key, 0)))


@pytest.fixture
def sleep() -> ManualSleep:
    return ManualSleep()


@pytest.fixture
def work() -> Recorder:
    return Recorder()


@pytest.fixture
async def lines(sleep: ManualSleep, work: Recorder) -> Coalescer[int]:
    coalescer: Coalescer[int] = Coalescer(work, interval=5.0, sleep=sleep, name="test")
    yield coalescer
    await coalescer.close()


async def test_a_burst_is_one_leading_and_one_trailing_run_showing_the_final_state(
    lines: Coalescer[int], sleep: ManualSleep, work: Recorder
) -> None:
    work.state[7] = 1
    lines.request(7)
    await sleep.until(1)  # the leading run happened at once, then the cool-down began
    assert work.runs == [(7, 1)]
    assert sleep.waiting[0][0] == 5.0
    for value in range(2, 60):
        work.state[7] = value
        lines.request(7)
        await asyncio.sleep(0)
    assert work.runs == [(7, 1)]  # nothing more during the cool-down
    sleep.end_all()
    await sleep.until(1)  # the trailing run, then its own cool-down
    assert work.runs == [(7, 1), (7, 59)]
    sleep.end_all()
    await lines.wait_idle()
    assert work.runs == [(7, 1), (7, 59)]
    assert not lines.busy


async def test_requests_before_the_first_run_are_one_run(
    lines: Coalescer[int], sleep: ManualSleep, work: Recorder
) -> None:
    for _ in range(20):
        lines.request(1)
    await sleep.until(1)
    sleep.end_all()
    await lines.wait_idle()
    assert work.runs == [(1, 0)]


async def test_a_request_during_a_run_gets_a_trailing_run(
    lines: Coalescer[int], sleep: ManualSleep, work: Recorder
) -> None:
    work.hold = asyncio.Event()
    lines.request(3)
    await asyncio.wait_for(work.started.wait(), 5)
    work.state[3] = 42  # changes after the run read nothing yet, but the request comes later
    lines.request(3)
    work.hold.set()
    await sleep.until(1)
    sleep.end_all()
    await sleep.until(1)
    sleep.end_all()
    await lines.wait_idle()
    assert work.runs == [(3, 42), (3, 42)]


async def test_keys_are_independent(
    lines: Coalescer[int], sleep: ManualSleep, work: Recorder
) -> None:
    lines.request(1)
    lines.request(2)
    await sleep.until(2)
    assert sorted(work.runs) == [(1, 0), (2, 0)]
    sleep.end_all()
    await lines.wait_idle()


async def test_after_a_quiet_cool_down_the_next_request_runs_at_once(
    lines: Coalescer[int], sleep: ManualSleep, work: Recorder
) -> None:
    lines.request(5)
    await sleep.until(1)
    sleep.end_all()
    await lines.wait_idle()
    work.state[5] = 9
    lines.request(5)
    await sleep.until(1)
    assert work.runs == [(5, 0), (5, 9)]
    sleep.end_all()
    await lines.wait_idle()


async def test_a_failing_run_is_logged_and_the_key_keeps_working(
    lines: Coalescer[int], sleep: ManualSleep, work: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    work.fail_next = True
    with caplog.at_level(logging.ERROR, logger="bot.workers.status_lines"):
        lines.request(4)
        await sleep.until(1)
    assert "test failed for 4" in caplog.text
    work.state[4] = 2
    lines.request(4)
    sleep.end_all()
    await sleep.until(1)
    sleep.end_all()
    await lines.wait_idle()
    assert work.runs == [(4, 2)]
    caplog.clear()


async def test_close_cancels_cool_downs_and_runs_and_ignores_later_requests(
    sleep: ManualSleep, work: Recorder
) -> None:
    coalescer: Coalescer[int] = Coalescer(work, interval=5.0, sleep=sleep)
    coalescer.request(1)
    await sleep.until(1)
    coalescer.request(1)  # a trailing run is due
    work.hold = asyncio.Event()
    work.started = asyncio.Event()
    coalescer.request(2)
    await asyncio.wait_for(work.started.wait(), 5)  # key 2 is mid-run
    await coalescer.close()
    assert not coalescer.busy and coalescer.closed
    assert sleep.waiting == []
    coalescer.request(3)
    assert not coalescer.busy
    assert work.runs == [(1, 0)]


# --------------------------------------------------------------------------- rendering


def _question(**changes: object) -> PostSnapshot:
    base = PostSnapshot(
        id=12,
        guild_id=1,
        kind="question",
        question_id=None,
        parent_id=None,
        thread_id=100,
        message_id=100,
        status_message_id=100,
        author_id=5,
        anonymous=False,
        via_bot=True,
        display_name=None,
        title="How do I sleep better?",
        body="**Details** with @everyone",
        category="Anxiety",
        status="open",
        state="live",
        closed_reason=None,
        closed_by_moderator=False,
        duplicate_of_id=None,
        accepted_answer_id=None,
        score=3,
        upvotes=3,
        downvotes=0,
        answer_count=2,
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
        closed_at=None,
        deleted_at=None,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_the_question_embed_carries_the_status_line_category_and_key() -> None:
    embed = question_message_embed(_question(), "alice")
    assert embed.author.name == "alice"
    status = next(f for f in embed.fields if f.name == "Status")
    assert status.value == "▲ 3 · 2 answers"
    assert any(f.name == "Category" and f.value == "Anxiety" for f in embed.fields)
    assert parse_footer_key(embed) == 12
    assert "@everyone" not in (embed.description or "")
    assert embed_problems(embed) == []


def test_a_solved_question_shows_it() -> None:
    embed = question_message_embed(_question(accepted_answer_id=44, score=-2), "alice")
    status = next(f for f in embed.fields if f.name == "Status")
    assert status.value == "▼ 2 · 2 answers · ✅ Solved"


def test_the_status_reply_of_a_native_post() -> None:
    text = status_reply_text(_question(via_bot=False, answer_count=1, score=0))
    assert text.splitlines()[0] == "▲ 0 · 1 answer"
    assert len(text) <= 2000


def test_the_author_line_is_kept_for_named_askers_and_never_shown_for_anonymous_ones() -> None:
    shown = question_message_embed(_question(), "alice")
    assert author_label_of(_question(), shown) == "alice"
    assert author_label_of(_question(), None) == "Member"
    anonymous = _question(anonymous=True, display_name="Sam")
    assert author_label_of(anonymous, shown) == "Sam"
    assert author_label_of(_question(anonymous=True), shown) == "Anonymous"
