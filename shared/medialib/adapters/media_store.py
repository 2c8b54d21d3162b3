"""Persistence of media items and their totals in the media table (pynamodb).

Speaks domain types and domain errors only; the records below never leave this module.
Every state change is one conditional transaction that also moves the totals, so a total is
never a scan and never drifts from the items.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from medialib.adapters.dynamo import aws_region, transaction_connection
from medialib.domain.errors import AlreadyExists, NotFound, VersionConflict
from medialib.domain.media import Media, counter_deltas
from medialib.settings import get_settings

_SETTINGS = get_settings()
_FILTER_ATTRIBUTES = ["kind", "status", "folder"]


def _tenant_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}"


def _media_sk(media_id: str) -> str:
    return f"M#{media_id}"


def _list_index(name: str, hash_attr: str, range_attr: str) -> GlobalSecondaryIndex:
    """One of the sparse listing indexes declared in template.yaml."""
    index = type(
        f"_{name}",
        (GlobalSecondaryIndex,),
        {
            "Meta": type(
                "Meta", (), {"index_name": name, "projection": IncludeProjection(_FILTER_ATTRIBUTES)}
            ),
            hash_attr: UnicodeAttribute(hash_key=True),
            range_attr: UnicodeAttribute(range_key=True),
        },
    )
    return index()


class _ChoreIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_chore"
        projection = KeysOnlyProjection()

    chore = UnicodeAttribute(hash_key=True)
    chore_due = UnicodeAttribute(range_key=True)


class _Table(Model):
    class Meta:
        table_name = _SETTINGS.media_table
        region = aws_region()

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class MediaRecord(_Table):
    """A media item. The index keys are set only while the item is listed (not pending)."""

    document = MapAttribute()  # the domain model, minus what the key and index attributes hold
    kind = UnicodeAttribute()
    status = UnicodeAttribute()
    folder = UnicodeAttribute()
    version = NumberAttribute()
    list_pk = UnicodeAttribute(null=True)
    created_key = UnicodeAttribute(null=True)
    filename_key = UnicodeAttribute(null=True)
    size_key = UnicodeAttribute(null=True)
    kind_pk = UnicodeAttribute(null=True)
    status_pk = UnicodeAttribute(null=True)
    folder_pk = UnicodeAttribute(null=True)
    chore = UnicodeAttribute(null=True)
    chore_due = UnicodeAttribute(null=True)

    by_created = _list_index("by_created", "list_pk", "created_key")
    by_filename = _list_index("by_filename", "list_pk", "filename_key")
    by_size = _list_index("by_size", "list_pk", "size_key")
    by_kind = _list_index("by_kind", "kind_pk", "created_key")
    by_status = _list_index("by_status", "status_pk", "created_key")
    by_folder = _list_index("by_folder", "folder_pk", "created_key")
    by_chore = _ChoreIndex()


class CounterRecord(_Table):
    n = NumberAttribute(default=0)


class PurgeRecord(_Table):
    """Storage keys still to delete for an item that is gone (the outbox of a delete)."""

    keys = ListAttribute(of=UnicodeAttribute)
    prefixes = ListAttribute(of=UnicodeAttribute)
    chore = UnicodeAttribute()
    chore_due = UnicodeAttribute()


def _to_record(media: Media) -> MediaRecord:
    tenant = media.tenant_id
    record = MediaRecord(
        _tenant_pk(tenant),
        _media_sk(media.id),
        document=media.model_dump(mode="json", exclude_none=True),
        kind=media.kind,
        status=media.status,
        folder=media.folder,
        version=media.version,
    )
    if media.listed:
        record.list_pk = _tenant_pk(tenant)
        record.created_key = media.id
        record.filename_key = f"{media.filename.casefold()}#{media.id}"
        record.size_key = f"{media.size or 0:015d}#{media.id}"
        record.kind_pk = f"{tenant}#kind#{media.kind}"
        record.status_pk = f"{tenant}#status#{media.status}"
        record.folder_pk = f"{tenant}#folder#{media.folder}"
    if media.status in ("pending", "processing"):
        # The sweeper expires unconfirmed uploads and re-drives processing that stalled.
        record.chore = f"stale#{media.status}"
        record.chore_due = media.upload_expires_at or media.updated_at
    return record


def _from_record(record: MediaRecord) -> Media:
    return Media.model_validate(record.document.as_dict())


def _counter_updates(tx: TransactWrite, tenant_id: str, deltas: dict[str, int]) -> None:
    for dim, delta in sorted(deltas.items()):
        counter = CounterRecord(_tenant_pk(tenant_id), f"COUNT#{dim}")
        tx.update(counter, actions=[CounterRecord.n.add(delta)])


def _raise_conflict(error: TransactWriteError, tenant_id: str, media_id: str) -> None:
    reasons = error.cancellation_reasons or []
    if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
        if get(tenant_id, media_id) is None:
            raise NotFound("Media not found") from error
        raise VersionConflict("The item changed meanwhile; read it again and retry") from error
    raise error


def get(tenant_id: str, media_id: str) -> Media | None:
    try:
        return _from_record(MediaRecord.get(_tenant_pk(tenant_id), _media_sk(media_id), consistent_read=True))
    except DoesNotExist:
        return None


def create(media: Media) -> None:
    """Create a new item; totals move only if it is created already listed."""
    deltas = counter_deltas(None, media)
    record = _to_record(media)
    if not deltas:
        try:
            record.save(condition=MediaRecord.pk.does_not_exist())
        except PutError as error:
            raise AlreadyExists("Media already exists") from error
        return
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.save(record, condition=MediaRecord.pk.does_not_exist())
            _counter_updates(tx, media.tenant_id, deltas)
    except TransactWriteError as error:
        raise AlreadyExists("Media already exists") from error


def replace(before: Media, after: Media) -> Media:
    """Write ``after`` if the stored item is still at ``before.version``; bumps the version."""
    stored = after.model_copy(update={"version": before.version + 1})
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.save(_to_record(stored), condition=MediaRecord.version == before.version)
            _counter_updates(tx, before.tenant_id, counter_deltas(before, stored))
    except TransactWriteError as error:
        _raise_conflict(error, before.tenant_id, before.id)
    return stored


def delete(media: Media, *, purge_keys: list[str], purge_prefixes: list[str], now: str) -> None:
    """Remove the item and record what storage still holds for it, in one transaction."""
    pk = _tenant_pk(media.tenant_id)
    purge = PurgeRecord(
        pk, f"PURGE#{media.id}", keys=purge_keys, prefixes=purge_prefixes, chore="purge", chore_due=now
    )
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.delete(MediaRecord(pk, _media_sk(media.id)), condition=MediaRecord.version == media.version)
            tx.save(purge)
            _counter_updates(tx, media.tenant_id, counter_deltas(media, None))
    except TransactWriteError as error:
        _raise_conflict(error, media.tenant_id, media.id)


def purge_done(tenant_id: str, media_id: str) -> None:
    PurgeRecord(_tenant_pk(tenant_id), f"PURGE#{media_id}").delete()


@dataclass(frozen=True)
class PendingPurge:
    tenant_id: str
    media_id: str
    keys: list[str]
    prefixes: list[str]


def due_purges(now: str, limit: int = 100) -> Iterator[PendingPurge]:
    for key in MediaRecord.by_chore.query("purge", MediaRecord.chore_due <= now, limit=limit):
        try:
            record = PurgeRecord.get(key.pk, key.sk, consistent_read=True)
        except DoesNotExist:
            continue
        yield PendingPurge(record.pk[2:], record.sk.removeprefix("PURGE#"), record.keys, record.prefixes)


def stale_items(status: str, due_before: str, limit: int = 100) -> Iterator[tuple[str, str]]:
    """(tenant_id, media_id) of items stuck in ``pending``/``processing`` since before a time."""
    for key in MediaRecord.by_chore.query(f"stale#{status}", MediaRecord.chore_due < due_before, limit=limit):
        yield key.pk[2:], key.sk[2:]


def count(tenant_id: str, dimension: str) -> int:
    try:
        return int(CounterRecord.get(_tenant_pk(tenant_id), f"COUNT#{dimension}", consistent_read=True).n)
    except DoesNotExist:
        return 0


# ---------------------------------------------------------------- listing

SORT_INDEXES = {"created_at": "by_created", "filename": "by_filename", "size": "by_size"}


@dataclass(frozen=True)
class ListQuery:
    tenant_id: str
    sort: str = "created_at"
    descending: bool = True
    kind: str | None = None
    status: str | None = None
    folder: str | None = None


@dataclass
class KeyPage:
    media_ids: list[str]
    next_start: dict[str, Any] | None  # the LastEvaluatedKey to resume after this page
    scanned: int


def _plan(query: ListQuery) -> tuple[GlobalSecondaryIndex, str, list[str]]:
    """Pick the index that serves the sort, or a filter's index for the default sort; the
    remaining filters are tested on the projected attributes."""
    tenant = query.tenant_id
    filters = [name for name in ("folder", "kind", "status") if getattr(query, name) is not None]
    if query.sort == "created_at" and filters:
        first = filters[0]
        index = getattr(MediaRecord, f"by_{first}")
        return index, f"{tenant}#{first}#{getattr(query, first)}", filters[1:]
    return getattr(MediaRecord, SORT_INDEXES[query.sort]), _tenant_pk(tenant), filters


def list_keys(query: ListQuery, *, skip: int, take: int, start: dict[str, Any] | None) -> KeyPage:
    """Read ``skip + take + 1`` matching index keys at most, starting after ``start``."""
    index, hash_value, filter_names = _plan(query)
    condition = None
    for name in filter_names:
        term = getattr(MediaRecord, name) == getattr(query, name)
        condition = term if condition is None else condition & term
    wanted = skip + take + 1
    results = index.query(
        hash_value,
        filter_condition=condition,
        scan_index_forward=not query.descending,
        limit=wanted,
        page_size=wanted,
        last_evaluated_key=start,
    )
    ids: list[str] = []
    next_start = None
    has_more = False
    for position, key in enumerate(results):
        if position < skip:
            continue
        if len(ids) == take:
            has_more = True
            break
        ids.append(key.sk[2:])
        if len(ids) == take:
            next_start = results.last_evaluated_key
    return KeyPage(ids, next_start if has_more else None, results.page_iter.total_scanned_count)


def batch_get(tenant_id: str, media_ids: list[str]) -> list[Media]:
    """The items for ``media_ids`` in that order (items deleted meanwhile are dropped)."""
    pk = _tenant_pk(tenant_id)
    found = {
        record.sk[2:]: _from_record(record)
        for record in MediaRecord.batch_get([(pk, _media_sk(i)) for i in media_ids], consistent_read=True)
    }
    return [found[i] for i in media_ids if i in found]


def count_matching(query: ListQuery) -> int:
    """Count for filter combinations no single total covers (cost: the first filter's items)."""
    index, hash_value, filter_names = _plan(query)
    condition = None
    for name in filter_names:
        term = getattr(MediaRecord, name) == getattr(query, name)
        condition = term if condition is None else condition & term
    return index.count(hash_value, filter_condition=condition)
