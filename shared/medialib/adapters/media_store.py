"""Persistence of media items in the media table (pynamodb): the items, their totals and the
index rows derived from them.

Speaks domain types and domain errors only; the records below never leave this module.
Every state change is one conditional transaction that writes the item, moves its totals and
adds or removes its index rows (tags, unused, search words, hash, name+size), so a total is
never a scan and an index never drifts from the items.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from medialib.adapters.dynamo import aws_region, database_errors, transaction_connection
from medialib.domain.errors import AlreadyExists, NotFound, Unavailable, VersionConflict
from medialib.domain.media import Media, counter_deltas, utc_now, variants_prefix
from medialib.domain.search import indexed_words
from medialib.settings import get_settings

_SETTINGS = get_settings()
_FILTER_ATTRIBUTES = ["kind", "status", "folder"]


def tenant_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}"


def media_sk(media_id: str) -> str:
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

    document: MapAttribute = MapAttribute()  # the domain model, minus what the key and index attributes hold
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


class IndexRow(_Table):
    """A row that finds an item by tag, unused, search word, hash or name+size."""

    media_id = UnicodeAttribute()


class FolderRecord(_Table):
    created_at = UnicodeAttribute()
    children = NumberAttribute(default=0)  # direct subfolders: a folder with children stays


class PurgeRecord(_Table):
    """Storage keys still to delete for an item that is gone (the outbox of a delete)."""

    keys = ListAttribute(of=UnicodeAttribute)
    prefixes = ListAttribute(of=UnicodeAttribute)
    chore = UnicodeAttribute()
    chore_due = UnicodeAttribute()


def _to_record(media: Media) -> MediaRecord:
    tenant = media.tenant_id
    record = MediaRecord(
        tenant_pk(tenant),
        media_sk(media.id),
        document=media.model_dump(mode="json", exclude_none=True),
        kind=media.kind,
        status=media.status,
        folder=media.folder,
        version=media.version,
    )
    if media.listed:
        record.list_pk = tenant_pk(tenant)
        record.created_key = media.id
        # \x01 sorts before any character a filename may hold, so "photo" lists before "photo 2".
        record.filename_key = f"{media.filename.casefold()}\x01{media.id}"
        record.size_key = f"{media.size or 0:015d}#{media.id}"
        record.kind_pk = f"{tenant}#kind#{media.kind}"
        record.status_pk = f"{tenant}#status#{media.status}"
        record.folder_pk = f"{tenant}#folder#{media.folder}"
    if media.status in ("pending", "processing"):
        # The sweeper expires unconfirmed uploads and re-drives processing that stalled.
        record.chore = f"stale#{media.status}"
        pending = media.status == "pending"
        record.chore_due = (media.upload_expires_at if pending else None) or media.updated_at
    return record


def from_record(record: MediaRecord) -> Media:
    return Media.model_validate(record.document.as_dict())


def index_rows(media: Media | None) -> set[tuple[str, str]]:
    """The (pk, sk) index rows a listed item owns; pending uploads own none."""
    if media is None or not media.listed:
        return set()
    prefix, sk = f"T#{media.tenant_id}#", media_sk(media.id)
    rows = {(f"{prefix}tag#{tag_id}", sk) for tag_id in media.tag_ids}
    rows.add((f"{prefix}name#{media.filename.casefold()}#{media.size or 0}", sk))
    if not media.used_by:
        rows.add((f"{prefix}unused", sk))
    if media.sha256:
        rows.add((f"{prefix}sha#{media.sha256}", sk))
    for word in indexed_words(media.filename, media.title, media.alt, media.caption):
        rows.add((f"{prefix}word#{word[0]}", f"{word}#{media.id}"))
    return rows


def _stage(tx: TransactWrite, changes: list[tuple[Media | None, Media | None]]) -> None:
    """Add to ``tx`` the totals and index rows that move with ``changes``. Totals are summed
    first: a transaction may touch each counter only once."""
    totals: dict[tuple[str, str], int] = {}
    for before, after in changes:
        media = after or before
        assert media is not None
        for dim, delta in counter_deltas(before, after).items():
            key = (tenant_pk(media.tenant_id), f"COUNT#{dim}")
            totals[key] = totals.get(key, 0) + delta
        old, new = index_rows(before), index_rows(after)
        for pk, sk in sorted(new - old):
            tx.save(IndexRow(pk, sk, media_id=media.id))
        for pk, sk in sorted(old - new):
            tx.delete(IndexRow(pk, sk))
    for (pk, sk), delta in sorted(totals.items()):
        if delta:
            tx.update(CounterRecord(pk, sk), actions=[CounterRecord.n.add(delta)])


def _explain(
    error: TransactWriteError, tenant_id: str, changes: list[tuple[Media, Media | None]], folder: str | None
) -> None:
    """Turn a cancelled transaction into the domain error that explains it, by looking again
    (DynamoDB reports reasons in its own order of operations, not ours)."""
    codes = {reason.code for reason in (error.cancellation_reasons or []) if reason is not None}
    if "ConditionalCheckFailed" not in codes:
        if "TransactionConflict" in codes:
            raise VersionConflict("A concurrent change touched the same items; retry") from error
        raise Unavailable("The database did not accept the change; retry") from error
    if folder not in (None, "/") and not folder_exists(tenant_id, folder):
        raise NotFound("The folder does not exist", errors=[{"field": "folder", "message": "no such folder"}])
    for before, _ in changes:
        current = get(before.tenant_id, before.id)
        if current is None:
            raise NotFound("Media not found") from error
        if current.version != before.version:
            raise VersionConflict("The item changed meanwhile; read it again and retry") from error
    raise VersionConflict("A related record changed meanwhile; retry") from error


def get(tenant_id: str, media_id: str) -> Media | None:
    try:
        with database_errors():
            record = MediaRecord.get(tenant_pk(tenant_id), media_sk(media_id), consistent_read=True)
    except DoesNotExist:
        return None
    return from_record(record)


def create(media: Media, *, folder_must_exist: str | None = None) -> None:
    """Create a new item (with its totals and index rows if it is created already listed)."""
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.save(_to_record(media), condition=MediaRecord.pk.does_not_exist())
            _require_folder(tx, media.tenant_id, folder_must_exist)
            _stage(tx, [(None, media)])
    except TransactWriteError as error:
        if get(media.tenant_id, media.id) is not None:
            raise AlreadyExists("Media already exists") from error
        _explain(error, media.tenant_id, [], folder_must_exist)
        raise


def replace(
    before: Media, after: Media, *, folder_must_exist: str | None = None, purge_files: bool = False
) -> Media:
    """Write ``after`` if the stored item is still at ``before.version``; bumps the version.
    ``purge_files`` records, in the same transaction, that the item's files must go."""
    extra = _purge_stage(before) if purge_files else None
    return replace_many([(before, after)], folder_must_exist=folder_must_exist, extra=extra)[0]


