"""What ``/qa roles add|remove|show`` shows, and the point-role warnings of ``/qa setup``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import discord

from bot.forum.roles import PointRole
from bot.ui import embeds, emoji
from bot.ui.text import mention_role, plural


def describe_mapping(mapping: Iterable[PointRole]) -> str:
    """One line per point role, lowest threshold first."""
    lines = [
        f"**{entry.threshold}** {'point' if entry.threshold == 1 else 'points'} "
        f"{emoji.NEXT} {mention_role(entry.role_id)}"
        for entry in sorted(mapping)
    ]
    if not lines:
        return "No point roles yet: add one with `/qa roles add`."
    return "\n".join(lines)


def warnings(problems: Iterable[str]) -> list[str]:
    """``bot.permissions.point_role_problems`` as warnings (``/qa setup`` notes them too)."""
    return [f"{emoji.WARNING} {problem}" for problem in problems]


def _with_warnings(text: str, problems: Sequence[str]) -> str:
    return text + ("\n\n" + "\n".join(warnings(problems)) if problems else "")


def role_added(
    threshold: int,
    role_id: int,
    *,
    reaching: int,
    mapping: Iterable[PointRole],
    problems: Sequence[str],
) -> discord.Embed:
    text = (
        f"Members with at least **{threshold}** points now hold {mention_role(role_id)}"
        f" ({plural(reaching, 'member')} reach it now).\n\n{describe_mapping(mapping)}"
    )
    return (embeds.info if problems else embeds.success)(_with_warnings(text, problems))


def role_removed(role_id: int, mapping: Iterable[PointRole]) -> discord.Embed:
    return embeds.success(
        f"{mention_role(role_id)} is no longer a point role; members who hold it keep it.\n\n"
        f"{describe_mapping(mapping)}"
    )


def roles_shown(mapping: Iterable[PointRole], problems: Sequence[str]) -> discord.Embed:
    return embeds.info(_with_warnings(describe_mapping(mapping), problems))
