"""README's troubleshooting table quotes start-up sentences the code really prints."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _quoted_sentences() -> list[str]:
    text = (ROOT / "README.md").read_text()
    start = text.index("## Troubleshooting\n")
    table = text[start : text.index("\n## ", start + 1)]
    return re.findall(r"^\| `([^`]+)` \|", table, flags=re.MULTILINE)


def _source() -> str:
    return "\n".join(p.read_text() for p in sorted((ROOT / "bot").rglob("*.py")))


def unprinted(quoted: list[str], source: str) -> list[str]:
    """The quoted lines whose fixed start (before a placeholder such as ``<url>`` or an
    ellipsis) is not in the source verbatim."""
    missing = []
    for line in quoted:
        fixed = re.split(r"<[^>]+>|…", line)[0]
        if len(fixed) < 10 or fixed not in source:
            missing.append(line)
    return missing


def test_each_listed_sentence_is_one_the_code_prints() -> None:
    quoted = _quoted_sentences()
    assert len(quoted) >= 8
    assert unprinted(quoted, _source()) == []


def test_a_sentence_the_code_never_prints_is_caught() -> None:
    made_up = "The bot exploded at <url>: …"
    assert unprinted([*_quoted_sentences(), made_up], _source()) == [made_up]
