"""Reading pages of media from the indexes, at a cost that follows the page, not the library.

A query is served from one *source* read in order: a sparse listing index (GSI) for a sort or
for one of kind/status/folder, or an index-row partition for a tag or ``unused``. Filters the
source can test itself go to DynamoDB as a filter expression on projected attributes; the rest
(a second tag, ``unused`` under another sort) are tested on the items. A page then reads at most
``offset + limit + 1`` keys when the source alone answers the query.

Search is different: the words of the query find their matching rows directly, so a search
reads in proportion to its matches; those are sorted in memory, capped at ``MAX_MATCHES``.

Nothing here counts: totals are counters (``media_store.count``). A page only reports the
number of matches when it saw them all anyway (a search; a page that reached the end).
Failed reads (throttling, timeouts) are ``Unavailable``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import PynamoDBException
from pynamodb.indexes import GlobalSecondaryIndex

from medialib.adapters import media_table as layout
from medialib.adapters.media_store import from_record
from medialib.adapters.media_table import IndexRow, MediaRecord, media_id_of, media_sk, tenant_pk
from medialib.domain.errors import Unavailable, ValidationFailed
from medialib.domain.media import Media
from medialib.domain.search import indexed_words, matches

MAX_MATCHES = 1000
_FETCH_CHUNK = 25
_SORT_INDEXES = {"created_at": "by_created", "filename": "by_filename", "size": "by_size"}


@dataclass(frozen=True)
class ListQuery:
    tenant_id: str
    sort: str = "created_at"
    descending: bool = True
    kind: str | None = None
    status: str | None = None
    folder: str | None = None
    tag_ids: tuple[str, ...] = ()
    unused: bool = False
    words: tuple[str, ...] = ()  # longest first

    def item_matches(self, media: Media) -> bool:
        return (
            (self.kind is None or media.kind == self.kind)
            and (self.status is None or media.status == self.status)
            and (self.folder is None or media.folder == self.folder)
            and all(tag in media.tag_ids for tag in self.tag_ids)
            and (not self.unused or not media.used_by)
            and (not self.words or matches(_words_of(media), list(self.words)))
        )


@dataclass
class Page:
    items: list[Media]
    resume: dict[str, Any] | None  # where the next page starts; None on the last page
    total: int | None = None  # the number of matches, when the page saw every one of them
    index_reads: int = 0  # index keys DynamoDB read (ScannedCount), for benchmarks
    item_reads: int = 0  # items read by key
    source: str = field(default="")


def _words_of(media: Media) -> list[str]:
    return indexed_words(media.filename, media.title, media.alt, media.caption)


@contextmanager
def _reading() -> Iterator[None]:
    """Every read here is a query or a get by key: any failure of one is the database's."""
    try:
        yield
    except PynamoDBException as error:
        raise Unavailable("The media index is unavailable; retry") from error


def batch_get(tenant_id: str, media_ids: list[str]) -> list[Media]:
    """The items for ``media_ids`` in that order (items deleted meanwhile are dropped)."""
    pk = tenant_pk(tenant_id)
    with _reading():
        found = {
            media_id_of(record.sk): from_record(record)
            for record in MediaRecord.batch_get(
                [(pk, media_sk(i)) for i in dict.fromkeys(media_ids)], consistent_read=True
            )
        }
    return [found[i] for i in media_ids if i in found]


def list_page(query: ListQuery, *, skip: int, take: int, resume: dict[str, Any] | None) -> Page:
    with _reading():
        if query.words:
            return _search_page(query, skip=skip, take=take, resume=resume)
        return _streamed_page(query, skip=skip, take=take, resume=resume)


# ---------------------------------------------------------------- streamed sources


@dataclass
class _Source:
    name: str
    rows: Callable[[dict[str, Any] | None, int], Any]  # (start key, page size) -> ResultIterator
    media_id: Callable[[Any], str]
    needs_items: bool  # some filter can only be tested on the items


def _plan(query: ListQuery) -> _Source:
    tenant = query.tenant_id
    forward = not query.descending
    others = any(v is not None for v in (query.kind, query.status, query.folder))
    # `unused` rows are most of a library: with a kind/status/folder filter, that filter's index
    # is the smaller walk (bounded by its matches), and `unused` is tested on its items.
    if query.sort == "created_at" and (query.tag_ids or (query.unused and not others)):
        partition = layout.tag_row(tenant, query.tag_ids[0]) if query.tag_ids else layout.unused_row(tenant)
        rest_needs_items = len(query.tag_ids) > 1 or bool(query.tag_ids and query.unused)

        def row_query(start: dict[str, Any] | None, size: int) -> Any:
            return IndexRow.query(
                partition, scan_index_forward=forward, last_evaluated_key=start, page_size=size
            )

        source = "tag" if query.tag_ids else "unused"
        return _Source(source, row_query, lambda row: media_id_of(row.sk), rest_needs_items or others)

    index, hash_value, filter_names = _index_plan(query)
    condition = None
    for name in filter_names:
        term = getattr(MediaRecord, name) == getattr(query, name)
        condition = term if condition is None else condition & term

    def index_query(start: dict[str, Any] | None, size: int) -> Any:
        return index.query(
            hash_value,
            filter_condition=condition,
            scan_index_forward=forward,
            last_evaluated_key=start,
            page_size=size,
        )

    return _Source(
        index.Meta.index_name,
        index_query,
        lambda key: media_id_of(key.sk),
        bool(query.tag_ids or query.unused),
    )


