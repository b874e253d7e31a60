"""The audit trail's lines: a moderator mentioned, an erased moderator named as such."""

from __future__ import annotations

from bot.clock import utc_now
from bot.forum.audit import AuditEntry
from bot.forum.prefs import ERASED_AUTHOR_ID
from bot.ui.moderation import ERASED_MODERATOR, audit_line


def _entry(moderator_id: int) -> AuditEntry:
    return AuditEntry(
        id=1, moderator_id=moderator_id, action="remove", post_id=7, detail="", created_at=utc_now()
    )


def test_an_erased_moderators_entry_keeps_the_action_and_names_no_one() -> None:
    line = audit_line(_entry(ERASED_AUTHOR_ID))
    assert f"{ERASED_MODERATOR} removed post #7" in line and "<@" not in line
    assert "<@1234> removed post #7" in audit_line(_entry(1234))
