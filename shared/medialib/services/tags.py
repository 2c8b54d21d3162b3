"""Tags: the tenant's vocabulary, and which items carry which tags.

Items store tag ids, so renaming a tag (which changes its slug) touches one record; responses
show slugs. Deleting a tag first marks it so no item can gain it, then detaches it from every
item, then removes it. A delete interrupted midway is finished by the next one, by creating a
tag with the same slug, or by the sweeper (``finish_interrupted_deletes``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta

from medialib.adapters import catalogue_store, media_listing, media_store
from medialib.domain.errors import AlreadyExists, NotFound, ValidationFailed, VersionConflict
from medialib.domain.media import Media, iso_timestamp, new_media_id, utc_now
from medialib.domain.tags import MAX_TAGS_PER_ITEM, Tag, slugify
from medialib.observability import logger
from medialib.services.media import get_media
from medialib.services.retrying import retry_on_conflict

# A delete still marked after this long was interrupted (a live one finishes within a request).
DELETE_STALL = timedelta(minutes=5)
_DETACH_PAGE = 50


def new_tag_id() -> str:
    return "tag_" + new_media_id().removeprefix("med_")[:16] + os.urandom(3).hex()


def list_tags(tenant_id: str) -> list[Tag]:
    return catalogue_store.list_tags(tenant_id)


def slug_map(tenant_id: str) -> dict[str, str]:
    """tag id → slug, for showing items' tags."""
    return {tag.id: tag.slug for tag in catalogue_store.list_tags(tenant_id)}


def _slug(name: str) -> str:
    try:
        return slugify(name)
    except ValueError as error:
        raise ValidationFailed(
            "The tag name has no letters or digits", errors=[{"field": "name", "message": str(error)}]
        ) from None


def upsert_tag(tenant_id: str, name: str, color: str | None) -> tuple[Tag, bool]:
    """Create the tag, or update the one with the same slug. Returns (tag, created). A tag
    with the slug that is still being deleted is deleted first (its delete may have been
    interrupted), then the new tag is created."""
    slug = _slug(name)

    def attempt() -> tuple[Tag, bool]:
        existing_id = catalogue_store.tag_id_for_slug(tenant_id, slug)
        existing = catalogue_store.get_tag(tenant_id, existing_id) if existing_id else None
        if existing_id is not None and existing is None:
            doomed = catalogue_store.deleting_tag(tenant_id, existing_id)
            if doomed is not None:
                _finish_delete(tenant_id, doomed)
        now = utc_now()
        if existing is not None:
            after = Tag(
                existing.id,
                slug,
                name,
                color if color is not None else existing.color,
                existing.order,
                existing.created_at,
                now,
            )
            catalogue_store.update_tag(tenant_id, existing, after)
            return after, False
        tag = Tag(new_tag_id(), slug, name, color, 0, now, now)
        catalogue_store.create_tag(tenant_id, tag)  # AlreadyExists: the slug was taken meanwhile
        return tag, True

    return retry_on_conflict(
        attempt, retry_on=(VersionConflict, AlreadyExists, NotFound), gave_up="The tag kept changing; retry"
    )


def _tag_or_404(tenant_id: str, tag_id: str) -> Tag:
    tag = catalogue_store.get_tag(tenant_id, tag_id)
    if tag is None:
        raise NotFound("Tag not found")
    return tag


def update_tag(
    tenant_id: str, tag_id: str, name: str | None, color: str | None, order: int | None, fields_set: set[str]
) -> Tag:
    tag = _tag_or_404(tenant_id, tag_id)
    new_name = name if "name" in fields_set and name is not None else tag.name
    after = Tag(
        tag.id,
        _slug(new_name),
        new_name,
        color if "color" in fields_set else tag.color,
        order if "order" in fields_set and order is not None else tag.order,
        tag.created_at,
        utc_now(),
    )
    catalogue_store.update_tag(tenant_id, tag, after)
    return after


def delete_tag(tenant_id: str, tag_id: str) -> None:
    """Delete a tag; on a tag whose delete was interrupted, this continues and finishes it."""
    _finish_delete(tenant_id, catalogue_store.mark_tag_deleting(tenant_id, tag_id, utc_now()))


