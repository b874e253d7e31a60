"""Reusable components: a confirmation prompt, a link button for DMs, restart-proof pages.

- ``ConfirmView`` / ``confirm``: Confirm / Cancel buttons only the member who asked can press.
- ``LinkButtonView``: one link button ("Open the answer"); sends no interaction.
- ``IdButton``: a restart-proof button whose ``custom_id`` ends with the id of what it acts
  on (a post, a draft, a block); a cog subclasses it with a template and registers it.
- ``Paginator``: previous / next buttons whose state lives in their ``custom_id``
  (``qa:<kind>:<guild>:<page>[:<extra>]``), so they keep working after a restart. A cog
  subclasses it with a ``kind`` and a ``fetch_page`` and registers the subclass once with
  ``bot.add_dynamic_items`` (discord.py's ``DynamicItem`` pattern).

Errors in a click go to the one error handler (``bot.errors``), like those of commands.
"""

from __future__ import annotations

import abc
import contextlib
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Self

import discord

from bot.errors import handle_interaction_error
from bot.references import custom_id_number
from bot.ui import emoji
from bot.ui.mentions import NO_PINGS
from bot.ui.text import BUTTON_LABEL, CUSTOM_ID, truncate

NOT_YOURS: Final = "Only the member who started this can use these buttons."

# --------------------------------------------------------------------------- confirmation


class ConfirmView(discord.ui.View):
    """Confirm / Cancel, pressable only by ``owner_id``.

    After ``await view.wait()``: ``value`` is True (confirmed), False (cancelled) or None (timed
    out), and ``interaction`` is the click that decided (already answered by disabling the
    buttons; follow up with ``interaction.followup`` or ``interaction.edit_original_response``).
    Set ``message`` to the prompt so that a timeout can disable its buttons.
    """

    def __init__(
        self,
        owner_id: int,
        *,
        timeout: float | None = 60.0,
        confirm_label: str = "Confirm",
        cancel_label: str = "Cancel",
        destructive: bool = False,
    ) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.value: bool | None = None
        self.interaction: discord.Interaction[Any] | None = None
        self.message: discord.Message | discord.InteractionMessage | None = None
        self.confirm.label = truncate(confirm_label, BUTTON_LABEL)
        self.cancel.label = truncate(cancel_label, BUTTON_LABEL)
        if destructive:
            self.confirm.style = discord.ButtonStyle.danger

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(
            NOT_YOURS, ephemeral=True, allowed_mentions=NO_PINGS
        )
        return False

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        await handle_interaction_error(interaction, error)

    def _disable(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True

    async def _decide(self, interaction: discord.Interaction[Any], value: bool) -> None:
        if self.is_finished():
            return
        self.value = value
        self.interaction = interaction
        self._disable()
        self.stop()
        await interaction.response.edit_message(view=self)

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.success)
    async def confirm(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[ConfirmView]
    ) -> None:
        await self._decide(interaction, True)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[ConfirmView]
    ) -> None:
        await self._decide(interaction, False)

    async def on_timeout(self) -> None:
        self._disable()
        if self.message is not None:
            # The prompt may be gone or its token expired: then there is nothing left to tidy.
            with contextlib.suppress(discord.HTTPException):
                await self.message.edit(view=self)


async def confirm(
    interaction: discord.Interaction[Any],
    prompt: str | None = None,
    *,
    embed: discord.Embed | None = None,
    ephemeral: bool = True,
    timeout: float = 60.0,  # noqa: ASYNC109 - the view's timeout, as discord.ui names it
    confirm_label: str = "Confirm",
    cancel_label: str = "Cancel",
    destructive: bool = False,
) -> ConfirmView:
    """Ask ``interaction.user`` to confirm (ephemerally by default) and wait for the answer.

    Answers the interaction (or follows up if it is already answered). Returns the finished
    view: see ``ConfirmView`` for ``value`` and ``interaction``.
    """
    view = ConfirmView(
        interaction.user.id,
        timeout=timeout,
        confirm_label=confirm_label,
        cancel_label=cancel_label,
        destructive=destructive,
    )
    content = prompt if prompt is not None else discord.utils.MISSING
    embed_arg = embed if embed is not None else discord.utils.MISSING
    if interaction.response.is_done():
        view.message = await interaction.followup.send(
            content,
            embed=embed_arg,
            view=view,
            ephemeral=ephemeral,
            allowed_mentions=NO_PINGS,
            wait=True,
        )
    else:
        sent = await interaction.response.send_message(
            content, embed=embed_arg, view=view, ephemeral=ephemeral, allowed_mentions=NO_PINGS
        )
        if isinstance(sent.resource, discord.InteractionMessage):
            view.message = sent.resource
    await view.wait()
    return view


# --------------------------------------------------------------------------- links


class LinkButtonView(discord.ui.View):
    """One link button (e.g. "Open the answer" under a DM); it sends no interaction."""

    def __init__(self, url: str, label: str = "Open the answer") -> None:
        super().__init__(timeout=None)
        self.add_item(discord.ui.Button(label=truncate(label, BUTTON_LABEL), url=url))


