"""The invite link a server's public archive offers visitors: a Discord invite, nothing else.

Accepted: ``https://discord.gg/<code>``, ``https://discord.com/invite/<code>`` (``http://``, no
scheme and ``www.`` are read the same, as is ``discordapp.com``); stored as the ``https://``
link. Anything else, a query or a path after the code included, is refused with a sentence.
"""

from __future__ import annotations

import re
from typing import Final

from bot.forum.errors import ValidationError

_INVITE: Final = re.compile(
    r"(?:https?://)?(?:www\.)?"
    r"(?P<host>discord\.gg|discord(?:app)?\.com/invite)/"
    r"(?P<code>[A-Za-z0-9-]{2,32})/?",
    re.IGNORECASE,
)
NOT_AN_INVITE: Final = (
    "`archive_invite` must be a Discord invite link, such as https://discord.gg/abc123 "
    "or https://discord.com/invite/abc123."
)


def check_invite(raw: str) -> str:
    """The invite link as stored (``https://discord.gg/<code>`` or
    ``https://discord.com/invite/<code>``), or a refusal."""
    found = _INVITE.fullmatch(raw.strip())
    if found is None:
        raise ValidationError(NOT_AN_INVITE)
    host = found["host"].lower()
    prefix = "discord.gg" if host == "discord.gg" else "discord.com/invite"
    return f"https://{prefix}/{found['code']}"
