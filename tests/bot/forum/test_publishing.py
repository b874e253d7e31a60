"""The archive's one query (``bot.forum.publishing``) on both backends: each rule of issue 23
beside its positive twin, and an anonymity scan of everything the query returns."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bot.db.models import Category
from bot.forum import consent, leaderboard, moderation, pending_posts, premod, publishing
from bot.forum.errors import NotFound, PermissionDenied, ValidationError
from bot.forum.invites import check_invite
from bot.forum.mydata.erase import erase_member
from bot.forum.publishing import A_MEMBER, ANONYMOUS, WITHHELD, PublishedThread
from bot.forum.results import PostSnapshot
from bot.forum.rights import Actor
from bot.forum.settings import set_setting
from tests.bot.forum.core_support import ANSWERER, ASKER, GUILD, MODERATOR, OTHER, Forum

NAMES = {ASKER: "Alice Asker", ANSWERER: "Bob Answerer", OTHER: "Olga Other"}


async def open_archive(forum: Forum, *, on: bool = True) -> None:
    """Publishing on, with Sleep chosen and Work not."""

    async def work(session: Any) -> None:
        session.add_all(
            [Category(guild_id=GUILD, name="Sleep"), Category(guild_id=GUILD, name="Work")]
        )
        await session.flush()
        await consent.set_archived(session, GUILD, "sleep", True)
        await set_setting(session, GUILD, "publishing", on)
        await leaderboard.remember_display_names(session, guild_id=GUILD, names=NAMES)

    await forum.run(work)


async def prefs(forum: Forum, user: int, **kw: bool) -> None:
    await forum.run(lambda s: consent.set_prefs(s, GUILD, user, **kw))


async def allow(forum: Forum, post: PostSnapshot, user: int | None = None) -> None:
    who = post.author_id if user is None else user
    await forum.run(lambda s: consent.allow_post(s, post_id=post.id, user_id=who))


async def toggle(forum: Forum, post: PostSnapshot) -> consent.ArchiveChoice:
    assert post.message_id is not None
    mid, who = post.message_id, post.author_id
    return await forum.run(lambda s: consent.toggle_post(s, message_id=mid, user_id=who))


async def listed(forum: Forum, **kw: Any) -> list[int]:
    found = await forum.read(lambda c: publishing.publishable_questions(c, GUILD, **kw))
    return [q.id for q in found]


async def thread(forum: Forum, question: PostSnapshot) -> PublishedThread | None:
    return await forum.read(lambda c: publishing.publishable_thread(c, question.id))


async def consented_question(forum: Forum, **kw: Any) -> PostSnapshot:
    kw.setdefault("category", "Sleep")
    question = await forum.ask(**kw)
    await allow(forum, question)
    return question


@pytest.fixture
async def archive(forum: Forum) -> Forum:
    await open_archive(forum)
    return forum


async def test_a_question_needs_its_askers_yes(archive: Forum) -> None:
    question = await archive.ask(category="Sleep")
    assert await listed(archive) == [] and await thread(archive, question) is None
    await allow(archive, question)
    assert await listed(archive) == [question.id]
    shown = await thread(archive, question)
    assert shown is not None and shown.question.title == question.title


async def test_the_askers_default_is_a_yes_for_posts_without_their_own_choice(
    archive: Forum,
) -> None:
    question = await archive.ask(category="Sleep")
    await prefs(archive, ASKER, by_default=True)
    assert await listed(archive) == [question.id]
    choice = await toggle(archive, question)  # an explicit no beats the default
    assert not choice.allowed and choice.archive_on
    assert await listed(archive) == []


async def test_only_the_author_chooses_for_a_post(archive: Forum) -> None:
    question = await archive.ask(category="Sleep")
    with pytest.raises(PermissionDenied):
        await allow(archive, question, user=OTHER)
    assert await listed(archive) == []
    with pytest.raises(NotFound):
        await archive.run(lambda s: consent.toggle_post(s, message_id=999, user_id=ASKER))


async def test_an_answer_without_its_authors_yes_is_a_placeholder(archive: Forum) -> None:
    question = await consented_question(archive)
    answer = await archive.answer(question, ANSWERER)
    comment = await archive.post_of(question, OTHER, "ok", reply_to=answer.message_id)
    shown = await thread(archive, question)
    assert shown is not None
    assert [(p.id, p.withheld, p.body, p.author) for p in shown.posts] == [
        (answer.id, True, WITHHELD["answer"], None),
        (comment.id, True, WITHHELD["comment"], None),
    ]
    await allow(archive, answer)
    await prefs(archive, OTHER, by_default=True)
    shown = await thread(archive, question)
    assert shown is not None
    assert [(p.withheld, p.body) for p in shown.posts] == [(False, answer.body), (False, "ok")]


async def test_names_only_for_authors_who_chose_to_be_named(archive: Forum) -> None:
    question = await consented_question(archive)
    answer = await archive.answer(question, ANSWERER)
    await allow(archive, answer)
    shown = await thread(archive, question)
    assert shown is not None
    assert (shown.question.author, shown.posts[0].author) == (A_MEMBER, A_MEMBER)
    await prefs(archive, ASKER, named=True)
    await prefs(archive, ANSWERER, named=True)
    shown = await thread(archive, question)
    assert shown is not None
    assert (shown.question.author, shown.posts[0].author) == (NAMES[ASKER], NAMES[ANSWERER])


async def test_anonymous_authors_show_as_their_thread_shows_them_and_nothing_links_them(
    archive: Forum,
) -> None:
    zoe, name = 987_654_321_012_345_678, "Zoe Quillfeather"
    await archive.run(
        lambda s: leaderboard.remember_display_names(s, guild_id=GUILD, names={zoe: name})
    )
    await prefs(archive, zoe, by_default=True, named=True)  # named: never for anonymous posts
    await prefs(archive, ASKER, by_default=True)
    fern = await archive.ask(category="Sleep", anonymous=True, display_name="Fern")
    signed = await archive.ask(zoe, "Is napping bad for night sleep?", category="Sleep")
    hidden = await archive.ask(zoe, "Why do I wake at 4?", category="Sleep", anonymous=True)
    for q in (fern, signed, hidden):
        await archive.answer(q, zoe, anonymous=True)
    found = [await thread(archive, q) for q in (fern, signed, hidden)]
    shown = [t for t in found if t is not None]
    assert len(shown) == 3
    assert [t.question.author for t in shown] == ["Fern", name, ANONYMOUS]
    # Her anonymous answers: the thread's pseudonym, or her question's label in her own thread.
    assert [t.posts[0].author for t in shown] == ["Member 2", "Member 2", ANONYMOUS]
    listing = repr(await archive.read(lambda c: publishing.publishable_questions(c, GUILD)))
    assert str(zoe) not in repr(shown) + listing  # never her id
    for secret in (name, name.split()[1]):
        assert [t for t in shown if secret in repr(t)] == [shown[1]]  # the one she signed
        assert listing.count(secret) == 1


async def pending_posts_confirm(forum: Forum, question: PostSnapshot) -> None:
    """A bot-posted question is stored pending until Discord has it; ``Forum.ask`` gives it a
    thread already, so only its state changes."""
    if question.state == "pending":
        assert question.message_id is not None and question.thread_id is not None
        mid, tid = question.message_id, question.thread_id
        await forum.run(
            lambda s: pending_posts.confirm_post(
                s, post_id=question.id, message_id=mid, thread_id=tid
            )
        )


async def test_a_pending_row_is_not_published(archive: Forum) -> None:
    await prefs(archive, ASKER, by_default=True)
    question = await archive.ask(category="Sleep", via_bot=True, state="pending")
    assert await listed(archive) == []
    await pending_posts_confirm(archive, question)
    assert await listed(archive) == [question.id]


async def test_deleted_removed_and_erased_posts_are_gone_at_once(archive: Forum) -> None:
    await prefs(archive, ANSWERER, by_default=True)
    question = await consented_question(archive)
    kept, deleted, removed = [await archive.answer(question, ANSWERER) for _ in range(3)]
    erased = await archive.answer(question, OTHER)
    await allow(archive, erased)
    shown = await thread(archive, question)
    assert shown is not None and len(shown.posts) == 4
    await archive.delete(deleted)
    await archive.run(
        lambda s: moderation.remove_post(
            s, removal=moderation.Removal(removed.id), moderator=Actor(MODERATOR, is_moderator=True)
        )
    )
    await archive.run(lambda s: erase_member(s, user_id=OTHER, guild_id=GUILD))
    shown = await thread(archive, question)
    assert shown is not None and [p.id for p in shown.posts] == [kept.id]
    await archive.delete(question)
    assert await listed(archive) == [] and await thread(archive, question) is None


async def test_a_post_waiting_in_premoderation_is_not_published(archive: Forum) -> None:
    await prefs(archive, ANSWERER, by_default=True)
    await archive.run(lambda s: set_setting(s, GUILD, "mod_channel_id", 5))
    await archive.run(lambda s: set_setting(s, GUILD, "premod_anonymous", True))
    question = await consented_question(archive)
    body = "Breathe slowly, in for four and out for six."
    held = await archive.run(
        lambda s: premod.hold_if_due(
            s,
            guild_id=GUILD,
            author_id=ANSWERER,
            kind="answer",
            payload={"body": body},
            anonymous=True,
            joined_at=None,
            question_id=question.id,
            now=archive.now,
        )
    )
    assert held is not None
    shown = await thread(archive, question)
    assert shown is not None and shown.posts == ()
    approved = await archive.answer(question, ANSWERER, body, anonymous=True)  # as Approve posts
    shown = await thread(archive, question)
    assert shown is not None and [p.id for p in shown.posts] == [approved.id]


async def test_withdrawn_consent_per_post_and_all_at_once(archive: Forum) -> None:
    question = await consented_question(archive)
    answer = await archive.answer(question, ASKER)
    await allow(archive, answer)
    choice = await toggle(archive, question)  # per post: the question goes
    assert not choice.allowed and await listed(archive) == []
    await toggle(archive, question)
    assert await listed(archive) == [question.id]
    mine = await archive.run(lambda s: consent.my_published(s, GUILD, ASKER))
    assert (mine.questions, mine.answers, len(mine.links)) == (1, 1, 2)
    await prefs(archive, ASKER, by_default=True)
    changed = await archive.run(lambda s: consent.withdraw_all(s, GUILD, ASKER))
    assert changed == 2 and await listed(archive) == []
    mine = await archive.run(lambda s: consent.my_published(s, GUILD, ASKER))
    assert (mine.questions, mine.answers, mine.links, mine.prefs.by_default) == (0, 0, (), False)


async def test_a_server_with_publishing_off_or_a_category_not_chosen(archive: Forum) -> None:
    question = await consented_question(archive)
    work = await consented_question(archive, category="Work")
    none = await consented_question(archive, category=None)
    assert await listed(archive) == [question.id]
    assert await thread(archive, work) is None and await thread(archive, none) is None
    assert await listed(archive, category="Work") == []
    await archive.run(lambda s: consent.set_archived(s, GUILD, "Work", True))
    assert await listed(archive) == [work.id, question.id]
    await archive.run(lambda s: set_setting(s, GUILD, "publishing", False))
    assert await listed(archive) == [] and await thread(archive, question) is None
    mine = await archive.run(lambda s: consent.my_published(s, GUILD, ASKER))
    assert (mine.archive_on, mine.questions) == (False, 0)


async def test_another_server_never_shows(archive: Forum) -> None:
    other = Forum(archive.sessionmaker, guild_id=GUILD + 1, first_id=90_000)
    question = await consented_question(archive)
    assert await other.read(lambda c: publishing.publishable_questions(c, GUILD + 1)) == []
    assert await listed(archive) == [question.id]


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("https://discord.gg/abc123", "https://discord.gg/abc123"),
        ("discord.gg/abc-123/", "https://discord.gg/abc-123"),
        ("http://www.discord.com/invite/Zz9", "https://discord.com/invite/Zz9"),
        ("https://discordapp.com/invite/abc", "https://discord.com/invite/abc"),
    ],
)
def test_an_invite_link_is_a_discord_invite(raw: str, stored: str) -> None:
    assert check_invite(raw) == stored


@pytest.mark.parametrize(
    "raw",
    [
        "https://example.com/invite/abc",
        "https://discord.gg/abc?x=1",
        "https://discord.gg.evil.com/abc",
        "https://discord.com/channels/1/2",
        "javascript:alert(1)",
    ],
)
def test_anything_else_is_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        check_invite(raw)


def test_the_results_carry_no_author_id() -> None:
    for result in (publishing.PublishedQuestion, publishing.PublishedPost):
        names = {f.name for f in dataclasses.fields(result)}
        assert not any("author_id" in n or n == "user_id" for n in names)
