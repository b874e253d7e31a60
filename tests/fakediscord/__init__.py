"""A loopback fake Discord (gateway + REST v10) for end-to-end tests with the real discord.py.

See ``tests/fakediscord/README.md`` for the API. The names most tests need::

    from tests.fakediscord import FakeDiscord, Member, InteractionHandle, GestureRefused
"""

from tests.fakediscord.actors import GestureRefused, InteractionHandle, Member, Modal, ModalField
from tests.fakediscord.model import Channel, Command, Guild, Message, Role, User
from tests.fakediscord.recorder import Call, DispatchedEvent, WaitTimeout
from tests.fakediscord.rest import Reply
from tests.fakediscord.server import FakeDiscord
from tests.fakediscord.snowflake import ManualClock, SystemClock
from tests.fakediscord.world import FakeError

__all__ = [
    "Call",
    "Channel",
    "Command",
    "DispatchedEvent",
    "FakeDiscord",
    "FakeError",
    "GestureRefused",
    "Guild",
    "InteractionHandle",
    "ManualClock",
    "Member",
    "Message",
    "Modal",
    "ModalField",
    "Reply",
    "Role",
    "SystemClock",
    "User",
    "WaitTimeout",
]
