"""The AutoMod keyword matcher, with the examples of Discord's "keyword matching strategies"
table (API docs, Auto Moderation resource)."""

from __future__ import annotations

import pytest

from bot.forum.automod import (
    BLOCK_MESSAGE,
    KeywordRule,
    Poster,
    check_text,
    compile_rules,
    keyword_pattern,
    refusal,
    regex_pattern,
)
from bot.forum.errors import PermissionDenied

SEND_ALERT, TIMEOUT = 2, 3
MEMBER = Poster(role_ids=frozenset({1}), channel_ids=frozenset({100, 200}))


def matches(keyword: str, text: str) -> bool:
    pattern = keyword_pattern(keyword)
    assert pattern is not None
    return pattern.search(text) is not None


@pytest.mark.parametrize(
    ("keyword", "text"),
    [
        # Prefix: the word must start with the keyword.
        ("cat*", "catch"),
        ("cat*", "Catapult"),
        ("cat*", "CAttLE"),
        ("tra*", "train"),
        ("tra*", "trade"),
        ("tra*", "TRAditional"),
        ("the mat*", "the matrix"),
        # Suffix: the word must end with the keyword.
        ("*cat", "wildcat"),
        ("*cat", "copyCat"),
        ("*tra", "extra"),
        ("*tra", "ultra"),
        ("*tra", "orchesTRA"),
        ("*the mat", "breathe mat"),
        # Anywhere.
        ("*cat*", "location"),
        ("*cat*", "eduCation"),
        ("*tra*", "abstracted"),
        ("*tra*", "outrage"),
        ("*the mat*", "breathe matter"),
        # Whole word.
        ("cat", "cat"),
        ("train", "train"),
        ("the mat", "the mat"),
    ],
)
def test_the_examples_of_discords_table_match(keyword: str, text: str) -> None:
    assert matches(keyword, text)
    assert matches(keyword, f"well, {text} again")


@pytest.mark.parametrize(
    ("keyword", "text"),
    [
        ("cat*", "wildcat"),  # a prefix keyword must start the word
        ("*cat", "catch"),  # a suffix keyword must end it
        ("cat", "catch"),  # a whole word is not part of a longer one
        ("cat", "wildcat"),
        ("cat", "location"),
        ("the mat", "the matrix"),
        ("the mat", "breathe mat"),
        ("*the mat", "breathe matter"),
    ],
)
def test_the_wildcards_decide_where_a_keyword_may_sit(keyword: str, text: str) -> None:
    assert not matches(keyword, text)


def test_whole_words_are_bounded_by_whitespace_or_punctuation() -> None:
    assert matches("cat", "my cat, my rules")
    assert matches("cat", "(cat)")
    assert matches("the mat", "on the\nmat!")
    assert not matches("cat", "cat5")


def test_an_empty_keyword_matches_nothing() -> None:
    assert keyword_pattern("**") is None
    assert keyword_pattern("  ") is None


def test_regex_patterns_are_case_insensitive_and_unreadable_ones_are_skipped() -> None:
    pattern = regex_pattern(r"(b|c)at")
    assert pattern is not None and pattern.search("a BAT")
    assert regex_pattern(r"[[:alpha:]]+") is None  # POSIX class: Rust reads it otherwise
    assert regex_pattern(r"\p{Greek}") is None
    assert regex_pattern(r"(unclosed") is None
    rules = compile_rules(
        [KeywordRule(1, "r", regex_patterns=(r"(unclosed", r"\p{Greek}", r"fr[e3]{2} nitro"))]
    )
    assert rules.skipped == 2
    assert rules.blocking_rule(["get FR33 NITRO here"], MEMBER) is not None


def test_the_allow_list_lets_a_keyword_through_inside_an_allowed_phrase() -> None:
    rules = compile_rules([KeywordRule(1, "cats", keywords=("*cat*",), allow_list=("catalog",))])
    assert rules.blocking_rule(["see the catalog"], MEMBER) is None
    assert rules.blocking_rule(["see the catalog of cats"], MEMBER) is not None
    regex = compile_rules(
        [KeywordRule(2, "re", regex_patterns=("pill",), allow_list=("*pillow*",))]
    )
    assert regex.blocking_rule(["a soft pillow"], MEMBER) is None
    assert regex.blocking_rule(["a pill"], MEMBER) is not None


def test_only_enabled_message_rules_that_block_apply() -> None:
    base = KeywordRule(1, "r", keywords=("bad",))
    text = ["a bad day"]
    assert compile_rules([base]).blocking_rule(text, MEMBER) == base
    for rule in (
        KeywordRule(1, "off", keywords=("bad",), enabled=False),
        KeywordRule(1, "profile", keywords=("bad",), event_type=2),
        KeywordRule(1, "alert", keywords=("bad",), action_types=(SEND_ALERT, TIMEOUT)),
        KeywordRule(1, "preset", keywords=("bad",), trigger_type=4),
    ):
        assert compile_rules([rule]).blocking_rule(text, MEMBER) is None
    both = KeywordRule(1, "both", keywords=("bad",), action_types=(SEND_ALERT, BLOCK_MESSAGE))
    assert compile_rules([both]).blocking_rule(text, MEMBER) == both


def test_exempt_roles_channels_and_server_managers() -> None:
    rule = KeywordRule(1, "r", keywords=("bad",), exempt_roles=frozenset({7}))
    rules = compile_rules([rule])
    assert rules.blocking_rule(["bad"], MEMBER) == rule
    helper = Poster(role_ids=frozenset({1, 7}), channel_ids=MEMBER.channel_ids)
    assert rules.blocking_rule(["bad"], helper) is None
    in_parent = compile_rules(
        [KeywordRule(1, "r", keywords=("bad",), exempt_channels=frozenset({200}))]
    )
    assert in_parent.blocking_rule(["bad"], MEMBER) is None  # the thread's parent is exempt
    manager = Poster(role_ids=frozenset({1}), channel_ids=frozenset({300}), manages_server=True)
    assert rules.blocking_rule(["bad"], manager) is None


def test_each_text_is_checked_on_its_own() -> None:
    rules = compile_rules([KeywordRule(1, "r", keywords=("the mat",))])
    assert rules.blocking_rule(["on the", "mat"], MEMBER) is None
    assert rules.blocking_rule(["fine", None, "on the mat"], MEMBER) is not None


def test_the_refusal_names_the_rule_and_shows_its_message() -> None:
    plain = KeywordRule(1, "Slurs", keywords=("bad",))
    assert refusal(plain) == "This server's AutoMod blocks that text (rule: Slurs)."
    told = KeywordRule(1, "Slurs", keywords=("bad",), custom_message="Be kind.")
    assert refusal(told) == "This server's AutoMod blocks that text (rule: Slurs). Be kind."
    with pytest.raises(PermissionDenied, match="rule: Slurs"):
        check_text(compile_rules([plain]), ["so bad"], MEMBER)
    check_text(compile_rules([plain]), ["so good"], MEMBER)
