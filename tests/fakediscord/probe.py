"""A test-only extension: commands and listeners that exercise every path through the fake.

Loaded with ``extensions=["tests.fakediscord.probe"]``. It records what the bot received in
``Probe.seen`` so tests can wait for it (``await probe.wait_for("message", ...)``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

FRUITS = ["apple", "apricot", "banana", "cherry"]


class AskModal(discord.ui.Modal, title="Ask a question"):
    question_title: discord.ui.TextInput[AskModal] = discord.ui.TextInput(
        label="Title", custom_id="title", max_length=100
    )
    details: discord.ui.TextInput[AskModal] = discord.ui.TextInput(
        label="Details", custom_id="details", style=discord.TextStyle.paragraph, required=False
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            f"asked: {self.question_title.value} / {self.details.value}"
        )


class LabelModal(discord.ui.Modal, title="Labelled"):
    notice: discord.ui.TextDisplay[LabelModal] = discord.ui.TextDisplay("Read **this** first.")
    answer: discord.ui.Label[LabelModal] = discord.ui.Label(
        text="Your answer",
        component=discord.ui.TextInput(custom_id="answer", style=discord.TextStyle.paragraph),
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        inner = self.answer.component
        assert isinstance(inner, discord.ui.TextInput)
        await interaction.response.send_message(f"answer: {inner.value}", ephemeral=True)


class ConfirmView(discord.ui.View):
    def __init__(self, probe: Probe) -> None:
        super().__init__(timeout=None)
        self.probe = probe

    @discord.ui.button(label="OK", custom_id="probe:ok", style=discord.ButtonStyle.success)
    async def ok(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        self.probe.record("click", interaction)
        await interaction.response.edit_message(content="clicked", view=None)

    @discord.ui.select(
        custom_id="probe:pick",
        options=[discord.SelectOption(label=f, value=f) for f in FRUITS],
        max_values=2,
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[Any]) -> None:
        self.probe.record("select", select.values)
        await interaction.response.send_message(f"picked {','.join(select.values)}")


class Probe(commands.Cog):
    probe = app_commands.Group(name="probe", description="Exercise the fake Discord")
    deep = app_commands.Group(name="group", description="A subcommand group", parent=probe)

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self.seen: list[tuple[str, Any]] = []
        self._changed = asyncio.Event()
        self.menu = app_commands.ContextMenu(name="Probe message", callback=self.probe_message)
        self.user_menu = app_commands.ContextMenu(name="Probe user", callback=self.probe_user)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)
        self.bot.tree.add_command(self.user_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)
        self.bot.tree.remove_command(self.user_menu.name, type=self.user_menu.type)

    def record(self, kind: str, value: Any) -> None:
        self.seen.append((kind, value))
        self._changed.set()
        self._changed = asyncio.Event()

    def of(self, kind: str) -> list[Any]:
        return [v for k, v in self.seen if k == kind]

    async def wait_for(
        self,
        kind: str,
        check: Callable[[Any], bool] = lambda _: True,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Any:
        async with asyncio.timeout(timeout):
            while True:
                event = self._changed
                for k, v in self.seen:
                    if k == kind and check(v):
                        return v
                await event.wait()

    # ------------------------------------------------------------------ listeners

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        self.record("message", message)

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        self.record("edit", payload)

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        self.record("delete", payload)

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        self.record("bulk_delete", payload)

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        self.record("reaction_add", payload)

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        self.record("reaction_remove", payload)

    @commands.Cog.listener()
    async def on_raw_reaction_clear(self, payload: discord.RawReactionClearEvent) -> None:
        self.record("reaction_clear", payload)

    @commands.Cog.listener()
    async def on_raw_reaction_clear_emoji(
        self, payload: discord.RawReactionClearEmojiEvent
    ) -> None:
        self.record("reaction_clear_emoji", payload)

    @commands.Cog.listener()
    async def on_thread_create(self, thread: discord.Thread) -> None:
        self.record("thread_create", thread)

    @commands.Cog.listener()
    async def on_raw_thread_update(self, payload: discord.RawThreadUpdateEvent) -> None:
        self.record("thread_update", payload)

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        self.record("thread_delete", payload)

    @commands.Cog.listener()
    async def on_guild_channel_update(self, before: Any, after: Any) -> None:
        self.record("channel_update", after)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        self.record("guild_join", guild)

    @commands.Cog.listener()
    async def on_guild_channel_create(self, channel: Any) -> None:
        self.record("channel_create", channel)

    @commands.Cog.listener()
    async def on_shard_ready(self, shard_id: int) -> None:
        self.record("shard_ready", shard_id)

    @commands.Cog.listener()
    async def on_shard_resumed(self, shard_id: int) -> None:
        self.record("shard_resumed", shard_id)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        self.record("interaction", interaction)

    # ------------------------------------------------------------------ commands

    @probe.command(name="ping", description="Answer pong")
    async def ping(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    @probe.command(name="ask", description="Open a modal")
    async def ask(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(AskModal())

    @probe.command(name="label", description="Open a modal with a Label")
    async def label(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(LabelModal())

    @probe.command(name="buttons", description="An ephemeral message with a view")
    async def buttons(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("choose", view=ConfirmView(self), ephemeral=True)

    @probe.command(name="slow", description="Defer, then follow up")
    @app_commands.describe(private="Defer ephemerally")
    async def slow(self, interaction: discord.Interaction, private: bool = False) -> None:
        await interaction.response.defer(thinking=True, ephemeral=private)
        await interaction.followup.send("done")
        await interaction.followup.send("and more")

    @probe.command(name="twice", description="Answer twice (the second must fail)")
    async def twice(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("first")
        try:
            await interaction.response.send_message("second")
        except discord.InteractionResponded as exc:
            self.record("twice_error", exc)
        try:
            await interaction.response._parent._state.http.request(  # raw second callback
                discord.http.Route(
                    "POST",
                    "/interactions/{interaction_id}/{token}/callback",
                    interaction_id=interaction.id,
                    token=interaction.token,
                ),
                json={"type": 4, "data": {"content": "third"}},
            )
        except discord.HTTPException as exc:
            self.record("twice_error", exc)

    @probe.command(name="lifecycle", description="Edit the original, then a followup")
    async def lifecycle(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("v1")
        original = await interaction.original_response()
        edited = await interaction.edit_original_response(content="v2")
        followup = await interaction.followup.send("temp", wait=True)
        followup = await followup.edit(content="temp2")
        fetched = await interaction.followup.fetch_message(followup.id)
        await followup.delete()
        self.record("lifecycle", (original, edited, fetched))

    @probe.command(name="boom", description="Raise an unhandled error")
    async def boom(self, interaction: discord.Interaction) -> None:
        raise RuntimeError("boom")

    @probe.command(name="pick", description="Autocomplete a fruit")
    async def pick(self, interaction: discord.Interaction, fruit: str, count: int = 1) -> None:
        await interaction.response.send_message(f"{count} x {fruit}")

    @pick.autocomplete("fruit")
    async def pick_fruit(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=f, value=f) for f in FRUITS if f.startswith(current)]

    @probe.command(name="who", description="Options of every kind")
    async def who(
        self,
        interaction: discord.Interaction,
        member: discord.Member,
        role: discord.Role,
        channel: discord.TextChannel | discord.ForumChannel,
        ratio: float = 0.5,
    ) -> None:
        text = f"{member.id} {role.id} {channel.id} {ratio} {interaction.permissions.value}"
        await interaction.response.send_message(text)

    @app_commands.command(name="probe-admin", description="Moderators only")
    @app_commands.default_permissions(manage_guild=True)
    async def admin(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("admin ok")

    @deep.command(name="deep", description="Inside a subcommand group")
    async def deep_cmd(self, interaction: discord.Interaction, value: int) -> None:
        await interaction.response.send_message(f"deep {value}")

    async def probe_message(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        await interaction.response.send_message(f"target {message.id}", ephemeral=True)

    async def probe_user(self, interaction: discord.Interaction, member: discord.Member) -> None:
        await interaction.response.send_message(f"user {member.id}", ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Probe(bot))
