"""What the weekly digest shows of a quiet week: counts under 5 as "fewer than 5", and no share,
rate or time that would tell them; /mod stats (ephemeral, for a moderator) shows them plainly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.forum.health_attention import Attention, HealthReport, Unanswered
from bot.forum.health_stats import Figures, PeriodStats
from bot.ui.health import digest_embed, stats_embed

START = datetime(2030, 1, 1, tzinfo=UTC)


def report(questions: int) -> HealthReport:
    week = Figures(
        0, START, START + timedelta(days=7), questions=questions, answered=questions - 1,
        answered_24h=1, with_answer=questions - 1, answers=questions + 1, accepted=1, askers=2,
        answerers=1, median_seconds=600.0, p90_seconds=900.0,
    )  # fmt: skip
    overall = Figures(None, week.starts, week.ends, **{
        k: getattr(week, k) for k in ("questions", "answered", "answered_24h", "with_answer",
                                      "answers", "accepted", "askers", "answerers",
                                      "median_seconds", "p90_seconds")
    })  # fmt: skip
    return HealthReport(PeriodStats(week.starts, week.ends, [week], overall), Attention(3, [], []))


def test_a_quiet_week_in_the_digest_tells_no_count() -> None:
    text = str(digest_embed(report(3), 1).to_dict())
    assert "**Questions asked:** fewer than 5: too few to show the other figures." in text
    assert "fewer than 5 questions without an answer yet" in text
    for telling in ("/day", "%", "10 min", "asking"):
        assert telling not in text


def test_the_moderators_own_view_shows_the_counts() -> None:
    text = str(stats_embed(report(3), 1).to_dict())
    assert "**Questions asked:** 3 (0.4/day)" in text and "2 asking, 1 answering" in text
    assert "**Answered:** 66.7 %" in text and "median 10 min," in text


def test_an_imported_question_without_a_thread_is_marked_and_not_linked() -> None:
    base = report(6)
    oldest = [
        Unanswered(1, "Asked on the old site", None, START - timedelta(days=900)),
        Unanswered(2, "Asked here", 77, START),
    ]
    attention = Attention(2, oldest, [])
    text = str(stats_embed(HealthReport(base.stats, attention), 1).to_dict())
    imported_line = next(line for line in text.split("\\n") if "old site" in line)
    assert "📥 Imported" in imported_line and "](" not in imported_line
    here = next(line for line in text.split("\\n") if "Asked here" in line)
    assert "Imported" not in here and "/channels/1/77" in here
