"""``/qa setup`` and ``/qa settings`` end to end: the real bot against the fake Discord."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import APOLOGY
from bot.forum import categories
from bot.forum.categories import CategorySnapshot
from bot.forum.settings import DEFAULTS, GuildConfig, load_config, public_keys
from bot.forum.uow import run_in_transaction
from tests.fakediscord import permissions as P
from tests.fakediscord.actors import GestureRefused, InteractionHandle, Member
from tests.fakediscord.fixtures import BotHarness
from tests.fakediscord.model import Channel, Guild, Message, Role
from tests.fakediscord.recorder import Call
from tests.fakediscord.rest import Reply
from tests.fakediscord.server import FakeDiscord

T = TypeVar("T")
PATCH_CHANNEL = ("PATCH", "/channels/{channel_id}")


# --------------------------------------------------------------------------- helpers


class Scene:
    def __init__(self, fake: FakeDiscord, harness: BotHarness) -> None:
        assert fake.guild and fake.forum and fake.owner and fake.general
        self.fake = fake
        self.harness = harness
        self.guild: Guild = fake.guild
        self.forum: Channel = fake.forum
        self.owner: Member = fake.owner
        self.general: Channel = fake.general

    async def db(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        return await run_in_transaction(self.harness.sessionmaker, work)

    async def config(self) -> GuildConfig:
        return await self.db(lambda s: load_config(s, self.guild.id))

    async def categories(self) -> list[tuple[int | None, str]]:
        views: list[CategorySnapshot] = await self.db(
            lambda s: categories.list_categories(s, self.guild.id)
        )
        return [(v.tag_id, v.name) for v in views]

    async def use(
        self,
        command: str,
        options: dict[str, Any] | None = None,
        *,
        who: Member | None = None,
        bypass: bool = False,
    ) -> InteractionHandle:
        member = who or self.owner
        return await member.slash(command, options, channel=self.general, bypass_permissions=bypass)

    async def reply(
        self, command: str, options: dict[str, Any] | None = None, **kw: Any
    ) -> Message:
        """The command's final message, which must be ephemeral."""
        ix = await self.use(command, options, **kw)
        msg = await ix.message()
        assert msg.ephemeral, f"/{command} answered publicly"
        return msg

    async def setup(self, forum: Channel | None = None, **kw: Any) -> Message:
        return await self.reply("qa setup", {"forum": forum or self.forum}, **kw)

    def bot_role(self) -> Role:
        return next(r for r in self.guild.roles.values() if r.bot_id == self.fake.bot_user.id)

    async def grant_bot(self, *names: str) -> None:
        role = self.bot_role()
        self.fake.world.update_role(role, permissions=role.permissions | P.to_bits(list(names)))
        await self.fake.flush()

    async def deny_bot_in_forum(self, *names: str) -> None:
        deny = self.fake.overwrite(self.bot_role(), deny=list(names))
        self.fake.edit_channel(self.forum, permission_overwrites=[deny])
        await self.fake.flush()

    def tag_names(self, forum: Channel | None = None) -> list[str]:
        return [t.name for t in (forum or self.forum).available_tags]


def text_of(msg: Message) -> str:
    """Everything the member reads in a reply: content, embed titles, descriptions, fields."""
    parts = [msg.content]
    for embed in msg.embeds:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        for f in embed.get("fields", []):
            parts += [f["name"], f["value"]]
    return "\n".join(p for p in parts if p)


def field(msg: Message, name: str) -> str:
    for embed in msg.embeds:
        for f in embed.get("fields", []):
            if f["name"] == name:
                return str(f["value"])
    raise AssertionError(f"no field {name!r} in {msg.embeds!r}")


@pytest.fixture
async def scene(fake_discord: FakeDiscord, qa_bot: BotHarness) -> Scene:
    return Scene(fake_discord, qa_bot)


# --------------------------------------------------------------------------- /qa setup


