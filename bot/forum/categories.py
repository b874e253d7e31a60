"""Question categories: each one is a tag of the guild's Q&A forum; the Solved tag is not one.

Discord holds the tags; the ``categories`` table records which of them are categories (and the
name /ask offers). ``/qa setup`` makes the categories equal to the forum's tags
(``apply_setup``); ``/qa settings set key:categories value:add <name>`` / ``remove <name>``
creates or deletes one tag and its row (``check_new_category``, ``add_category``,
``find_category``, ``remove_category``). The adapter calls Discord between those steps; the
rules it needs (the 20-tag limit, the Solved tag's name, the shape of a category name) live here
as pure functions so their sentences are in one place.

Names are compared case-insensitively (``str.casefold``, in Python: SQLite's ``lower`` knows
only ASCII), and a guild has at most ``MAX_FORUM_TAGS`` rows, so reading them all is cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Category
from bot.forum import settings
from bot.forum.errors import InvalidState, NotFound, ValidationError
from bot.forum.text_rules import fold, has_visible, trim

#: Discord's limit on the tags of one forum channel (the Solved tag counts).
MAX_FORUM_TAGS: Final = 20
#: Discord's limit on the length of a tag's name.
TAG_NAME_MAX: Final = 20
#: The name of the tag applied to solved questions (found in any case, created with this one).
SOLVED_TAG_NAME: Final = "Solved"

#: The pseudo-setting ``/qa settings`` uses for categories, and its help line.
SETTING_KEY: Final = "categories"
SETTING_HELP: Final = (
    'Question categories, each a tag of the Q&A forum: set "add <name>" or "remove <name>".'
)

#: ``(tag id, tag name)`` as the adapter reads them from the forum channel.
Tag = tuple[int, str]


@dataclass(frozen=True, slots=True)
class CategorySnapshot:
    id: int
    name: str
    tag_id: int | None
    #: Chosen for the public archive (``archive_categories``).
    archived: bool = False


@dataclass(frozen=True, slots=True)
class CategoryChange:
    """What ``/qa settings set key:categories`` asked for."""

    action: Literal["add", "remove"]
    name: str


def _view(row: Category) -> CategorySnapshot:
    return CategorySnapshot(id=row.id, name=row.name, tag_id=row.tag_id, archived=row.archived)


def _quoted(name: str) -> str:
    """A name made safe to quote in a sentence (no backticks or line breaks, bounded)."""
    cleaned = "".join(ch for ch in name if ch.isprintable() and ch != "`").strip()
    return f"`{cleaned[:40] or '?'}`"


# --------------------------------------------------------------------------- pure rules


def validate_category_name(raw: str) -> str:
    """A category name as a forum tag can carry it: one line, 1 to ``TAG_NAME_MAX`` characters."""
    name = trim(" ".join(raw.split()))
    if not name or not has_visible(name):
        raise ValidationError("Give the category a name, such as `add Sleep`.")
    if len(name) > TAG_NAME_MAX:
        raise ValidationError(
            f"A category name can be at most {TAG_NAME_MAX} characters (Discord's limit for a "
            f"forum tag); {_quoted(name)} has {len(name)}."
        )
    if fold(name) == fold(SOLVED_TAG_NAME):
        raise ValidationError(
            f"`{SOLVED_TAG_NAME}` is the tag the bot puts on solved questions; "
            "pick another name for the category."
        )
    return name


def parse_category_change(raw: str) -> CategoryChange:
    """``add <name>`` or ``remove <name>`` (``delete`` is accepted for ``remove``)."""
    verb, _, rest = raw.strip().partition(" ")
    action = verb.lower()
    if action == "delete":
        action = "remove"
    if action not in ("add", "remove"):
        raise ValidationError(
            "For categories, write `add <name>` or `remove <name>`, such as `add Sleep`."
        )
    if action == "add":
        return CategoryChange("add", validate_category_name(rest))
    name = trim(" ".join(rest.split()))
    if not name:
        raise ValidationError("Name the category to remove, such as `remove Sleep`.")
    return CategoryChange("remove", name)


def find_solved_tag(tags: Sequence[Tag]) -> int | None:
    """The id of the forum's tag named Solved (in any case), if it has one."""
    for tag_id, name in tags:
        if fold(name) == fold(SOLVED_TAG_NAME):
            return tag_id
    return None


