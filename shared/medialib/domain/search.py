"""Word-prefix search rules: which words an item is found by, and what a query asks for.

Words are case-folded runs of letters and digits, so ``company-logo.png`` is found by
``logo`` and ``Logo`` finds ``logo_dark.svg``. An item is indexed by at most
``MAX_WORDS_PER_ITEM`` distinct words, taken from filename, title, alt, then caption.
"""

from __future__ import annotations

import re
import unicodedata

MAX_WORDS_PER_ITEM = 24
MAX_WORD_LENGTH = 40
MAX_QUERY_WORDS = 8
_WORD = re.compile(r"[^\W_]+")


def words(text: str | None) -> list[str]:
    if not text:
        return []
    folded = unicodedata.normalize("NFKC", text).casefold()
    return [word[:MAX_WORD_LENGTH] for word in _WORD.findall(folded)]


def indexed_words(filename: str, title: str | None, alt: str | None, caption: str | None) -> list[str]:
    found: dict[str, None] = {}
    for text in (filename, title, alt, caption):
        for word in words(text):
            found.setdefault(word, None)
            if len(found) == MAX_WORDS_PER_ITEM:
                return list(found)
    return list(found)


def query_words(query: str) -> list[str]:
    """The distinct words of a query, longest first (the most selective to look up)."""
    distinct = dict.fromkeys(words(query))
    if not distinct:
        raise ValueError("must contain at least one letter or digit")
    if len(distinct) > MAX_QUERY_WORDS:
        raise ValueError(f"must contain at most {MAX_QUERY_WORDS} words")
    return sorted(distinct, key=len, reverse=True)


def matches(item_words: list[str], wanted: list[str]) -> bool:
    """Every query word is a prefix of some word of the item."""
    return all(any(word.startswith(prefix) for word in item_words) for prefix in wanted)
