"""End to end through the fake Discord: anonymous /answer and /reply (named too), under
per-thread pseudonyms, with the author's rights (/edit, /delete, accept paying privately) and
nothing public that names them, on both database backends."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot import posting_rights
from bot.db.models import Member as MemberRow
from bot.forum import pending_posts, questions, settings
from bot.ui.questions import question_message_embed
from cogs.answering import own_posts
from tests.cogs.answering.test_answering import (
    LONG,
    MESSAGE,
    OTHER_LONG,
    Scene,
    _scene,
    accept,
    assert_no_pings,
    button,
    post_of,
    question_now,
    sentence,
)
from tests.cogs.conftest import (
    AskedQuestion,
    ask_question_directly,
    run_domain,
    thread_message_handled,
)
from tests.fakediscord import FakeDiscord, InteractionHandle, Member, Message
from tests.fakediscord.fixtures import BotFactory
from tests.fakediscord.recorder import Call

DM = 1  # a DM channel's type


@pytest.fixture
async def anon(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    """With the lifecycle cog, which applies a moderator's delete in Discord."""
    async for made in _scene(
        db_url, fake_discord, qa_bot_factory, ["cogs.answering", "cogs.lifecycle"]
    ):
        yield made


async def posted_for(
    scene: Scene, ix: InteractionHandle, asked: AskedQuestion, before: Message
) -> tuple[Message, Message]:
    """The ephemeral confirmation of ``ix`` and the bot's public message it announces."""
    reply = await ix.message()
    assert reply.ephemeral, reply.content
    posted = await scene.fake.wait_for_message(
        asked.thread, where=lambda m: bool(m.embeds), after=before
    )
    await thread_message_handled(scene.events, posted)
    return reply, posted


async def anonymous_answer(
    scene: Scene, who: Member, asked: AskedQuestion, text: str = LONG, **options: object
) -> tuple[Message, Message]:
    """``who`` answers anonymously with /answer (in the thread unless ``question`` is given)."""
    before = scene.fake.messages_in(asked.thread)[-1]
    channel = scene.fake.general if "question" in options else asked.thread
    ix = await who.slash("answer", {"anonymous": True, **options}, channel=channel)
    modal = await ix.modal()
    assert modal.title == "Your anonymous answer"
    return await posted_for(scene, await ix.submit_modal({"answer": text}), asked, before)


async def reply_with_command(
    scene: Scene, who: Member, asked: AskedQuestion, text: str, **options: object
) -> tuple[Message, Message]:
    before = scene.fake.messages_in(asked.thread)[-1]
    ix = await who.slash("reply", {"text": text, **options}, channel=asked.thread)
    assert await ix.deferred()
    return await posted_for(scene, ix, asked, before)


def author_of(message: Message) -> str:
    (embed,) = message.embeds
    return str(embed["author"]["name"])


def assert_names_nobody(fake: FakeDiscord, since: int, *who: Member) -> None:
    """No REST call of the bot since ``since`` carries an author's id, name or mention - save
    what only its recipient sees: replies to interactions, DMs - and reads: a GET shows nothing
    to anyone (the DM worker looks a recipient up by id before sending)."""

    def private(call: Call) -> bool:
        if call.method == "GET":
            return True
        if call.path.startswith(("/interactions/", "/webhooks/", "/users/@me/channels")):
            return True
        channel = fake.world.channels.get(int(call.params.get("channel_id", 0)))
        return channel is not None and channel.type == DM

    public = [c for c in fake.find_calls(None, None, since=since) if not private(c)]
    assert public
    for call in public:
        text = f"{call.path} {json.dumps(call.json)}"
        for member in who:
            assert str(member.id) not in text, call
            assert member.name not in text, call


async def test_anonymous_answers_get_per_thread_pseudonyms(anon: Scene) -> None:
    scene, fake = anon, anon.fake
    asked = await ask_question_directly(scene.harness, scene.alice)
    mark = fake.mark()

    reply, bobs = await anonymous_answer(scene, scene.bob, asked)
    assert author_of(bobs) == "Member 2"
    assert reply.visible_to == scene.bob.id
    assert reply.content.startswith("✅ Your anonymous answer is posted as **Member 2**: ")
    assert bobs.author_id == fake.bot_user.id and bobs.mentions == []
    assert bobs.embeds[0]["description"] == LONG
    _, carols = await anonymous_answer(scene, scene.carol, asked, OTHER_LONG)
    assert author_of(carols) == "Member 3"
    _, again = await anonymous_answer(scene, scene.bob, asked, OTHER_LONG)
    assert author_of(again) == "Member 2"
    post = await post_of(scene, bobs.id)
    assert (post.kind, post.anonymous, post.author_id, post.state) == (
        "answer",
        True,
        scene.bob.id,
        "live",
    )
    assert (await question_now(scene, asked)).answer_count == 3

    # Another thread, answered from elsewhere through the `question` option: unrelated numbers.
    other = await ask_question_directly(scene.harness, scene.alice, title="Why can't I sleep?")
    choices = await scene.carol.autocomplete(
        "answer", {"question": "sleep"}, focused="question", channel=fake.general
    )
    assert [c["value"] for c in choices] == [str(other.id)]
    _, elsewhere = await anonymous_answer(scene, scene.carol, other, question=str(other.id))
    assert author_of(elsewhere) == "Member 2"

    for thread in (asked.thread, other.thread):
        assert scene.bob.id not in thread.members and scene.carol.id not in thread.members
    assert_no_pings(fake, mark)
    assert_names_nobody(fake, mark, scene.bob, scene.carol)
    # The answer counts for bob privately, under no name.
    async with scene.harness.sessionmaker() as session:
        bob = (
            await session.execute(select(MemberRow).where(MemberRow.user_id == scene.bob.id))
        ).scalar_one()
    assert bob.display_name is None and bob.anon_points > 0


