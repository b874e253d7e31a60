"""Deletes that really delete, end to end through the fake Discord on both backends: a post's
made-up words are in the database files before the delete and nowhere after it (SQLite: the file
and its ``-wal`` after a TRUNCATE checkpoint; PostgreSQL: the cluster's data directory after
VACUUM FULL and CHECKPOINT), and a deleted question's surviving thread is renamed "[removed]"."""

from __future__ import annotations

import asyncio
import json
import os
import random
import string
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.clock import utc_now
from bot.db.compaction import checkpoint_truncate
from bot.db.engine import sqlite_path
from bot.db.models import Notification, Post
from bot.forum import moderation
from bot.forum.purge import REMOVED_THREAD_NAME
from bot.forum.rights import Actor
from bot.ui.dms import DM_ABOUT_DELETED
from tests.bot.workers.test_notifier import wait_for_dms
from tests.cogs.conftest import (
    AskedQuestion,
    BotEvents,
    ask_question_directly,
    configure_qa_guild,
    run_domain,
    thread_message_handled,
)
from tests.fakediscord import FakeDiscord, Member, Message
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.fakediscord.model import Channel

MESSAGE = "/channels/{channel_id}/messages/{message_id}"


@dataclass
class Scene:
    fake: FakeDiscord
    harness: BotHarness
    events: BotEvents
    db_url: str
    mods: Channel
    alice: Member
    bob: Member
    carol: Member
    mod: Member


