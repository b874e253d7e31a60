"""A member's own data: ``/mydata export`` (``export_member``) and ``/mydata erase``
(``erase_member``).

Both take a scope: one server (``guild_id``), or every server (``guild_id=None``, the DM with
the bot). The export is a plain dict with a ``schema`` key describing each section; the erase
removes or anonymises the member's rows and says what the adapter must do in Discord.
"""

from bot.forum.mydata.erase import ErasePlan, MessageRef, erase_member
from bot.forum.mydata.export import export_member
from bot.forum.mydata.schema import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "ErasePlan", "MessageRef", "erase_member", "export_member"]
