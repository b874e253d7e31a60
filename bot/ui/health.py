"""Community health as moderators see it: ``/mod stats``' embed (the period's figures, each
beside Area 51's bar where one exists), its CSV of weekly rows, the chart's data and alt text,
and the weekly digest posted to the moderator channel (small counts shown as "fewer than 5").

Aggregates only: no figure names or counts a member, anonymous or not.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Final

import discord

from bot.charts.health import ChartData
from bot.forum.health_attention import HealthReport
from bot.forum.health_stats import (
    BAR_ANSWERED,
    BAR_ANSWERS_PER_QUESTION,
    BAR_QUESTIONS_PER_DAY,
    Figures,
)
from bot.ui.embeds import (
    COLOUR_INFO,
    add_field,
    fit,
    joined_lines,
    link_text,
    new_embed,
    quoted_title,
)
from bot.ui.imported import IMPORTED_MARK
from bot.ui.text import EMBED_FIELD_VALUE, format_duration, format_relative, jump_url

ANSWERED_MEANS: Final = "answered: an answer with a positive score, or an accepted answer"
#: Counts below this are "fewer than 5" in anything posted to a channel.
SMALL_COUNT: Final = 5
FEWER: Final = "fewer than 5"
ALT_TEXT_MAX: Final = 1024
CSV_HEADER: Final = (
    "week_start", "week_end", "questions", "answered_pct", "answered_24h_pct",
    "median_first_answer_minutes", "p90_first_answer_minutes", "answers_per_question",
    "accepted_pct", "active_askers", "active_answerers",
)  # fmt: skip

Count = Callable[[int], str]


def _plain(n: int) -> str:
    return f"{n:,}"


def small(n: int) -> str:
    """A count as a channel digest shows it: "fewer than 5" below 5 (0 included)."""
    return FEWER if n < SMALL_COUNT else f"{n:,}"


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.1f} %"


def _time(seconds: float | None) -> str:
    return "–" if seconds is None else format_duration(timedelta(seconds=round(seconds)))


def _bar(met: bool) -> str:
    return "✅ meets" if met else "❌ below"


def summary_lines(f: Figures, count: Count = _plain) -> list[str]:
    """The period's figures, one a line; Area 51's bar beside those it sets."""
    asked, per_day = f.answered_share, f.questions_per_day
    apq = f.answers_per_question
    return [
        f"**Questions asked:** {count(f.questions)} ({per_day:.1f}/day) · "
        f"{_bar(per_day >= BAR_QUESTIONS_PER_DAY)} Area 51's {BAR_QUESTIONS_PER_DAY:g}/day",
        f"**Answered:** {_pct(asked)} · {_bar(asked is not None and asked >= BAR_ANSWERED)} "
        f"Area 51's {BAR_ANSWERED:.0%} ({ANSWERED_MEANS})",
        f"**Answers per question:** {'–' if apq is None else f'{apq:.2f}'} · "
        f"{_bar(apq is not None and apq >= BAR_ANSWERS_PER_QUESTION)} "
        f"Area 51's {BAR_ANSWERS_PER_QUESTION:g}",
        f"**Answered within 24 h:** {_pct(f.answered_24h_share)} (a first answer of any score)",
        f"**Time to first answer:** median {_time(f.median_seconds)}, "
        f"90th percentile {_time(f.p90_seconds)}",
        f"**Accepted answer:** {_pct(f.accepted_share)}",
        f"**Active members:** {count(f.askers)} asking, {count(f.answerers)} answering",
    ]


def _attention_lines(report: HealthReport, guild_id: int, count: Count) -> tuple[str, str]:
    attention = report.attention
    oldest = [
        f"• [{link_text(quoted_title('', q.title, 120))}]({jump_url(guild_id, q.thread_id)})"
        f" · asked {format_relative(q.created_at)}"
        if q.thread_id is not None
        else f"• {quoted_title('', q.title, 120)} · {IMPORTED_MARK} · asked"
        f" {format_relative(q.created_at)}"  # no thread yet: only imported history is so
        for q in attention.oldest
    ]
    backlog = f"{count(attention.backlog)} questions without an answer yet.\n"
    falling = [
        f"• {quoted_title('', f.category, 80)}: {f.before:.0%} → {f.after:.0%} answered"
        for f in attention.falling
    ]
    return (
        backlog + joined_lines(oldest, EMBED_FIELD_VALUE - len(backlog)),
        joined_lines(falling, EMBED_FIELD_VALUE) or "None: no category's answer rate is falling.",
    )


def _period(report: HealthReport) -> str:
    weeks = len(report.stats.weeks)
    return f"the last {weeks} weeks"


def stats_embed(report: HealthReport, guild_id: int) -> discord.Embed:
    """``/mod stats``' summary; the weekly rows are the CSV, the chart the PNG."""
    overall = report.stats.overall
    assert overall is not None
    embed = new_embed(
        colour=COLOUR_INFO,
        title=f"Community health: {_period(report)}",
        description="\n".join(summary_lines(overall)),
    )
    oldest, falling = _attention_lines(report, guild_id, _plain)
    add_field(embed, "Needs attention: the oldest unanswered questions", oldest)
    add_field(embed, "Needs attention: categories answered less and less", falling)
    return fit(embed)