@pytest.fixture
async def scene(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    fake = fake_discord
    assert fake.guild is not None and fake.moderator_role is not None
    mods = fake.add_text_channel(fake.guild, "mods")
    members = {n: fake.add_member(fake.guild, n) for n in ("alice", "bob", "carol")}
    mod = fake.add_member(fake.guild, "mod", roles=[fake.moderator_role])
    harness = await qa_bot_factory(
        extensions=["cogs.answering", "cogs.lifecycle", "cogs.moderation", "cogs.notifications"],
        database_url=db_url,
    )
    harness.bot.purger.spacing = 0.0
    await configure_qa_guild(harness, mod_channel_id=mods.id)
    events = BotEvents(harness, "qa_thread_message", "qa_synced")
    try:
        yield Scene(fake, harness, events, db_url, mods, mod=mod, **members)
    finally:
        events.close()


def made_up_words(count: int) -> list[str]:
    """Words no test, stemmer or dictionary has seen (letters only, so FTS5 and PostgreSQL
    tokenize each as one word)."""
    return ["qz" + "".join(random.choices(string.ascii_lowercase, k=12)) for _ in range(count)]


def _needles(words: list[str]) -> list[bytes]:
    # The first nine letters: what the porter and english stemmers keep of each word.
    return [w[:9].encode() for w in words]


def _read_files(paths: list[Path], *, skip_top: str = "") -> dict[str, bytes]:
    """The bytes of every file under ``paths`` (files or folders), but the ``skip_top`` folder
    of a folder given."""
    found: dict[str, bytes] = {}
    for root in paths:
        candidates = [root] if root.is_file() else list(root.rglob("*"))
        for path in candidates:
            relative = path.relative_to(root) if path != root else Path(root.name)
            if (skip_top and relative.parts[0] == skip_top) or not path.is_file():
                continue
            try:
                found[str(relative)] = path.read_bytes()
            except FileNotFoundError:  # a temporary file that went meanwhile
                continue
    return found


async def _sqlite_bytes(scene: Scene, *, checkpoint: bool) -> dict[str, bytes]:
    """The database file and its ``-wal`` (after a TRUNCATE checkpoint when asked)."""
    path = sqlite_path(scene.db_url)
    assert path is not None
    if checkpoint:
        busy, _, _ = await asyncio.to_thread(checkpoint_truncate, path)
        assert busy == 0
    files = [Path(f"{path}{suffix}") for suffix in ("", "-wal")]
    return await asyncio.to_thread(_read_files, [f for f in files if f.exists()])


async def _postgres_bytes(scene: Scene, *, vacuum: bool) -> dict[str, bytes]:
    """Every file of the test cluster's data directory but its write-ahead log (``pg_wal``
    keeps the words until its segments are recycled: docs/privacy.md says so).

    After a delete the VACUUM is a FULL one: a plain VACUUM removes the dead row versions, but
    PostgreSQL does not zero the space they leave in a page, so their bytes stay in the table's
    file until new rows overwrite them (tried: the words were still in ``posts``); VACUUM FULL
    writes the tables anew and the old files go at the CHECKPOINT."""
    engine = scene.harness.bot.engine
    async with engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        if vacuum:
            await autocommit.execute(text("VACUUM (FULL)"))
        await autocommit.execute(text("CHECKPOINT"))
        data_directory = Path(str(await autocommit.scalar(text("SHOW data_directory"))))
        relations = dict(
            (
                await autocommit.execute(
                    text(
                        "SELECT pg_relation_filepath(oid), relname FROM pg_class"
                        " WHERE pg_relation_filepath(oid) IS NOT NULL"
                    )
                )
            ).all()
        )
    if not os.access(data_directory, os.R_OK | os.X_OK):
        pytest.skip("the test process cannot read the PostgreSQL cluster's files")
    files = await asyncio.to_thread(_read_files, [data_directory], skip_top="pg_wal")
    # Named by relation where the file is one (base/16385/16675 -> posts), for the failure.
    return {relations.get(name, name): data for name, data in files.items()}


async def files_holding(
    scene: Scene, words: list[str], *, after_delete: bool
) -> dict[str, list[str]]:
    """The words (by their first letters) found in the database's files, and where."""
    if scene.db_url.startswith("sqlite"):
        files = await _sqlite_bytes(scene, checkpoint=after_delete)
    else:
        files = await _postgres_bytes(scene, vacuum=after_delete)
    found = {
        needle.decode(): sorted(name for name, data in files.items() if needle in data)
        for needle in _needles(words)
    }
    return {word: names for word, names in found.items() if names}


async def _say(scene: Scene, who: Member, asked: AskedQuestion, words: str) -> Message:
    message = await who.send(asked.thread, f"Something that helped me: {words}.")
    await thread_message_handled(scene.events, message)
    return message


async def _answer_with_command(scene: Scene, who: Member, asked: AskedQuestion, body: str) -> None:
    before = scene.fake.messages_in(asked.thread)[-1]
    ix = await who.slash("answer", channel=asked.thread)
    await (await ix.submit_modal({"answer": f"What I would try first: {body}."})).message()
    posted = await scene.fake.wait_for_message(
        asked.thread, where=lambda m: bool(m.embeds), after=before
    )
    await thread_message_handled(scene.events, posted)


def _button(message: Message, label: str) -> str:
    return next(
        str(c["custom_id"])
        for c in message.walk_components()
        if c.get("type") == 2 and c.get("label") == label
    )


async def _rows(scene: Scene, question_id: int) -> list[Post]:
    async with scene.harness.bot.sessionmaker() as session:
        rows = await session.scalars(
            select(Post).where((Post.id == question_id) | (Post.question_id == question_id))
        )
        return list(rows)


async def _payloads(scene: Scene) -> str:
    async with scene.harness.bot.sessionmaker() as session:
        return " ".join(await session.scalars(select(Notification.payload)))


async def test_delete_by_its_author_leaves_no_word_in_the_database_files(scene: Scene) -> None:
    fake = scene.fake
    words = made_up_words(5)
    title, details, name, answer, typed = words
    asked = await ask_question_directly(
        scene.harness,
        scene.alice,
        f"How do I handle {title} at work?",
        f"It started after the {details} meeting.",
        anonymous=True,
        display_name=f"Quiet {name}",
    )
    await _answer_with_command(scene, scene.bob, asked, answer)
    await _say(scene, scene.carol, asked, typed)
    assert "qz" not in await _payloads(scene)  # the asker's DMs are queued as ids only
    assert set(await files_holding(scene, words, after_delete=False)) == {
        n.decode() for n in _needles(words)
    }

    ix = await scene.alice.slash("delete", channel=asked.thread)
    prompt = await ix.message()
    await scene.alice.click(prompt, _button(prompt, "Delete"))
    await fake.wait_until(lambda: asked.thread.deleted, what="the thread to be deleted")
    await scene.harness.bot.purger.wait_idle()

    rows = await _rows(scene, asked.id)
    assert len(rows) == 3  # tombstones: the question and its two answers
    assert all(r.deleted_at is not None and r.body == "" and r.title is None for r in rows)
    assert all(r.display_name is None for r in rows)
    assert await files_holding(scene, words, after_delete=True) == {}


async def test_a_thread_deleted_in_discord_leaves_no_word_in_the_database_files(
    scene: Scene,
) -> None:
    words = made_up_words(3)
    title, details, typed = words
    asked = await ask_question_directly(
        scene.harness,
        scene.carol,
        f"Is {title} normal after a panic attack?",
        f"My doctor called it {details}.",
        native=True,
    )
    await _say(scene, scene.bob, asked, typed)
    assert set(await files_holding(scene, words, after_delete=False)) == {
        n.decode() for n in _needles(words)
    }

    await scene.mod.delete_thread(asked.thread)
    await scene.events.wait_for("qa_synced", lambda kind, payload, _c: kind == "thread_delete")
    await scene.harness.bot.purger.wait_idle()
    assert all(r.deleted_at is not None and r.body == "" for r in await _rows(scene, asked.id))
    assert await files_holding(scene, words, after_delete=True) == {}


async def test_a_question_deleted_in_discord_by_its_author_renames_its_thread(
    scene: Scene,
) -> None:
    fake = scene.fake
    (title,) = made_up_words(1)
    asked = await ask_question_directly(
        scene.harness, scene.alice, f"What is {title}?", "I keep reading the word.", native=True
    )
    untouched = await ask_question_directly(
        scene.harness, scene.bob, "Another question", native=True
    )
    # Alice deletes her post's starter message: Discord keeps the thread, named after it.
    await scene.alice.delete(asked.starter)
    await scene.events.wait_for("qa_synced", lambda kind, payload, _c: kind == "delete")
    await fake.wait_until(
        lambda: fake.channel(asked.thread.id).name == REMOVED_THREAD_NAME,
        what="the thread renamed [removed]",
    )
    assert not fake.channel(asked.thread.id).deleted
    assert fake.channel(untouched.thread.id).name == "Another question"
    (row,) = await _rows(scene, asked.id)
    assert row.title is None and row.deleted_at is not None  # the rename did not bring it back


async def test_the_purger_blanks_removed_posts_once_their_restore_window_has_passed(
    scene: Scene,
) -> None:
    old = await ask_question_directly(scene.harness, scene.alice, "Removed forty days ago")
    recent = await ask_question_directly(scene.harness, scene.bob, "Removed two days ago")
    for asked, days in ((old, 40), (recent, 2)):  # a moderator's removal, days ago
        when = utc_now() - timedelta(days=days)
        await run_domain(
            scene.harness,
            lambda s, asked=asked, when=when: moderation.remove_post(
                s,
                removal=moderation.Removal(asked.id),
                moderator=Actor(scene.mod.id, is_moderator=True),
                now=when,
            ),
        )
    purged = BotEvents(scene.harness, "qa_purged")
    try:
        scene.harness.bot.purger.wake()
        await purged.wait_for("qa_purged", lambda blanked: blanked == 1)
    finally:
        purged.close()
    (old_row,) = await _rows(scene, old.id)
    (recent_row,) = await _rows(scene, recent.id)
    assert (old_row.title, old_row.body) == (None, "")
    assert recent_row.title == "Removed two days ago"


def _card_text(card: Message) -> str:
    return json.dumps(card.embeds)


async def test_a_reported_post_deleted_by_its_author_leaves_its_card_without_its_text(
    scene: Scene,
) -> None:
    fake = scene.fake
    words = made_up_words(2)
    asked = await ask_question_directly(scene.harness, scene.alice, "How do I rest on weekends?")
    reported = await _say(scene, scene.carol, asked, " ".join(words))
    other = await _say(scene, scene.bob, asked, "Walk for twenty minutes after lunch.")
    for message in (reported, other):
        opened = await scene.alice.context_menu("Report", message)
        await (await opened.submit_modal({"reason": "Off topic"})).message()
    await fake.wait_until(
        lambda: len([m for m in fake.messages_in(scene.mods) if m.embeds]) == 2,
        what="two report cards",
    )
    cards = [m for m in fake.messages_in(scene.mods) if m.embeds]
    card = next(c for c in cards if words[0] in _card_text(c))
    untouched = next(c for c in cards if c is not card)
    shown_before = _card_text(untouched)

    await scene.carol.delete(reported)
    await fake.wait_for_call("PATCH", MESSAGE, where=lambda c: c.id("message_id") == card.id)
    assert not any(w in _card_text(fake.message(card.id)) for w in words)
    assert "Deleted: its text is gone" in _card_text(fake.message(card.id))
    assert _card_text(fake.message(untouched.id)) == shown_before  # another post's card stays


async def test_a_dm_about_a_deleted_answer_no_longer_shows_its_text(scene: Scene) -> None:
    fake = scene.fake
    words = made_up_words(2)
    asked = await ask_question_directly(scene.harness, scene.alice, "How do I rest at night?")
    other = await ask_question_directly(scene.harness, scene.alice, "How do I rest at noon?")
    answer = await _say(scene, scene.bob, asked, " ".join(words))
    [dm] = await wait_for_dms(fake, scene.alice, 1)
    assert words[0] in dm.embed_text()
    await _say(scene, scene.carol, other, "Lie down in a dark room for twenty minutes.")
    [_, kept] = await wait_for_dms(fake, scene.alice, 2)
    kept_before = kept.embed_text()

    await scene.bob.delete(answer)
    await fake.wait_for_call("PATCH", MESSAGE, where=lambda c: c.id("message_id") == dm.id)
    edited = fake.message(dm.id)
    assert edited.content == DM_ABOUT_DELETED and edited.embeds == []
    assert not any(w in edited.embed_text() + edited.content for w in words)
    assert fake.message(kept.id).embed_text() == kept_before  # a DM about another post stays
