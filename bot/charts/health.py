"""The community-health chart of ``/mod stats``, drawn in the helper process.

Two panels over the same weeks: questions per week as bars (left axis) with Area 51's
15 questions a day (105 a week) as a reference line, and the share answered within 24 hours as
a line (right axis, 0-100 %) with Area 51's 90 % answered as a reference line; below, the
median time to first answer in hours. The background is a neutral light grey with dark text,
opaque, so the image reads the same in Discord's dark and light themes.

``draw`` imports matplotlib itself: only the helper process ever runs it.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from typing import Any, Final

BACKGROUND: Final = "#e3e5e8"
PANEL: Final = "#f2f3f5"
INK: Final = "#2e3035"
BARS: Final = "#5865f2"
ANSWERED: Final = "#1a7f37"
MEDIAN: Final = "#b5520b"
REFERENCE: Final = "#c0392b"

QUESTIONS_LABEL: Final = "Questions per week"
ANSWERED_LABEL: Final = "% answered within 24 h"
MEDIAN_LABEL: Final = "Median time to first answer (h)"
QUESTIONS_BAR_LABEL: Final = "Area 51: 15 questions/day"
ANSWERED_BAR_LABEL: Final = "Area 51: 90 % answered"


@dataclass(frozen=True, slots=True)
class ChartData:
    """What the chart plots, one entry per week (oldest first); None: no question that week
    (or none answered, for the median)."""

    title: str
    weeks: list[str]
    questions: list[int]
    answered_24h_percent: list[float | None]
    median_hours: list[float | None]
    questions_bar: float
    answered_bar_percent: float


@dataclass(frozen=True, slots=True)
class RenderedChart:
    """The PNG, the helper's process id, and what the figure plots as read back from it."""

    png: bytes
    pid: int
    plotted: dict[str, Any] = field(default_factory=dict)


def _nan(values: list[float | None]) -> list[float]:
    return [float("nan") if v is None else v for v in values]


def _plotted(figure: Any) -> dict[str, Any]:
    """The figure's data, read from its artists: bar heights, each labelled line's y values,
    the reference lines, tick labels, axis labels and titles."""
    lines: dict[str, list[float | None]] = {}
    bars: list[float] = []
    axes_labels: list[str] = []
    for axes in figure.get_axes():
        for container in axes.containers:
            bars += [float(patch.get_height()) for patch in container.patches]
        for line in axes.get_lines():
            ys = [None if y != y else float(y) for y in line.get_ydata()]  # NaN: a gap
            lines[str(line.get_label())] = ys
        axes_labels.append(axes.get_ylabel())
    legend = next(a.get_legend() for a in figure.get_axes() if a.get_legend() is not None)
    return {
        "title": figure._suptitle.get_text() if figure._suptitle else "",
        "bars": bars,
        "lines": lines,
        "weeks": [t.get_text() for t in figure.get_axes()[-1].get_xticklabels()],
        "ylabels": axes_labels,
        "legend": [t.get_text() for t in legend.get_texts()],
    }


def draw(data: ChartData) -> RenderedChart:
    """Render ``data`` as a PNG (in the helper process)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 6.4), dpi=100, facecolor=BACKGROUND)
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2.2, 1]})
    x = list(range(len(data.weeks)))
    right = top.twinx()
    for axes in (top, right, bottom):
        axes.set_facecolor(PANEL)
        axes.tick_params(colors=INK)
        for spine in axes.spines.values():
            spine.set_color(INK)
    top.bar(x, data.questions, color=BARS, label=QUESTIONS_LABEL)
    top.axhline(data.questions_bar, color=BARS, linestyle="--", label=QUESTIONS_BAR_LABEL)
    right.plot(
        x,
        _nan(data.answered_24h_percent),
        color=ANSWERED,
        marker="o",
        linewidth=2,
        label=ANSWERED_LABEL,
    )
    right.axhline(
        data.answered_bar_percent,
        color=REFERENCE,
        linestyle=":",
        linewidth=2,
        label=ANSWERED_BAR_LABEL,
    )
    right.set_ylim(0, 100)
    top.set_ylabel(QUESTIONS_LABEL, color=INK)
    right.set_ylabel(ANSWERED_LABEL, color=INK)
    top.set_ylim(0, max([*data.questions, data.questions_bar]) * 1.15 or 1)
    handles = top.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    # Above the plot, on the twin axes (drawn last), so no line crosses it.
    right.legend(
        handles[0] + more[0], handles[1] + more[1], loc="lower left", bbox_to_anchor=(0, 1.0),
        ncol=4, fontsize=8, facecolor=PANEL, edgecolor=INK, labelcolor=INK,
    )  # fmt: skip
    bottom.plot(
        x, _nan(data.median_hours), color=MEDIAN, marker="o", linewidth=2, label=MEDIAN_LABEL
    )
    bottom.set_ylabel(MEDIAN_LABEL, color=INK, fontsize=8)
    bottom.set_ylim(bottom=0)
    step = max(1, len(x) // 13)
    bottom.set_xticks(x[::step], data.weeks[::step], rotation=45, ha="right", color=INK)
    figure.suptitle(data.title, color=INK)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", facecolor=BACKGROUND)
    return RenderedChart(out.getvalue(), os.getpid(), _plotted(figure))
