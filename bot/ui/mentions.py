"""Who a message may ping: the real guard against user text pinging anyone.

Escaping (``bot.ui.text.escape``) only changes how text looks; ``allowed_mentions`` decides what
Discord actually pings. Every message the bot sends passes one of these. ``QABot`` also sets
``AllowedMentions.none()`` as the client default, so a forgotten argument pings nobody.
"""

from __future__ import annotations

from typing import Final

import discord

#: Pings nobody: no @everyone/@here, no roles, no users, no reply ping.
NO_PINGS: Final = discord.AllowedMentions.none()


def ONLY_USER(user_id: int) -> discord.AllowedMentions:
    """Pings exactly one user (and so adds them to the thread the message is in), nobody else.

    Used when a named asker is mentioned in their new forum post. Never for anonymous posts:
    mentioning the author would add them to the thread's public member list (DESIGN.md §5).
    """
    return discord.AllowedMentions(
        everyone=False,
        users=[discord.Object(id=user_id)],
        roles=False,
        replied_user=False,
    )