async def test_setup_stores_the_forum_categories_and_creates_the_solved_tag(scene: Scene) -> None:
    await scene.grant_bot("manage_roles")
    ix = await scene.use("qa setup", {"forum": scene.forum})
    assert await ix.deferred()  # Discord REST calls follow: it answers "thinking" at once
    msg = await ix.message()
    assert msg.ephemeral

    solved = scene.forum.tag("Solved")
    assert solved.moderated and solved.emoji_name == "✅"
    config = await scene.config()
    assert config.forum_channel_id == scene.forum.id
    assert config.solved_tag_id == solved.id
    assert [name for _, name in await scene.categories()] == [
        "Anxiety",
        "Depression",
        "General",
        "Relationships",
    ]
    assert all(tag_id != solved.id for tag_id, _ in await scene.categories())

    assert msg.embeds[0]["title"] == "Q&A forum set up"
    assert f"<#{scene.forum.id}>" in msg.embeds[0]["description"]
    assert field(msg, "Solved tag") == "Solved (created)"
    for name in ("Anxiety", "Depression", "General", "Relationships"):
        assert name in field(msg, "Categories")
    assert field(msg, "Permissions") == "All the bot needs."
    assert len(msg.embeds) == 1 and len(ix.followup_messages) <= 1


async def test_setup_again_is_idempotent(scene: Scene) -> None:
    await scene.setup()
    config, cats, tags = await scene.config(), await scene.categories(), scene.tag_names()
    mark = scene.fake.mark()
    again = await scene.setup()
    assert field(again, "Solved tag") == "Solved (found)"
    assert not scene.fake.find_calls(*PATCH_CHANNEL, since=mark)
    assert (await scene.config(), await scene.categories(), scene.tag_names()) == (
        config,
        cats,
        tags,
    )


async def test_setup_finds_an_existing_solved_tag_by_name(scene: Scene) -> None:
    forum = scene.fake.add_forum(scene.guild, "help", tags=["Sleep", "sOlVeD", "Grief"])
    await scene.fake.flush()
    mark = scene.fake.mark()
    msg = await scene.setup(forum)
    assert field(msg, "Solved tag") == "sOlVeD (found)"
    assert not scene.fake.find_calls(*PATCH_CHANNEL, since=mark)
    config = await scene.config()
    assert config.forum_channel_id == forum.id
    assert config.solved_tag_id == forum.tag("sOlVeD").id
    assert [name for _, name in await scene.categories()] == ["Grief", "Sleep"]
    assert scene.tag_names(forum) == ["Sleep", "sOlVeD", "Grief"]


async def test_setup_on_another_forum_replaces_the_categories(scene: Scene) -> None:
    await scene.setup()
    forum = scene.fake.add_forum(scene.guild, "help", tags=["Sleep"])
    await scene.fake.flush()
    await scene.setup(forum)
    assert [name for _, name in await scene.categories()] == ["Sleep"]
    assert scene.tag_names(forum) == ["Sleep", "Solved"]


async def test_setup_reports_the_permissions_the_bot_lacks_in_the_forum(scene: Scene) -> None:
    await scene.deny_bot_in_forum("add_reactions", "attach_files")
    msg = await scene.setup()
    missing = field(msg, "Missing permissions in the forum")
    for name in ("Add Reactions", "Attach Files", "Manage Roles"):
        assert name in missing
    assert "Manage Threads" not in missing and "View Channel" not in missing
    assert (await scene.config()).forum_channel_id == scene.forum.id


async def test_setup_without_manage_channels_cannot_create_the_solved_tag(scene: Scene) -> None:
    await scene.deny_bot_in_forum("manage_channels")
    msg = await scene.setup()
    assert "needs the Manage Channels permission" in text_of(msg)
    assert (await scene.config()).forum_channel_id is None
    assert await scene.categories() == []
    assert "Solved" not in scene.tag_names()