def replace_many(
    changes: list[tuple[Media, Media | None]],
    *,
    folder_must_exist: str | None = None,
    extra: Callable[[TransactWrite], None] | None = None,
) -> list[Media]:
    """Apply several item changes (None deletes) atomically, each conditional on the version
    it was read at; ``extra`` adds other writes (entity records, purge records) to the same
    transaction. Returns the stored items (deleted ones omitted)."""
    stored: list[Media] = []
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            staged: list[tuple[Media | None, Media | None]] = []
            for before, after in changes:
                condition = MediaRecord.version == before.version
                if after is None:
                    tx.delete(
                        MediaRecord(tenant_pk(before.tenant_id), media_sk(before.id)), condition=condition
                    )
                else:
                    after = after.model_copy(update={"version": before.version + 1})
                    tx.save(_to_record(after), condition=condition)
                    stored.append(after)
                staged.append((before, after))
            _stage(tx, staged)
            if changes:
                _require_folder(tx, changes[0][0].tenant_id, folder_must_exist)
            if extra is not None:
                extra(tx)
    except TransactWriteError as error:
        _explain(error, changes[0][0].tenant_id, changes, folder_must_exist)
    return stored


def delete(media: Media, *, extra: Callable[[TransactWrite], None] | None = None) -> None:
    """Remove the item and record that its files must go, in one transaction."""
    purge = _purge_stage(media)

    def with_purge(tx: TransactWrite) -> None:
        purge(tx)
        if extra is not None:
            extra(tx)

    replace_many([(media, None)], extra=with_purge)


