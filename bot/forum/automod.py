"""The server's AutoMod keyword rules, applied to text the bot posts for a member.

Discord's AutoMod does not look at bot messages, so what a member posts through the bot (a
question's title and details, an answer, a reply, an edit, an anonymous display name) is checked
here against the guild's KEYWORD rules (trigger type 1) as Discord would check the member's own
message. Pure logic: the rules are plain dataclasses (``KeywordRule``) the adapter
(``bot.automod``) builds from what Discord returns.

What Discord documents (the "Auto Moderation" resource of the API docs and the help centre's
regex article), and how it is applied here:

* Keywords are case-insensitive. A ``*`` at the start or end of a keyword chooses how it
  matches: ``cat*`` a word that starts with it (catch, Catapult), ``*cat`` a word that ends with
  it (wildcat), ``*cat*`` anywhere (location), ``cat`` the whole word only. A keyword may be a
  phrase (``the mat*`` matches "the matrix"). A word's edges are the text's ends and any
  character that is not a letter or a digit (whitespace, as the docs say, and punctuation).
* Regex patterns are Rust regex with the case-insensitive and Unicode flags on. Python's ``re``
  reads the common subset the same way; a pattern it cannot compile (or reads differently, such
  as a POSIX class ``[[:alpha:]]``) is skipped and counted (``RuleSet.skipped``).
* ``allow_list`` entries (wildcards as for keywords): a keyword or regex match that lies inside
  an allowed phrase does not count.
* Only enabled rules whose event is MESSAGE_SEND and whose actions include BLOCK_MESSAGE block;
  ``exempt_roles`` and ``exempt_channels`` (a thread counts as its parent channel too) exempt,
  and so do Manage Server and Administrator.
* Each piece of text (a title, the details) is checked on its own, as separate fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from bot.forum.errors import PermissionDenied

#: Discord's numbers: trigger type KEYWORD, event type MESSAGE_SEND, action BLOCK_MESSAGE.
KEYWORD_TRIGGER: Final = 1
MESSAGE_SEND: Final = 1
BLOCK_MESSAGE: Final = 1

#: The refusal's sentence (the rule's custom message, if any, follows it).
BLOCKED: Final = "This server's AutoMod blocks that text (rule: {name})."
#: Before and after a word: not a letter or a digit (``[^\W_]`` is a letter or a digit).
_WORD_START: Final = r"(?<![^\W_])"
_WORD_END: Final = r"(?![^\W_])"
#: Rust regex syntax that Python's ``re`` rejects or reads differently: skipped, not guessed.
_RUST_ONLY: Final = ("[[:", r"\p{", r"\P{", r"\pL", r"\pN", r"\z")


@dataclass(frozen=True, slots=True)
class KeywordRule:
    """One AutoMod rule as Discord describes it (ids as ints, the trigger metadata as tuples)."""

    id: int
    name: str
    keywords: tuple[str, ...] = ()
    regex_patterns: tuple[str, ...] = ()
    allow_list: tuple[str, ...] = ()
    exempt_roles: frozenset[int] = frozenset()
    exempt_channels: frozenset[int] = frozenset()
    enabled: bool = True
    event_type: int = MESSAGE_SEND
    trigger_type: int = KEYWORD_TRIGGER
    action_types: tuple[int, ...] = (BLOCK_MESSAGE,)
    custom_message: str | None = None

    @property
    def blocks(self) -> bool:
        """Whether the rule blocks a member's message at all (before looking at its text)."""
        return (
            self.enabled
            and self.trigger_type == KEYWORD_TRIGGER
            and self.event_type == MESSAGE_SEND
            and BLOCK_MESSAGE in self.action_types
        )


@dataclass(frozen=True, slots=True)
class Poster:
    """Who posts, and where, as AutoMod sees it: the member's roles, the channel's ids (a
    thread's and its parent's) and whether Manage Server or Administrator exempts them."""

    role_ids: frozenset[int]
    channel_ids: frozenset[int]
    manages_server: bool = False


