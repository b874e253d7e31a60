"""What the bot says about safety resources: the default text, the ``/resources`` embed, the
private reply after a matching question, the line inside the ``/ask`` form, and the sentences of
``/resources dm``.

The wording never diagnoses: a keyword only makes the bot offer the resources ("If you need
support, here are resources…"), to the asker alone. A server's own text is its managers'
markdown and is shown as they wrote it (mentions in an embed ping no one, and every message
carrying it passes ``NO_PINGS``).
"""

from __future__ import annotations

from typing import Final

import discord

from bot.ui.embeds import COLOUR_INFO, fit, new_embed, set_footer
from bot.ui.text import mention_channel, mention_role, one_line, truncate

TITLE: Final = "Support resources"
#: The title of the private reply to an asker whose question matched the server's keywords.
KEYWORD_TITLE: Final = "If you need support, here are resources"
#: The short line inside the "Ask a question" form (a text display: placeholders carry no
#: formatting, and a text display does).
ASK_FORM_LINE: Final = (
    "-# This community is peer support, not a crisis service. If you are in danger, contact your "
    "local emergency services. `/resources` shows where to find help."
)

_NOT_A_CRISIS_SERVICE: Final = (
    "**This community is peer support, not a crisis service.** The members who answer here are "
    "not professionals and may not answer quickly."
)
_EMERGENCY: Final = (
    "If you or someone else is in danger or needs urgent help, contact your local emergency "
    "services now, or a crisis line where you live."
)

DM_ON: Final = (
    "When a question you ask here mentions one of the server's support keywords, the resources "
    "will come to you **by DM**. `/resources dm:off` shows them only to you in the channel instead."
)
DM_ON_BUT_DMS_OFF: Final = (
    f"{DM_ON}\nYour DM notifications are off, so for now they are shown only to you in the "
    "channel: `/notifications mode:on` lets the DM through."
)
DM_OFF: Final = (
    "The bot sends you **no DM** with resources: after a question that mentions one of the "
    "server's support keywords, they are shown only to you, in the channel."
)


def default_text(
    *, in_server: bool, rules_channel_id: int | None = None, moderator_role_id: int | None = None
) -> str:
    """The resources text of a server that has not written its own: peer support, not a crisis
    service; emergency services; the server's rules channel and its moderators."""
    lines = [_NOT_A_CRISIS_SERVICE, _EMERGENCY]
    if in_server:
        where = (
            f"the rules and guidance in {mention_channel(rules_channel_id)}"
            if rules_channel_id is not None
            else "this server's rules and pinned guidance"
        )
        moderators = (
            f"the moderators ({mention_role(moderator_role_id)})"
            if moderator_role_id is not None
            else "the server's moderators"
        )
        lines.append(f"For support within this server, see {where}, or reach {moderators}.")
    return "\n\n".join(lines)


def resources_embed(text: str, *, title: str = TITLE) -> discord.Embed:
    """The resources as an embed: ``text`` is the server's own markdown (or ``default_text``)."""
    return fit(new_embed(colour=COLOUR_INFO, title=title, description=text))


def keyword_reply_embed(text: str, *, server_name: str | None = None) -> discord.Embed:
    """The private reply after a question matching the server's keywords; in a DM it says which
    server it comes from and how to stop such DMs."""
    embed = resources_embed(text, title=KEYWORD_TITLE)
    if server_name is not None:
        name = truncate(one_line(server_name), 100)
        set_footer(embed, f"From {name}. /resources dm:off stops these DMs.")
    return fit(embed)