async def test_anonymous_answer_refused_where_anonymity_is_off(anon: Scene) -> None:
    scene, fake = anon, anon.fake
    asked = await ask_question_directly(scene.harness, scene.alice)
    guild_id = asked.question.guild_id
    await run_domain(
        scene.harness, lambda s: settings.set_setting(s, guild_id, "anonymous_posting", False)
    )
    ix = await scene.bob.slash("answer", {"anonymous": True}, channel=asked.thread)
    assert await sentence(ix) == "Anonymous posting is turned off in this server."
    ix = await scene.bob.slash("reply", {"text": "hi", "anonymous": True}, channel=asked.thread)
    assert await sentence(ix) == "Anonymous posting is turned off in this server."
    assert [m.id for m in fake.messages_in(asked.thread)] == [asked.starter.id]


async def ask_anonymously(scene: Scene, asker: Member, display_name: str | None) -> AskedQuestion:
    """What /ask anonymous:true does: the bot's forum post names nobody, the asker stays out."""
    fake = scene.fake
    forum = fake.forum
    assert forum is not None and forum.guild_id is not None
    guild_id = forum.guild_id
    pending = await run_domain(
        scene.harness,
        lambda s: questions.create_question(
            s,
            guild_id=guild_id,
            author_id=asker.id,
            asked=questions.AskedQuestion(
                title="Is it normal to feel numb?",
                details="Since the loss I feel nothing.",
                anonymous=True,
                display_name=display_name,
            ),
            state="pending",
        ),
    )
    thread = fake.world.create_thread(
        forum, name="Is it normal to feel numb?", owner_id=fake.bot_user.id
    )
    embed = question_message_embed(pending.post, display_name or "Anonymous")
    starter = fake.world.post_message(
        thread,
        fake.bot_user.id,
        {"embeds": [embed.to_dict()], "allowed_mentions": {"parse": []}},
        message_id=thread.id,
    )
    confirmed = await run_domain(
        scene.harness,
        lambda s: pending_posts.confirm_post(
            s, post_id=pending.post.id, message_id=starter.id, thread_id=thread.id
        ),
    )
    await fake.flush()
    return AskedQuestion(confirmed.post, thread, starter, asker)


async def test_reply_named_anonymous_and_as_the_anonymous_asker(anon: Scene) -> None:
    scene, fake = anon, anon.fake
    asked = await ask_anonymously(scene, scene.alice, "Sleepless")
    mark = fake.mark()

    reply, named = await reply_with_command(scene, scene.dave, asked, "I felt that too.")
    assert author_of(named) == "dave" and reply.content.startswith("✅ Your reply is posted: ")
    post = await post_of(scene, named.id)
    assert (post.kind, post.parent_id, post.anonymous) == ("comment", asked.id, False)

    _, hidden = await reply_with_command(scene, scene.bob, asked, "Me too.", anonymous=True)
    assert author_of(hidden) == "Member 2"
    # The asker replies as their question shows them, the default option notwithstanding.
    _, askers = await reply_with_command(scene, scene.alice, asked, "Thank you both.")
    assert author_of(askers) == "Sleepless"
    assert (await post_of(scene, askers.id)).anonymous
    _, answer = await anonymous_answer(scene, scene.carol, asked)
    assert author_of(answer) == "Member 3"

    # Bad text: a clear sentence, nothing posted; mentions in the text stay inert.
    count = len(fake.messages_in(asked.thread))
    empty = await scene.bob.slash("reply", {"text": "  "}, channel=asked.thread)
    assert await sentence(empty) == "The reply cannot be empty."
    long = await scene.bob.slash("reply", {"text": "x" * 4001}, channel=asked.thread)
    assert "4000" in await sentence(long)
    assert len(fake.messages_in(asked.thread)) == count
    _, pinging = await reply_with_command(scene, scene.dave, asked, "@everyone <@1> look")
    assert pinging.mentions == [] and not pinging.mention_everyone

    assert scene.alice.id not in asked.thread.members and scene.bob.id not in asked.thread.members
    assert_no_pings(fake, mark)
    assert_names_nobody(fake, mark, scene.alice, scene.bob, scene.carol)