# --------------------------------------------------------------------------- id buttons

#: The end of an ``IdButton``'s ``custom_id`` template: the id it acts on.
_TARGET_ID: Final = r"(?P<id>[0-9]{1,20})"


class IdButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    abc.ABC,
    template=r"qa:[a-z:]+:(?P<id>[0-9]{1,20})",
):
    """A button that keeps working after a restart: the id of what it acts on ends its
    ``custom_id``, read back by the ``id`` group of the subclass's template (a forged id is
    ``NO_ID``, refused by the domain as not found). A subclass gives the ``button`` and what
    ``pressed`` does; a press that fails is answered by ``failed``."""

    def __init__(self, target_id: int, *, disabled: bool = False, row: int | None = None) -> None:
        self.target_id = target_id
        button = self.button(target_id)
        button.disabled = disabled
        super().__init__(button, row=row)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: Any, match: re.Match[str], /
    ) -> Self:
        return cls(custom_id_number(match["id"]))

    @abc.abstractmethod
    def button(self, target_id: int) -> discord.ui.Button[discord.ui.View]:
        """The button as Discord shows it, its ``custom_id`` ending with ``target_id``."""

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """A press: ``pressed``, and if it fails ``failed`` (discord.py itself only logs what a
        persistent button raises)."""
        try:
            await self.pressed(interaction)
        except Exception as exc:  # a refusal's sentence, or a logged apology
            await self.failed(interaction, exc)

    @abc.abstractmethod
    async def pressed(self, interaction: discord.Interaction[Any]) -> None:
        """What a press does."""

    async def failed(self, interaction: discord.Interaction[Any], exc: Exception) -> None:
        """Answers a press that failed: a refusal's sentence, or a logged apology."""
        await handle_interaction_error(interaction, exc)


class ActionButton(IdButton, abc.ABC, template=r"qa:[a-z:]+:(?P<id>[0-9]{1,20})"):
    """One of a family of ``IdButton``\\s whose ``custom_id`` is ``<family>:<action>:<id>``:
    the family's base is declared with its ``family``, each member with its ``action``,
    ``label`` and ``style``; the ``custom_id`` template of each follows from them::

        class _DraftButton(ActionButton, family="qa:ask"): ...
        class CancelButton(_DraftButton, action="cancel", label="Cancel"): ...
    """

    _FAMILY: ClassVar[str]
    _ACTION: ClassVar[str]
    _LABEL: ClassVar[str]
    _STYLE: ClassVar[discord.ButtonStyle]

    def __init_subclass__(
        cls,
        *,
        family: str | None = None,
        action: str | None = None,
        label: str = "",
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        **kwargs: Any,
    ) -> None:
        if family is not None:
            cls._FAMILY = family
            kwargs.setdefault("template", rf"{family}:(?P<action>[a-z]+):{_TARGET_ID}")
        if action is not None:
            cls._ACTION, cls._LABEL, cls._STYLE = action, label, style
            kwargs.setdefault("template", rf"{cls._FAMILY}:{action}:{_TARGET_ID}")
        super().__init_subclass__(**kwargs)

    def button(self, target_id: int) -> discord.ui.Button[discord.ui.View]:
        return discord.ui.Button(
            label=self._LABEL,
            style=self._STYLE,
            custom_id=f"{self._FAMILY}:{self._ACTION}:{target_id}",
        )


# --------------------------------------------------------------------------- pages

KIND: Final = re.compile(r"[a-z]{1,8}")
EXTRA: Final = re.compile(r"[0-9A-Za-z_.-]{1,40}")


def page_template(kind: str) -> str:
    """The ``custom_id`` pattern of a paginator kind: ``qa:<kind>:<guild>:<page>[:<extra>]``."""
    if not KIND.fullmatch(kind):
        raise ValueError(f"a paginator kind is 1-8 lower-case letters, not {kind!r}")
    return (
        rf"qa:{kind}:(?P<guild>[0-9]{{1,20}}):(?P<page>[0-9]{{1,6}})"
        rf"(?::(?P<extra>{EXTRA.pattern}))?"
    )


@dataclass(frozen=True, slots=True)
class Page:
    """A rendered page: ``number`` is the page shown (from 1), ``pages`` how many there are."""

    embed: discord.Embed
    number: int
    pages: int


