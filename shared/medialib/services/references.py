"""Where media is used: entities (a product, post, page …) and the media attached to them.

An entity's attachments and each attached item's ``used_by`` change in one transaction, every
write conditional on the version it was read at. So attaching an item and deleting it can race,
and exactly one wins: no reference ever points at a deleted item.
"""

from __future__ import annotations

import re

from pynamodb.transactions import TransactWrite

from medialib.adapters import catalogue_store, media_listing, media_store
from medialib.domain.errors import NotFound, ValidationFailed, VersionConflict
from medialib.domain.media import EntityRef, Media, utc_now
from medialib.services.retrying import retry_on_conflict

ENTITY_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
ENTITY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_:.\-]{1,128}$")
# One transaction holds the entity, each changed item and its index row, and the totals.
MAX_MEDIA_PER_ENTITY = 40
# An item lists its entities in its own record: at up to ~200 bytes each, 1,000 keep it far
# from DynamoDB's 400 KB item limit.
MAX_ENTITIES_PER_ITEM = 1000
# DynamoDB allows 100 actions per transaction; an item whose ``used_by`` changes costs two
# (the item, its ``unused`` row), plus the entity and the ``unused`` total.
_MAX_ITEMS_PER_TRANSACTION = 48
_DETACH_BATCH = 20


def entity_media(tenant_id: str, entity_type: str, entity_id: str) -> list[Media]:
    entity = catalogue_store.get_entity(tenant_id, entity_type, entity_id)
    return media_listing.batch_get(tenant_id, entity.media_ids)


def set_entity_media(tenant_id: str, entity_type: str, entity_id: str, media_ids: list[str]) -> list[Media]:
    """Attach, reorder and detach in one call; the list's order is the position order."""
    wanted = list(dict.fromkeys(media_ids))
    if len(wanted) > MAX_MEDIA_PER_ENTITY:
        raise ValidationFailed(
            f"An entity holds at most {MAX_MEDIA_PER_ENTITY} media",
            errors=[{"field": "media_ids", "message": f"at most {MAX_MEDIA_PER_ENTITY} items"}],
        )
    # An item changed or was deleted meanwhile: look again (a deleted one is then reported as
    # unknown).
    return retry_on_conflict(
        lambda: _set_once(tenant_id, EntityRef(type=entity_type, id=entity_id), wanted),
        retry_on=(VersionConflict, NotFound),
        gave_up="The entity or its media kept changing; retry",
    )


def _set_once(tenant_id: str, ref: EntityRef, wanted: list[str]) -> list[Media]:
    entity = catalogue_store.get_entity(tenant_id, ref.type, ref.id)
    touched = list(dict.fromkeys([*wanted, *entity.media_ids]))
    found = {m.id: m for m in media_listing.batch_get(tenant_id, touched) if m.listed}
    unknown = [media_id for media_id in wanted if media_id not in found]
    if unknown:
        raise ValidationFailed(
            "Some media ids are unknown",
            errors=[{"field": "media_ids", "message": f"unknown: {media_id}"} for media_id in unknown],
        )
    full = [
        media_id
        for media_id in wanted
        if ref not in found[media_id].used_by and len(found[media_id].used_by) >= MAX_ENTITIES_PER_ITEM
    ]
    if full:
        raise ValidationFailed(
            f"An item can be attached to at most {MAX_ENTITIES_PER_ITEM} entities",
            errors=[{"field": "media_ids", "message": f"attached to too many entities: {m}"} for m in full],
        )
    now = utc_now()
    detaches: list[tuple[Media, Media | None]] = []
    attaches: list[tuple[Media, Media | None]] = []
    for media_id, media in found.items():
        attach = media_id in wanted
        if attach != (ref in media.used_by):
            uses = [r for r in media.used_by if r != ref] + ([ref] if attach else [])
            change = (media, media.model_copy(update={"used_by": uses, "updated_at": now}))
            (attaches if attach else detaches).append(change)
    if len(detaches) + len(attaches) <= _MAX_ITEMS_PER_TRANSACTION:
        stage = catalogue_store.stage_entity(tenant_id, entity, wanted, now)
        stored = {m.id: m for m in media_store.replace_many([*detaches, *attaches], extra=stage)}
    else:
        # Too many items for one transaction: detach first (the entity keeps the items that
        # stay), then attach and order. Each step is atomic and conditional, so no reference
        # ever points at a missing item; a conflict in between is retried from the start.
        kept = [media_id for media_id in entity.media_ids if media_id in found and media_id in wanted]
        stage = catalogue_store.stage_entity(tenant_id, entity, kept, now)
        stored = {m.id: m for m in media_store.replace_many(detaches, extra=stage)}
        interim = catalogue_store.Entity(entity.type, entity.id, kept, entity.version + 1 if kept else 0)
        stage = catalogue_store.stage_entity(tenant_id, interim, wanted, now)
        stored.update({m.id: m for m in media_store.replace_many(attaches, extra=stage)})
    return [stored.get(media_id, found[media_id]) for media_id in wanted]


def detach_everywhere(media: Media) -> Media:
    """Remove the item from every entity that uses it (for a forced delete); returns the item
    as stored afterwards, with ``used_by`` empty."""
    now = utc_now()
    while media.used_by:
        batch, rest = media.used_by[:_DETACH_BATCH], media.used_by[_DETACH_BATCH:]
        stages = []
        for ref in batch:
            entity = catalogue_store.get_entity(media.tenant_id, ref.type, ref.id)
            remaining = [media_id for media_id in entity.media_ids if media_id != media.id]
            stages.append(catalogue_store.stage_entity(media.tenant_id, entity, remaining, now))

        def stage_all(tx: TransactWrite, stages: list = stages) -> None:
            for stage in stages:
                stage(tx)

        after = media.model_copy(update={"used_by": rest, "updated_at": now})
        media = media_store.replace_many([(media, after)], extra=stage_all)[0]
    return media
