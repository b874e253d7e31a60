"""Safety resources: the server's text, its keywords, and who gets them after asking.

A server keeps a resources text (``resources_text``; not set: the presentation layer words a
default), a keyword list (``resources_keywords``) and a switch (``resources_keyword_reply``, off by
default). With the switch on, a question whose title or details contain one of the keywords as a
whole word or phrase (case-insensitive) earns its asker the resources, privately: by DM only when
the asker opted in (``user_prefs.resources_dm``) and DMs can reach them, otherwise ephemerally.
Nothing here diagnoses anything: a match only decides that the resources are offered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.forum.prefs import get_prefs
from bot.forum.settings import GuildConfig, load_config, split_list


class Delivery(Enum):
    """How the asker gets the resources after a matching question."""

    DM = "dm"
    EPHEMERAL = "ephemeral"


@dataclass(frozen=True, slots=True)
class KeywordReply:
    """The resources owed to an asker: the server's text (None: the default) and how."""

    text: str | None
    delivery: Delivery


def keyword_pattern(keywords: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern matching any keyword as a whole word or phrase (spaces match any whitespace),
    case-insensitively; None when there is no keyword."""
    parts = [r"\s+".join(re.escape(word) for word in k.split()) for k in keywords if k.strip()]
    if not parts:
        return None
    alternatives = "|".join(sorted(parts, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def matches_keywords(config: GuildConfig, *texts: str) -> bool:
    """Whether any of ``texts`` contains one of the server's resources keywords."""
    pattern = keyword_pattern(split_list(config.resources_keywords))
    if pattern is None:
        return False
    return any(pattern.search(text.casefold()) for text in texts if text)


async def resources_text(session: AsyncSession, guild_id: int) -> str | None:
    """The server's resources text; None when it keeps the default."""
    return (await load_config(session, guild_id)).resources_text


async def keyword_reply(
    session: AsyncSession, *, guild_id: int, user_id: int, title: str, details: str
) -> KeywordReply | None:
    """What the asker of a just-posted question gets: None unless the server's keyword reply is
    on and the question matches; a DM only for a member who opted in and whom DMs reach."""
    config = await load_config(session, guild_id)
    if not config.resources_keyword_reply or not matches_keywords(config, title, details):
        return None
    prefs = await get_prefs(session, user_id)
    by_dm = prefs.resources_dm and prefs.notifications and not prefs.dms_closed
    by_dm = by_dm and not prefs.erased
    return KeywordReply(config.resources_text, Delivery.DM if by_dm else Delivery.EPHEMERAL)
