"""The emoji and symbols the bot shows, in one place (vote emoji are per-guild settings)."""

from __future__ import annotations

from typing import Final

UP: Final = "▲"
DOWN: Final = "▼"
SOLVED: Final = "✅"
CLOSED: Final = "🔒"
REOPENED: Final = "🔓"
#: Marks the link from a question to a duplicate of it.
DUPLICATE: Final = "🔗"
#: The reaction the bot adds to an accepted answer.
ACCEPTED: Final = "✅"
WARNING: Final = "⚠️"
SUCCESS: Final = "✅"
ERROR: Final = "❌"
PREVIOUS: Final = "◀"
NEXT: Final = "▶"
MEDALS: Final = ("🥇", "🥈", "🥉")
SEPARATOR: Final = " · "
