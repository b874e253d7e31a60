"""What a Question2Answer site's data means in qa-bot (``qa-bot import-q2a``): pure rules.

- ``to_markdown``: Q2A content as Discord Markdown. ``html`` content is converted with
  ``markdownify`` (ATX headings, ``-`` bullets, images kept as links); plain text and Markdown
  (``''``, ``markdown``) are Discord Markdown already and stay as they are.
- ``flatten_categories``: Q2A's categories nest (up to four levels), a forum has at most 20
  tags, one of them Solved. Every category counts as its top-level ancestor. Top-level
  categories, in Q2A's order, take the server's categories of the same name, then free places
  while the server has fewer than 19 categories; a question in a top-level category past that
  keeps no category (each is reported). A name is cut to Discord's 20 characters for a tag.
- ``read_user_map``: the ``--users`` CSV: ``handle,discord_id`` per line (a header line and
  blank lines are allowed).
- ``rule_differences``: Q2A's point settings (``qa_options``) beside the server's.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from markdownify import markdownify

from bot.db.q2a_source import SourceCategory
from bot.forum.categories import MAX_FORUM_TAGS, TAG_NAME_MAX
from bot.forum.settings import GuildConfig
from bot.forum.text_rules import fold, trim

#: The longest title a post keeps (longer Q2A titles are cut, and reported).
TITLE_MAX: Final = 400
#: Why an imported hidden or queued post is stored removed (not live). Such a post is history
#: kept as it was on Q2A: no restore window blanks it (``bot.forum.purge.purge_removed``).
HIDDEN_REASON: Final = "Hidden on the Q2A site"
QUEUED_REASON: Final = "Waiting for moderation on the Q2A site (never approved)"
IMPORTED_REMOVALS: Final = (HIDDEN_REASON, QUEUED_REASON)


def to_markdown(content: str, fmt: str) -> str:
    """Q2A content in its format (``html``, ``''`` for plain text, ``markdown``) as Markdown."""
    if fmt == "html":
        converted = markdownify(content, heading_style="ATX", bullets="-", escape_misc=False)
        return trim(converted)
    return trim(content)


@dataclass(frozen=True, slots=True)
class CategoryPlan:
    """Each Q2A category id's qa-bot category (None: none), the categories the server needs
    as new forum tags, and the top-level categories left without one."""

    names: dict[int, str | None]
    new: list[str]
    overflow: list[str] = field(default_factory=list)


def flatten_categories(
    categories: Sequence[SourceCategory], existing: Iterable[str]
) -> CategoryPlan:
    """Map Q2A's nested categories onto at most 19 (see the module)."""
    by_id = {c.id: c for c in categories}
    have = {fold(name): name for name in existing}
    room = MAX_FORUM_TAGS - 1 - len(have)
    top_names: dict[int, str | None] = {}
    new: list[str] = []
    overflow: list[str] = []
    for cat in categories:
        if cat.parent_id is not None:
            continue
        name = trim(cat.title)[:TAG_NAME_MAX] or f"Category {cat.id}"
        if fold(name) in have:
            top_names[cat.id] = have[fold(name)]
        elif room > 0:
            have[fold(name)] = name
            new.append(name)
            top_names[cat.id] = name
            room -= 1
        else:
            top_names[cat.id] = None
            overflow.append(name)

    def top(cat_id: int) -> int:
        seen: set[int] = set()
        while (parent := by_id[cat_id].parent_id) is not None and parent in by_id:
            if cat_id in seen:
                break
            seen.add(cat_id)
            cat_id = parent
        return cat_id

    names = {cid: top_names.get(top(cid)) for cid in by_id}
    return CategoryPlan(names=names, new=new, overflow=overflow)


class UserMapError(ValueError):
    """A line of the ``--users`` CSV that maps nothing (one sentence)."""


def read_user_map(text: str) -> dict[str, int]:
    """``handle -> Discord id`` from the CSV text; ``UserMapError`` on a bad line."""
    mapping: dict[str, int] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [trim(c) for c in row]
        if not any(cells):
            continue
        if len(cells) != 2:
            raise UserMapError(f"Line {number} of the users file needs handle,discord_id.")
        handle, raw_id = cells
        if not raw_id.isdigit():
            if number == 1:
                continue  # a header
            raise UserMapError(f"Line {number} of the users file has no Discord id.")
        member_id = int(raw_id)
        if member_id <= 0 or member_id >= 2**63:
            raise UserMapError(f"Line {number} of the users file has no Discord id.")
        mapping[handle] = member_id
    return mapping


#: Q2A's point settings, as ``qa_options`` names them, with Q2A's defaults (before
#: ``points_multiple``), beside the server setting each corresponds to.
Q2A_POINT_OPTIONS: Final[Mapping[str, tuple[int, str]]] = {
    "points_post_q": (2, "points_ask"),
    "points_post_a": (4, "points_answer"),
    "points_a_selected": (30, "points_accepted"),
    "points_select_a": (3, "points_accepting"),
    "points_per_q_voted_up": (1, "points_question_upvote"),
    "points_per_q_voted_down": (1, "points_question_downvote"),
    "points_per_a_voted_up": (2, "points_answer_upvote"),
    "points_per_a_voted_down": (2, "points_answer_downvote"),
    "points_q_voted_max_gain": (10, "question_vote_cap_up"),
    "points_q_voted_max_loss": (3, "question_vote_cap_down"),
    "points_a_voted_max_gain": (20, "answer_vote_cap_up"),
    "points_a_voted_max_loss": (5, "answer_vote_cap_down"),
    "points_vote_up_a": (1, "points_vote_cast"),
}
OPTION_NAMES: Final = ("points_multiple", "points_base", *Q2A_POINT_OPTIONS)


def rule_differences(options: Mapping[str, str], config: GuildConfig) -> list[str]:
    """Each point rule the Q2A site and the server set differently, as a phrase."""

    def number(name: str, default: int) -> int:
        raw = options.get(name, "")
        return int(raw) if raw.lstrip("-").isdigit() else default

    multiple = number("points_multiple", 10)
    differences = []
    base = number("points_base", 100)
    if base != config.points_base:
        differences.append(f"points_base: Q2A {base}, here {config.points_base}")
    for name, (default, setting) in Q2A_POINT_OPTIONS.items():
        theirs = number(name, default) * multiple
        ours = int(getattr(config, setting))
        if theirs != ours:
            differences.append(f"{setting}: Q2A {theirs}, here {ours}")
    return differences
