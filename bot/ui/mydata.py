"""``/mydata``: its replies, the export's files, and what replaces an erased member's posts."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any, Final

import discord

#: What replaces the bot's starter of an erased member's question.
REMOVED: Final = "Removed at the author's request."

EXPORT_DM: Final = (
    "Here is everything qa-bot stores about you ({scope}), as JSON. Its `schema` key says what "
    "each part means."
)
EXPORT_SENT: Final = "Your data ({scope}) was sent to you in a DM."
EXPORT_HERE: Final = (
    "Your DMs are closed to the bot, so here is everything qa-bot stores about you ({scope}), "
    "as JSON (only you can see this; download it now)."
)
ERASE_PROMPT: Final = (
    "Erase everything qa-bot stores about you ({scope})? Your questions' and answers' text, your "
    "votes, points, follows, reports, preferences and queued DMs are removed; the bot deletes "
    "the messages it posted for you (a question's first message is replaced by \u201c"
    + REMOVED.rstrip(".")
    + "\u201d so its thread still makes sense). Your reactions will count nothing from now on. "
    "This cannot be undone."
)
ERASED: Final = (
    "Your data ({scope}) is erased. Messages you typed yourself in Discord (answers in threads, "
    "forum posts, reactions) are yours: delete them in Discord if you want them gone; the bot "
    "cannot delete another member's messages for you. The DMs it sent you about answers are "
    "deleted; a DM it kept no record of (an export file) stays in your DM with the bot."
)
ERASE_CANCELLED: Final = "Nothing was erased."
NOTHING_LEFT_NOTE: Final = "{count} of the bot's messages could not be removed (gone or no access)."


def scope_text(guild_id: int | None) -> str:
    """How the reply names the scope: this server, or every server (a DM)."""
    return "every server" if guild_id is None else "this server"


def removed_question_embed() -> discord.Embed:
    """What an erased member's question starter shows instead of the question."""
    return discord.Embed(title="[removed]", description=REMOVED)


def export_files(
    data: Mapping[str, Any], *, limit: int, name: str = "qa-bot-my-data"
) -> list[discord.File]:
    """The export as JSON files within ``limit`` bytes each: one file when it fits, else
    numbered parts of the same text (join them in order to read it)."""
    raw = json.dumps(data, ensure_ascii=False, indent=2).encode()
    if len(raw) <= limit:
        return [discord.File(io.BytesIO(raw), filename=f"{name}.json")]
    chunks = [raw[i : i + limit] for i in range(0, len(raw), limit)]
    width = len(str(len(chunks)))
    return [
        discord.File(
            io.BytesIO(chunk), filename=f"{name}.part{n:0{width}d}-of-{len(chunks)}.json.txt"
        )
        for n, chunk in enumerate(chunks, start=1)
    ]
