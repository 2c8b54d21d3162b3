"""Finding what a tenant already holds: by content hash, else by filename and size."""

from __future__ import annotations

from dataclasses import dataclass

from medialib.adapters import media_listing
from medialib.domain.media import Media


@dataclass(frozen=True)
class Fingerprint:
    filename: str
    size: int
    sha256: str | None = None


def same_content(tenant_id: str, sha256: str, exclude: str | None = None) -> list[Media]:
    ids = [i for i in media_listing.ids_with_sha256(tenant_id, sha256) if i != exclude]
    return media_listing.batch_get(tenant_id, ids)


def same_name_and_size(tenant_id: str, filename: str, size: int) -> list[Media]:
    ids = media_listing.ids_with_name_and_size(tenant_id, filename, size)
    return media_listing.batch_get(tenant_id, ids)


def check_duplicates(tenant_id: str, files: list[Fingerprint]) -> list[tuple[Fingerprint, list[Media]]]:
    """Each file that matches something, with what it matches (sha256 when given). Failed
    items hold no bytes, so they are no reason to skip an upload (as at confirm)."""
    found = []
    for file in files:
        matches = (
            same_content(tenant_id, file.sha256)
            if file.sha256
            else same_name_and_size(tenant_id, file.filename, file.size)
        )
        existing = [media for media in matches if media.status != "failed"]
        if existing:
            found.append((file, existing))
    return found
