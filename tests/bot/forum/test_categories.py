"""Categories: the forum's tags other than Solved, kept in step by /qa setup and /qa settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Category
from bot.forum import categories
from bot.forum.categories import CategorySnapshot
from bot.forum.errors import InvalidState, NotFound, ValidationError
from bot.forum.settings import load_config
from bot.forum.uow import run_in_transaction

T = TypeVar("T")
GUILD = 111
OTHER_GUILD = 222
SOLVED = 900

TAGS = [(1, "General"), (2, "Anxiety"), (SOLVED, "Solved"), (3, "Sleep")]


@pytest.fixture
def run(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> Callable[[Callable[[AsyncSession], Awaitable[T]]], Awaitable[T]]:
    def go(work: Callable[[AsyncSession], Awaitable[T]]) -> Awaitable[T]:
        return run_in_transaction(sessionmaker, work)

    return go


def _pairs(views: list[CategorySnapshot]) -> list[tuple[int | None, str]]:
    return [(v.tag_id, v.name) for v in views]


# --------------------------------------------------------------------------- pure rules


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Sleep", "Sleep"),
        ("  Panic   attacks ", "Panic attacks"),
        ("x" * 20, "x" * 20),
        ("Ängste", "Ängste"),
    ],
)
def test_category_names_are_tidied(raw: str, expected: str) -> None:
    assert categories.validate_category_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "sentence"),
    [
        ("", "Give the category a name"),
        ("\u200b", "Give the category a name"),
        ("x" * 21, "at most 20 characters"),
        ("solved", "tag the bot puts on solved questions"),
        (" SOLVED ", "tag the bot puts on solved questions"),
    ],
)
def test_bad_category_names_are_refused_with_a_sentence(raw: str, sentence: str) -> None:
    with pytest.raises(ValidationError, match=sentence):
        categories.validate_category_name(raw)


def test_category_changes_are_parsed() -> None:
    assert categories.parse_category_change("add Sleep") == categories.CategoryChange(
        "add", "Sleep"
    )
    assert categories.parse_category_change("  ADD  Panic  attacks") == (
        categories.CategoryChange("add", "Panic attacks")
    )
    assert categories.parse_category_change("remove anxiety") == categories.CategoryChange(
        "remove", "anxiety"
    )
    assert categories.parse_category_change("delete Sleep").action == "remove"
    with pytest.raises(ValidationError, match="`add <name>` or `remove <name>`"):
        categories.parse_category_change("rename Sleep")
    with pytest.raises(ValidationError, match="Give the category a name"):
        categories.parse_category_change("add")
    with pytest.raises(ValidationError, match="Name the category to remove"):
        categories.parse_category_change("remove   ")


def test_the_solved_tag_is_found_in_any_case() -> None:
    assert categories.find_solved_tag(TAGS) == SOLVED
    assert categories.find_solved_tag([(5, "General"), (6, "sOLVED")]) == 6
    assert categories.find_solved_tag([(5, "General"), (6, "Unsolved")]) is None
    assert categories.find_tag(TAGS, "ANXIETY") == 2
    assert categories.find_tag(TAGS, "Depression") is None


def test_the_twenty_tag_limit_is_refused_with_a_sentence() -> None:
    categories.check_room_for_tag(19, adding="`Sleep`")
    with pytest.raises(InvalidState, match="already has 20 tags, Discord's limit"):
        categories.check_room_for_tag(20, adding="`Sleep`")
    categories.check_can_create_solved_tag(19, can_manage_channels=True)
    with pytest.raises(InvalidState, match=r"20 tags.*none is called `Solved`"):
        categories.check_can_create_solved_tag(20, can_manage_channels=True)
    with pytest.raises(InvalidState, match="needs the Manage Channels permission"):
        categories.check_can_create_solved_tag(3, can_manage_channels=False)


# --------------------------------------------------------------------------- setup and sync


async def test_setup_stores_the_forum_and_makes_the_other_tags_categories(run: Callable) -> None:
    result = await run(
        lambda s: categories.apply_setup(
            s, GUILD, forum_channel_id=500, solved_tag_id=SOLVED, tags=TAGS
        )
    )
    assert result.forum_channel_id == 500 and result.solved_tag_id == SOLVED
    assert _pairs(result.categories) == [(2, "Anxiety"), (1, "General"), (3, "Sleep")]
    config = await run(lambda s: load_config(s, GUILD))
    assert (config.forum_channel_id, config.solved_tag_id) == (500, SOLVED)
    assert await run(lambda s: categories.list_categories(s, OTHER_GUILD)) == []


async def test_setup_again_changes_nothing(run: Callable) -> None:
    async def setup(s: AsyncSession) -> categories.SetupResult:
        return await categories.apply_setup(
            s, GUILD, forum_channel_id=500, solved_tag_id=SOLVED, tags=TAGS
        )

    first = await run(setup)
    second = await run(setup)
    assert second == first  # the same rows, ids included


async def test_sync_follows_added_removed_and_renamed_tags(run: Callable) -> None:
    await run(lambda s: categories.sync_categories(s, GUILD, TAGS, SOLVED))
    before = {v.tag_id: v.id for v in await run(lambda s: categories.list_categories(s, GUILD))}
    # Sleep renamed, Anxiety deleted, Grief added; General untouched keeps its row.
    tags = [(1, "General"), (3, "Insomnia"), (SOLVED, "Solved"), (4, "Grief")]
    after = await run(lambda s: categories.sync_categories(s, GUILD, tags, SOLVED))
    assert _pairs(after) == [(1, "General"), (4, "Grief"), (3, "Insomnia")]
    assert next(v.id for v in after if v.tag_id == 1) == before[1]


async def test_sync_survives_swapped_names_and_duplicate_tag_names(run: Callable) -> None:
    await run(lambda s: categories.sync_categories(s, GUILD, [(1, "A"), (2, "B")], None))
    swapped = await run(lambda s: categories.sync_categories(s, GUILD, [(1, "B"), (2, "A")], None))
    assert _pairs(swapped) == [(2, "A"), (1, "B")]
    dupes = await run(
        lambda s: categories.sync_categories(s, GUILD, [(1, "Sleep"), (2, "sleep")], None)
    )
    assert _pairs(dupes) == [(1, "Sleep")]


async def test_a_new_forum_replaces_the_categories_of_the_old_one(run: Callable) -> None:
    await run(lambda s: categories.sync_categories(s, GUILD, TAGS, SOLVED))
    await run(lambda s: categories.sync_categories(s, OTHER_GUILD, [(70, "Other")], None))
    new = await run(lambda s: categories.sync_categories(s, GUILD, [(80, "Solved")], 80))
    assert new == []
    others = await run(lambda s: categories.list_categories(s, OTHER_GUILD))
    assert _pairs(others) == [(70, "Other")]


# --------------------------------------------------------------------------- add and remove


async def test_add_and_remove_a_category(run: Callable) -> None:
    await run(lambda s: categories.sync_categories(s, GUILD, TAGS, SOLVED))
    name = await run(lambda s: categories.check_new_category(s, GUILD, "  Grief "))
    assert name == "Grief"
    added = await run(lambda s: categories.add_category(s, GUILD, name, 44))
    assert (added.tag_id, added.name) == (44, "Grief")
    names = [v.name for v in await run(lambda s: categories.list_categories(s, GUILD))]
    assert names == ["Anxiety", "General", "Grief", "Sleep"]

    removed = await run(lambda s: categories.remove_category(s, GUILD, "ANXIETY"))
    assert (removed.tag_id, removed.name) == (2, "Anxiety")
    names = [v.name for v in await run(lambda s: categories.list_categories(s, GUILD))]
    assert names == ["General", "Grief", "Sleep"]


async def test_an_existing_category_is_refused_in_any_case(run: Callable) -> None:
    await run(lambda s: categories.sync_categories(s, GUILD, TAGS, SOLVED))
    with pytest.raises(InvalidState, match="already a category called `Anxiety`"):
        await run(lambda s: categories.check_new_category(s, GUILD, "anxiety"))
    with pytest.raises(InvalidState, match="already a category"):
        await run(lambda s: categories.add_category(s, GUILD, "SLEEP", 45))
    with pytest.raises(ValidationError, match="Solved"):
        await run(lambda s: categories.check_new_category(s, GUILD, "Solved"))


async def test_adding_takes_over_a_tag_a_stale_row_still_holds(run: Callable) -> None:
    """The tag was renamed in Discord after setup; adding it under its new name keeps one row."""
    await run(lambda s: categories.sync_categories(s, GUILD, TAGS, SOLVED))
    added = await run(lambda s: categories.add_category(s, GUILD, "Insomnia", 3))
    rows = _pairs(await run(lambda s: categories.list_categories(s, GUILD)))
    assert rows == [(2, "Anxiety"), (1, "General"), (3, "Insomnia")]
    assert added.tag_id == 3


async def test_removing_an_unknown_category_names_the_known_ones(run: Callable) -> None:
    with pytest.raises(NotFound, match=r"no category called `Grief`\. There are no categories"):
        await run(lambda s: categories.remove_category(s, GUILD, "Grief"))
    await run(lambda s: categories.sync_categories(s, GUILD, TAGS, SOLVED))
    with pytest.raises(NotFound, match="The categories are `Anxiety`, `General`, `Sleep`"):
        await run(lambda s: categories.find_category(s, GUILD, "Grief"))


async def test_refusals_change_nothing(
    run: Callable, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await run(lambda s: categories.sync_categories(s, GUILD, TAGS, SOLVED))

    async def count() -> int:
        async with sessionmaker() as s:
            return int((await s.execute(select(func.count()).select_from(Category))).scalar_one())

    before = await count()
    for bad in ("x" * 21, "Solved", "General"):
        with pytest.raises((ValidationError, InvalidState)):
            await run(lambda s, bad=bad: categories.add_category(s, GUILD, bad, 99))
    with pytest.raises(NotFound):
        await run(lambda s: categories.remove_category(s, GUILD, "Nope"))
    assert await count() == before


async def test_the_solved_tag_under_another_name_is_not_a_category(run: Callable) -> None:
    await run(
        lambda s: categories.apply_setup(
            s, GUILD, forum_channel_id=500, solved_tag_id=SOLVED, tags=TAGS
        )
    )
    with pytest.raises(InvalidState, match="`Done` is the forum's Solved tag"):
        await run(lambda s: categories.add_category(s, GUILD, "Done", SOLVED))
    assert all(
        v.tag_id != SOLVED for v in await run(lambda s: categories.list_categories(s, GUILD))
    )
