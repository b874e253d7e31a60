"""bot.ui.views: confirmation, link buttons and restart-proof page buttons.

Unit tests cover the ``custom_id`` scheme; end-to-end tests drive the real client through the
fake Discord: a member clicks, the bot answers, and page buttons keep working after a restart.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, ClassVar

import discord
import pytest
from discord import app_commands
from discord.ext import commands
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import APOLOGY
from bot.forum.errors import NotFound
from bot.references import MAX_ID, NO_ID
from bot.ui.text import CUSTOM_ID
from bot.ui.views import (
    EXTRA,
    NOT_YOURS,
    ConfirmView,
    LinkButtonView,
    Page,
    Paginator,
    confirm,
    page_template,
)
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.fakediscord.server import FakeDiscord

PAGES = 3


class UiPages(Paginator, kind="uit"):
    """Three pages; records the (guild, page, extra) of every fetch."""

    fetched: ClassVar[list[tuple[int, int, str | None]]] = []

    @classmethod
    async def fetch_page(
        cls, interaction: discord.Interaction[Any], guild_id: int, page: int, extra: str | None
    ) -> Page:
        cls.fetched.append((guild_id, page, extra))
        number = min(max(page, 1), PAGES)
        embed = discord.Embed(title=f"page {number}/{PAGES}", description=f"extra={extra}")
        return Page(embed, number, PAGES)


class OnePage(Paginator, kind="uione"):
    @classmethod
    async def fetch_page(
        cls, interaction: discord.Interaction[Any], guild_id: int, page: int, extra: str | None
    ) -> Page:
        return Page(discord.Embed(title="all of it"), 1, 1)


class FailingPages(Paginator, kind="uifail"):
    """Page 1 renders; page 2 is refused by the domain, or hits a bug when extra is "bug"."""

    @classmethod
    async def fetch_page(
        cls, interaction: discord.Interaction[Any], guild_id: int, page: int, extra: str | None
    ) -> Page:
        if page >= 2 and extra == "bug":
            raise RuntimeError("a bug")
        if page >= 2:
            raise NotFound("That page is gone.")
        return Page(discord.Embed(title=f"page {page}"), page, 3)


# --------------------------------------------------------------------------- custom ids


@given(
    guild_id=st.integers(min_value=0, max_value=MAX_ID),
    page=st.integers(min_value=0, max_value=999_999),
    extra=st.one_of(st.none(), st.from_regex(EXTRA, fullmatch=True)),
)
async def test_custom_id_round_trip(guild_id: int, page: int, extra: str | None) -> None:
    item = UiPages(guild_id, page, extra=extra)
    custom_id = item.custom_id
    assert len(custom_id) <= CUSTOM_ID
    assert custom_id == f"qa:uit:{guild_id}:{page}" + (f":{extra}" if extra else "")
    match = item.template.fullmatch(custom_id)
    assert match is not None
    rebuilt = await UiPages.from_custom_id(None, item.item, match)  # type: ignore[arg-type]
    assert (rebuilt.guild_id, rebuilt.page, rebuilt.extra) == (guild_id, page, extra)
    assert rebuilt.custom_id == custom_id
    assert OnePage.__discord_ui_compiled_template__.fullmatch(custom_id) is None


async def test_a_guild_id_past_64_bits_names_no_guild() -> None:
    item = UiPages(0, 1)
    match = item.template.fullmatch(f"qa:uit:{MAX_ID + 1}:2")
    assert match is not None
    rebuilt = await UiPages.from_custom_id(None, item.item, match)  # type: ignore[arg-type]
    assert (rebuilt.guild_id, rebuilt.page) == (NO_ID, 2)


def test_template_and_kind_rules() -> None:
    assert page_template("lb").startswith("qa:lb:")
    assert re.fullmatch(page_template("lb"), "qa:lb:1:2")
    assert re.fullmatch(page_template("lb"), "qa:lb:1:2:tag_7")
    assert not re.fullmatch(page_template("lb"), "qa:lbx:1:2")
    assert not re.fullmatch(page_template("lb"), "qa:lb:1:2:has space")
    for bad in ("", "LB", "toolongkind", "l-b", "lb:1"):
        with pytest.raises(ValueError):
            page_template(bad)
    with pytest.raises(ValueError):
        UiPages.custom_id_for(1, 1, extra="no spaces allowed")


def test_a_kind_is_taken_once() -> None:
    with pytest.raises(ValueError, match="taken"):

        class Again(Paginator, kind="uit"):
            @classmethod
            async def fetch_page(
                cls, interaction: Any, guild_id: int, page: int, extra: str | None
            ) -> Page:
                return Page(discord.Embed(), 1, 1)


def test_a_base_shared_by_several_kinds_has_none_of_its_own() -> None:
    class Shared(Paginator):
        @classmethod
        async def fetch_page(
            cls, interaction: Any, guild_id: int, page: int, extra: str | None
        ) -> Page:
            return Page(discord.Embed(title=cls.kind), 1, 1)

    class First(Shared, kind="uifirst"):
        pass

    class Second(Shared, kind="uisecond"):
        pass

    assert Shared not in Paginator._kinds.values()
    assert (Paginator._kinds["uifirst"], Paginator._kinds["uisecond"]) == (First, Second)
    assert First(5, 2).custom_id == "qa:uifirst:5:2"
    assert Second.__discord_ui_compiled_template__.fullmatch("qa:uisecond:5:2") is not None
    assert Second.__discord_ui_compiled_template__.fullmatch("qa:uifirst:5:2") is None


def test_a_paginator_without_a_page_source_cannot_be_built() -> None:
    class NoSource(Paginator, kind="uinone"):
        pass

    with pytest.raises(TypeError):
        NoSource(1, 1)  # type: ignore[abstract]


def test_view_for_disables_the_ends_and_never_repeats_a_custom_id() -> None:
    embed = discord.Embed()
    for number in range(1, PAGES + 1):
        view = UiPages.view_for(42, Page(embed, number, PAGES), "x")
        previous, following = view.children
        assert isinstance(previous, UiPages) and isinstance(following, UiPages)
        assert previous.custom_id == f"qa:uit:42:{number - 1}:x"
        assert following.custom_id == f"qa:uit:42:{number + 1}:x"
        assert previous.item.disabled == (number == 1)
        assert following.item.disabled == (number == PAGES)
        assert view.timeout is None and view.is_persistent()


def test_link_button_view() -> None:
    view = LinkButtonView("https://discord.com/channels/1/2/3")
    (button,) = view.children
    assert isinstance(button, discord.ui.Button)
    assert button.style is discord.ButtonStyle.link
    assert button.url == "https://discord.com/channels/1/2/3"
    assert button.label == "Open the answer"
    assert len(LinkButtonView("https://x", "y" * 200).children[0].label or "") == 80  # type: ignore[attr-defined]
    assert not view.is_dispatchable()


def test_confirm_view_defaults() -> None:
    view = ConfirmView(5, confirm_label="Delete", destructive=True)
    assert view.value is None and view.owner_id == 5 and view.timeout == 60.0
    assert view.confirm.label == "Delete" and view.confirm.style is discord.ButtonStyle.danger
    assert view.cancel.label == "Cancel"


# --------------------------------------------------------------------------- end to end


class UiProbe(commands.Cog):
    """Commands that answer with the views under test."""

    uitest = app_commands.Group(name="uitest", description="bot.ui views")

    def __init__(self) -> None:
        self.results: asyncio.Queue[ConfirmView] = asyncio.Queue()

    @uitest.command(name="confirm", description="Ask to confirm")
    async def confirm_command(self, interaction: discord.Interaction, wait: float = 60.0) -> None:
        view = await confirm(
            interaction, "Delete it?", ephemeral=False, destructive=True, timeout=wait
        )
        if view.interaction is not None:
            await view.interaction.followup.send(f"value={view.value}", ephemeral=True)
        self.results.put_nowait(view)

    @uitest.command(name="pages", description="Show pages")
    async def pages_command(
        self, interaction: discord.Interaction, public: bool = False, extra: str | None = None
    ) -> None:
        assert interaction.guild_id is not None
        await UiPages.start(
            interaction, guild_id=interaction.guild_id, extra=extra, ephemeral=not public
        )

    @uitest.command(name="failing", description="Show pages that fail")
    async def failing_command(
        self, interaction: discord.Interaction, page: int = 1, extra: str | None = None
    ) -> None:
        assert interaction.guild_id is not None
        await FailingPages.start(interaction, guild_id=interaction.guild_id, page=page, extra=extra)

    @uitest.command(name="onepage", description="Show one page")
    async def one_page_command(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        await OnePage.start(interaction, guild_id=interaction.guild_id)


async def _bot_with_probe(factory: BotFactory) -> tuple[BotHarness, UiProbe]:
    harness = await factory(extensions=[])
    probe = UiProbe()
    await harness.bot.add_cog(probe)
    harness.bot.add_dynamic_items(UiPages, OnePage, FailingPages)
    harness.fake.install_commands(harness.bot.tree)
    return harness, probe


def _buttons(message: Any) -> dict[str, dict[str, Any]]:
    return {c["custom_id"]: c for c in message.walk_components() if "custom_id" in c}


async def test_page_buttons_work_after_a_restart(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    fake = fake_discord
    assert fake.owner is not None and fake.guild is not None
    gid = fake.guild.id
    first, _ = await _bot_with_probe(qa_bot_factory)
    ix = await fake.owner.slash("uitest pages", {"extra": "tag_9"}, channel=fake.general)
    assert await ix.deferred()
    message = await ix.message()
    assert message.ephemeral
    assert message.embeds[0]["title"] == "page 1/3"
    buttons = _buttons(message)
    assert set(buttons) == {f"qa:uit:{gid}:0:tag_9", f"qa:uit:{gid}:2:tag_9"}
    assert buttons[f"qa:uit:{gid}:0:tag_9"].get("disabled") is True
    await first.close()

    # A new process: nothing in memory but the registered dynamic item class.
    UiPages.fetched.clear()
    second = await qa_bot_factory(extensions=[])
    second.bot.add_dynamic_items(UiPages)
    click = await fake.owner.click(message, f"qa:uit:{gid}:2:tag_9")
    assert (await click.response()).type == 6  # a silent update: the page may be slow
    message = await click.message()
    assert message.embeds[0]["title"] == "page 2/3"
    assert message.embeds[0]["description"] == "extra=tag_9"
    assert set(_buttons(message)) == {f"qa:uit:{gid}:1:tag_9", f"qa:uit:{gid}:3:tag_9"}
    assert UiPages.fetched == [(gid, 2, "tag_9")]

    click = await fake.owner.click(message, f"qa:uit:{gid}:3:tag_9")
    message = await click.message()
    assert message.embeds[0]["title"] == "page 3/3"
    assert _buttons(message)[f"qa:uit:{gid}:4:tag_9"].get("disabled") is True


async def test_public_pages_turn_for_anyone_in_the_guild(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    fake = fake_discord
    assert fake.owner is not None and fake.guild is not None
    gid = fake.guild.id
    await _bot_with_probe(qa_bot_factory)
    ix = await fake.owner.slash("uitest pages", {"public": True}, channel=fake.general)
    message = await ix.message()
    assert not message.ephemeral
    other = fake.add_member(fake.guild, "reader")
    click = await other.click(message, f"qa:uit:{gid}:2")
    message = await click.message()
    assert message.embeds[0]["title"] == "page 2/3"
    assert message.embeds[0]["description"] == "extra=None"


async def test_a_single_page_has_no_buttons(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    fake = fake_discord
    assert fake.owner is not None
    await _bot_with_probe(qa_bot_factory)
    ix = await fake.owner.slash("uitest onepage", channel=fake.general)
    message = await ix.message()
    assert message.embeds[0]["title"] == "all of it"
    assert _buttons(message) == {}


async def test_only_the_owner_can_confirm(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    fake = fake_discord
    assert fake.owner is not None and fake.guild is not None
    _, probe = await _bot_with_probe(qa_bot_factory)
    ix = await fake.owner.slash("uitest confirm", channel=fake.general)
    prompt = await ix.message()
    assert prompt.content == "Delete it?" and not prompt.ephemeral
    buttons = list(_buttons(prompt).values())
    assert [b["label"] for b in buttons] == ["Confirm", "Cancel"]
    assert buttons[0]["style"] == discord.ButtonStyle.danger.value
    confirm_id, cancel_id = (b["custom_id"] for b in buttons)

    stranger = fake.add_member(fake.guild, "stranger")
    refused = await stranger.click(prompt, confirm_id)
    reply = await refused.message()
    assert reply.content == NOT_YOURS and reply.ephemeral
    assert reply.visible_to == stranger.id
    assert probe.results.empty()

    decided = await fake.owner.click(prompt, cancel_id)
    assert (await decided.response()).type == 7  # the prompt is updated in place
    view = await asyncio.wait_for(probe.results.get(), 5)
    assert view.value is False
    assert all(b.get("disabled") for b in _buttons(fake.message(prompt.id)).values())
    (followup,) = await decided.followups(1)
    assert followup.content == "value=False" and followup.ephemeral


async def test_confirm_then_timeout(fake_discord: FakeDiscord, qa_bot_factory: BotFactory) -> None:
    fake = fake_discord
    assert fake.owner is not None
    _, probe = await _bot_with_probe(qa_bot_factory)
    ix = await fake.owner.slash("uitest confirm", channel=fake.general)
    prompt = await ix.message()
    confirm_id = next(iter(_buttons(prompt)))
    await fake.owner.click(prompt, confirm_id)
    view = await asyncio.wait_for(probe.results.get(), 5)
    assert view.value is True

    # Nobody answers: the view times out, the buttons are disabled, nothing is decided.
    ix = await fake.owner.slash("uitest confirm", {"wait": 0.05}, channel=fake.general)
    prompt = await ix.message()
    view = await asyncio.wait_for(probe.results.get(), 5)
    assert view.value is None and view.interaction is None

    def disabled() -> bool:
        components = _buttons(fake.message(prompt.id)).values()
        return bool(components) and all(b.get("disabled") for b in components)

    await fake.recorder.signal.wait_for(disabled, timeout=5, describe=lambda: "disabled buttons")


async def test_link_button_in_a_dm(fake_discord: FakeDiscord, qa_bot_factory: BotFactory) -> None:
    fake = fake_discord
    assert fake.owner is not None
    harness = await qa_bot_factory(extensions=[])
    user = await harness.bot.fetch_user(fake.owner.id)
    url = "https://discord.com/channels/1/2/3"
    sent = await user.send("A new answer", view=LinkButtonView(url))
    (button,) = [c for c in fake.message(sent.id).walk_components() if c.get("type") == 2]
    assert (button["style"], button["label"], button["url"]) == (5, "Open the answer", url)
    assert "custom_id" not in button  # a link button sends the bot no interaction


async def test_a_failing_page_goes_to_the_one_error_handler(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    fake = fake_discord
    assert fake.owner is not None and fake.guild is not None
    gid = fake.guild.id
    harness, _ = await _bot_with_probe(qa_bot_factory)
    ix = await fake.owner.slash("uitest failing", channel=fake.general)
    message = await ix.message()
    assert message.embeds[0]["title"] == "page 1"

    # A domain refusal: its sentence, ephemerally; the page is left as it was.
    refused = await fake.owner.click(message, f"qa:uifail:{gid}:2")
    (reply,) = await refused.followups(1)
    assert reply.content == "That page is gone." and reply.ephemeral
    assert fake.message(message.id).embeds[0]["title"] == "page 1"

    # The same through the command that starts the pages.
    ix = await fake.owner.slash("uitest failing", {"page": 2}, channel=fake.general)
    assert (await ix.message()).content == "That page is gone."

    # A bug: an apology to the member, the details in the log (ids only).
    harness.allow_errors()
    ix = await fake.owner.slash("uitest failing", {"extra": "bug"}, channel=fake.general)
    message = await ix.message()
    broken = await fake.owner.click(message, f"qa:uifail:{gid}:2:bug")
    (reply,) = await broken.followups(1)
    assert reply.content == APOLOGY and reply.ephemeral
    (logged,) = harness.errors
    assert logged.name == "bot.errors" and logged.exc_info is not None
    assert "a bug" not in logged.getMessage()
