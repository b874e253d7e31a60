"""The command-line jobs' progress bar: labels padded to line up, done of all counted."""

from __future__ import annotations

import io

from rich.console import Console

from bot.progress import progress_bar


def _drawn(label_width: int) -> list[str]:
    out = io.StringIO()
    with progress_bar(Console(file=out, width=80), label_width=label_width) as progress:
        for name, total in (("posts", 3), ("votes", 2)):
            task = progress.add_task(name, total=total)
            progress.advance(task, total)
    return [line for line in out.getvalue().splitlines() if line.strip()]


def test_labels_are_padded_so_the_bars_line_up() -> None:
    lines = _drawn(10)
    assert lines[-2].startswith("posts      ") and "3/3" in lines[-2]
    assert lines[-1].startswith("votes      ") and "2/2" in lines[-1]


def test_without_a_width_the_label_is_the_description() -> None:
    lines = _drawn(0)
    assert lines[-2].startswith("posts ") and not lines[-2].startswith("posts  ")