def find_tag(tags: Sequence[Tag], name: str) -> int | None:
    """The id of the forum's tag called ``name`` (in any case), if it has one."""
    for tag_id, tag_name in tags:
        if fold(tag_name) == fold(name):
            return tag_id
    return None


def check_room_for_tag(tag_count: int, *, adding: str) -> None:
    """Refuse to add a tag to a forum that already has Discord's maximum."""
    _check_forum_not_full(
        tag_count,
        then=f"so the bot cannot add {adding}. Remove a category first (`remove <name>`), or "
        "delete a tag in the forum's settings.",
    )


def check_can_edit_tags(*, can_manage_channels: bool) -> None:
    """Creating or deleting a forum tag needs Manage Channels in the forum."""
    if not can_manage_channels:
        raise InvalidState(
            "The bot needs the Manage Channels permission in the Q&A forum to change its tags. "
            "Grant it, then try again."
        )


def check_can_create_solved_tag(tag_count: int, *, can_manage_channels: bool) -> None:
    """Before /qa setup creates the Solved tag: room for it and the permission to add it."""
    _check_forum_not_full(
        tag_count,
        then=f"and none is called `{SOLVED_TAG_NAME}`. Delete or rename one of them to "
        f"`{SOLVED_TAG_NAME}` in the forum's settings, then run /qa setup again.",
    )
    if not can_manage_channels:
        raise InvalidState(
            f"The bot needs the Manage Channels permission in the forum to create the "
            f"`{SOLVED_TAG_NAME}` tag. Grant it (or add a tag called `{SOLVED_TAG_NAME}` "
            "yourself), then run /qa setup again."
        )


def _check_forum_not_full(tag_count: int, *, then: str) -> None:
    """Refuse when the forum has Discord's maximum of tags; ``then`` ends the sentence: why
    that stops the bot and what to do."""
    if tag_count >= MAX_FORUM_TAGS:
        raise InvalidState(f"The forum already has {MAX_FORUM_TAGS} tags, Discord's limit, {then}")


def _category_tags(tags: Sequence[Tag], solved_tag_id: int | None) -> list[Tag]:
    """The forum's tags that are categories: all but the Solved tag, first of each name."""
    seen: set[str] = set()
    out: list[Tag] = []
    for tag_id, raw in tags:
        name = trim(" ".join(raw.split()))[:100]
        key = fold(name)
        if tag_id == solved_tag_id or not name or key in seen:
            continue
        seen.add(key)
        out.append((tag_id, name))
    return out


# --------------------------------------------------------------------------- reads


async def _rows(session: AsyncSession, guild_id: int) -> list[Category]:
    stmt = (
        select(Category)
        .where(Category.guild_id == guild_id)
        .execution_options(populate_existing=True)
    )
    rows = list((await session.execute(stmt)).scalars())
    rows.sort(key=lambda r: (fold(r.name), r.id))
    return rows


async def list_categories(session: AsyncSession, guild_id: int) -> list[CategorySnapshot]:
    """The guild's categories, by name."""
    return [_view(r) for r in await _rows(session, guild_id)]


async def settings_overview(
    session: AsyncSession, guild_id: int
) -> tuple[settings.GuildConfig, list[CategorySnapshot]]:
    """What ``/qa settings show`` lists: the guild's settings and its categories."""
    return await settings.load_config(session, guild_id), await list_categories(session, guild_id)


async def find_category(session: AsyncSession, guild_id: int, raw_name: str) -> CategorySnapshot:
    """The guild's category called ``raw_name`` (in any case); refuses with the known names."""
    rows = await _rows(session, guild_id)
    wanted = fold(raw_name)
    for row in rows:
        if fold(row.name) == wanted:
            return _view(row)
    known = ", ".join(_quoted(r.name) for r in rows)
    sentence = f"There is no category called {_quoted(raw_name)}."
    sentence += f" The categories are {known}." if known else " There are no categories yet."
    raise NotFound(sentence)


