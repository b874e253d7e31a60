"""The progress bar of the command-line jobs (``migrate-data``, ``import-q2a``,
``publish-imported``): a label, the bar, done of all, time elapsed."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


def progress_bar(console: Console, *, label_width: int = 0) -> Progress:
    """A rich ``Progress`` on ``console`` whose tasks are labelled by their description, padded
    to ``label_width`` characters so the bars of several tasks line up."""
    label = f"{{task.description:<{label_width}}}" if label_width else "{task.description}"
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=console)
