"""Removing an item's files from storage once its record says they must go.

Every removal is first recorded in the item's own transaction (``media_store`` purge records);
this deletes the files and then the record. A failure leaves the record for the sweeper, so
nothing is left behind for long.
"""

from __future__ import annotations

from medialib.adapters import media_store, object_storage
from medialib.domain.errors import MediaLibError
from medialib.domain.media import Media
from medialib.observability import logger


def purge_files(tenant_id: str, media_id: str, keys: list[str], prefixes: list[str]) -> bool:
    try:
        object_storage.delete_keys(keys)
        object_storage.delete_prefixes(prefixes)
        media_store.purge_done(tenant_id, media_id)
    except MediaLibError:
        logger.exception("Storage purge deferred to the sweeper", extra={"media_id": media_id})
        return False
    return True


def purge_files_of(media: Media) -> bool:
    return purge_files(media.tenant_id, media.id, *media_store.files_of(media))
