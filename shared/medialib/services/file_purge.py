"""Removing an item's files from storage once its record says they must go.

Every removal is first recorded in the item's own transaction (``media_store`` purge records);
this deletes the files, makes the CDN forget the files it may have cached, and then deletes the
record. A failure leaves the record for the sweeper, so nothing is left behind (or served from
the edge) for long. The CDN is told after the files are gone, so it cannot cache them again.
"""

from __future__ import annotations

from medialib.adapters import delivery_cache, media_store, object_storage
from medialib.domain.errors import MediaLibError
from medialib.domain.media import Media
from medialib.observability import logger


def purge_files(tenant_id: str, media_id: str, keys: list[str], prefixes: list[str]) -> bool:
    try:
        object_storage.delete_keys(keys)
        object_storage.delete_prefixes(prefixes)
        delivery_cache.invalidate(keys)
        media_store.purge_done(tenant_id, media_id)
    except MediaLibError:
        logger.exception("Storage purge deferred to the sweeper", extra={"media_id": media_id})
        return False
    return True


def purge_files_of(media: Media) -> bool:
    return purge_files(media.tenant_id, media.id, *media_store.files_of(media))
