"""bot.ui.closing: what the bot says as a question is closed (by whom, the duplicated question,
the reason), linked from the original, reopened, and to a member writing in a closed thread."""

from __future__ import annotations

from bot.ui.closing import (
    REASON_SHOWN,
    closed_notice,
    closing_text,
    duplicate_link_text,
    reopening_text,
)
from tests.bot.ui import HOSTILE, NOW, question_view


def test_closing_text_by_the_asker_as_a_duplicate_with_a_reason() -> None:
    closed = question_view(closed_at=NOW, closed_reason="Asked **twice** @everyone")
    original = question_view(id=3, guild_id=1, thread_id=33, title="Sleep *tips*")
    assert closing_text(closed, original).split("\n") == [
        "🔒 **This question is closed** (by the asker).",
        r"Closed as a duplicate of “Sleep \*tips\*”: https://discord.com/channels/1/33",
        "Reason: Asked \\*\\*twice\\*\\* @\u200beveryone",
        "-# New replies here are kept as comments. "
        "The asker or a moderator can reopen it with /reopen.",
    ]


def test_closing_text_by_a_moderator_without_reason_or_original() -> None:
    closed = question_view(closed_at=NOW, closed_by_moderator=True)
    assert closing_text(closed, None).split("\n") == [
        "🔒 **This question is closed** (by a moderator).",
        "-# New replies here are kept as comments. A moderator can reopen it with /reopen.",
    ]
    unposted = question_view(id=3, thread_id=None)
    assert "duplicate" not in closing_text(closed, unposted)


def test_long_titles_and_reasons_are_cut() -> None:
    closed = question_view(closed_at=NOW, closed_reason=HOSTILE)
    original = question_view(id=3, thread_id=33, title=HOSTILE)
    text = closing_text(closed, original)
    reason = next(line for line in text.split("\n") if line.startswith("Reason: "))
    assert len(reason) <= len("Reason: ") + REASON_SHOWN
    assert len(text) < 2000


def test_duplicate_link_reopening_and_closed_notice() -> None:
    duplicate = question_view(id=9, thread_id=99, title=None)
    assert duplicate_link_text(duplicate) == (
        "🔗 “(untitled)” was closed as a duplicate of this question: "
        "https://discord.com/channels/1/99"
    )
    assert reopening_text(by_moderator=True) == (
        "🔓 **This question is open again** (reopened by a moderator): it takes answers again."
    )
    assert "(reopened by the asker)" in reopening_text(by_moderator=False)
    notice = closed_notice(question_view(closed_at=NOW, closed_by_moderator=True))
    assert notice == (
        "🔒 This question is closed, so replies here are kept as comments and the thread stays "
        "archived. A moderator can reopen it with /reopen."
    )
