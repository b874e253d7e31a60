"""Anonymous asking: who may ask anonymously, and the display name they chose.

``check_anonymous`` refuses (one sentence, ``bot.forum.anonymity.check_can_post_anonymously``)
a member the server does not let post anonymously: the switch is off, or they joined less than
the minimum number of days ago (their join date comes with the interaction). ``display_name``
checks the optional name typed into the form against what the bot can find without a member
list: the members Discord's member search finds for the name's first letters (as typed and as
folded by the domain; usernames and nicknames, with their global names), the guild's role names
and the bot's own names. Nothing here logs a name or ties a member to a post.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Final

import discord

from bot.forum import anonymity
from bot.forum.errors import InvalidState
from bot.transactions import run_transaction

if TYPE_CHECKING:
    from bot.client import QABot

#: Members one search asks Discord for (Discord's maximum for a gateway member query).
MEMBER_SEARCH_LIMIT: Final = 100
#: How long one member search may take before the name is refused as unchecked.
SEARCH_TIMEOUT: Final = 5.0
SEARCH_FAILED: Final = (
    "Your display name could not be checked just now; try again, or leave it empty to show "
    "as Anonymous."
)


async def check_anonymous(bot: QABot, interaction: discord.Interaction[Any]) -> None:
    """Refuse a member who may not post anonymously in this guild (a ``PermissionDenied``)."""
    guild_id = interaction.guild_id
    assert guild_id is not None  # guild-only
    user = interaction.user
    joined_at = user.joined_at if isinstance(user, discord.Member) else None
    await run_transaction(
        bot,
        lambda s: anonymity.check_can_post_anonymously(s, guild_id=guild_id, joined_at=joined_at),
    )


def search_queries(name: str) -> list[str]:
    """What to ask Discord's member search for: the name's first letters as typed and as folded
    (a member the name imitates has a name that starts with them)."""
    typed = name.strip()
    queries: list[str] = []
    size = anonymity.MIN_PREFIX
    for query in (typed[:size], anonymity.fold_confusables(typed)[:size]):
        query = query.strip()
        if query and query.casefold() not in {q.casefold() for q in queries}:
            queries.append(query)
    return queries


def _names_of(member: discord.Member) -> list[str]:
    return [n for n in (member.name, member.global_name, member.nick) if n]


async def found_names(guild: discord.Guild, name: str) -> list[str]:
    """Names the typed ``name`` must not imitate: members found by Discord's member search, the
    guild's roles (but @everyone) and the bot's names. Refused when the search fails."""
    found = [r.name for r in guild.roles if not r.is_default()]
    found += _names_of(guild.me)
    for query in search_queries(name):
        try:
            async with asyncio.timeout(SEARCH_TIMEOUT):
                members = await guild.query_members(
                    query=query, limit=MEMBER_SEARCH_LIMIT, cache=False
                )
        except (TimeoutError, discord.HTTPException, discord.ClientException) as exc:
            raise InvalidState(SEARCH_FAILED) from exc
        for member in members:
            found += _names_of(member)
    return found


async def display_name(
    bot: QABot, interaction: discord.Interaction[Any], name: str | None
) -> str | None:
    """The display name to post under (None: "Anonymous"), refused with a sentence when it
    hides characters or imitates someone (``validate_anonymous_display_name``)."""
    guild = interaction.guild
    assert guild is not None  # guild-only
    if name is None or anonymity.check_display_name(name) is None:  # hidden characters refused
        return None
    taken = await found_names(guild, name)
    author_id = interaction.user.id
    return await run_transaction(
        bot,
        lambda s: anonymity.validate_anonymous_display_name(
            s, guild_id=guild.id, name=name, found_names=taken, author_id=author_id
        ),
    )
