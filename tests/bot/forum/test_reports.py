"""Reports in the domain: one open report per member and post, hide after N reports with every
cache equal to a recomputation, dismissal (audited, showing a post hidden by reports again),
and the queue grouped by post, most recently reported first."""

from __future__ import annotations

import pytest

from bot.forum import audit, report_queue, reports, settings
from bot.forum.errors import InvalidState, NotFound, PermissionDenied, ValidationError
from bot.forum.results import PostSnapshot
from tests.bot.forum.core_support import (
    ANSWERER,
    ASKER,
    GUILD,
    MODERATOR,
    OTHER,
    VOTER,
    Forum,
)

REPORTERS = (101, 102, 103)


async def file(
    forum: Forum, post: PostSnapshot, reporter: int, reason: str = ""
) -> reports.ReportFiled:
    assert post.message_id is not None
    mid = post.message_id
    return await forum.run(
        lambda s: reports.file_report(
            s,
            report=reports.Report(GUILD, message_id=mid, reporter_id=reporter, reason=reason),
            now=forum.now,
        )
    )


async def dismiss(forum: Forum, post: PostSnapshot) -> reports.CardState:
    return await forum.run(
        lambda s: reports.dismiss_reports(
            s, guild_id=GUILD, post_id=post.id, moderator_id=MODERATOR, now=forum.now
        )
    )


async def test_one_open_report_per_member_and_a_new_one_after_a_dismissal(forum: Forum) -> None:
    question = await forum.ask()
    filed = await file(forum, question, REPORTERS[0], "  mean  ")
    assert (filed.card.open_reports, filed.card.reasons, filed.hidden_now) == (1, ("mean",), False)
    with pytest.raises(InvalidState, match=reports.ALREADY_REPORTED):
        await file(forum, question, REPORTERS[0])
    filed = await file(forum, question, REPORTERS[1])
    assert (filed.card.open_reports, filed.card.reasons) == (2, ("mean",))
    with pytest.raises(PermissionDenied, match=reports.OWN_POST):
        await file(forum, question, ASKER)
    with pytest.raises(ValidationError):
        await file(forum, question, REPORTERS[2], "x" * (reports.REASON_MAX + 1))

    state = await dismiss(forum, question)
    assert (state.open_reports, state.dismissed_by, state.shown_again) == (0, MODERATOR, False)
    with pytest.raises(InvalidState, match="already handled"):
        await dismiss(forum, question)
    filed = await file(forum, question, REPORTERS[0], "again")
    assert (filed.card.open_reports, filed.card.reasons) == (1, ("again",))
    entries = (await forum.run(lambda s: audit.page(s, GUILD))).entries
    assert [(e.action, e.moderator_id, e.post_id) for e in entries] == [
        ("dismiss", MODERATOR, question.id)
    ]


async def test_what_is_no_live_post_of_the_guild_cannot_be_reported(forum: Forum) -> None:
    question = await forum.ask()
    answer = await forum.answer(question)
    await forum.delete(answer)
    with pytest.raises(NotFound):
        await file(forum, answer, REPORTERS[0])
    other_guild = Forum(forum.sessionmaker, guild_id=GUILD + 1, first_id=90_000)
    elsewhere = await other_guild.ask()
    with pytest.raises(NotFound):
        await file(forum, elsewhere, REPORTERS[0])
    with pytest.raises(NotFound):
        await forum.run(
            lambda s: reports.check_report(
                s, report=reports.Report(GUILD, message_id=1, reporter_id=OTHER)
            )
        )


async def test_hiding_a_question_after_n_reports_undoes_its_thread_and_dismissal_restores(
    forum: Forum,
) -> None:
    await forum.run(lambda s: settings.set_setting(s, GUILD, "reports_hide_after", 2))
    question = await forum.ask()
    answer = await forum.answer(question)
    await forum.vote(answer, VOTER)
    await forum.vote(question, VOTER)
    await forum.accept(answer)
    asker, answerer = await forum.points(ASKER), await forum.points(ANSWERER)
    assert asker > 0 and answerer > 0

    assert not (await file(forum, question, REPORTERS[0])).hidden_now
    filed = await file(forum, question, REPORTERS[1])
    assert filed.hidden_now and filed.card.post.hidden_by_reports
    assert (await forum.points(ASKER), await forum.points(ANSWERER)) == (0, 0)
    await forum.check()
    # A third report changes nothing more.
    assert not (await file(forum, question, REPORTERS[2])).hidden_now
    await forum.check()

    state = await dismiss(forum, question)
    assert state.shown_again and not state.post.hidden
    assert (await forum.points(ASKER), await forum.points(ANSWERER)) == (asker, answerer)
    await forum.check()


async def test_a_post_a_moderator_removed_stays_removed_after_a_dismissal(forum: Forum) -> None:
    question = await forum.ask()
    answer = await forum.answer(question)
    await file(forum, answer, REPORTERS[0])
    assert await forum.run(
        lambda s: reports.hide_post(s, answer.id, now=forum.now, removed_by=MODERATOR)
    )
    assert not await forum.run(lambda s: reports.hide_post(s, answer.id, now=forum.now))
    assert await forum.points(ANSWERER) == 0
    assert (await forum.get(question.id)).answer_count == 0
    await forum.check()
    state = await dismiss(forum, answer)
    assert state.post.hidden and not state.post.hidden_by_reports and not state.shown_again
    assert await forum.points(ANSWERER) == 0


async def test_the_queue_groups_by_post_most_recently_reported_first(forum: Forum) -> None:
    question = await forum.ask(title="Sleep")
    answer = await forum.answer(question)
    other = await forum.ask(title="Exams")
    await file(forum, answer, REPORTERS[0])
    await file(forum, question, REPORTERS[0])
    await file(forum, answer, REPORTERS[1])
    await file(forum, other, REPORTERS[2])
    await dismiss(forum, other)

    page = await forum.run(lambda s: report_queue.queue_page(s, GUILD, per_page=1))
    assert (page.total, page.pages, page.number) == (2, 2, 1)
    (first,) = page.entries
    assert (first.post_id, first.kind, first.title, first.open_reports) == (
        answer.id,
        "answer",
        "Sleep",
        2,
    )
    page = await forum.run(lambda s: report_queue.queue_page(s, GUILD, number=9, per_page=1))
    assert page.number == 2
    assert [(e.post_id, e.open_reports) for e in page.entries] == [(question.id, 1)]
