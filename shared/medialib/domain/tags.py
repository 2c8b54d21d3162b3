"""Tag rules: slugs derived from names, colours as hex."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_TAGS_PER_ITEM = 10
TAG_ID_PATTERN = re.compile(r"^tag_[0-9A-Za-z]{16,32}$")
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    """``Summer Sale 2026!`` → ``summer-sale-2026``; accents fold to their base letters."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _NON_SLUG.sub("-", ascii_name.casefold()).strip("-")[:64].strip("-")
    if not slug:
        raise ValueError("must contain at least one letter or digit")
    return slug


@dataclass(frozen=True)
class Tag:
    id: str
    slug: str
    name: str
    color: str | None
    order: int
    created_at: str
    updated_at: str