async def test_setup_of_a_forum_the_bot_cannot_see_is_refused(scene: Scene) -> None:
    await scene.deny_bot_in_forum("view_channel")
    msg = await scene.setup()
    assert "The bot cannot see" in text_of(msg) and "View Channel" in text_of(msg)
    assert (await scene.config()).forum_channel_id is None


async def test_setup_of_a_full_forum_without_a_solved_tag_is_refused(scene: Scene) -> None:
    forum = scene.fake.add_forum(scene.guild, "full", tags=[f"Tag {i}" for i in range(20)])
    await scene.fake.flush()
    mark = scene.fake.mark()
    msg = await scene.setup(forum)
    assert "already has 20 tags, Discord's limit, and none is called `Solved`" in text_of(msg)
    assert not scene.fake.find_calls(*PATCH_CHANNEL, since=mark)
    assert (await scene.config()).forum_channel_id is None
    assert await scene.categories() == []


async def test_setup_notes_a_forum_that_requires_tags_but_has_none(scene: Scene) -> None:
    forum = scene.fake.add_forum(scene.guild, "strict", require_tag=True)
    await scene.fake.flush()
    msg = await scene.setup(forum)
    assert "requires a tag on every post" in field(msg, "Notes")


# --------------------------------------------------------------------------- Manage Server


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("qa setup", "forum"),
        ("qa settings show", None),
        ("qa settings set", {"key": "min_answer_length", "value": "30"}),
        ("qa settings reset", {"key": "min_answer_length"}),
    ],
)
async def test_members_without_manage_server_are_refused(
    scene: Scene, command: str, options: Any
) -> None:
    if options == "forum":
        options = {"forum": scene.forum}
    member = scene.fake.add_member(scene.guild, "member", perms=["manage_threads"])
    await scene.fake.flush()
    with pytest.raises(GestureRefused, match="hides /qa"):
        await scene.use(command, options, who=member)
    # A server can lift Discord's default; the bot checks again itself.
    msg = await scene.reply(command, options, who=member, bypass=True)
    assert "You need the Manage Server permission" in text_of(msg)
    assert await scene.config() == DEFAULTS
    assert "Solved" not in scene.tag_names()


async def test_a_member_with_manage_server_may_configure(scene: Scene) -> None:
    admin = scene.fake.add_member(scene.guild, "admin", perms=["manage_guild"])
    await scene.fake.flush()
    await scene.reply("qa settings set", {"key": "points_ask", "value": "5"}, who=admin)
    assert (await scene.config()).points_ask == 5


# --------------------------------------------------------------------------- settings


async def test_settings_show_lists_every_public_option(scene: Scene) -> None:
    await scene.setup()
    await scene.reply("qa settings set", {"key": "points_answer", "value": "55"})
    msg = await scene.reply("qa settings show")
    shown = text_of(msg)
    for key in [*public_keys(), "categories", "forum"]:
        assert f"`{key}`" in shown, key
    assert "`points_answer`: **55** (default 40)" in shown
    assert "Points for posting an answer." in shown
    assert "`forum`: **\\#questions**" in shown  # "#" escaped: it shows as typed
    assert "Anxiety, Depression, General, Relationships" in shown
    assert "`forum_channel_id`" not in shown and "`solved_tag_id`" not in shown


async def test_settings_set_a_valid_value(scene: Scene) -> None:
    msg = await scene.reply("qa settings set", {"key": "min_answer_length", "value": " 30 "})
    assert "`min_answer_length` is now **30**" in text_of(msg)
    assert (await scene.config()).min_answer_length == 30
    await scene.reply("qa settings set", {"key": "question_voting", "value": "off"})
    await scene.reply("qa settings set", {"key": "vote_up_emoji", "value": "⬆️"})
    config = await scene.config()
    assert config.question_voting is False and config.vote_up_emoji == "⬆️"


