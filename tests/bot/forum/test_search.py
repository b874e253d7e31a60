"""Full-text search on both backends: what matches, ranking, staying current, hostile input."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import utc_now
from bot.db import migrate
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.models import Post
from bot.forum import (
    deletion,
    edits,
    moderation,
    pending_posts,
    posts,
    questions,
    search,
    search_sql,
    title_search,
)
from bot.forum.rights import Actor
from bot.forum.settings import set_setting
from bot.forum.visibility import VisibleForums
from tests.bot.forum.core_support import FORUM, GUILD, MODERATOR, SEEN, VOTER
from tests.bot.forum.search_support import OTHER_GUILD, Board, unrelated
from tests.db_support import BACKENDS


@pytest.fixture
def board(sessionmaker: async_sessionmaker[AsyncSession]) -> Board:
    return Board(sessionmaker)


# --------------------------------------------------------------------------- matching


async def test_stemming_works_both_ways(board: Board) -> None:
    await board.ask("Looking for a therapist", "Someone who listened to me before.")
    await board.ask("Therapists who listen", "Does anyone know good ones?")
    await unrelated(board)
    both = {"Looking for a therapist", "Therapists who listen"}
    assert set(await board.titles("therapists")) == both
    assert set(await board.titles("therapist")) == both
    assert set(await board.titles("listening")) == both
    assert await board.titles("looked") == ["Looking for a therapist"]


@pytest.mark.parametrize(
    ("indexed", "query"),
    [
        ("therapists", "therapist"),
        ("therapies", "therapy"),
        ("sleeping", "sleeps"),
        ("studies", "studying"),
        ("worried", "worries"),
        ("medications", "medication"),
        ("listened", "listening"),
    ],
)
async def test_both_engines_stem_these_alike(board: Board, indexed: str, query: str) -> None:
    await board.ask(f"About {indexed}", "Nothing else here.")
    await unrelated(board)
    assert await board.titles(query) == [f"About {indexed}"]
    assert await board.titles(indexed) == [f"About {indexed}"]


async def test_every_term_must_occur_but_may_be_anywhere_in_the_thread(board: Board) -> None:
    question = await board.ask("Sleep trouble", "I wake at four every night.")
    await board.answer(question, "A therapist helped me with this.")
    await board.ask("Sleep schedule", "Weekends ruin it.")
    await unrelated(board)
    assert await board.titles("sleep therapist") == ["Sleep trouble"]  # title + answer
    assert await board.titles("wake therapist") == ["Sleep trouble"]  # details + answer
    assert await board.titles("sleep weekends") == ["Sleep schedule"]
    assert await board.titles("sleep grandmother") == []
    assert set(await board.titles("sleep")) == {"Sleep trouble", "Sleep schedule"}


async def test_comments_and_pending_posts_are_not_searched(board: Board) -> None:
    question = await board.ask("Journaling habits", "How often do you write?")
    # The asker's own thread message is a comment.
    comment = await board.forum.message(question, question.author_id, "I tried calligraphy too")
    assert comment is not None and comment.post.kind == "comment"
    pending = await board.run(
        lambda s: posts.post_answer(
            s,
            post=posts.MemberPost(
                GUILD,
                author_id=board.member(),
                body="Watercolour painting works for me",
                question_id=question.id,
            ),
        )
    )
    assert pending.post.state == "pending"
    pending_question = await board.run(
        lambda s: questions.create_question(
            s,
            guild_id=GUILD,
            author_id=board.member(),
            asked=questions.AskedQuestion(title="Pending origami"),
            forum_id=FORUM,
            state="pending",
        )
    )
    assert await board.titles("calligraphy") == []
    assert await board.titles("watercolour") == []
    assert await board.titles("origami") == []
    await board.run(
        lambda s: pending_posts.confirm_post(
            s, post_id=pending.post.id, message_id=board.forum.next_id()
        )
    )
    assert await board.titles("watercolour") == ["Journaling habits"]
    thread = board.forum.next_id()
    await board.run(
        lambda s: pending_posts.confirm_post(
            s, post_id=pending_question.post.id, message_id=thread, thread_id=thread
        )
    )
    assert await board.titles("origami") == ["Pending origami"]


async def test_hits_carry_what_a_result_line_shows(board: Board) -> None:
    question = await board.ask("Meditation apps", "Which one is free?")
    await board.answer(question, "Try the free tier of most meditation apps.")
    await board.forum.vote(question, VOTER)
    closed = await board.ask("Meditation retreats", "Worth it?")
    accepted = await board.answer(closed, "A weekend retreat helped me.")
    await board.forum.accept(accepted, actor=closed.author_id)
    await board.forum.close(closed, actor=MODERATOR, is_moderator=True)
    await unrelated(board)
    hits = await board.hits("meditation")
    by_title = {hit.title: hit for hit in hits}
    open_hit = by_title["Meditation apps"]
    assert open_hit.question_id == open_hit.id == question.id
    assert open_hit.thread_id == question.thread_id
    assert open_hit.message_id == question.message_id
    assert (open_hit.score, open_hit.answer_count, open_hit.status) == (1, 1, "answered")
    assert (open_hit.solved, open_hit.closed) == (False, False)
    assert open_hit.rank > 0
    closed_hit = by_title["Meditation retreats"]
    assert (closed_hit.status, closed_hit.closed, closed_hit.solved) == ("closed", True, True)
    assert await board.titles("meditation", include_closed=False) == ["Meditation apps"]


async def test_limit_caps_the_results(board: Board) -> None:
    for i in range(12):
        await board.ask(f"Breathing exercise number {i}", "Box breathing.")
    assert len(await board.hits("breathing")) == 10
    assert len(await board.hits("breathing", limit=3)) == 3
    assert await board.hits("breathing", limit=0) == []


async def test_the_best_ranked_matches_in_hidden_forums_do_not_crowd_out_visible_ones(
    board: Board,
) -> None:
    # More than search.WINDOW * limit questions rank above the visible ones, all hidden.
    for i in range(search.WINDOW * 2 + 2):
        await board.ask(f"Stretching stretching {i}", "Stretching daily.", forum_id=FORUM + 1)
    low = [await board.ask(f"Evening routine {i}", "Some stretching.") for i in range(3)]
    hits = await board.hits("stretching", limit=2)
    assert len(hits) == 2 and {hit.question_id for hit in hits} <= {q.id for q in low}
    everywhere = VisibleForums.of([FORUM, FORUM + 1])
    assert all(
        hit.title.startswith("Stretching")
        for hit in await board.hits("stretching", limit=2, visible=everywhere)
    )


# --------------------------------------------------------------------------- ranking


async def test_title_match_outranks_details_which_outrank_answers(board: Board) -> None:
    in_answer = await board.ask("Evening routine", "Nothing works for me.")
    await board.answer(in_answer, "Insomnia often improves with a fixed routine.")
    await board.ask("Trouble resting", "My insomnia is bad lately.")
    await board.ask("Insomnia before exams", "I cannot rest at all.")
    await unrelated(board)
    hits = await board.hits("insomnia")
    assert [hit.title for hit in hits] == [
        "Insomnia before exams",
        "Trouble resting",
        "Evening routine",
    ]
    assert hits[0].rank > hits[1].rank > hits[2].rank > 0


async def test_equal_relevance_is_ordered_by_score(board: Board) -> None:
    older = await board.ask("Coping with panic", "first")
    await board.ask("Dealing with panic", "second")
    await unrelated(board)
    hits = await board.hits("panic")
    # Panic attacks at work mentions panic in its title and has a longer title: ranked apart.
    tied = [hit for hit in hits if hit.title != "Panic attacks at work"]
    assert tied[0].rank == tied[1].rank
    assert [hit.title for hit in tied] == ["Dealing with panic", "Coping with panic"]  # newer
    await board.forum.vote(older, VOTER)
    tied = [hit for hit in await board.hits("panic") if hit.title != "Panic attacks at work"]
    assert [hit.title for hit in tied] == ["Coping with panic", "Dealing with panic"]


# --------------------------------------------------------------------------- staying current


async def test_question_edits_replace_the_old_words(board: Board) -> None:
    question = await board.ask("Nightmares every night", "They started in spring.")
    await unrelated(board)
    await board.run(
        lambda s: edits.edit_question(
            s,
            edit=edits.QuestionEdit(question.id, title="Bad dreams nightly"),
            actor=Actor(question.author_id),
        )
    )
    assert await board.titles("nightmares") == []
    assert await board.titles("dreams") == ["Bad dreams nightly"]
    assert await board.completed_titles("nightm") == []
    assert await board.completed_titles("drea") == ["Bad dreams nightly"]

    await board.run(
        lambda s: edits.edit_question(
            s,
            edit=edits.QuestionEdit(question.id, details="Since autumn."),
            actor=Actor(MODERATOR, is_moderator=True),
        )
    )
    assert await board.titles("spring") == []
    assert await board.titles("autumn") == ["Bad dreams nightly"]

    # The starter message edited on Discord changes the details too.
    assert question.message_id is not None
    message_id = question.message_id
    await board.run(lambda s: edits.edit_message(s, message_id=message_id, body="Since winter."))
    assert await board.titles("autumn") == []
    assert await board.titles("winter") == ["Bad dreams nightly"]


async def test_answer_edits_replace_the_old_words(board: Board) -> None:
    question = await board.ask("Remembering dreams", "Any tips?")
    explicit = await board.answer(question, "Keep a dream journal by the bed.")
    native = await board.forum.post_of(question, board.member(), "Set an alarm for early morning")
    assert native.kind == "answer"
    await unrelated(board)
    assert await board.titles("journal") == ["Remembering dreams"]
    assert await board.titles("alarm") == ["Remembering dreams"]

    await board.run(
        lambda s: edits.edit_post(
            s, actor=Actor(explicit.author_id), post_id=explicit.id, body="Keep a sleep diary."
        )
    )
    assert native.message_id is not None
    native_message = native.message_id
    await board.run(
        lambda s: edits.edit_message(s, message_id=native_message, body="Wake up gently instead")
    )
    assert await board.titles("journal") == []
    assert await board.titles("alarm") == []
    assert await board.titles("diary") == ["Remembering dreams"]
    assert await board.titles("gently") == ["Remembering dreams"]


async def test_deleted_answers_and_questions_leave_the_results(board: Board) -> None:
    question = await board.ask("Social anxiety at parties", "I freeze up.")
    answer = await board.answer(question, "Bring a friend and plan an exit.")
    other = await board.ask("Anxiety before speeches", "Hands shaking.")
    await board.answer(other, "Practice with a friend first.")
    await unrelated(board)
    assert set(await board.titles("friend")) == {
        "Social anxiety at parties",
        "Anxiety before speeches",
    }

    await board.forum.delete(answer)
    assert await board.titles("friend") == ["Anxiety before speeches"]
    assert await board.titles("exit") == []
    assert await board.titles("freeze") == ["Social anxiety at parties"]

    await board.run(
        lambda s: deletion.delete_question(
            s, actor=Actor(MODERATOR, is_moderator=True), question_id=question.id
        )
    )
    assert await board.titles("freeze") == []
    assert await board.titles("anxiety") == ["Anxiety before speeches"]
    assert await board.completed_titles("social") == []
    # Only "anxiety" is left in common with the other question: not similar.
    assert await board.similar("Social anxiety at parties", "I freeze") == []

    assert other.thread_id is not None
    thread_id = other.thread_id
    await board.run(lambda s: deletion.delete_thread(s, thread_id=thread_id))
    assert await board.titles("anxiety") == []
    assert await board.titles("friend") == []
    assert await board.completed_titles("") == [
        "Panic attacks at work",
        "Talking to my parents",
        "Grief after a loss",
    ]


async def test_orm_writes_and_hard_deletes_keep_the_index(
    sessionmaker: async_sessionmaker[AsyncSession], board: Board
) -> None:
    """Rows written through the ORM unit of work (not the domain's Core statements)."""
    now = utc_now()
    async with sessionmaker() as session, session.begin():
        question = Post(
            guild_id=GUILD,
            kind="question",
            thread_id=1,
            message_id=1,
            author_id=5,
            title="Gardening as therapy",
            body="Does digging help?",
            forum_id=FORUM,
            created_at=now,
            updated_at=now,
            last_activity_at=now,
        )
        session.add(question)
        await session.flush()
        answer = Post(
            guild_id=GUILD,
            kind="answer",
            question_id=question.id,
            parent_id=question.id,
            thread_id=1,
            message_id=2,
            author_id=6,
            body="Tomatoes calm me down.",
            created_at=now,
            updated_at=now,
            last_activity_at=now,
        )
        session.add(answer)
    await unrelated(board)
    assert await board.titles("tomatoes digging") == ["Gardening as therapy"]

    async with sessionmaker() as session, session.begin():
        loaded = await session.get(Post, answer.id)
        assert loaded is not None
        loaded.body = "Weeding calms me down."
        q_loaded = await session.get(Post, question.id)
        assert q_loaded is not None
        q_loaded.title = "Allotment as therapy"
    assert await board.titles("tomatoes") == []
    assert await board.titles("gardening") == []
    assert await board.titles("weeding allotment") == ["Allotment as therapy"]

    async with sessionmaker() as session, session.begin():
        loaded = await session.get(Post, answer.id)
        assert loaded is not None
        await session.delete(loaded)
    assert await board.titles("weeding") == []
    assert await board.titles("allotment") == ["Allotment as therapy"]

    # A pending question the bot could not post is deleted outright.
    pending = await board.run(
        lambda s: questions.create_question(
            s,
            guild_id=GUILD,
            author_id=7,
            asked=questions.AskedQuestion(title="Kayaking alone"),
            state="pending",
        )
    )
    await board.run(lambda s: pending_posts.discard_pending_post(s, post_id=pending.post.id))
    await assert_index_mirrors_posts(sessionmaker)


async def assert_index_mirrors_posts(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The index holds exactly the current text of every question and answer that may count:
    on SQLite, live ones only (migration 0015); on PostgreSQL every question and answer has its
    vector, and each thread the words of all its posts."""
    async with sessionmaker() as session:
        if session.get_bind().dialect.name == "sqlite":
            # FTS5's own check that the inverted index matches the stored content.
            await session.execute(
                text("INSERT INTO posts_search (posts_search) VALUES ('integrity-check')")
            )
            indexed = (
                await session.execute(
                    text("SELECT rowid, title, body FROM posts_search ORDER BY rowid")
                )
            ).all()
            expected = (
                await session.execute(
                    text(
                        "SELECT (COALESCE(question_id, id) << 32) | id, COALESCE(title, ''), body"
                        " FROM posts WHERE kind IN ('question', 'answer') AND state = 'live'"
                        " AND deleted_at IS NULL AND removed_at IS NULL ORDER BY 1"
                    )
                )
            ).all()
            assert [tuple(r) for r in indexed] == [tuple(r) for r in expected]
        else:
            wrong = (
                await session.execute(
                    text(
                        "SELECT count(*) FROM posts WHERE (kind IN ('question', 'answer'))"
                        " <> (search_vector IS NOT NULL)"
                    )
                )
            ).scalar_one()
            assert wrong == 0
            # Each thread's words: exactly those of its posts (the text of an edited, blanked
            # or deleted post leaves them).
            threads = await session.execute(
                text("SELECT question_id, lexemes::text FROM thread_search ORDER BY 1")
            )
            rebuilt = await session.execute(
                text(
                    "SELECT COALESCE(p.question_id, p.id),"
                    " array_to_tsvector(array_agg(DISTINCT u.lexeme))::text"
                    " FROM posts AS p, unnest(p.search_vector) AS u"
                    " GROUP BY 1 ORDER BY 1"
                )
            )
            assert threads.all() == rebuilt.all()


async def test_index_mirrors_posts_after_a_busy_thread(
    sessionmaker: async_sessionmaker[AsyncSession], board: Board
) -> None:
    question = await board.ask("Busy thread", "Lots happens here.")
    answers = [await board.answer(question, f"Answer number {i} about oats") for i in range(4)]
    await board.forum.message(question, question.author_id, "Thanks all")  # a comment
    await board.run(
        lambda s: edits.edit_post(
            s, actor=Actor(answers[1].author_id), post_id=answers[1].id, body="Changed to barley"
        )
    )
    await board.forum.delete(answers[2])
    await board.run(
        lambda s: edits.edit_question(
            s,
            edit=edits.QuestionEdit(question.id, title="Busy grains thread"),
            actor=Actor(question.author_id),
        )
    )
    await assert_index_mirrors_posts(sessionmaker)
    assert await board.titles("barley grains") == ["Busy grains thread"]
    assert await board.titles("oats") == ["Busy grains thread"]


# --------------------------------------------------------------------------- guilds


async def test_one_guilds_questions_never_appear_in_anothers(
    sessionmaker: async_sessionmaker[AsyncSession], board: Board
) -> None:
    other = Board(sessionmaker, OTHER_GUILD, first_id=90_000)
    mine = await board.ask("Anxiety at school", "Teachers do not notice.")
    theirs = await other.ask("Anxiety at school", "Teachers do not notice.")
    await other.answer(theirs, "Talk to the school counsellor.")
    await unrelated(board)
    assert [hit.question_id for hit in await board.hits("anxiety school")] == [mine.id]
    assert [hit.question_id for hit in await other.hits("anxiety school")] == [theirs.id]
    assert await board.titles("counsellor") == []
    assert [m.question_id for m in await board.complete("anxi")] == [mine.id]
    assert [m.question_id for m in await other.complete("anxi")] == [theirs.id]
    assert await board.complete(str(theirs.id)) == []
    assert await board.similar("School anxiety", "teachers") == ["Anxiety at school"]
    hits = await other.run(
        lambda s: search.similar_questions(
            s, guild_id=OTHER_GUILD, visible=SEEN, title="School anxiety", details="counsellor"
        )
    )
    assert [hit.question_id for hit in hits] == [theirs.id]
    third = Board(sessionmaker, 3, first_id=95_000)
    assert await third.hits("anxiety") == []
    assert await third.complete("") == []


# --------------------------------------------------------------------------- hostile input

SLEEP_AND_THERAPIST = {"Sleep and a therapist"}
SLEEP = {"Sleep and a therapist", "Sleep only"}

HOSTILE_QUERIES: list[tuple[str, set[str]]] = [
    ("", set()),
    ("   \t\n  ", set()),
    ("*", set()),
    ('"', set()),
    ('""', set()),
    ("'", set()),
    ("\\", set()),
    ("(((((", set()),
    (")", set()),
    ("AND", set()),
    ("OR OR OR", set()),
    ("NOT", set()),
    ("NEAR(sleep therapist, 2)", set()),  # "near" and "2" are terms like any other
    ("sleep -therapist", SLEEP_AND_THERAPIST),  # no negation
    ("therapist NOT sleep", SLEEP_AND_THERAPIST),
    ("sleep OR therapist", SLEEP_AND_THERAPIST),  # no disjunction
    ('"sleep" AND "therapist"', SLEEP_AND_THERAPIST),
    ("sleep*", SLEEP),
    ("^sleep", SLEEP),
    ("sleep)", SLEEP),
    ("+sleep +", SLEEP),
    ("%sleep%", SLEEP),
    ("sle%", set()),
    ("_", set()),
    ("title:sleep", set()),  # "title" is a word, not a column
    ("{title}: therapist", set()),
    ("body : sleep", set()),
    ("'; DROP TABLE posts; --", set()),
    ('") OR 1=1 --', set()),
    ("1' OR '1'='1", set()),
    ("🙂🔥💤", set()),
    ("sleep 💤", SLEEP),
    ("\x00sleep", SLEEP),
    ("\ud800", set()),  # a lone surrogate
    ("s\u200bleep", set()),  # a zero-width space splits words
    ("SLEEP", SLEEP),
    ("sleep's", SLEEP),
    ("نوم", set()),
    ("睡眠", set()),
    ("x" * 100_000, set()),
    ("sleep " + "zzz " * 10_000, set()),
    ("sleep " * 10_000, SLEEP),
]


async def hostile_board(board: Board) -> None:
    await board.ask("Sleep and a therapist", "Both matter.")
    await board.ask("Sleep only", "Nothing more.")
    await board.ask("Therapist only", "Nothing more.")
    await board.ask("Something else entirely", "Cooking.")


async def test_hostile_queries_are_plain_words(
    sessionmaker: async_sessionmaker[AsyncSession], board: Board
) -> None:
    assert len(HOSTILE_QUERIES) >= 20
    await hostile_board(board)
    for query, expected in HOSTILE_QUERIES:
        found = set(await board.titles(query))
        assert found == expected, query[:40]
        assert len(found) < 4
        # The other entry points take the same text without failing.
        await board.similar(query, query)
        matches = await board.complete(query)
        assert len(matches) <= title_search.AUTOCOMPLETE_MAX
    async with sessionmaker() as session:
        count = (await session.execute(select(Post.id))).all()
    assert len(count) == 4


def test_random_text_never_raises(db_url: str) -> None:
    """Property: any text (operators, quotes, emoji, controls, any script) is a query."""

    async def seed() -> None:
        engine = create_engine(db_url)
        try:
            await hostile_board(Board(create_sessionmaker(engine)))
        finally:
            await engine.dispose()

    asyncio.run(seed())
    pieces = st.one_of(
        st.sampled_from(
            [
                "AND",
                "OR",
                "NOT",
                "NEAR",
                '"',
                "*",
                "^",
                ":",
                "(",
                ")",
                "-",
                "+",
                "{title}",
                "sleep",
                "therapist",
                "'",
                ";",
                "--",
                "\\",
                "%",
                "_",
                "&",
                "|",
                "!",
                "<->",
                ":*",
            ]
        ),
        st.text(max_size=12),
    )

    @settings(max_examples=40, deadline=None)
    @given(st.lists(pieces, max_size=12).map(" ".join))
    def check(query: str) -> None:
        async def run_all() -> None:
            engine = create_engine(db_url)
            try:
                async with create_sessionmaker(engine)() as session:
                    hits = await search.search_questions(
                        session, guild_id=GUILD, visible=SEEN, query=query
                    )
                    assert len(hits) < 4
                    await search.similar_questions(
                        session, guild_id=GUILD, visible=SEEN, title=query, details=query
                    )
                    await title_search.title_matches(
                        session, guild_id=GUILD, visible=SEEN, prefix=query
                    )
            finally:
                await engine.dispose()

        asyncio.run(run_all())

    check()


# --------------------------------------------------------------------------- similar questions


async def test_similar_questions_share_at_least_two_terms(board: Board) -> None:
    await board.ask("How do I sleep before an exam?", "I lie awake for hours.")
    await board.ask("Exam anxiety tips", "My hands shake.")
    await board.ask("Cooking dinner", "Recipes wanted.")
    assert await board.similar("Can't sleep the night before exams", "I stay awake") == [
        "How do I sleep before an exam?"
    ]
    assert await board.similar("Exam stress", "") == []  # one shared term is not enough
    assert set(await board.similar("Exams", "")) == {
        "How do I sleep before an exam?",
        "Exam anxiety tips",
    }
    assert await board.similar("", "") == []
    assert await board.similar("The", "and of it") == []


async def test_similar_questions_rank_and_look_into_answers(board: Board) -> None:
    best = await board.ask("Exam anxiety and shaking hands", "Before every exam.")
    weaker = await board.ask("Shaking before exams", "Just a little.")
    answered = await board.ask("Nervous at tests", "What helps?")
    await board.answer(answered, "Shaking hands before an exam is normal.")
    await unrelated(board)
    found = await board.similar("Anxiety makes my hands shake at exams", "")
    assert found[0] == "Exam anxiety and shaking hands"
    assert set(found) == {
        "Exam anxiety and shaking hands",
        "Shaking before exams",
        "Nervous at tests",
    }
    assert await board.similar("Anxiety makes my hands shake at exams", "", limit=1) == [
        "Exam anxiety and shaking hands"
    ]
    without = await board.similar("Exam anxiety and shaking hands", "", exclude_id=best.id)
    assert "Exam anxiety and shaking hands" not in without
    await board.forum.close(weaker, actor=MODERATOR, is_moderator=True)
    assert "Shaking before exams" not in await board.similar(
        "Shaking before exams", "", include_closed=False
    )


async def test_similar_questions_leave_out_the_commonest_terms(board: Board) -> None:
    """In a large community a word in thousands of posts says little about a question; here the
    limits are scaled down: no term held by more than 3 posts, 5 posts at most in all."""
    for n in range(4):
        await board.ask(f"Breathing exercise {n}", "Slow breathing helps.")
    target = await board.ask("Breathing and insomnia", "Melatonin and insomnia.")
    await board.ask("Insomnia with melatonin", "Does melatonin work?")
    await unrelated(board)
    limits = search.TermLimits(common=3, budget=5)
    # "breathing" is in 5 posts: left out, so sharing it is not enough to be similar.
    assert await board.similar("Breathing", limits=limits) == []
    assert len(await board.similar("Breathing")) == 5
    # "insomnia" (2 posts) and "melatonin" (2) are kept: 4 posts, within the budget.
    assert await board.similar(
        "Insomnia and melatonin", "breathing", limits=limits, exclude_id=target.id
    ) == ["Insomnia with melatonin"]


async def test_telling_terms_keep_the_rarest_within_the_budget(
    sessionmaker: async_sessionmaker[AsyncSession], board: Board
) -> None:
    for n in range(3):
        await board.ask(f"Journaling prompts {n}", "Gratitude journaling")
    await board.ask("Gratitude letters", "Writing gratitude letters")
    await board.ask("Letters to myself", "Future letters")
    terms = ["journaling", "gratitude", "letters", "kayak"]
    async with sessionmaker() as session:
        keep = search.telling_terms
        # Posts holding each: journaling 3, gratitude 4, letters 2, kayak 0.
        assert await keep(session, terms, search.TermLimits(common=10, budget=100)) == terms
        assert await keep(session, terms, search.TermLimits(common=3, budget=100)) == [
            "journaling",
            "letters",
            "kayak",
        ]
        # From the rarest: kayak 0, letters 2, journaling 3 would make 5.
        assert await keep(session, terms, search.TermLimits(common=10, budget=4)) == [
            "letters",
            "kayak",
        ]
        assert await keep(session, [], search.TERM_LIMITS) == []


async def test_postgres_statistics_name_the_commonest_terms_without_counting(
    sessionmaker: async_sessionmaker[AsyncSession], board: Board
) -> None:
    async with sessionmaker() as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("PostgreSQL's statistics")
    for n in range(30):
        await board.ask(f"Meditation habit {n}", "Meditation every morning")
    await board.ask("Kayaking alone", "Is it safe?")
    async with sessionmaker() as session:
        await session.execute(text("ANALYZE posts"))
        sql, params = search_sql.estimated_common(["meditating", "kayak", "morning"], over=20)
        estimated = {row.i: row.posts for row in await session.execute(text(sql), params)}
        assert set(estimated) == {0, 2}  # "meditating" stems as "meditation" does
        assert all(posts > 20 for posts in estimated.values())
        keep = search.TermLimits(common=20, budget=100)
        assert await search.telling_terms(session, ["meditation", "kayak"], keep) == ["kayak"]


# --------------------------------------------------------------------------- engines


async def test_postgres_search_uses_the_gin_index(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("PostgreSQL's planner")
        # A guild with thousands of questions, two of which match.
        await session.execute(
            text(
                "INSERT INTO posts (guild_id, kind, author_id, title, body, status, state,"
                " created_at, updated_at, last_activity_at, thread_id, message_id)"
                " SELECT :guild, 'question', g, 'Filler question ' || g, 'Nothing to see',"
                " 'open', 'live', now(), now(), now(), g, g FROM generate_series(1, 3000) AS g"
            ),
            {"guild": GUILD},
        )
        await session.execute(text("ANALYZE posts"))
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        plans = []
        for terms in (["sleep"], ["sleep", "therapist"]):
            sql, params = _statement("postgresql", terms)
            explained = await session.execute(text("EXPLAIN " + sql), params)
            plans.append("\n".join(row[0] for row in explained))
    # One word: its posts by the posts' index; two: their threads by the threads' index first.
    assert "posts_search_gin" in plans[0]
    assert "thread_search_gin" in plans[1]


@pytest.mark.parametrize("terms", [["sleep"], ["sleep", "therapist"]])
async def test_sqlite_search_reads_posts_only_for_the_questions_it_may_show(
    sessionmaker: async_sessionmaker[AsyncSession], terms: list[str]
) -> None:
    async with sessionmaker() as session, session.begin():
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("SQLite's planner")
        sql, params = _statement("sqlite", terms)
        plan = [row[3] for row in await session.execute(text("EXPLAIN QUERY PLAN " + sql), params)]
    # The ranking reads the index alone (its keys carry the thread; it holds live posts only);
    # a posts row is read by its key for each ranked question, to check the reader's scope.
    read = [step for step in plan if "posts" in step.split() or " q " in f" {step} "]
    assert read == ["SEARCH q USING INTEGER PRIMARY KEY (rowid=?)"]
    assert sum("VIRTUAL TABLE" in step for step in plan) == 2 * len(terms) - 1


async def test_hidden_and_restored_posts_leave_and_return(
    sessionmaker: async_sessionmaker[AsyncSession], board: Board
) -> None:
    question = await board.ask("Cycling to work", "Is it worth it in winter?")
    answer = await board.answer(question, "Studded tyres make it pleasant.")
    await unrelated(board)
    moderator = Actor(MODERATOR, is_moderator=True)

    async def remove(post_id: int) -> None:
        removal = moderation.Removal(post_id)
        await board.run(lambda s: moderation.remove_post(s, removal=removal, moderator=moderator))

    assert await board.titles("cycling tyres") == ["Cycling to work"]
    await remove(answer.id)
    assert await board.titles("tyres") == []
    assert await board.titles("cycling tyres") == []
    assert await board.titles("cycling") == ["Cycling to work"]
    await assert_index_mirrors_posts(sessionmaker)

    await board.run(lambda s: moderation.restore_post(s, post_id=answer.id, moderator=moderator))
    assert await board.titles("cycling tyres") == ["Cycling to work"]
    await remove(question.id)
    assert await board.titles("cycling") == []
    assert await board.titles("tyres") == []
    await assert_index_mirrors_posts(sessionmaker)


@pytest.mark.parametrize("empty_db_url", BACKENDS, indirect=True)
async def test_upgrading_indexes_existing_posts_and_downgrading_removes_the_index(
    empty_db_url: str,
) -> None:
    await migrate.upgrade(empty_db_url, "0001")
    engine = create_engine(empty_db_url)
    try:
        sm = create_sessionmaker(engine)
        board = Board(sm)
        # Rows as schema 0001 holds them (today's ORM model has columns 0001 lacks).
        await _insert_0001_post(sm, 1, "question", None, "Older question about swimming")
        await _insert_0001_post(sm, 2, "answer", 1, None, "Try the lake.")
        await migrate.upgrade(empty_db_url)
        # Migration 0005 put the existing posts in the guild's forum.
        await board.run(lambda s: set_setting(s, GUILD, "forum_channel_id", FORUM))
        assert await board.titles("swimming lake") == ["Older question about swimming"]
        await migrate.downgrade(empty_db_url, "0001")
        async with sm() as session:
            if session.get_bind().dialect.name == "sqlite":
                leftover = await session.execute(
                    text("SELECT name FROM sqlite_master WHERE name LIKE 'posts_search%'")
                )
            else:
                leftover = await session.execute(
                    text(
                        "SELECT column_name FROM information_schema.columns"
                        " WHERE table_name = 'posts' AND column_name = 'search_vector'"
                    )
                )
            assert leftover.all() == []
        # Posts are written without the index.
        await _insert_0001_post(sm, 3, "question", None, "Asked after the downgrade")
        # Upgrading again indexes the rows again, the one written meanwhile too.
        await migrate.upgrade(empty_db_url)
        assert await board.titles("swimming lake") == ["Older question about swimming"]
        assert await board.titles("downgrade") == ["Asked after the downgrade"]
    finally:
        await engine.dispose()


async def _insert_0001_post(
    sm: async_sessionmaker[AsyncSession],
    post_id: int,
    kind: str,
    question_id: int | None,
    title: str | None,
    body: str = "",
) -> None:
    async with sm() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO posts (id, guild_id, kind, question_id, parent_id, thread_id,"
                " message_id, author_id, title, body, status, state, created_at, updated_at,"
                " last_activity_at) VALUES (:id, :guild, :kind, :question, :question, 1, :id,"
                " :id, :title, :body, 'open', 'live', :now, :now, :now)"
            ),
            {
                "id": post_id,
                "guild": GUILD,
                "kind": kind,
                "question": question_id,
                "title": title,
                "body": body,
                "now": utc_now().replace(tzinfo=None),  # as a column without a zone takes it
            },
        )


def _statement(dialect: str, terms: list[str]) -> tuple[str, dict[str, Any]]:
    """The SQL ``/search`` runs for ``terms`` on ``dialect``, with its parameters."""
    find = search.Find(
        guild_id=GUILD,
        visible=SEEN,
        terms=terms,
        need=len(terms),
        limit=10,
        include_closed=True,
    )
    return search.find_statement(dialect, find)
