"""Public read: a tenant that enabled it shows its ready items without a key."""

from __future__ import annotations

from medialib.domain.errors import NotFound
from medialib.domain.media import Media
from medialib.services import api_keys
from medialib.services.media import ListParams, MediaPage, get_media, list_media


def _require_public(tenant_id: str) -> None:
    if not api_keys.is_public(tenant_id):
        raise NotFound("Not found")  # indistinguishable from a tenant that does not exist


def public_list(
    tenant_id: str, *, kind: str | None, folder: str | None, limit: int, offset: int
) -> MediaPage:
    _require_public(tenant_id)
    return list_media(
        tenant_id, ListParams(limit=limit, offset=offset, kind=kind, folder=folder, status="ready")
    )


def public_get(tenant_id: str, media_id: str) -> Media:
    _require_public(tenant_id)
    media = get_media(tenant_id, media_id)
    if media.status != "ready":
        raise NotFound("Media not found")
    return media
