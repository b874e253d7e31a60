"""Which questions a reader may see: those in the forums they can view.

Discord hides a forum (and every thread in it) from a member without View Channel and Read
Message History there; the bot must not show its questions either. The adapter works out which
of the guild's forums the member can read (``bot.visibility``) and every read of questions
takes that set, ``VisibleForums``, as a required argument: search, title autocomplete,
``/unanswered``, the similar-questions gate, profiles and lookups by id filter by it in their
SQL, so a limit or a count is never spent on a question the reader cannot see.

A post stores the forum its question lives in (``posts.forum_id``, written on every insert).
A post without one (stored before the column existed and never backfilled) counts as being in
the guild's configured Q&A forum (the ``forum_channel_id`` setting).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

#: Where the guild's configured Q&A forum is stored (``bot.forum.settings``, JSON-encoded).
_CONFIGURED_FORUM_KEY: Final = "forum_channel_id"


@dataclass(frozen=True, slots=True)
class VisibleForums:
    """The forum channels whose questions a reader may see (none: they see no question)."""

    ids: frozenset[int]

    @classmethod
    def of(cls, forum_ids: Iterable[int]) -> VisibleForums:
        return cls(frozenset(forum_ids))

    def within(self, forum_ids: Iterable[int]) -> VisibleForums:
        """Only those of these forums that are also in ``forum_ids``."""
        return VisibleForums(self.ids & frozenset(forum_ids))


def forum_filter(visible: VisibleForums, params: dict[str, Any], *, table: str = "q") -> str:
    """The SQL condition that the question row ``table`` (an alias or a table name) is in a
    forum of ``visible``; its parameters are added to ``params``. A NULL ``forum_id`` counts as
    the guild's configured forum."""
    if not visible.ids:
        return "1 = 0"
    ids = sorted(visible.ids)
    forum_names = [f"visible_forum_{i}" for i in range(len(ids))]
    setting_names = [f"visible_setting_{i}" for i in range(len(ids))]
    params.update(zip(forum_names, ids, strict=True))
    # The setting's value is the JSON text of the channel id: compared as text, never cast.
    params.update(zip(setting_names, (json.dumps(i) for i in ids), strict=True))
    params["visible_setting_key"] = _CONFIGURED_FORUM_KEY
    in_forums = ", ".join(f":{n}" for n in forum_names)
    in_settings = ", ".join(f":{n}" for n in setting_names)
    return (
        f"({table}.forum_id IN ({in_forums}) OR ({table}.forum_id IS NULL AND EXISTS ("
        f"SELECT 1 FROM guild_settings AS vgs WHERE vgs.guild_id = {table}.guild_id"
        f" AND vgs.key = :visible_setting_key AND vgs.value IN ({in_settings}))))"
    )