@pytest.mark.parametrize(
    ("key", "value", "sentence"),
    [
        ("min_answer_length", "abc", "`min_answer_length` must be a whole number."),
        ("min_answer_length", "0", "`min_answer_length` must be at least 1."),
        ("question_voting", "maybe", "`question_voting` must be on or off."),
        ("vote_down_emoji", "👍", "The up and down vote emoji must differ."),
        ("vote_up_emoji", "up", "`vote_up_emoji` must be one emoji"),
        ("forum_channel_id", "123", "`forum_channel_id` is set by /qa setup."),
        ("solved_tag_id", "123", "`solved_tag_id` is set by /qa setup."),
        ("min_answer_lenght", "30", "no setting called `min_answer_lenght`"),
        ("nonsense", "1", "There is no setting called `nonsense`."),
    ],
)
async def test_a_bad_value_or_key_gives_the_sentence_and_changes_nothing(
    scene: Scene, key: str, value: str, sentence: str
) -> None:
    await scene.reply("qa settings set", {"key": "points_ask", "value": "7"})
    before = await scene.config()
    msg = await scene.reply("qa settings set", {"key": key, "value": value})
    assert sentence in text_of(msg)
    assert await scene.config() == before


async def test_an_unknown_key_suggests_the_closest(scene: Scene) -> None:
    msg = await scene.reply("qa settings set", {"key": "min_answer_lenght", "value": "30"})
    assert "Did you mean `min_answer_length`?" in text_of(msg)


async def test_the_moderator_role_by_mention_id_or_name(scene: Scene) -> None:
    role = scene.fake.moderator_role
    assert role is not None
    for given in (f"<@&{role.id}>", str(role.id), "moderator", "@Moderator"):
        await scene.reply("qa settings set", {"key": "moderator_role_id", "value": "none"})
        assert (await scene.config()).moderator_role_id is None
        msg = await scene.reply("qa settings set", {"key": "moderator_role_id", "value": given})
        assert f"@Moderator ({role.id})" in text_of(msg)
        assert (await scene.config()).moderator_role_id == role.id
    show = text_of(await scene.reply("qa settings show"))
    assert f"`moderator_role_id`: **@Moderator ({role.id})**" in show


@pytest.mark.parametrize(
    ("value", "sentence"),
    [
        ("<@&1234>", "This server has no role with the id 1234."),
        ("Gardeners", "There is no role called `Gardeners` here"),
        ("@everyone", "@everyone cannot be the moderator role"),
        ("everyone", "@everyone cannot be the moderator role"),
    ],
)
async def test_a_bad_moderator_role_is_refused(scene: Scene, value: str, sentence: str) -> None:
    if value == "everyone":
        value = str(scene.guild.id)  # @everyone's id is the guild's
    msg = await scene.reply("qa settings set", {"key": "moderator_role_id", "value": value})
    assert sentence in text_of(msg)
    assert (await scene.config()).moderator_role_id is None


async def test_a_role_name_several_roles_share_is_refused(scene: Scene) -> None:
    scene.fake.add_role(scene.guild, "Helpers")
    scene.fake.add_role(scene.guild, "helpers")
    await scene.fake.flush()
    msg = await scene.reply("qa settings set", {"key": "moderator_role_id", "value": "Helpers"})
    assert "Several roles are called `Helpers`" in text_of(msg)
    assert (await scene.config()).moderator_role_id is None


async def test_reset_puts_a_setting_back_to_its_default(scene: Scene) -> None:
    await scene.reply("qa settings set", {"key": "answers_per_hour", "value": "3"})
    msg = await scene.reply("qa settings reset", {"key": "answers_per_hour"})
    assert "`answers_per_hour` is back to its default, **25**" in text_of(msg)
    assert await scene.config() == DEFAULTS