async def resolve_category(session: AsyncSession, guild_id: int, raw: str | None) -> str | None:
    """The guild's category named ``raw`` (any case), as the guild spells it; None for none.

    What /ask checks (the asker picked from the list); ``find_category`` is the manager's lookup
    that names the known categories when it refuses.
    """
    name = trim(raw or "")
    if not name:
        return None
    wanted = fold(name)
    names = await session.execute(select(Category.name).where(Category.guild_id == guild_id))
    for found in names.scalars():
        if fold(found) == wanted:
            return found
    raise ValidationError("That category does not exist here; pick one from the list.")


# --------------------------------------------------------------------------- writes


async def sync_categories(
    session: AsyncSession, guild_id: int, tags: Sequence[Tag], solved_tag_id: int | None
) -> list[CategorySnapshot]:
    """Make the guild's categories equal to the forum's ``tags`` other than the Solved tag.

    A row whose tag and name already match is kept (its id too); every other row of the guild
    is deleted and the missing ones inserted, so renames and swapped names cannot collide with
    the unique name constraint. Running it twice with the same tags changes nothing.
    """
    wanted = _category_tags(tags, solved_tag_id)
    wanted_pairs = set(wanted)
    keep: set[tuple[int, str]] = set()
    stale: list[int] = []
    for row in await _rows(session, guild_id):
        pair = (row.tag_id, row.name)
        if row.tag_id is not None and pair in wanted_pairs and pair not in keep:
            keep.add((row.tag_id, row.name))
        else:
            stale.append(row.id)
    if stale:
        await session.execute(delete(Category).where(Category.id.in_(stale)))
    missing = [(tag_id, name) for tag_id, name in wanted if (tag_id, name) not in keep]
    if missing:
        session.add_all(Category(guild_id=guild_id, name=n, tag_id=t) for t, n in missing)
        await session.flush()
    return await list_categories(session, guild_id)


@dataclass(frozen=True, slots=True)
class SetupResult:
    forum_channel_id: int
    solved_tag_id: int
    categories: list[CategorySnapshot]


async def apply_setup(
    session: AsyncSession,
    guild_id: int,
    *,
    forum_channel_id: int,
    solved_tag_id: int,
    tags: Sequence[Tag],
) -> SetupResult:
    """``/qa setup``: store the Q&A forum and its Solved tag, and make the forum's other tags
    the guild's categories. Idempotent."""
    await settings.set_setting(session, guild_id, "forum_channel_id", forum_channel_id)
    await settings.set_setting(session, guild_id, "solved_tag_id", solved_tag_id)
    categories = await sync_categories(session, guild_id, tags, solved_tag_id)
    return SetupResult(forum_channel_id, solved_tag_id, categories)


async def check_new_category(session: AsyncSession, guild_id: int, raw_name: str) -> str:
    """Before a tag is created for ``add <name>``: the validated name, refused if it exists."""
    name = validate_category_name(raw_name)
    for row in await _rows(session, guild_id):
        if fold(row.name) == fold(name):
            raise InvalidState(f"There is already a category called {_quoted(row.name)}.")
    return name


async def add_category(
    session: AsyncSession, guild_id: int, raw_name: str, tag_id: int
) -> CategorySnapshot:
    """Record the category ``raw_name`` whose forum tag is ``tag_id`` (already created)."""
    name = await check_new_category(session, guild_id, raw_name)
    if (await settings.load_config(session, guild_id)).solved_tag_id == tag_id:
        raise InvalidState(
            f"{_quoted(name)} is the forum's Solved tag (renamed), so it cannot be a category."
        )
    # A row still holding the tag under an old name (the tag was renamed in Discord) gives way.
    await session.execute(
        delete(Category).where(Category.guild_id == guild_id, Category.tag_id == tag_id)
    )
    row = Category(guild_id=guild_id, name=name, tag_id=tag_id)
    session.add(row)
    await session.flush()
    return _view(row)


async def remove_category(session: AsyncSession, guild_id: int, raw_name: str) -> CategorySnapshot:
    """Delete the category called ``raw_name``; returns it (its tag is the adapter's to delete).

    Questions keep the category name they were asked with.
    """
    found = await find_category(session, guild_id, raw_name)
    await session.execute(
        delete(Category).where(Category.id == found.id, Category.guild_id == guild_id)
    )
    return found
