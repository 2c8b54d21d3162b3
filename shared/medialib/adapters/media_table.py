"""The media table's layout: every kind of record in it, and the one place that spells its keys.

A tenant's records share its partition ``T#<tenant>``, told apart by sort key::

    M#<media id>        a media item                     MediaRecord
    COUNT#<total>       a total (``all``, ``kind#image``…)  CounterRecord
    F#<path>            a folder                         FolderRecord
    TAG#<tag id>        a tag                            TagRecord
    TAGSLUG#<slug>      a tag's slug, unique per tenant  TagSlugRecord
    E#<type>#<id>       the media attached to an entity  EntityRecord
    PURGE#<media id>    files still to delete            PurgeRecord

Index rows find items by what they carry, each in a partition of its own under the tenant's
(``T#<tenant>#tag#<tag id>``, ``…#unused``, ``…#sha#<sha256>``, ``…#name#<name>#<size>``,
``…#word#<first letter>``), with the item's ``M#<id>`` (or ``<word>#<id>``) as sort key.
The listing indexes (GSIs) key items by ``<tenant>#kind#<kind>`` and the like, and the
``by_chore`` index finds the work the sweeper owes (``stale#<status>``, ``purge``,
``tag_delete``).

Nothing outside the adapters sees a key; services ask the adapters by meaning.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from medialib.adapters.dynamo import aws_region
from medialib.settings import get_settings

_FILTER_ATTRIBUTES = ["kind", "status", "folder"]

# ---------------------------------------------------------------- keys


def tenant_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}"


def tenant_of(pk: str) -> str:
    return pk.removeprefix("T#")


def media_sk(media_id: str) -> str:
    return f"M#{media_id}"


def media_id_of(sk: str) -> str:
    return sk.removeprefix("M#")


def counter_sk(total: str) -> str:
    return f"COUNT#{total}"


FOLDER_PREFIX = "F#"


def folder_sk(path: str) -> str:
    return f"{FOLDER_PREFIX}{path}"


def folder_of(sk: str) -> str:
    return sk.removeprefix(FOLDER_PREFIX)


TAG_PREFIX = "TAG#"


def tag_sk(tag_id: str) -> str:
    return f"{TAG_PREFIX}{tag_id}"


def tag_id_of(sk: str) -> str:
    return sk.removeprefix(TAG_PREFIX)


def tag_slug_sk(slug: str) -> str:
    return f"TAGSLUG#{slug}"


def entity_sk(entity_type: str, entity_id: str) -> str:
    return f"E#{entity_type}#{entity_id}"


def purge_sk(media_id: str) -> str:
    return f"PURGE#{media_id}"


def purged_media_id_of(sk: str) -> str:
    return sk.removeprefix("PURGE#")


# Index rows: (partition, sort key) pairs.


def tag_row(tenant_id: str, tag_id: str) -> str:
    return f"T#{tenant_id}#tag#{tag_id}"


def unused_row(tenant_id: str) -> str:
    return f"T#{tenant_id}#unused"


def sha256_row(tenant_id: str, sha256: str) -> str:
    return f"T#{tenant_id}#sha#{sha256.lower()}"


def name_and_size_row(tenant_id: str, filename: str, size: int) -> str:
    return f"T#{tenant_id}#name#{filename.casefold()}#{size}"


def word_row(tenant_id: str, word: str) -> str:
    """The partition of every indexed word starting with ``word``'s first letter."""
    return f"T#{tenant_id}#word#{word[0]}"


def word_row_sk(word: str, media_id: str) -> str:
    return f"{word}#{media_id}"


# Listing index keys of a listed item.


def filter_partition(tenant_id: str, name: str, value: str) -> str:
    """The ``by_kind``/``by_status``/``by_folder`` partition for one filter value."""
    return f"{tenant_id}#{name}#{value}"


def filename_sort_key(filename: str, media_id: str) -> str:
    # \x01 sorts before any character a filename may hold, so "photo" lists before "photo 2".
    return f"{filename.casefold()}\x01{media_id}"


def size_sort_key(size: int, media_id: str) -> str:
    return f"{size:015d}#{media_id}"


# Chores the sweeper finds through ``by_chore``.


def stale_chore(status: str) -> str:
    return f"stale#{status}"


PURGE_CHORE = "purge"
TAG_DELETE_CHORE = "tag_delete"

# ---------------------------------------------------------------- records


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


class TableRecord(Model):
    class Meta:
        table_name = get_settings().media_table
        region = aws_region()

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class MediaRecord(TableRecord):
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


class CounterRecord(TableRecord):
    n = NumberAttribute(default=0)


class IndexRow(TableRecord):
    """A row that finds an item by tag, unused, search word, hash or name+size."""

    media_id = UnicodeAttribute()


class FolderRecord(TableRecord):
    created_at = UnicodeAttribute()
    children = NumberAttribute(default=0)  # direct subfolders: a folder with children stays


class PurgeRecord(TableRecord):
    """Storage keys still to delete for an item that is gone (the outbox of a delete)."""

    keys = ListAttribute(of=UnicodeAttribute)
    prefixes = ListAttribute(of=UnicodeAttribute)
    chore = UnicodeAttribute()
    chore_due = UnicodeAttribute()


class TagRecord(TableRecord):
    tag_id = UnicodeAttribute()
    slug = UnicodeAttribute()
    name = UnicodeAttribute()
    color = UnicodeAttribute(null=True)
    order = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    deleting = BooleanAttribute(null=True)  # set while a delete detaches it from items
    # While deleting: the sweeper finishes a delete that was interrupted (``by_chore`` index).
    chore = UnicodeAttribute(null=True)
    chore_due = UnicodeAttribute(null=True)


class TagSlugRecord(TableRecord):
    """Makes slugs unique per tenant and finds a tag by slug."""

    tag_id = UnicodeAttribute()


class EntityRecord(TableRecord):
    media_ids = ListAttribute(of=UnicodeAttribute)
    version = NumberAttribute()
    updated_at = UnicodeAttribute()