async def test_reset_refuses_what_it_cannot_reset(scene: Scene) -> None:
    await scene.setup()
    before = await scene.config()
    for key, sentence in [
        ("forum_channel_id", "`forum_channel_id` is set by /qa setup."),
        ("categories", "Categories have no default"),
        ("nope", "There is no setting called `nope`."),
    ]:
        msg = await scene.reply("qa settings reset", {"key": key})
        assert sentence in text_of(msg)
    # Resetting the up emoji to 👍 while 👍 votes down would make them equal.
    await scene.reply("qa settings set", {"key": "vote_up_emoji", "value": "⬆️"})
    await scene.reply("qa settings set", {"key": "vote_down_emoji", "value": "👍"})
    msg = await scene.reply("qa settings reset", {"key": "vote_up_emoji"})
    assert "must differ" in text_of(msg)
    assert (await scene.config()).vote_up_emoji == "⬆️"
    assert (await scene.config()).forum_channel_id == before.forum_channel_id


async def test_key_autocomplete_offers_public_keys_and_categories(scene: Scene) -> None:
    choices = await scene.owner.autocomplete(
        "qa settings set", {"key": ""}, focused="key", channel=scene.general
    )
    values = [c["value"] for c in choices]
    keys = {*public_keys(), "categories", "archive_categories"}
    assert set(values) <= keys and len(values) == min(25, len(keys)) and "categories" in values
    premod = await scene.owner.autocomplete(
        "qa settings set", {"key": "premod"}, focused="key", channel=scene.general
    )
    assert [c["value"] for c in premod] == [k for k in public_keys() if "premod" in k]
    typed = await scene.owner.autocomplete(
        "qa settings set", {"key": "resources"}, focused="key", channel=scene.general
    )
    assert [c["value"] for c in typed] == [
        "resources_text",
        "resources_keywords",
        "resources_keyword_reply",
    ]
    emoji = await scene.owner.autocomplete(
        "qa settings reset", {"key": "EMOJI"}, focused="key", channel=scene.general
    )
    assert [c["value"] for c in emoji] == ["vote_up_emoji", "vote_down_emoji"]
    cat = await scene.owner.autocomplete(
        "qa settings set", {"key": "categ"}, focused="key", channel=scene.general
    )
    assert [c["value"] for c in cat] == ["categories", "archive_categories"]


# --------------------------------------------------------------------------- categories


async def set_categories(scene: Scene, value: str) -> Message:
    ix = await scene.use("qa settings set", {"key": "categories", "value": value})
    assert await ix.deferred()
    msg = await ix.message()
    assert msg.ephemeral
    return msg


async def test_add_a_category_creates_its_forum_tag(scene: Scene) -> None:
    await scene.setup()
    msg = await set_categories(scene, "add  Panic  attacks ")
    assert "Added the category **Panic attacks** with a new forum tag." in text_of(msg)
    tag = scene.forum.tag("Panic attacks")
    assert (tag.id, "Panic attacks") in await scene.categories()
    assert scene.tag_names()[-1] == "Panic attacks"
    assert "Solved" in scene.tag_names()  # the other tags are kept


async def test_add_a_category_for_a_tag_the_forum_already_has(scene: Scene) -> None:
    await scene.setup()
    scene.fake.edit_channel(
        scene.forum,
        available_tags=[t.payload() for t in scene.forum.available_tags] + [{"name": "Grief"}],
    )
    await scene.fake.flush()
    mark = scene.fake.mark()
    msg = await set_categories(scene, "add grief")
    assert "using the forum's existing tag" in text_of(msg)
    assert not scene.fake.find_calls(*PATCH_CHANNEL, since=mark)
    assert (scene.forum.tag("Grief").id, "grief") in await scene.categories()


