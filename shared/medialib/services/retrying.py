"""The one retry loop for optimistic concurrency: read, decide, write conditionally; when the
write loses a race (``VersionConflict``), read and decide again on the new state."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from medialib.domain.errors import MediaLibError, VersionConflict

T = TypeVar("T")
ATTEMPTS = 3


def retry_on_conflict(
    attempt: Callable[[], T],
    *,
    attempts: int = ATTEMPTS,
    retry_on: tuple[type[MediaLibError], ...] = (VersionConflict,),
    gave_up: str = "The item kept changing; retry",
) -> T:
    """Run ``attempt`` until it returns, at most ``attempts`` times while it raises one of
    ``retry_on``; then a ``VersionConflict`` (a 409 the client may retry) says it gave up."""
    for _ in range(attempts):
        try:
            return attempt()
        except retry_on:
            continue
    raise VersionConflict(gave_up)