def _shared(f: Figures) -> str:
    """Figures for a channel: counts under 5 as "fewer than 5", and nothing derived from fewer
    than 5 questions (a share or a rate of so few would tell the count)."""
    if f.questions < SMALL_COUNT:
        return f"**Questions asked:** {FEWER}: too few to show the other figures."
    return "\n".join(summary_lines(f, small))


def digest_embed(report: HealthReport, guild_id: int) -> discord.Embed:
    """The weekly digest for the moderator channel: the last week's figures and the period's,
    counts under 5 shown as "fewer than 5"."""
    overall, last = report.stats.overall, report.stats.weeks[-1]
    assert overall is not None
    embed = new_embed(
        colour=COLOUR_INFO, title="Weekly community health", description=_shared(last)
    )
    add_field(embed, f"Over {_period(report)}", _shared(overall))
    oldest, falling = _attention_lines(report, guild_id, small)
    add_field(embed, "Needs attention: the oldest unanswered questions", oldest)
    add_field(embed, "Needs attention: categories answered less and less", falling)
    embed.set_footer(text="Details, the weekly rows and the chart: /mod stats")
    return fit(embed)


def _minutes(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 60:.1f}"


def _share(share: float | None) -> str:
    return "" if share is None else f"{share * 100:.1f}"


def weekly_csv(report: HealthReport) -> bytes:
    """One row a week, oldest first, and a last row for the whole period."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    overall = report.stats.overall
    for f in [*report.stats.weeks, *([overall] if overall else [])]:
        apq = f.answers_per_question
        writer.writerow([
            f.starts.date().isoformat() if f.week is not None else "period",
            f.ends.date().isoformat(), f.questions, _share(f.answered_share),
            _share(f.answered_24h_share), _minutes(f.median_seconds), _minutes(f.p90_seconds),
            "" if apq is None else f"{apq:.2f}", _share(f.accepted_share), f.askers, f.answerers,
        ])  # fmt: skip
    return out.getvalue().encode()


def _week_label(f: Figures) -> str:
    return f.starts.strftime("%d %b")


def chart_data(report: HealthReport) -> ChartData:
    weeks = report.stats.weeks
    return ChartData(
        title=f"Community health, {_period(report)} (weeks starting)",
        weeks=[_week_label(f) for f in weeks],
        questions=[f.questions for f in weeks],
        answered_24h_percent=[
            None if f.answered_24h_share is None else round(f.answered_24h_share * 100, 1)
            for f in weeks
        ],
        median_hours=[
            None if f.median_seconds is None else round(f.median_seconds / 3600, 2) for f in weeks
        ],
        questions_bar=BAR_QUESTIONS_PER_DAY * 7,
        answered_bar_percent=BAR_ANSWERED * 100,
    )


def alt_text(report: HealthReport) -> str:
    """The chart described for a screen reader (an attachment's description)."""
    weeks = report.stats.weeks
    data = chart_data(report)
    busiest = max(weeks, key=lambda f: f.questions)
    shares = [p for p in data.answered_24h_percent if p is not None]
    text = (
        f"Chart of {_period(report)}, weeks from {data.weeks[0]} to {data.weeks[-1]}. "
        f"Bars: questions per week, from {min(data.questions)} to {max(data.questions)} "
        f"(most in the week of {_week_label(busiest)}), against Area 51's "
        f"{data.questions_bar:g} a week. Line: share answered within 24 hours"
        + (f", from {min(shares):g} % to {max(shares):g} %" if shares else ", no data")
        + f", against Area 51's {data.answered_bar_percent:g} % answered. Lower panel: median "
        f"time to first answer per week, latest {_time(weeks[-1].median_seconds)}."
    )
    return text[:ALT_TEXT_MAX]
