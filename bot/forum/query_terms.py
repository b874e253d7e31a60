"""Query terms: how typed text becomes the words a search looks for.

Query text is user input and is never handed to either engine's query syntax. It is split
here into words (runs of Unicode letters and digits, which is also how FTS5's ``unicode61``
splits), English stop words are dropped (PostgreSQL's ``english`` list, so both engines see the
same terms), and each word becomes one quoted FTS5 string (``fts_string``) or one
``plainto_tsquery`` - bound parameters, never SQL text. Quotes, operators (AND OR NOT NEAR - *
^ :), column filters, parentheses, emoji and SQL match nothing special; text with no words finds
nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Final

# PostgreSQL's english.stop (Snowball's English stop words); a test checks the two agree.
_STOP_WORDS_TEXT: Final = """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself
    she her hers herself it its itself they them their theirs themselves what which who whom
    this that these those am is are was were be been being have has had having do does did
    doing a an the and but if or because as until while of at by for with about against between
    into through during before after above below to from up down in out on off over under again
    further then once here there when where why how all any both each few more most other some
    such no nor not only own same so than too very s t can will just don should now
"""
STOP_WORDS: Final = frozenset(_STOP_WORDS_TEXT.split())

# A word: a run of letters and digits (not "_", which \\w would include).
_WORD: Final = re.compile(r"[^\W_]+")
# The most terms a query uses (the first ones typed); more rarely match anything anyway.
MAX_TERMS: Final = 32
# Similar questions look for this many of the new question's words at most.
MAX_SIMILAR_TERMS: Final = 24
# A longer "word" is no word anyone searches for; a query needing one finds nothing.
MAX_TERM_CHARS: Final = 200


def words(query: str) -> list[str]:
    """The words of ``query`` in order, lower-cased (letters and digits; everything else
    separates)."""
    normalized = unicodedata.normalize("NFC", query)
    return [match.group().lower() for match in _WORD.finditer(normalized)]


def search_terms(query: str) -> list[str]:
    """The terms a search for ``query`` requires: its words without stop words, each once, at
    most ``MAX_TERMS``. Empty when nothing searchable is left."""
    terms: list[str] = []
    for word in words(query):
        if word in STOP_WORDS or word in terms:
            continue
        terms.append(word)
        if len(terms) == MAX_TERMS:
            break
    return terms


def _rough_stem(word: str) -> str:
    """A crude English stem, only to count "exam" and "exams" as one term of a new question."""
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def significant_terms(title: str, details: str = "") -> list[str]:
    """The words that characterise a new question: the title's first, then the details' most
    frequent; no stop words, no single letters, one per rough stem, at most
    ``MAX_SIMILAR_TERMS``."""

    def keep(word: str) -> bool:
        return word not in STOP_WORDS and 2 <= len(word) <= MAX_TERM_CHARS

    title_words = [w for w in words(title) if keep(w)]
    detail_counts = Counter(w for w in words(details) if keep(w))
    ordered = title_words + [w for w, _ in detail_counts.most_common()]
    terms: list[str] = []
    stems: set[str] = set()
    for word in ordered:
        stem = _rough_stem(word)
        if stem in stems:
            continue
        stems.add(stem)
        terms.append(word)
        if len(terms) == MAX_SIMILAR_TERMS:
            break
    return terms


#: The forms a term is looked for in. The index holds text as members typed it (stored verbatim),
#: so a word typed precomposed ("café") must also find it typed decomposed ("cafe" + U+0301), and
#: a compatibility form (a ligature, full-width letters) its plain letters.
NORMAL_FORMS: Final = ("NFC", "NFD", "NFKC", "NFKD")


def term_forms(term: str) -> tuple[str, ...]:
    """``term`` in each of ``NORMAL_FORMS`` (always that many, equal ones repeated, so that SQL
    built from them depends on the number of terms alone)."""
    return tuple(unicodedata.normalize(form, term) for form in NORMAL_FORMS)


def fts_match(term: str) -> str:
    """An FTS5 expression matching ``term`` in any of its forms; never an operator of the
    member's."""
    phrases = list(dict.fromkeys(fts_string(form) for form in term_forms(term)))
    return phrases[0] if len(phrases) == 1 else "(" + " OR ".join(phrases) + ")"


def fts_string(term: str) -> str:
    """One FTS5 string (a phrase of the words ``unicode61`` finds in it); never an operator."""
    return '"' + term.replace('"', '""') + '"'