@pytest.mark.parametrize(
    ("value", "sentence"),
    [
        ("add anxiety", "There is already a category called `Anxiety`."),
        ("add solved", "`Solved` is the tag the bot puts on solved questions"),
        ("add " + "x" * 21, "at most 20 characters"),
        ("rename Anxiety", "write `add <name>` or `remove <name>`"),
        ("remove Grief", "There is no category called `Grief`."),
    ],
)
async def test_bad_category_changes_are_refused_and_change_nothing(
    scene: Scene, value: str, sentence: str
) -> None:
    await scene.setup()
    cats, tags = await scene.categories(), scene.tag_names()
    mark = scene.fake.mark()
    msg = await scene.reply("qa settings set", {"key": "categories", "value": value})
    assert sentence in text_of(msg)
    assert not scene.fake.find_calls(*PATCH_CHANNEL, since=mark)
    assert (await scene.categories(), scene.tag_names()) == (cats, tags)


async def test_the_renamed_solved_tag_cannot_become_a_category(scene: Scene) -> None:
    await scene.setup()
    renamed = [
        t.payload() | ({"name": "Done"} if t.name == "Solved" else {})
        for t in scene.forum.available_tags
    ]
    scene.fake.edit_channel(scene.forum, available_tags=renamed)
    await scene.fake.flush()
    msg = await scene.reply("qa settings set", {"key": "categories", "value": "add Done"})
    assert "`Done` is the forum's Solved tag" in text_of(msg)
    assert "Done" not in [name for _, name in await scene.categories()]


async def test_remove_a_category_deletes_its_forum_tag(scene: Scene) -> None:
    await scene.setup()
    anxiety = scene.forum.tag("Anxiety").id
    msg = await set_categories(scene, "remove ANXIETY")
    assert "Removed the category **Anxiety** and its forum tag." in text_of(msg)
    assert "Anxiety" not in scene.tag_names()
    assert all(tag_id != anxiety for tag_id, _ in await scene.categories())
    assert scene.tag_names() == ["General", "Depression", "Relationships", "Solved"]
    assert (await scene.config()).solved_tag_id == scene.forum.tag("Solved").id


async def test_remove_a_category_whose_tag_is_already_gone(scene: Scene) -> None:
    await scene.setup()
    kept = [t.payload() for t in scene.forum.available_tags if t.name != "General"]
    scene.fake.edit_channel(scene.forum, available_tags=kept)
    await scene.fake.flush()
    mark = scene.fake.mark()
    msg = await set_categories(scene, "remove general")
    assert "Removed the category **General**" in text_of(msg)
    assert not scene.fake.find_calls(*PATCH_CHANNEL, since=mark)
    assert "General" not in [name for _, name in await scene.categories()]


async def test_the_twenty_first_tag_is_refused(scene: Scene) -> None:
    await scene.setup()  # 4 categories + Solved
    for i in range(15):
        await set_categories(scene, f"add Topic {i}")
    assert len(scene.forum.available_tags) == 20
    cats = await scene.categories()
    mark = scene.fake.mark()
    msg = await scene.reply("qa settings set", {"key": "categories", "value": "add Topic 15"})
    assert "already has 20 tags, Discord's limit" in text_of(msg)
    assert "Remove a category first" in text_of(msg)
    assert not scene.fake.find_calls(*PATCH_CHANNEL, since=mark)
    assert await scene.categories() == cats and len(scene.forum.available_tags) == 20
    # Room again after a removal.
    await set_categories(scene, "remove Topic 0")
    await set_categories(scene, "add Topic 15")
    assert len(scene.forum.available_tags) == 20


async def test_category_tags_need_manage_channels(scene: Scene) -> None:
    await scene.setup()
    await scene.deny_bot_in_forum("manage_channels")
    for value in ("add Grief", "remove Anxiety"):
        msg = await scene.reply("qa settings set", {"key": "categories", "value": value})
        assert "needs the Manage Channels permission" in text_of(msg)
    assert "Anxiety" in [name for _, name in await scene.categories()]
    assert "Grief" not in scene.tag_names()


async def test_categories_before_setup_point_to_setup(scene: Scene) -> None:
    msg = await scene.reply("qa settings set", {"key": "categories", "value": "add Grief"})
    assert "/qa setup" in text_of(msg)
    assert await scene.categories() == []