async def test_anonymous_author_edits_and_deletes_others_cannot(anon: Scene) -> None:
    scene, fake = anon, anon.fake
    asked = await ask_question_directly(scene.harness, scene.alice)
    _, bobs = await anonymous_answer(scene, scene.bob, asked)
    _, bobs_reply = await reply_with_command(scene, scene.bob, asked, "Also this.", anonymous=True)
    _, carols = await anonymous_answer(scene, scene.carol, asked, OTHER_LONG)
    bobs_post = await post_of(scene, bobs.id)
    mark = fake.mark()

    choices = await scene.bob.autocomplete("edit", {}, focused="post", channel=asked.thread)
    assert [c["name"].split(":")[0] for c in choices] == ["Reply", "Answer"]
    ix = await scene.bob.slash("edit", {"post": str(bobs_post.id)}, channel=asked.thread)
    assert (await ix.modal()).field("answer").value == LONG
    done = await ix.submit_modal({"answer": OTHER_LONG})
    assert "Your answer is updated" in (await done.message()).content
    await fake.wait_for_call("PATCH", MESSAGE, since=mark)
    assert bobs.embeds[0]["description"] == OTHER_LONG and author_of(bobs) == "Member 2"
    assert (await post_of(scene, bobs.id)).body == OTHER_LONG

    # Others, the asker and the other anonymous author included, cannot pick it.
    for command in ("edit", "delete"):
        ix = await scene.dave.slash(command, {"post": str(bobs_post.id)}, channel=asked.thread)
        assert await sentence(ix) == own_posts.NOTHING_OF_YOURS
        for who in (scene.alice, scene.carol):
            ix = await who.slash(command, {"post": str(bobs_post.id)}, channel=asked.thread)
            assert await sentence(ix) == own_posts.NOT_ONE_OF_YOURS

    ix = await scene.bob.slash("delete", {"post": str(bobs_post.id)}, channel=asked.thread)
    prompt = await ix.message()
    assert prompt.ephemeral
    await scene.bob.click(prompt, button(prompt, "Delete"))
    await fake.wait_until(lambda: "deleted" in prompt.content, what="the result")
    assert bobs.deleted and (await post_of(scene, bobs.id)).deleted
    assert not bobs_reply.deleted

    # A moderator removes carol's anonymous answer in Discord; the post follows.
    await scene.mod.delete(carols)
    await scene.events.wait_for(
        "qa_synced", lambda kind, payload, _c: kind == "delete" and payload.message_id == carols.id
    )
    assert (await post_of(scene, carols.id)).deleted
    assert (await question_now(scene, asked)).answer_count == 0
    assert_names_nobody(fake, mark, scene.bob, scene.carol)


async def test_accepting_an_anonymous_answer_pays_privately(anon: Scene) -> None:
    scene, fake = anon, anon.fake
    asked = await ask_question_directly(scene.harness, scene.alice)
    _, bobs = await anonymous_answer(scene, scene.bob, asked)

    async def bob_row() -> MemberRow:
        async with scene.harness.sessionmaker() as session:
            found = await session.execute(
                select(MemberRow).where(MemberRow.user_id == scene.bob.id)
            )
            return found.scalar_one()

    before = await bob_row()
    mark = fake.mark()
    text = await accept(scene, scene.alice, bobs)
    assert text.startswith("✅ You accepted")
    after = await bob_row()
    assert after.points == before.points  # nothing public moves
    assert after.anon_points == before.anon_points + 300
    notice = next(m for m in fake.messages_in(asked.thread) if "was accepted" in str(m.embeds))
    assert "**Member 2**" in notice.embeds[0]["description"]
    assert_names_nobody(fake, mark, scene.bob)


async def test_no_posting_through_the_bot_where_the_member_cannot_post(anon: Scene) -> None:
    scene, fake = anon, anon.fake
    asked = await ask_question_directly(scene.harness, scene.alice)
    assert fake.forum is not None
    deny = fake.overwrite(scene.dave, deny=["send_messages_in_threads"])
    fake.edit_channel(fake.forum, permission_overwrites=[deny])
    await fake.flush()
    for options in ({"text": "hi"}, {"text": "hi", "anonymous": True}):
        ix = await scene.dave.slash(
            "reply", {**options, "question": str(asked.id)}, channel=fake.general
        )
        assert await sentence(ix) == posting_rights.CANNOT_POST_THERE
    ix = await scene.dave.slash(
        "answer", {"anonymous": True, "question": str(asked.id)}, channel=fake.general
    )
    assert await sentence(ix) == posting_rights.CANNOT_POST_THERE
    # A locked thread takes nothing from members, through the bot neither.
    fake.edit_channel(asked.thread, locked=True)
    await fake.flush()
    ix = await scene.bob.slash(
        "reply", {"text": "hi", "question": str(asked.id)}, channel=fake.general
    )
    assert await sentence(ix) == posting_rights.LOCKED
    assert [m.id for m in fake.messages_in(asked.thread)] == [asked.starter.id]
