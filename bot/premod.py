"""Pre-moderation for the adapters (the rules are ``bot.forum.premod``).

``hold_for_review`` is the one call at each point where ``/ask``, ``/answer`` or ``/reply``
would publish: when the guild holds the post, it is stored with exactly what it would publish,
a card with Approve / Reject goes to the moderator channel, and the author hears that it waits
(True: the caller publishes nothing). When the card cannot be sent, nothing is held and the
author gets one sentence.

``HeldPublishers`` (``QABot.held_publishers``) is how an approved post gets published without
its author's interaction: the feature that owns a kind registers how it publishes a stored post
(the asking cog questions, the answering cog answers and replies) and the moderation cog's
Approve calls it, so no cog imports another.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

import discord

from bot.forum import premod
from bot.forum.errors import NotConfigured
from bot.forum.premod import HeldKind, HeldPostSnapshot, Related
from bot.guilds import guild_config, guild_of
from bot.transactions import HasTransactionRunner, run_transaction
from bot.ui.mentions import NO_PINGS
from bot.ui.premod import CARD_FAILED, WAITS_FOR_REVIEW, card_view, held_card

log = logging.getLogger(__name__)

#: Publishes a stored post as its feature would; returns the id of the post it became.
Publisher = Callable[[HeldPostSnapshot], Awaitable[int]]

NOT_LOADED: Final = "This kind of post cannot be published right now: its feature is not loaded."


class HeldPublishers:
    """How each kind of held post is published once approved (registered by the cogs)."""

    def __init__(self) -> None:
        self._by_kind: dict[str, Publisher] = {}

    def register(self, kind: HeldKind, publisher: Publisher) -> None:
        self._by_kind[kind] = publisher

    def unregister(self, kind: HeldKind) -> None:
        self._by_kind.pop(kind, None)

    async def publish(self, held: HeldPostSnapshot) -> int:
        """Publish ``held`` as it would have been; the post's id. Domain refusals propagate."""
        publisher = self._by_kind.get(held.kind)
        if publisher is None:
            raise NotConfigured(NOT_LOADED)
        return await publisher(held)


async def hold_for_review(
    bot: HasTransactionRunner,
    interaction: discord.Interaction[Any],
    kind: HeldKind,
    payload: Mapping[str, Any],
    *,
    anonymous: bool,
    question_id: int | None = None,
    draft_id: int | None = None,
    related: Related | None = None,
) -> bool:
    """Hold the post for review when the guild says so (see the module docstring); the
    interaction is already deferred. False: publish it as usual."""
    guild, user = guild_of(interaction), interaction.user
    joined_at = user.joined_at if isinstance(user, discord.Member) else None
    stored = dict(payload)
    if not anonymous:  # a named post shows its author's name as it is now
        stored["author_name"] = user.display_name
    held = await run_transaction(
        bot,
        lambda s: premod.hold_if_due(
            s,
            guild_id=guild.id,
            author_id=user.id,
            kind=kind,
            payload=stored,
            anonymous=anonymous,
            joined_at=joined_at,
            question_id=question_id,
            draft_id=draft_id,
            related=related,
        ),
    )
    if held is None:
        return False
    channel_id = (await guild_config(bot, guild.id)).mod_channel_id
    shown = await run_transaction(bot, lambda s: premod.card(s, held_id=held.id, guild_id=guild.id))
    try:
        if channel_id is None:  # unset since the post was held
            raise NotConfigured(CARD_FAILED)
        channel = interaction.client.get_partial_messageable(channel_id, guild_id=guild.id)
        card = await channel.send(
            embed=held_card(shown), view=card_view(held.id), allowed_mentions=NO_PINGS
        )
    except (discord.HTTPException, NotConfigured) as exc:
        log.warning(
            "held post %s in guild %s: the card could not be sent (%s)",
            held.id,
            guild.id,
            type(exc).__name__,
        )
        await run_transaction(bot, lambda s: premod.discard(s, held_id=held.id, guild_id=guild.id))
        raise NotConfigured(CARD_FAILED) from exc
    await run_transaction(
        bot,
        lambda s: premod.set_card(
            s, held_id=held.id, guild_id=guild.id, channel_id=channel_id, message_id=card.id
        ),
    )
    log.info("held post %s carded as message %s in guild %s", held.id, card.id, guild.id)
    await interaction.followup.send(WAITS_FOR_REVIEW, ephemeral=True, allowed_mentions=NO_PINGS)
    return True
