"""Folders, tags and entity attachments: the catalogue records beside the items.

All live in the media table, in the tenant's partition (``media_table`` spells their keys).
Changes that also touch items go through ``media_store.replace_many`` with
these records' writes staged into the same transaction, guarded by conditions.

Only a failed condition means something about the records (missing, taken, changed); any
other failure of the database (throttling, timeouts) is ``Unavailable``, a 503 to retry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from medialib.adapters import media_table as layout
from medialib.adapters.dynamo import database_errors, raise_unless_a_condition_failed, transaction_connection
from medialib.adapters.media_table import (
    CounterRecord,
    EntityRecord,
    FolderRecord,
    MediaRecord,
    TagRecord,
    TagSlugRecord,
    tenant_pk,
)
from medialib.domain.errors import AlreadyExists, FolderNotEmpty, NotFound, Unavailable, VersionConflict
from medialib.domain.media import total_of
from medialib.domain.tags import Tag

_CONDITION_FAILED = "ConditionalCheckFailedException"


def _unavailable() -> Unavailable:
    return Unavailable("The catalogue store is unavailable; retry")


def _failed_its_condition(error: PynamoDBException) -> bool:
    # A timeout's cause carries no response at all (pynamodb's cause_response_code breaks on it).
    response = getattr(error.cause, "response", None) or {}
    return response.get("Error", {}).get("Code") == _CONDITION_FAILED


# ---------------------------------------------------------------- folders


def list_folders(tenant_id: str) -> list[str]:
    with database_errors():
        paths = [
            layout.folder_of(r.sk)
            for r in FolderRecord.query(
                tenant_pk(tenant_id), FolderRecord.sk.startswith(layout.FOLDER_PREFIX)
            )
        ]
    return ["/", *sorted(paths)]


def _folder_key(tenant_id: str, path: str) -> tuple[str, str]:
    return tenant_pk(tenant_id), layout.folder_sk(path)


def create_folder(tenant_id: str, path: str, ancestors: list[str], now: str) -> None:
    """Create ``path`` and any missing ``ancestors`` (outermost first); each new folder counts
    as a child of its parent, so a parent cannot be deleted out from under it."""
    with database_errors():
        existing = {
            layout.folder_of(r.sk)
            for r in FolderRecord.batch_get([_folder_key(tenant_id, p) for p in [*ancestors, path]])
        }
    if path in existing:
        raise AlreadyExists(f"Folder {path} already exists")
    chain = [*ancestors, path]
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            for position, folder in enumerate(chain):
                if folder in existing:
                    continue
                parent = chain[position - 1] if position else "/"
                child_is_new = position + 1 < len(chain)  # everything below a new folder is new
                tx.save(
                    FolderRecord(*_folder_key(tenant_id, folder), created_at=now, children=int(child_is_new)),
                    condition=FolderRecord.sk.does_not_exist(),
                )
                if parent != "/" and parent in existing:
                    tx.update(
                        FolderRecord(*_folder_key(tenant_id, parent)),
                        actions=[FolderRecord.children.add(1)],
                        condition=FolderRecord.sk.exists(),
                    )
    except TransactWriteError as error:
        raise_unless_a_condition_failed(error)
        raise VersionConflict("Folders changed meanwhile; retry") from error


def delete_folder(tenant_id: str, path: str, parent: str) -> None:
    """Delete an empty folder: no subfolders and no media, both checked in the transaction."""
    try:
        with database_errors():
            record = FolderRecord.get(*_folder_key(tenant_id, path), consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"Folder {path} does not exist") from None
    if record.children:
        raise FolderNotEmpty(f"Folder {path} has subfolders")
    counter = CounterRecord(
        tenant_pk(tenant_id), layout.counter_sk(total_of("holds", path))
    )  # listed and pending
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.delete(record, condition=(FolderRecord.children == 0) | FolderRecord.children.does_not_exist())
            tx.condition_check(
                CounterRecord,
                counter.pk,
                counter.sk,
                condition=CounterRecord.n.does_not_exist() | (CounterRecord.n == 0),
            )
            if parent != "/":
                tx.update(
                    FolderRecord(*_folder_key(tenant_id, parent)), actions=[FolderRecord.children.add(-1)]
                )
    except TransactWriteError as error:
        raise_unless_a_condition_failed(error)
        raise FolderNotEmpty(f"Folder {path} holds media or subfolders") from error


# ---------------------------------------------------------------- tags


def _tag(record: TagRecord) -> Tag:
    return Tag(
        record.tag_id,
        record.slug,
        record.name,
        record.color,
        int(record.order),
        record.created_at,
        record.updated_at,
    )


def list_tags(tenant_id: str) -> list[Tag]:
    with database_errors():
        records = list(TagRecord.query(tenant_pk(tenant_id), TagRecord.sk.startswith(layout.TAG_PREFIX)))
    return sorted((_tag(r) for r in records if not r.deleting), key=lambda t: (t.order, t.name.casefold()))


def _tag_record_of(tenant_id: str, tag_id: str) -> TagRecord | None:
    try:
        with database_errors():
            return TagRecord.get(tenant_pk(tenant_id), layout.tag_sk(tag_id), consistent_read=True)
    except DoesNotExist:
        return None


def get_tag(tenant_id: str, tag_id: str) -> Tag | None:
    """The tag, unless it does not exist or is being deleted."""
    record = _tag_record_of(tenant_id, tag_id)
    return None if record is None or record.deleting else _tag(record)


def deleting_tag(tenant_id: str, tag_id: str) -> Tag | None:
    """The tag, if a delete of it has started and not finished."""
    record = _tag_record_of(tenant_id, tag_id)
    return _tag(record) if record is not None and record.deleting else None


def tag_id_for_slug(tenant_id: str, slug: str) -> str | None:
    try:
        with database_errors():
            return TagSlugRecord.get(
                tenant_pk(tenant_id), layout.tag_slug_sk(slug), consistent_read=True
            ).tag_id
    except DoesNotExist:
        return None


def create_tag(tenant_id: str, tag: Tag) -> None:
    """Create a tag whose slug is free; AlreadyExists if another took the slug meanwhile."""
    pk = tenant_pk(tenant_id)
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.save(
                TagSlugRecord(pk, layout.tag_slug_sk(tag.slug), tag_id=tag.id),
                condition=TagSlugRecord.sk.does_not_exist(),
            )
            tx.save(_tag_record(pk, tag), condition=TagRecord.sk.does_not_exist())
    except TransactWriteError as error:
        raise_unless_a_condition_failed(error)
        raise AlreadyExists(f"A tag with slug {tag.slug} exists") from error


def _tag_record(pk: str, tag: Tag) -> TagRecord:
    return TagRecord(
        pk,
        layout.tag_sk(tag.id),
        tag_id=tag.id,
        slug=tag.slug,
        name=tag.name,
        color=tag.color,
        order=tag.order,
        created_at=tag.created_at,
        updated_at=tag.updated_at,
    )


def update_tag(tenant_id: str, before: Tag, after: Tag) -> None:
    """Rewrite a tag, unless it changed or a delete of it started meanwhile; a new slug moves
    its uniqueness record in the same transaction."""
    pk = tenant_pk(tenant_id)
    unchanged = (TagRecord.updated_at == before.updated_at) & TagRecord.deleting.does_not_exist()
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.save(_tag_record(pk, after), condition=unchanged)
            if after.slug != before.slug:
                tx.delete(TagSlugRecord(pk, layout.tag_slug_sk(before.slug)))
                tx.save(
                    TagSlugRecord(pk, layout.tag_slug_sk(after.slug), tag_id=after.id),
                    condition=TagSlugRecord.sk.does_not_exist(),
                )
    except TransactWriteError as error:
        raise_unless_a_condition_failed(error)
        if after.slug != before.slug and tag_id_for_slug(tenant_id, after.slug) not in (None, after.id):
            raise AlreadyExists(f"A tag with slug {after.slug} exists") from error
        if get_tag(tenant_id, before.id) is None:
            raise NotFound("Tag not found") from error
        raise VersionConflict("The tag changed meanwhile; retry") from error


def mark_tag_deleting(tenant_id: str, tag_id: str, now: str) -> Tag:
    """First step of a delete: no item can gain the tag from now on. Marking a tag already
    being deleted is allowed (a retried delete continues it) and keeps its first time, from
    which the sweeper tells an interrupted delete."""
    record = TagRecord(tenant_pk(tenant_id), layout.tag_sk(tag_id))
    try:
        record.update(
            actions=[
                TagRecord.deleting.set(True),
                TagRecord.chore.set(layout.TAG_DELETE_CHORE),
                TagRecord.chore_due.set(TagRecord.chore_due | now),
            ],
            condition=TagRecord.sk.exists(),
        )
    except PynamoDBException as error:
        if _failed_its_condition(error):
            raise NotFound("Tag not found") from error
        raise _unavailable() from error
    return _tag(record)


def remove_tag(tenant_id: str, tag: Tag) -> None:
    """Last step of a delete, once no item carries the tag. Idempotent: when two finish the
    same delete, the second finds it done. The slug goes only if it still names this tag."""
    pk = tenant_pk(tenant_id)
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.delete(TagRecord(pk, layout.tag_sk(tag.id)), condition=TagRecord.deleting.exists())
            tx.delete(
                TagSlugRecord(pk, layout.tag_slug_sk(tag.slug)),
                condition=(TagSlugRecord.tag_id == tag.id) | TagSlugRecord.sk.does_not_exist(),
            )
            tx.delete(CounterRecord(pk, layout.counter_sk(total_of("tag", tag.id))))
    except TransactWriteError as error:
        raise_unless_a_condition_failed(error)
        if _tag_record_of(tenant_id, tag.id) is not None:
            raise VersionConflict("The tag changed meanwhile; retry") from error


def interrupted_tag_deletes(started_before: str, limit: int = 100) -> Iterator[tuple[str, str]]:
    """(tenant_id, tag_id) of tags whose delete started before a time and has not finished."""
    with database_errors():
        keys = list(
            MediaRecord.by_chore.query(
                layout.TAG_DELETE_CHORE, MediaRecord.chore_due < started_before, limit=limit
            )
        )
    for key in keys:
        yield layout.tenant_of(key.pk), layout.tag_id_of(key.sk)


def require_tags(tenant_id: str, tag_ids: list[str]) -> Callable[[TransactWrite], None]:
    """Transaction checks that every tag exists and is not being deleted."""

    def stage(tx: TransactWrite) -> None:
        for tag_id in tag_ids:
            tx.condition_check(
                TagRecord,
                tenant_pk(tenant_id),
                layout.tag_sk(tag_id),
                condition=TagRecord.sk.exists() & TagRecord.deleting.does_not_exist(),
            )

    return stage


# ---------------------------------------------------------------- entities


@dataclass(frozen=True)
class Entity:
    type: str
    id: str
    media_ids: list[str]
    version: int  # 0: not stored yet


def _entity_key(tenant_id: str, entity_type: str, entity_id: str) -> tuple[str, str]:
    return tenant_pk(tenant_id), layout.entity_sk(entity_type, entity_id)


def get_entity(tenant_id: str, entity_type: str, entity_id: str) -> Entity:
    try:
        with database_errors():
            record = EntityRecord.get(*_entity_key(tenant_id, entity_type, entity_id), consistent_read=True)
    except DoesNotExist:
        return Entity(entity_type, entity_id, [], 0)
    return Entity(entity_type, entity_id, [str(i) for i in record.media_ids], int(record.version))


def stage_entity(
    tenant_id: str, before: Entity, media_ids: list[str], now: str
) -> Callable[[TransactWrite], None]:
    """Write an entity's attachments, if it is still at the version it was read at."""

    def stage(tx: TransactWrite) -> None:
        key = _entity_key(tenant_id, before.type, before.id)
        condition = (
            (EntityRecord.version == before.version) if before.version else EntityRecord.sk.does_not_exist()
        )
        if media_ids:
            tx.save(
                EntityRecord(*key, media_ids=media_ids, version=before.version + 1, updated_at=now),
                condition=condition,
            )
        elif before.version:
            tx.delete(EntityRecord(*key), condition=condition)

    return stage