async def test_categories_after_the_forum_was_deleted(scene: Scene) -> None:
    await scene.setup()
    scene.fake.world.delete_channel(scene.forum)
    await scene.fake.flush()
    msg = await scene.reply("qa settings set", {"key": "categories", "value": "add Grief"})
    assert "no longer exists" in text_of(msg)


# --------------------------------------------------------------------------- errors in one place


def fail_channel_edits(scene: Scene, status: int, code: int, message: str) -> None:
    def intercept(call: Call) -> Reply | None:
        if call.method == "PATCH" and call.route == "/channels/{channel_id}":
            return Reply(status, {"message": message, "code": code})
        return None

    scene.fake.rest.interceptors.append(intercept)


async def test_discord_refusing_an_edit_gives_a_sentence(scene: Scene) -> None:
    fail_channel_edits(scene, 403, 50013, "Missing Permissions")
    msg = await scene.setup()
    assert "Discord refused: the bot is missing a permission here" in text_of(msg)
    assert (await scene.config()).forum_channel_id is None


async def test_an_unexpected_failure_is_logged_with_ids_and_apologised_for(scene: Scene) -> None:
    scene.harness.allow_errors()
    fail_channel_edits(scene, 400, 50035, "Invalid Form Body")
    ix = await scene.use("qa setup", {"forum": scene.forum})
    msg = await ix.message()
    assert msg.ephemeral and text_of(msg) == APOLOGY
    assert msg.allowed_mentions == {"parse": []}
    (record,) = [r for r in scene.harness.errors if r.name == "bot.errors"]
    line = record.getMessage()
    assert "HTTPException" in line and "qa setup" in line
    assert str(ix.id) in line and str(scene.guild.id) in line
    assert (await scene.config()).forum_channel_id is None


# --------------------------------------------------------------------------- concurrency, backends


async def test_the_forum_picker_offers_forum_channels_only(scene: Scene) -> None:
    with pytest.raises(GestureRefused, match="channel type 0 not in \\[15\\]"):
        await scene.use("qa setup", {"forum": scene.general})


async def test_quick_category_changes_keep_every_tag(scene: Scene) -> None:
    """Two managers at once: each edit starts from the tags the other one left."""
    await scene.setup()
    admin = scene.fake.add_member(scene.guild, "admin", perms=["manage_guild"])
    await scene.fake.flush()
    handles = [
        await scene.use("qa settings set", {"key": "categories", "value": "add Grief"}),
        await scene.use("qa settings set", {"key": "categories", "value": "add Sleep"}, who=admin),
        await scene.use("qa settings set", {"key": "categories", "value": "remove General"}),
    ]
    for ix in handles:
        text = text_of(await ix.message())
        assert text.startswith(("Added", "Removed")), text
    assert sorted(scene.tag_names()) == sorted(
        ["Anxiety", "Depression", "Relationships", "Solved", "Grief", "Sleep"]
    )
    names = {name for _, name in await scene.categories()}
    assert names == {"Anxiety", "Depression", "Relationships", "Grief", "Sleep"}


async def test_setup_and_categories_on_both_backends(
    fake_discord: FakeDiscord, qa_bot_factory: Any, db_url: str
) -> None:
    scene = Scene(fake_discord, await qa_bot_factory(database_url=db_url))
    await scene.setup()
    await set_categories(scene, "add Grief")
    await set_categories(scene, "remove Anxiety")
    await scene.reply("qa settings set", {"key": "points_accepted", "value": "250"})
    await scene.setup()  # idempotent on this backend too
    config = await scene.config()
    assert config.points_accepted == 250 and config.forum_channel_id == scene.forum.id
    assert [name for _, name in await scene.categories()] == [
        "Depression",
        "General",
        "Grief",
        "Relationships",
    ]
