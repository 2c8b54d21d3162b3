"""What a filtered list reads: a pair of filters walks the smaller source, not the library."""

from __future__ import annotations

import pytest

from medialib.adapters import media_store
from medialib.domain.media import EntityRef, Media, new_media_id, original_key
from medialib.services.media import ListParams, list_media
from tests.support.aws import mocked_aws

TENANT = "demo"
NOW = "2026-11-29T00:00:00.000Z"


@pytest.fixture(autouse=True)
def aws():
    with mocked_aws():
        yield


def _item(n: int, folder: str, used: bool) -> Media:
    media_id = new_media_id(1_790_000_000_000 + n * 1000)
    return Media(
        tenant_id=TENANT,
        id=media_id,
        kind="image",
        status="ready",
        filename=f"item-{n:04d}.jpg",
        content_type="image/jpeg",
        size=1000 + n,
        folder=folder,
        used_by=[EntityRef(type="product", id=f"p{n}")] if used else [],
        original_key=original_key(TENANT, media_id),
        created_at=NOW,
        updated_at=NOW,
        max_size=1,
    )


def test_folder_and_unused_walk_the_folder_not_every_unused_item():
    # 200 unused items at the root; in /small, 4 unused and 2 in use.
    items = [_item(n, "/", used=False) for n in range(200)]
    items += [_item(200 + n, "/small", used=n >= 4) for n in range(6)]
    media_store.bulk_import(items)
    expected = {m.id for m in items if m.folder == "/small" and not m.used_by}

    page = list_media(TENANT, ListParams(limit=24, folder="/small", unused=True))

    assert {m.id for m in page.items} == expected
    assert page.total == 4 and not page.total_is_estimate  # the page saw every match
    # The folder's 6 keys and items, not the 204 unused rows.
    assert page.index_reads <= 7 and page.item_reads <= 7


def test_unused_alone_still_reads_only_its_page():
    media_store.bulk_import([_item(n, "/", used=n % 2 == 0) for n in range(100)])

    page = list_media(TENANT, ListParams(limit=10, unused=True))

    assert len(page.items) == 10 and all(not m.used_by for m in page.items)
    assert page.index_reads == 11 and page.item_reads == 10
