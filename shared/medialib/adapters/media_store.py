"""Persistence of media items in the media table (pynamodb): the items, their totals and the
index rows derived from them.

Speaks domain types and domain errors only; the records (``media_table``) never leave the
adapters.
Every state change is one conditional transaction that writes the item, moves its totals and
adds or removes its index rows (tags, unused, search words, hash, name+size), so a total is
never a scan and an index never drifts from the items.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from medialib.adapters import media_table as layout
from medialib.adapters.dynamo import database_errors, raise_unless_a_condition_failed, transaction_connection
from medialib.adapters.media_table import (
    CounterRecord,
    FolderRecord,
    IndexRow,
    MediaRecord,
    PurgeRecord,
    media_sk,
    tenant_pk,
)
from medialib.domain.errors import AlreadyExists, NotFound, VersionConflict
from medialib.domain.media import Media, counter_deltas, utc_now, variants_prefix
from medialib.domain.search import indexed_words


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
        record.filename_key = layout.filename_sort_key(media.filename, media.id)
        record.size_key = layout.size_sort_key(media.size or 0, media.id)
        record.kind_pk = layout.filter_partition(tenant, "kind", media.kind)
        record.status_pk = layout.filter_partition(tenant, "status", media.status)
        record.folder_pk = layout.filter_partition(tenant, "folder", media.folder)
    if media.status in ("pending", "processing"):
        # The sweeper expires unconfirmed uploads and re-drives processing that stalled.
        record.chore = layout.stale_chore(media.status)
        pending = media.status == "pending"
        record.chore_due = (media.upload_expires_at if pending else None) or media.updated_at
    return record


def from_record(record: MediaRecord) -> Media:
    return Media.model_validate(record.document.as_dict())


def index_rows(media: Media | None) -> set[tuple[str, str]]:
    """The (pk, sk) index rows a listed item owns; pending uploads own none."""
    if media is None or not media.listed:
        return set()
    tenant, sk = media.tenant_id, media_sk(media.id)
    rows = {(layout.tag_row(tenant, tag_id), sk) for tag_id in media.tag_ids}
    rows.add((layout.name_and_size_row(tenant, media.filename, media.size or 0), sk))
    if not media.used_by:
        rows.add((layout.unused_row(tenant), sk))
    if media.sha256:
        rows.add((layout.sha256_row(tenant, media.sha256), sk))
    for word in indexed_words(media.filename, media.title, media.alt, media.caption):
        rows.add((layout.word_row(tenant, word), layout.word_row_sk(word, media.id)))
    return rows


def _stage(tx: TransactWrite, changes: list[tuple[Media | None, Media | None]]) -> None:
    """Add to ``tx`` the totals and index rows that move with ``changes``. Totals are summed
    first: a transaction may touch each counter only once."""
    totals: dict[tuple[str, str], int] = {}
    for before, after in changes:
        media = after or before
        assert media is not None
        for dim, delta in counter_deltas(before, after).items():
            key = (tenant_pk(media.tenant_id), layout.counter_sk(dim))
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
    raise_unless_a_condition_failed(error)
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
    """The storage keys and prefixes that hold an item's files (original, variants). The keys
    are the files the item's URLs name (the CDN forgets them); the prefix also takes what a
    crashed run left behind, which no URL ever named."""
    keys = [media.original_key, *(variant.key for variant in media.variants)]
    return keys, [variants_prefix(media.tenant_id, media.id)]


def _purge_stage(media: Media) -> Callable[[TransactWrite], None]:
    """The outbox of a file removal: the sweeper finishes it if the caller cannot."""
    keys, prefixes = files_of(media)
    record = PurgeRecord(
        tenant_pk(media.tenant_id),
        layout.purge_sk(media.id),
        keys=keys,
        prefixes=prefixes,
        chore=layout.PURGE_CHORE,
        chore_due=utc_now(),
    )
    return lambda tx: tx.save(record)


# Folders are records of the catalogue store; an item may only enter a folder that exists.
def _require_folder(tx: TransactWrite, tenant_id: str, folder: str | None) -> None:
    if folder is not None and folder != "/":
        tx.condition_check(
            FolderRecord,
            tenant_pk(tenant_id),
            layout.folder_sk(folder),
            condition=FolderRecord.pk.exists(),
        )


def folder_exists(tenant_id: str, folder: str) -> bool:
    if folder == "/":
        return True
    try:
        with database_errors():
            FolderRecord.get(tenant_pk(tenant_id), layout.folder_sk(folder), consistent_read=True)
    except DoesNotExist:
        return False
    return True


def purge_done(tenant_id: str, media_id: str) -> None:
    with database_errors():
        PurgeRecord(tenant_pk(tenant_id), layout.purge_sk(media_id)).delete()


@dataclass(frozen=True)
class PendingPurge:
    tenant_id: str
    media_id: str
    keys: list[str]
    prefixes: list[str]


def due_purges(now: str, limit: int = 100) -> Iterator[PendingPurge]:
    with database_errors():
        keys = list(MediaRecord.by_chore.query(layout.PURGE_CHORE, MediaRecord.chore_due <= now, limit=limit))
    for key in keys:
        try:
            with database_errors():
                record = PurgeRecord.get(key.pk, key.sk, consistent_read=True)
        except DoesNotExist:
            continue
        keys, prefixes = [str(key) for key in record.keys], [str(prefix) for prefix in record.prefixes]
        yield PendingPurge(layout.tenant_of(record.pk), layout.purged_media_id_of(record.sk), keys, prefixes)


def stale_items(status: str, due_before: str, limit: int = 100) -> list[tuple[str, str]]:
    """(tenant_id, media_id) of items stuck in ``pending``/``processing`` since before a time."""
    with database_errors():
        keys = list(
            MediaRecord.by_chore.query(
                layout.stale_chore(status), MediaRecord.chore_due < due_before, limit=limit
            )
        )
    return [(layout.tenant_of(key.pk), layout.media_id_of(key.sk)) for key in keys]


def count(tenant_id: str, dimension: str) -> int:
    try:
        with database_errors():
            return int(
                CounterRecord.get(tenant_pk(tenant_id), layout.counter_sk(dimension), consistent_read=True).n
            )
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
                key = (tenant_pk(media.tenant_id), layout.counter_sk(dim))
                totals[key] = totals.get(key, 0) + delta
    for (pk, sk), delta in totals.items():
        CounterRecord(pk, sk).update(actions=[CounterRecord.n.add(delta)])
