"""Folder path rules (API.md): absolute, segments of letters, digits, space, ``-``, ``_``, ``.``,
never ``.`` or ``..``, depth at most 10, at most 255 characters."""

from __future__ import annotations

import re

MAX_DEPTH = 10
MAX_LENGTH = 255
_SEGMENT = re.compile(r"^[A-Za-z0-9 _.\-]+$")


def normalize_folder(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError("must start with /")
    if len(path) > MAX_LENGTH:
        raise ValueError(f"must be at most {MAX_LENGTH} characters")
    if path == "/":
        return path
    segments = path.rstrip("/").split("/")[1:]
    if len(segments) > MAX_DEPTH:
        raise ValueError(f"must be at most {MAX_DEPTH} levels deep")
    for segment in segments:
        if not segment or segment in {".", ".."} or not _SEGMENT.match(segment) or segment != segment.strip():
            raise ValueError("segments are letters, digits, space, - _ . and never . or ..")
    return "/" + "/".join(segments)