class Paginator(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    abc.ABC,
    template=page_template("page"),
):
    """A previous/next page button whose state is its ``custom_id``.

    Subclass with a kind and a page source, register once, and start::

        class LeaderboardPages(Paginator, kind="lb"):
            @classmethod
            async def fetch_page(cls, interaction, guild_id, page, extra):
                ...  # read the domain, return Page(embed, number, pages)

        bot.add_dynamic_items(LeaderboardPages)           # setup_hook / cog_load
        await LeaderboardPages.start(interaction, guild_id=gid)  # in the command

    A click defers (a silent update), fetches the page and edits the message in place; a page
    past the end is the source's to clamp (it returns the page it shows). ``extra`` carries one
    small token more (a tag id, say) to the source.
    """

    kind: ClassVar[str] = "page"
    _kinds: ClassVar[dict[str, type[Paginator]]] = {}

    def __init_subclass__(cls, *, kind: str | None = None, **kwargs: Any) -> None:
        """``kind`` names the subclass's pages in their ``custom_id``; a base that several
        kinds share gives none (it is not registered)."""
        if kind is None:
            super().__init_subclass__(template=page_template(cls.kind), **kwargs)
            return
        template = page_template(kind)
        taken = Paginator._kinds.get(kind)
        if taken is not None and taken.__qualname__ != cls.__qualname__:
            raise ValueError(f"paginator kind {kind!r} is taken by {taken.__qualname__}")
        super().__init_subclass__(template=template, **kwargs)
        cls.kind = kind
        Paginator._kinds[kind] = cls

    def __init__(
        self,
        guild_id: int,
        page: int,
        *,
        extra: str | None = None,
        label: str | None = None,
        emoji: str | None = None,
        disabled: bool = False,
    ) -> None:
        self.guild_id = guild_id
        self.page = page
        self.extra = extra
        super().__init__(
            discord.ui.Button(
                label=label,
                emoji=emoji,
                style=discord.ButtonStyle.secondary,
                custom_id=self.custom_id_for(guild_id, page, extra),
                disabled=disabled,
            )
        )

    @classmethod
    def custom_id_for(cls, guild_id: int, page: int, extra: str | None = None) -> str:
        """``qa:<kind>:<guild>:<page>[:<extra>]`` (at most 100 characters)."""
        if extra is not None and not EXTRA.fullmatch(extra):
            raise ValueError(f"extra must match {EXTRA.pattern}, not {extra!r}")
        custom_id = f"qa:{cls.kind}:{guild_id}:{max(page, 0)}"
        if extra is not None:
            custom_id += f":{extra}"
        if len(custom_id) > CUSTOM_ID:  # unreachable with the patterns above; a guard
            raise ValueError(f"custom_id {custom_id!r} is longer than {CUSTOM_ID}")
        return custom_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Paginator:
        return cls(custom_id_number(match["guild"]), int(match["page"]), extra=match["extra"])

    @classmethod
    @abc.abstractmethod
    async def fetch_page(
        cls, interaction: discord.Interaction[Any], guild_id: int, page: int, extra: str | None
    ) -> Page:
        """Render page ``page`` (from 1; clamp it to the pages there are) of ``guild_id``."""

    @classmethod
    def view_for(cls, guild_id: int, page: Page, extra: str | None = None) -> discord.ui.View:
        """The previous / next buttons for ``page`` (disabled at either end)."""
        view = discord.ui.View(timeout=None)
        view.add_item(
            cls(
                guild_id,
                page.number - 1,
                extra=extra,
                label="Previous",
                emoji=emoji.PREVIOUS,
                disabled=page.number <= 1,
            )
        )
        view.add_item(
            cls(
                guild_id,
                page.number + 1,
                extra=extra,
                label="Next",
                emoji=emoji.NEXT,
                disabled=page.number >= page.pages,
            )
        )
        return view

    @classmethod
    async def start(
        cls,
        interaction: discord.Interaction[Any],
        *,
        guild_id: int,
        page: int = 1,
        extra: str | None = None,
        ephemeral: bool = True,
    ) -> None:
        """Answer a command with a page and its buttons (deferring first: a page may be slow)."""
        if not interaction.response.is_done():
            await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        shown = await cls.fetch_page(interaction, guild_id, page, extra)
        if shown.pages > 1:
            await interaction.followup.send(
                embed=shown.embed,
                view=cls.view_for(guild_id, shown, extra),
                ephemeral=ephemeral,
                allowed_mentions=NO_PINGS,
            )
        else:
            await interaction.followup.send(
                embed=shown.embed, ephemeral=ephemeral, allowed_mentions=NO_PINGS
            )

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        if interaction.guild_id == self.guild_id:
            return True
        await interaction.response.send_message(
            "These buttons belong to another server.", ephemeral=True, allowed_mentions=NO_PINGS
        )
        return False

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer()
        try:
            shown = await self.fetch_page(interaction, self.guild_id, max(self.page, 1), self.extra)
            view = self.view_for(self.guild_id, shown, self.extra) if shown.pages > 1 else None
            await interaction.edit_original_response(
                embed=shown.embed, view=view, allowed_mentions=NO_PINGS
            )
        except Exception as exc:  # the one error handler decides: a sentence or an apology
            await self.on_error(interaction, exc)

    async def on_error(self, interaction: discord.Interaction[Any], error: Exception) -> None:
        """A page that failed: a domain refusal's sentence, else a logged apology (ephemeral)."""
        await handle_interaction_error(interaction, error)