def keyword_pattern(keyword: str) -> re.Pattern[str] | None:
    """The regex of one keyword or allow-list entry under Discord's wildcard rules (None for an
    entry with no text)."""
    entry = keyword.strip()
    anything_before, anything_after = entry.startswith("*"), entry.endswith("*")
    words = entry.strip("*").split()
    if not words:
        return None
    body = r"\s+".join(re.escape(word) for word in words)
    start = "" if anything_before else _WORD_START
    end = "" if anything_after else _WORD_END
    return re.compile(start + body + end, re.IGNORECASE)


def regex_pattern(pattern: str) -> re.Pattern[str] | None:
    """A rule's regex compiled as Discord runs it (case-insensitive, Unicode); None when Python
    cannot read it as Rust would."""
    if any(token in pattern for token in _RUST_ONLY):
        return None
    try:
        return re.compile(pattern, re.IGNORECASE)
    except (re.error, OverflowError, RecursionError):
        return None


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: KeywordRule
    patterns: tuple[re.Pattern[str], ...]
    allowed: tuple[re.Pattern[str], ...]

    def exempts(self, poster: Poster) -> bool:
        return bool(
            self.rule.exempt_roles & poster.role_ids
            or self.rule.exempt_channels & poster.channel_ids
        )

    def matches(self, text: str) -> bool:
        """Whether ``text`` has a keyword or regex match that no allow-list entry covers."""
        allowed = [m.span() for pattern in self.allowed for m in pattern.finditer(text)]
        for pattern in self.patterns:
            for found in pattern.finditer(text):
                start, end = found.span()
                if start == end:
                    continue  # an empty match (``a*``) blocks nothing
                if not any(a <= start and end <= b for a, b in allowed):
                    return True
        return False


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A guild's blocking keyword rules, compiled once; ``skipped`` counts regex patterns Python
    could not read (logged by the adapter, ids only)."""

    rules: tuple[CompiledRule, ...] = ()
    skipped: int = 0

    def blocking_rule(self, texts: Iterable[str | None], poster: Poster) -> KeywordRule | None:
        """The first rule that would block the member's ``texts`` (None: they may post)."""
        if poster.manages_server:
            return None
        pieces = [text for text in texts if text]
        for compiled in self.rules:
            if compiled.exempts(poster):
                continue
            if any(compiled.matches(text) for text in pieces):
                return compiled.rule
        return None


def compile_rules(rules: Iterable[KeywordRule]) -> RuleSet:
    """Compile the rules that block (enabled, MESSAGE_SEND, BLOCK_MESSAGE, KEYWORD)."""
    compiled: list[CompiledRule] = []
    skipped = 0
    for rule in rules:
        if not rule.blocks:
            continue
        patterns = [p for p in map(keyword_pattern, rule.keywords) if p is not None]
        for raw in rule.regex_patterns:
            pattern = regex_pattern(raw)
            if pattern is None:
                skipped += 1
            else:
                patterns.append(pattern)
        allowed = tuple(p for p in map(keyword_pattern, rule.allow_list) if p is not None)
        if patterns:
            compiled.append(CompiledRule(rule, tuple(patterns), allowed))
    return RuleSet(tuple(compiled), skipped)


def refusal(rule: KeywordRule) -> str:
    """The sentence a blocked member reads, with the rule's own explanation when it has one."""
    text = BLOCKED.format(name=rule.name)
    if rule.custom_message:
        text += f" {rule.custom_message}"
    return text


def check_text(rules: RuleSet, texts: Iterable[str | None], poster: Poster) -> None:
    """Refuse (``PermissionDenied``, one sentence) text a rule would block for this member."""
    rule = rules.blocking_rule(texts, poster)
    if rule is not None:
        raise PermissionDenied(refusal(rule))