def _index_plan(query: ListQuery) -> tuple[GlobalSecondaryIndex, str, list[str]]:
    """The GSI that serves the sort, or a filter's GSI for the default sort; the remaining
    kind/status/folder filters are tested on its projected attributes."""
    tenant = query.tenant_id
    filters = [name for name in ("folder", "kind", "status") if getattr(query, name) is not None]
    if query.sort == "created_at" and filters:
        first = filters[0]
        partition = layout.filter_partition(tenant, first, getattr(query, first))
        return getattr(MediaRecord, f"by_{first}"), partition, filters[1:]
    return getattr(MediaRecord, _SORT_INDEXES[query.sort]), tenant_pk(tenant), filters


def _streamed_page(query: ListQuery, *, skip: int, take: int, resume: dict[str, Any] | None) -> Page:
    source = _plan(query)
    wanted = skip + take + 1
    results = source.rows(
        resume["k"] if resume else None, max(_FETCH_CHUNK, wanted) if source.needs_items else wanted
    )
    page_ids: list[str] = []
    fetched: dict[str, Media] = {}
    next_start: dict[str, Any] | None = None
    seen = 0
    for seen, (media_id, position_key) in enumerate(_candidates(query, source, results, fetched), start=1):
        if seen == wanted:
            break  # one more match exists: there is a next page
        if seen > skip:
            page_ids.append(media_id)
            if len(page_ids) == take:
                next_start = position_key
    else:
        next_start = None
    # A page that started at the beginning and ran out of matches has counted them all.
    total = seen if seen < wanted and resume is None else None
    item_reads = len(fetched)
    items = [fetched[i] for i in page_ids if i in fetched]
    if len(items) != len(page_ids):
        items = batch_get(query.tenant_id, page_ids)
        item_reads += len(page_ids)
    return Page(
        items,
        {"k": next_start} if next_start else None,
        total=total,
        index_reads=results.page_iter.total_scanned_count,
        item_reads=item_reads,
        source=source.name,
    )


def _candidates(
    query: ListQuery, source: _Source, results: Any, fetched: dict[str, Media]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Matching (media id, key to resume after it), in source order."""
    if not source.needs_items:
        wanted = results.page_iter.page_size
        for taken, row in enumerate(results, start=1):
            # Ask the next page for only what is still wanted, so reads stay at offset + limit + 1.
            results.page_iter.page_size = max(1, wanted - taken)
            yield source.media_id(row), results.last_evaluated_key
        return
    buffer: list[tuple[str, dict[str, Any]]] = []

    def flush() -> Iterator[tuple[str, dict[str, Any]]]:
        items = {m.id: m for m in batch_get(query.tenant_id, [media_id for media_id, _ in buffer])}
        for media_id, key in buffer:
            media = items.get(media_id)
            if media is not None and query.item_matches(media):
                fetched[media_id] = media
                yield media_id, key
        buffer.clear()

    for row in results:
        buffer.append((source.media_id(row), results.last_evaluated_key))
        if len(buffer) == _FETCH_CHUNK:
            yield from flush()
    yield from flush()


# ---------------------------------------------------------------- search


def matching_ids(tenant_id: str, word: str, limit: int) -> tuple[list[str], int]:
    """Ids of items with a word starting with ``word`` (at most ``limit``), and rows read."""
    rows = IndexRow.query(
        layout.word_row(tenant_id, word), IndexRow.sk.startswith(word), page_size=min(limit, 500)
    )
    ids: dict[str, None] = {}
    for row in rows:
        ids.setdefault(row.media_id, None)
        if len(ids) > limit:
            break
    return list(ids), rows.page_iter.total_scanned_count


def _sort_key(sort: str) -> Callable[[Media], Any]:
    if sort == "filename":
        return lambda m: (m.filename.casefold(), m.id)
    if sort == "size":
        return lambda m: (m.size or 0, m.id)
    return lambda m: m.id


def _search_page(query: ListQuery, *, skip: int, take: int, resume: dict[str, Any] | None) -> Page:
    ids, index_reads = matching_ids(query.tenant_id, query.words[0], MAX_MATCHES)
    if len(ids) > MAX_MATCHES:
        raise ValidationFailed(
            f"The query matches more than {MAX_MATCHES} items; add words or filters",
            errors=[{"field": "query", "message": "too broad"}],
        )
    candidates = batch_get(query.tenant_id, ids)
    found = sorted(
        (m for m in candidates if m.listed and query.item_matches(m)),
        key=_sort_key(query.sort),
        reverse=query.descending,
    )
    start = (resume or {}).get("o", 0) + skip
    page = found[start : start + take]
    more = start + take < len(found)
    return Page(
        page,
        {"o": start + take} if more else None,
        total=len(found),
        index_reads=index_reads,
        item_reads=len(ids),
        source="search",
    )


def ids_with_sha256(tenant_id: str, sha256: str, limit: int = 20) -> list[str]:
    """Ids of listed items whose bytes hash to ``sha256``."""
    return _ids_in(layout.sha256_row(tenant_id, sha256), limit)


def ids_with_name_and_size(tenant_id: str, filename: str, size: int, limit: int = 20) -> list[str]:
    """Ids of listed items with this filename (case-insensitive) and size."""
    return _ids_in(layout.name_and_size_row(tenant_id, filename, size), limit)


def _ids_in(partition: str, limit: int) -> list[str]:
    with _reading():
        rows = IndexRow.query(partition, limit=limit, page_size=limit)
        return [row.media_id for row in rows]
