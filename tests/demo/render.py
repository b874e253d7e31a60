"""What a member would see in Discord, as plain text: messages, embeds, buttons, reactions.

Reads the fake's live model (``tests.fakediscord.model``). Ids never reach the output (they
change from run to run): mentions become names, jump links the place they lead to, so the
transcript is the same on every run.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from typing import Any

from tests.fakediscord.model import MSG_CHANNEL_PINNED, MSG_THREAD_CREATED, Channel, Message
from tests.fakediscord.server import FakeDiscord

#: Left margin of everything inside a message (its embeds, buttons, reactions).
INDENT = "    "
#: Left border of an embed, as Discord draws its coloured bar.
EMBED_BAR = "│ "
#: Lines are wrapped at this width (continuations keep their margin and quote mark).
WIDTH = 100
#: Discord lays inline embed fields out three to a row.
INLINE_PER_ROW = 3

_JUMP = re.compile(r"https://discord\.com/channels/(?:\d+|@me)/(\d+)(?:/(\d+))?")
_MARKDOWN_LINK = re.compile(r"\[([^\]\n]+)\]\(<?https?://[^)\s]+>?\)")
_USER = re.compile(r"<@!?(\d+)>")
_ROLE = re.compile(r"<@&(\d+)>")
_CHANNEL = re.compile(r"<#(\d+)>")
_CUSTOM_EMOJI = re.compile(r"<a?:([A-Za-z0-9_]+):\d+>")
_TIMESTAMP = re.compile(r"<t:-?\d+(?::[tTdDfFR])?>")
_ESCAPED = re.compile(r"\\([^\w\s]|_)")
_SUBTEXT = re.compile(r"^-# ", re.MULTILINE)
_HEADING = re.compile(r"^#{1,3} ", re.MULTILINE)

# Button styles: 5 is a link button (opens a URL), 6 a premium button.
_LINK_BUTTON = 5
_COMPONENT_BUTTON = 2
_SELECTS = (3, 5, 6, 7, 8)
#: System messages Discord writes as a sentence about their author.
_SYSTEM_TEXT = {
    MSG_CHANNEL_PINNED: "pinned a message to this channel.",
    MSG_THREAD_CREATED: "started a thread.",
}


class Renderer:
    """Turns the fake's messages into transcript lines, resolving ids to names."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake

    # ------------------------------------------------------------------ names

    def name(self, user_id: int) -> str:
        """A member's display name: their nickname in a guild they share, else their name."""
        world = self.fake.world
        user = world.users.get(user_id)
        if user is None:
            return "unknown user"
        for guild in world.guilds.values():
            member = guild.members.get(user_id)
            if member is not None and member.nick:
                return member.nick
        return user.global_name or user.username

    def place(self, channel: Channel) -> str:
        """``#forum › Thread title``, ``#channel`` or ``DM``."""
        if channel.guild_id is None:
            return "DM"
        if channel.is_thread and channel.parent_id is not None:
            parent = self.fake.world.channels.get(channel.parent_id)
            parent_name = parent.name if parent is not None else "deleted-channel"
            return f"#{parent_name} › {channel.name}"
        return f"#{channel.name}"

    def tags(self, thread: Channel) -> list[str]:
        """The names of the forum tags applied to a thread, in the order applied."""
        parent = self.fake.world.channels.get(thread.parent_id) if thread.parent_id else None
        if parent is None:
            return []
        names = {tag.id: tag.name for tag in parent.available_tags}
        return [names.get(tag_id, "?") for tag_id in thread.applied_tags]

    def _role(self, role_id: int) -> str:
        for guild in self.fake.world.guilds.values():
            role = guild.roles.get(role_id)
            if role is not None:
                return role.name
        return "deleted-role"

    def _jump(self, match: re.Match[str]) -> str:
        channel = self.fake.world.channels.get(int(match.group(1)))
        where = self.place(channel) if channel is not None else "a deleted channel"
        return f"↗ {where}"

    def _channel_mention(self, match: re.Match[str]) -> str:
        channel = self.fake.world.channels.get(int(match.group(1)))
        return f"#{channel.name}" if channel is not None else "#deleted-channel"

    # ------------------------------------------------------------------ text

    def text(self, raw: str) -> str:
        """Discord markdown as a reader sees it: names for mentions, places for links, bold
        and escapes gone, ``>>>`` block quotes as ``>`` lines."""
        out = _MARKDOWN_LINK.sub(lambda m: f"{m.group(1)} ↗", raw)
        out = _JUMP.sub(self._jump, out)
        out = _USER.sub(lambda m: f"@{self.name(int(m.group(1)))}", out)
        out = _ROLE.sub(lambda m: f"@{self._role(int(m.group(1)))}", out)
        out = _CHANNEL.sub(self._channel_mention, out)
        out = _CUSTOM_EMOJI.sub(lambda m: f":{m.group(1)}:", out)
        out = _TIMESTAMP.sub("(a time)", out)
        out = out.replace("**", "").replace("__", "")
        out = _SUBTEXT.sub("", out)
        out = _HEADING.sub("", out)
        out = _ESCAPED.sub(r"\1", out)
        return _block_quotes(out)

    # ------------------------------------------------------------------ messages

    def message(self, message: Message, *, where: str) -> list[str]:
        """A message as its header line (``where  [author] first line``) and indented body:
        further content lines, embeds, buttons and reactions; all wrapped at ``WIDTH``."""
        head = f"{where}  [{self.name(message.author_id)}]"
        if message.type in _SYSTEM_TEXT:
            return [f"{head} {_SYSTEM_TEXT[message.type]}"]
        content = self.text(message.content).splitlines() if message.content else []
        if not content:
            lines = [head]
        else:
            lines = wrap(content[0], f"{head} ", INDENT)
            for line in content[1:]:
                lines += wrap(line, INDENT, INDENT)
        for embed in message.embeds:
            for line in self.embed(embed):
                lines += wrap(line, INDENT + EMBED_BAR, INDENT + EMBED_BAR)
        buttons = self.components(message.components)
        if buttons:
            lines.append(INDENT + "  ".join(buttons))
        reactions = self.reactions(message)
        if reactions:
            lines.append(INDENT + reactions)
        return lines

    def embed(self, embed: dict[str, Any]) -> list[str]:
        """An embed's parts in Discord's order: author, title, description, fields, footer."""
        lines: list[str] = []
        author = (embed.get("author") or {}).get("name")
        if author:
            lines.append(self.text(author))
        if embed.get("title"):
            lines.append(self.text(str(embed["title"])))
        if embed.get("description"):
            lines += self.text(str(embed["description"])).splitlines()
        inline: list[str] = []
        for field in embed.get("fields", []):
            name = self.text(str(field.get("name", ""))).strip()
            value = self.text(str(field.get("value", ""))).strip()
            if field.get("inline") and "\n" not in value:
                inline.append(f"{name}: {value}")
                if len(inline) == INLINE_PER_ROW:
                    lines.append("   ".join(inline))
                    inline = []
                continue
            if inline:
                lines.append("   ".join(inline))
                inline = []
            value_lines = value.splitlines() or [""]
            lines.append(f"{name}: {value_lines[0]}")
            lines += ["  " + line for line in value_lines[1:]]
        if inline:
            lines.append("   ".join(inline))
        footer = (embed.get("footer") or {}).get("text")
        if footer:
            lines.append(f"— {self.text(footer)}")
        return lines

    def components(self, components: Iterable[dict[str, Any]]) -> list[str]:
        """Buttons as ``[Label]`` (``[Label ↗]`` for a link), selects as ``[▾ placeholder]``."""
        shown: list[str] = []
        for item in _walk(components):
            kind = item.get("type")
            if kind == _COMPONENT_BUTTON:
                text = str(item.get("label") or (item.get("emoji") or {}).get("name") or "")
                link = item.get("style") == _LINK_BUTTON
                disabled = " (greyed out)" if item.get("disabled") else ""
                shown.append(f"[{text}{' ↗' if link else ''}]{disabled}")
            elif kind in _SELECTS and "custom_id" in item:
                shown.append(f"[▾ {item.get('placeholder') or 'choose'}]")
        return shown

    @staticmethod
    def reaction_counts(message: Message) -> str:
        """``👍 2  👎 1`` (emoji in the order first added, as Discord lists them), or empty."""
        return "  ".join(
            f"{emoji} {len(reaction.user_ids)}"
            for emoji, reaction in message.reactions.items()
            if reaction.user_ids
        )

    def reactions(self, message: Message) -> str:
        """``reactions: 👍 2  👎 1``, or empty."""
        counts = self.reaction_counts(message)
        return f"reactions: {counts}" if counts else ""


def wrap(line: str, first: str, rest: str) -> list[str]:
    """``line`` wrapped at ``WIDTH`` after the margin ``first`` (then ``rest``); a quoted line
    (``> ``) keeps its quote mark on every continuation."""
    if line.startswith("> "):
        first, rest, line = first + "> ", rest + "> ", line[2:]
    if not line.strip():
        return [(first + line).rstrip()]
    return textwrap.wrap(
        line,
        WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _walk(components: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in components:
        out.append(item)
        out += _walk(item.get("components", []))
        if isinstance(item.get("accessory"), dict):
            out += _walk([item["accessory"]])
    return out


def _block_quotes(text: str) -> str:
    """``>>> rest`` quotes everything after it: each of those lines gets ``> ``."""
    lines = text.splitlines()
    out: list[str] = []
    quoting = False
    for line in lines:
        if not quoting and line.startswith(">>> "):
            quoting = True
            line = line[4:]
        out.append(f"> {line}" if quoting else line)
    return "\n".join(out)
