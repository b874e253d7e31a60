"""Reconciliation's stored side: the window's questions and their marks, re-pages carried over,
orphaned pending rows, each server's last run."""

from __future__ import annotations

from datetime import timedelta

from bot.forum import deletion, reconcile
from bot.forum.reconcile import RunSummary
from tests.bot.forum.core_support import ANSWERER, GUILD, NOW, Forum


async def test_the_window_holds_the_live_questions_active_within_it(forum: Forum) -> None:
    recent = await forum.ask()
    forum.now = NOW - timedelta(days=20)
    old = await forum.ask(title="An old question about sleep")
    forum.now = NOW
    gone = await forum.ask(title="A deleted question about sleep")
    await forum.run(lambda s: deletion.delete_message(s, message_id=gone.message_id or 0))

    window = await forum.run(
        lambda s: reconcile.window_questions(s, GUILD, window_days=14, now=NOW)
    )

    assert [q.question_id for q in window] == [recent.id]
    assert old.id not in {q.question_id for q in window}
    assert window[0].high_water == recent.message_id == window[0].starter_id


async def test_the_mark_moves_forward_only_and_with_the_bots_own_messages(forum: Forum) -> None:
    question = await forum.ask()
    assert question.thread_id is not None
    await forum.message(question, ANSWERER, bot=True, message_id=50_000)
    await forum.run(lambda s: reconcile.advance_high_water(s, question.id, 40_000))

    (marked,) = await forum.run(
        lambda s: reconcile.window_questions(s, GUILD, window_days=14, now=NOW)
    )
    assert marked.high_water == 50_000


async def test_a_re_page_waits_until_done_and_a_gone_question_drops_it(forum: Forum) -> None:
    kept, dropped = await forum.ask(), await forum.ask(title="Another question about sleep")
    await forum.run(lambda s: reconcile.mark_repage(s, kept.id, 100))
    await forum.run(lambda s: reconcile.mark_repage(s, kept.id, 90))  # never moves back
    await forum.run(lambda s: reconcile.mark_repage(s, 999_999, 100))  # a purged question
    await forum.run(lambda s: reconcile.mark_repage(s, dropped.id, 100))

    assert await forum.run(lambda s: reconcile.repages_due(s, GUILD)) == {
        kept.id: 100,
        dropped.id: 100,
    }
    await forum.run(lambda s: reconcile.repaged(s, [dropped.id]))
    assert await forum.run(lambda s: reconcile.repages_due(s, GUILD)) == {kept.id: 100}
    assert await forum.run(lambda s: reconcile.repages_due(s, GUILD + 1)) == {}


async def test_the_last_run_replaces_the_one_before(forum: Forum) -> None:
    assert await forum.run(lambda s: reconcile.last_run(s, GUILD)) is None
    first = RunSummary(questions_scanned=3, requests_used=200, complete=False, finished_at=NOW)
    await forum.run(lambda s: reconcile.save_run(s, GUILD, first))
    later = RunSummary(questions_scanned=3, messages_backfilled=2, requests_used=5)
    await forum.run(lambda s: reconcile.save_run(s, GUILD, later))

    stored = await forum.run(lambda s: reconcile.last_run(s, GUILD))
    assert stored is not None and stored.complete and stored.messages_backfilled == 2
    assert stored.requests_used == 5 and stored.finished_at is not None