def files_of(media: Media) -> tuple[list[str], list[str]]:
    """The storage keys and prefixes that hold an item's files (original, variants)."""
    return [media.original_key], [variants_prefix(media.tenant_id, media.id)]


def _purge_stage(media: Media) -> Callable[[TransactWrite], None]:
    """The outbox of a file removal: the sweeper finishes it if the caller cannot."""
    keys, prefixes = files_of(media)
    record = PurgeRecord(
        tenant_pk(media.tenant_id),
        f"PURGE#{media.id}",
        keys=keys,
        prefixes=prefixes,
        chore="purge",
        chore_due=utc_now(),
    )
    return lambda tx: tx.save(record)


# Folders are records of the catalogue store; an item may only enter a folder that exists.
FOLDER_SK_PREFIX = "F#"


def _require_folder(tx: TransactWrite, tenant_id: str, folder: str | None) -> None:
    if folder is not None and folder != "/":
        tx.condition_check(
            FolderRecord,
            tenant_pk(tenant_id),
            f"{FOLDER_SK_PREFIX}{folder}",
            condition=FolderRecord.pk.exists(),
        )


def folder_exists(tenant_id: str, folder: str) -> bool:
    if folder == "/":
        return True
    try:
        with database_errors():
            FolderRecord.get(tenant_pk(tenant_id), f"{FOLDER_SK_PREFIX}{folder}", consistent_read=True)
    except DoesNotExist:
        return False
    return True


def purge_done(tenant_id: str, media_id: str) -> None:
    with database_errors():
        PurgeRecord(tenant_pk(tenant_id), f"PURGE#{media_id}").delete()


@dataclass(frozen=True)
class PendingPurge:
    tenant_id: str
    media_id: str
    keys: list[str]
    prefixes: list[str]


def due_purges(now: str, limit: int = 100) -> Iterator[PendingPurge]:
    with database_errors():
        keys = list(MediaRecord.by_chore.query("purge", MediaRecord.chore_due <= now, limit=limit))
    for key in keys:
        try:
            with database_errors():
                record = PurgeRecord.get(key.pk, key.sk, consistent_read=True)
        except DoesNotExist:
            continue
        keys, prefixes = [str(key) for key in record.keys], [str(prefix) for prefix in record.prefixes]
        yield PendingPurge(record.pk[2:], record.sk.removeprefix("PURGE#"), keys, prefixes)


def stale_items(status: str, due_before: str, limit: int = 100) -> list[tuple[str, str]]:
    """(tenant_id, media_id) of items stuck in ``pending``/``processing`` since before a time."""
    with database_errors():
        keys = list(
            MediaRecord.by_chore.query(f"stale#{status}", MediaRecord.chore_due < due_before, limit=limit)
        )
    return [(key.pk[2:], key.sk[2:]) for key in keys]


def count(tenant_id: str, dimension: str) -> int:
    try:
        with database_errors():
            return int(CounterRecord.get(tenant_pk(tenant_id), f"COUNT#{dimension}", consistent_read=True).n)
    except DoesNotExist:
        return 0


def bulk_import(items: list[Media]) -> None:
    """Load new items with their index rows and totals in batches, without transactions: for
    imports into a quiet tenant and for benchmarks, never for live traffic."""
    totals: dict[tuple[str, str], int] = {}
    with MediaRecord.batch_write() as records, IndexRow.batch_write() as rows:
        for media in items:
            records.save(_to_record(media))
            for pk, sk in index_rows(media):
                rows.save(IndexRow(pk, sk, media_id=media.id))
            for dim, delta in counter_deltas(None, media).items():
                key = (tenant_pk(media.tenant_id), f"COUNT#{dim}")
                totals[key] = totals.get(key, 0) + delta
    for (pk, sk), delta in totals.items():
        CounterRecord(pk, sk).update(actions=[CounterRecord.n.add(delta)])
