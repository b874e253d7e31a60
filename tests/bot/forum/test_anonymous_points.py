"""Item 4 of the anonymity issue: no public figure singles out an anonymous author.

Table-driven over named/anonymous question x named/anonymous answer: accepting your own answer
is refused with one sentence in every combination; every accept that happens pays both sides,
each side's share publicly when its post is named and privately when it is anonymous; and an
anonymous author's own reaction on their post moves vote-cast points exactly like anyone's.
"""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.forum import acceptance
from bot.forum.errors import PermissionDenied
from bot.forum.results import MemberPoints
from bot.forum.settings import set_setting
from tests.bot.forum.core_support import (
    ANSWERER,
    ASKER,
    GUILD,
    MODERATOR,
    OTHER,
    Forum,
    snapshot,
)

COMBINATIONS = list(itertools.product([False, True], repeat=2))
ACCEPTED, ACCEPTING, ASK, ANSWER = 300, 30, 20, 40


def _public(member: MemberPoints) -> tuple[int, int, int, int]:
    """Everything others see of a member."""
    return (member.points, member.questions, member.answers, member.accepted_answers)


@pytest.mark.parametrize(("question_anonymous", "answer_anonymous"), COMBINATIONS)
async def test_accepting_your_own_answer_is_refused_alike_in_every_combination(
    forum: Forum,
    sessionmaker: async_sessionmaker[AsyncSession],
    question_anonymous: bool,
    answer_anonymous: bool,
) -> None:
    q = await forum.ask(anonymous=question_anonymous)
    own = await forum.answer(q, ASKER, anonymous=answer_anonymous)
    before = await snapshot(sessionmaker)
    with pytest.raises(PermissionDenied) as err:
        await forum.accept(own)
    assert (
        str(err.value) == acceptance.SELF_ACCEPT == "You can't accept an answer you wrote yourself."
    )
    assert await snapshot(sessionmaker) == before
    # A moderator who wrote the answer may not accept it either.
    mine = await forum.answer(q, MODERATOR, anonymous=answer_anonymous)
    with pytest.raises(PermissionDenied) as mod_err:
        await forum.accept(mine, actor=MODERATOR, is_moderator=True)
    assert str(mod_err.value) == acceptance.SELF_ACCEPT
    await forum.check()


@pytest.mark.parametrize(("question_anonymous", "answer_anonymous"), COMBINATIONS)
async def test_an_accept_pays_both_members_each_share_public_or_private(
    forum: Forum, question_anonymous: bool, answer_anonymous: bool
) -> None:
    q = await forum.ask(anonymous=question_anonymous)
    a = await forum.answer(q, ANSWERER, anonymous=answer_anonymous)
    asker_before, answerer_before = await forum.member(ASKER), await forum.member(ANSWERER)
    await forum.accept(a)
    asker, answerer = await forum.member(ASKER), await forum.member(ANSWERER)
    if question_anonymous:
        assert _public(asker) == _public(asker_before) == (0, 0, 0, 0)
        assert asker.anon_points == asker_before.anon_points + ACCEPTING
    else:
        assert asker.points == asker_before.points + ACCEPTING
        assert asker.anon_points == asker_before.anon_points == 0
    if answer_anonymous:
        assert _public(answerer) == _public(answerer_before) == (0, 0, 0, 0)
        assert answerer.anon_points == ANSWER + ACCEPTED
    else:
        assert _public(answerer) == (ANSWER + ACCEPTED, 0, 1, 1)
        assert answerer.anon_points == 0
    await forum.check()


@pytest.mark.parametrize("answer_anonymous", [False, True])
async def test_a_named_askers_public_figures_do_not_depend_on_the_other_side(
    forum: Forum, answer_anonymous: bool
) -> None:
    """The named asker's profile moves the same whether the answer accepted is named or not."""
    q = await forum.ask()
    a = await forum.answer(q, ANSWERER, anonymous=answer_anonymous)
    await forum.accept(a)
    assert _public(await forum.member(ASKER)) == (ASK + ACCEPTING, 1, 0, 0)
    await forum.check()


@pytest.mark.parametrize(("question_anonymous", "answer_anonymous"), COMBINATIONS)
async def test_a_moderator_accepting_the_askers_own_answer_pays_as_two_members(
    forum: Forum, question_anonymous: bool, answer_anonymous: bool
) -> None:
    """Refusing it would tell the moderator who wrote the answer; it pays like any accept."""
    q = await forum.ask(anonymous=question_anonymous)
    own = await forum.answer(q, ASKER, anonymous=answer_anonymous)
    await forum.accept(own, actor=MODERATOR, is_moderator=True)
    member = await forum.member(ASKER)
    public = (0 if question_anonymous else ASK + ACCEPTING) + (
        0 if answer_anonymous else ANSWER + ACCEPTED
    )
    private = (ASK + ACCEPTING if question_anonymous else 0) + (
        ANSWER + ACCEPTED if answer_anonymous else 0
    )
    assert (member.points, member.anon_points) == (public, private)
    assert member.accepted_answers == int(not answer_anonymous)
    assert (await forum.member(MODERATOR)).points == 0
    await forum.check()


@pytest.mark.parametrize("vote_cast", [0, 5])
async def test_an_anonymous_authors_own_reaction_moves_vote_cast_points_like_anyones(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession], vote_cast: int
) -> None:
    async with sessionmaker.begin() as s:
        await set_setting(s, GUILD, "points_vote_cast", vote_cast)
    q = await forum.ask(OTHER)
    mine = await forum.answer(q, ANSWERER, anonymous=True)
    theirs = await forum.answer(q, ASKER, anonymous=True)
    # The anonymous author reacts on their own post; OTHER reacts on somebody else's.
    own = await forum.vote(mine, ANSWERER)
    other = await forum.vote(theirs, OTHER)
    assert own is not None and other is not None
    assert own.counted and other.counted
    assert own.post.score == other.post.score == 1
    answerer, voter = await forum.member(ANSWERER), await forum.member(OTHER)
    assert (answerer.points, voter.points) == (vote_cast, ASK + vote_cast)
    # Their own reaction earns their post nothing; OTHER's earns the post's author 20.
    assert answerer.anon_points == ANSWER
    assert (await forum.member(ASKER)).anon_points == ANSWER + 20
    assert (answerer.upvotes_received, voter.upvotes_received) == (0, 0)
    # Taking it back moves the same points back.
    await forum.vote(mine, ANSWERER, on=False)
    assert (await forum.member(ANSWERER)).points == 0
    await forum.check()


async def test_a_named_authors_own_reaction_still_counts_nothing(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker.begin() as s:
        await set_setting(s, GUILD, "points_vote_cast", 5)
    q = await forum.ask(OTHER)
    mine = await forum.answer(q, ANSWERER)
    own = await forum.vote(mine, ANSWERER)
    assert own is not None and not own.counted and own.post.score == 0
    assert (await forum.member(ANSWERER)).points == ANSWER
    await forum.check()
