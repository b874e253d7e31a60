"""Anonymous asking: who may ask anonymously, and the display name they chose.

``check_anonymous`` refuses (one sentence, ``bot.forum.anonymity.check_can_post_anonymously``)
a member the server does not let post anonymously: the switch is off, or they joined less than
the minimum number of days ago (their join date comes with the interaction). ``display_name``
checks the optional name typed into the form against what the bot can find without a member
list: the members Discord's member search (REST ``GET /guilds/{id}/members/search``, which needs
no members intent; the gateway's member query is rate limited per guild) finds for the name's
first letters, as typed and as folded by the domain (usernames and nicknames, with their global
names), the guild's role names and the bot's own names. Nothing here logs a name or ties a
member to a post.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Final

import discord

from bot.forum import anonymity
from bot.forum.errors import InvalidState
from bot.guilds import guild_id_of, guild_of
from bot.transactions import run_transaction

if TYPE_CHECKING:
    from bot.client import QABot

#: Members one search asks Discord for (the most Discord's member search returns).
MEMBER_SEARCH_LIMIT: Final = 1000
MEMBER_SEARCH: Final = "/guilds/{guild_id}/members/search"
#: How long one member search may take before the name is refused as unchecked.
SEARCH_TIMEOUT: Final = 5.0
SEARCH_FAILED: Final = (
    "Your display name could not be checked just now; try again, or leave it empty to show "
    "as Anonymous."
)


async def check_anonymous(bot: QABot, interaction: discord.Interaction[Any]) -> None:
    """Refuse a member who may not post anonymously in this guild (a ``PermissionDenied``)."""
    guild_id = guild_id_of(interaction)
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


def _names_of(member: Any) -> list[str]:
    """A member object's username, global name and nickname (as Discord's JSON has them)."""
    if not isinstance(member, dict):
        return []
    user = member.get("user")
    if not isinstance(user, dict):
        user = {}
    names = (user.get("username"), user.get("global_name"), member.get("nick"))
    return [n for n in names if isinstance(n, str) and n]


async def found_names(bot: QABot, guild: discord.Guild, name: str) -> list[str]:
    """Names the typed ``name`` must not imitate: members found by Discord's member search, the
    guild's roles (but @everyone) and the bot's names. Refused when the search fails."""
    found = [r.name for r in guild.roles if not r.is_default()]
    me = guild.me
    found += [n for n in (me.name, me.global_name, me.nick) if n]
    for query in search_queries(name):
        route = discord.http.Route("GET", MEMBER_SEARCH, guild_id=guild.id)
        try:
            async with asyncio.timeout(SEARCH_TIMEOUT):
                members = await bot.http.request(
                    route, params={"query": query, "limit": MEMBER_SEARCH_LIMIT}
                )
        except (TimeoutError, discord.HTTPException) as exc:
            raise InvalidState(SEARCH_FAILED) from exc
        for member in members if isinstance(members, list) else ():
            found += _names_of(member)
    return found


async def display_name(
    bot: QABot, interaction: discord.Interaction[Any], name: str | None
) -> str | None:
    """The display name to post under (None: "Anonymous"), refused with a sentence when it
    hides characters or imitates someone (``validate_anonymous_display_name``)."""
    guild = guild_of(interaction)
    if name is None or anonymity.check_display_name(name) is None:  # hidden characters refused
        return None
    taken = await found_names(bot, guild, name)
    author_id = interaction.user.id
    return await run_transaction(
        bot,
        lambda s: anonymity.validate_anonymous_display_name(
            s, guild_id=guild.id, name=name, found_names=taken, author_id=author_id
        ),
    )