def _finish_delete(tenant_id: str, tag: Tag) -> None:
    """Detach a tag marked as deleting from every item that carries it, then remove it. Safe
    to run again, or twice at once: each step is conditional and idempotent."""
    query = media_listing.ListQuery(tenant_id=tenant_id, tag_ids=(tag.id,))
    resume = None
    while True:
        page = media_listing.list_page(query, skip=0, take=_DETACH_PAGE, resume=resume)
        for media in page.items:
            try:
                _change_tags(tenant_id, media.id, lambda ids: [i for i in ids if i != tag.id], check=False)
            except NotFound:
                continue  # deleted meanwhile, and its tag rows with it: nothing to detach
        if page.resume is None:
            break
        resume = page.resume
    catalogue_store.remove_tag(tenant_id, tag)


def finish_interrupted_deletes(now: datetime) -> int:
    """Finish the tag deletes that started more than ``DELETE_STALL`` before ``now`` and never
    ended (for the sweeper). One tag's failure is logged and does not stop the others; it is
    tried again on the next run. Returns how many were finished."""
    finished = 0
    for tenant_id, tag_id in catalogue_store.interrupted_tag_deletes(iso_timestamp(now - DELETE_STALL)):
        try:
            tag = catalogue_store.deleting_tag(tenant_id, tag_id)
            if tag is not None:
                _finish_delete(tenant_id, tag)
                finished += 1
        except Exception:  # isolate each tag: the next run tries this one again
            logger.exception("Tag delete not finished", extra={"tenant_id": tenant_id, "tag_id": tag_id})
    return finished


# ---------------------------------------------------------------- an item's tags


def item_tags(tenant_id: str, media_id: str) -> list[Tag]:
    media = get_media(tenant_id, media_id)
    tags = {tag.id: tag for tag in catalogue_store.list_tags(tenant_id)}
    return [tags[tag_id] for tag_id in media.tag_ids if tag_id in tags]


def resolve_tag(tenant_id: str, tag_id: str | None, slug: str | None) -> str:
    if tag_id is not None:
        return _tag_or_404(tenant_id, tag_id).id
    found = catalogue_store.tag_id_for_slug(tenant_id, slug or "")
    if found is None or catalogue_store.get_tag(tenant_id, found) is None:
        raise NotFound("Tag not found")
    return found


def add_tag(tenant_id: str, media_id: str, tag_id: str) -> list[Tag]:
    _change_tags(tenant_id, media_id, lambda ids: ids if tag_id in ids else [*ids, tag_id])
    return item_tags(tenant_id, media_id)


def replace_tags(tenant_id: str, media_id: str, tag_ids: list[str]) -> list[Tag]:
    wanted = list(dict.fromkeys(tag_ids))
    known = {tag.id for tag in catalogue_store.list_tags(tenant_id)}
    unknown = [tag_id for tag_id in wanted if tag_id not in known]
    if unknown:
        raise ValidationFailed(
            "Some tag ids are unknown",
            errors=[{"field": "tag_ids", "message": f"unknown: {t}"} for t in unknown],
        )
    _change_tags(tenant_id, media_id, lambda _: wanted)
    return item_tags(tenant_id, media_id)


def remove_tag(tenant_id: str, media_id: str, tag_id: str) -> list[Tag]:
    """Idempotent for a tag the item does not carry; a tag that does not exist is a 404."""
    if tag_id not in get_media(tenant_id, media_id).tag_ids:
        _tag_or_404(tenant_id, tag_id)
    _change_tags(tenant_id, media_id, lambda ids: [i for i in ids if i != tag_id])
    return item_tags(tenant_id, media_id)


def _change_tags(
    tenant_id: str, media_id: str, change: Callable[[list[str]], list[str]], *, check: bool = True
) -> Media:
    def attempt() -> Media:
        media = get_media(tenant_id, media_id)
        tag_ids = change(list(media.tag_ids))
        if tag_ids == media.tag_ids:
            return media
        if len(tag_ids) > MAX_TAGS_PER_ITEM:
            raise ValidationFailed(
                f"An item carries at most {MAX_TAGS_PER_ITEM} tags",
                errors=[{"field": "tag_ids", "message": f"at most {MAX_TAGS_PER_ITEM}"}],
            )
        added = [tag_id for tag_id in tag_ids if tag_id not in media.tag_ids]
        after = media.model_copy(update={"tag_ids": tag_ids, "updated_at": utc_now()})
        extra = catalogue_store.require_tags(tenant_id, added) if check and added else None
        try:
            return media_store.replace_many([(media, after)], extra=extra)[0]
        except VersionConflict:
            if check and added and any(catalogue_store.get_tag(tenant_id, t) is None for t in added):
                raise NotFound("Tag not found") from None
            raise

    return retry_on_conflict(attempt)
