"""What a list's total costs, on moto: the public list and combinations of filters read their
page and a few counters, never every matching key. Reads are counted on the DynamoDB client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.client import BaseClient

from medialib.adapters import media_store
from medialib.domain.media import Media, new_media_id, original_key, utc_now
from medialib.services import api_keys
from tests.support.api import catalogue, listing, media, public
from tests.support.aws import mocked_aws


@pytest.fixture(autouse=True)
def aws():
    with mocked_aws():
        yield


@dataclass
class Reads:
    keys: int = 0  # index keys DynamoDB read (ScannedCount)
    items: int = 0  # items read by key


@contextmanager
def counting() -> Iterator[Reads]:
    real = BaseClient._make_api_call
    reads = Reads()

    def make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        response = real(self, operation_name, api_params)
        if operation_name == "Query":
            reads.keys += response.get("ScannedCount", 0)
        elif operation_name == "GetItem":
            reads.items += 1
        elif operation_name == "BatchGetItem":
            reads.items += sum(len(found) for found in response.get("Responses", {}).values())
        return response

    BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]
    try:
        yield reads
    finally:
        BaseClient._make_api_call = real  # type: ignore[method-assign]


def store(count: int, *, kind: str = "image", status: str = "ready", folder: str = "/", tags=()) -> list[str]:
    """``count`` items written straight to the store (with their totals and index rows)."""
    ids = []
    for _ in range(count):
        media_id, now = new_media_id(), utc_now()
        media_store.create(
            Media(
                tenant_id="shop",
                id=media_id,
                kind=kind,  # type: ignore[arg-type]
                status=status,  # type: ignore[arg-type]
                filename=f"{kind}-{status}.jpg",
                content_type="image/jpeg",
                size=1000,
                folder=folder,
                tag_ids=list(tags),
                original_key=original_key("shop", media_id),
                created_at=now,
                updated_at=now,
                max_size=1000,
                confirmed_at=now,
            )
        )
        ids.append(media_id)
    return ids


def public_page(**query: str) -> dict[str, Any]:
    status, _, body = public("public-list-media", path={"tenant": "shop"}, query=query or None)
    assert status == 200, body
    return body


def public_ids(**query: str) -> list[str]:
    ids, offset = [], 0
    while True:
        page = public_page(**query, limit="100", offset=str(offset))
        ids += [item["id"] for item in page["data"]]
        if len(page["data"]) < 100:
            return ids
        offset += 100


@pytest.fixture
def shop() -> dict[str, list[str]]:
    """A public tenant: 40 ready images in /a, 20 ready videos in /a, 30 ready images in /b,
    and older items the public list never shows (processing, failed)."""
    api_keys.create_tenant("shop", public=True)
    for path in ("/a", "/b"):
        assert catalogue("create-folder", body={"path": path}, tenant_id="shop")[0] == 201
    hidden = store(5, status="processing", folder="/a") + store(5, kind="video", status="failed")
    return {
        "hidden": hidden,
        "videos_a": store(20, kind="video", folder="/a"),
        "images_b": store(30, folder="/b"),
        "images_a": store(40, folder="/a"),
    }


@pytest.mark.parametrize(
    ("query", "expected", "estimate"),
    [
        ({}, 90, False),
        ({"kind": "image"}, 70, False),
        ({"kind": "video"}, 20, False),
        ({"folder": "/a"}, 60, False),
        ({"folder": "/b"}, 30, False),
        ({"kind": "image", "folder": "/a"}, 40, True),
    ],
)
def test_the_public_list_reads_its_page_and_counters_not_every_matching_key(shop, query, expected, estimate):
    with counting() as reads:
        page = public_page(**query, limit="5")
    # limit + 1 keys; the page's items, a counter or two and the tenant record. Counting the
    # matches would read every one of them.
    assert reads.keys == 5 + 1, reads
    assert reads.items <= 5 + 2 + 1, reads
    pagination = page["pagination"]
    assert len(public_ids(**query)) == expected, query
    assert pagination["total_is_estimate"] is estimate
    if estimate:  # the smaller of its two counters: at most what one filter alone matches
        assert expected <= pagination["total"] == min(70, 60)
    else:
        assert pagination["total"] == expected


def test_public_totals_follow_moves_status_changes_and_deletes(shop):
    moved, deleted = shop["images_a"][0], shop["images_a"][1]
    body = {"folder": "/b"}
    assert (
        media("patch-media", media_id=moved, body=body, headers={"If-Match": "*"}, tenant_id="shop")[0] == 200
    )
    assert media("delete-media", media_id=deleted, tenant_id="shop")[0] == 204
    failed = media_store.get("shop", shop["images_b"][0])
    assert failed is not None
    media_store.replace(failed, failed.model_copy(update={"status": "failed"}))
    for query in ({}, {"kind": "image"}, {"kind": "video"}, {"folder": "/a"}, {"folder": "/b"}):
        assert public_page(**query)["pagination"]["total"] == len(public_ids(**query)), query
    assert public_page(folder="/a")["pagination"]["total"] == 58
    assert public_page(folder="/b")["pagination"]["total"] == 30
    assert public_page(kind="image")["pagination"]["total"] == 68


def test_a_combination_of_filters_is_an_estimate_that_reads_only_its_page():
    for name in ("Red", "Blue"):
        assert catalogue("create-tag", body={"name": name}, tenant_id="shop")[0] == 201
    red, blue = (
        {t["slug"]: t["id"] for t in catalogue("list-tags", tenant_id="shop")[2]["data"]}[s]
        for s in ("red", "blue")
    )
    store(50, tags=[red])
    both = store(30, tags=[red, blue])
    for query in (
        {"tag": "red,blue"},
        {"tag": "red", "status": "ready"},
        {"kind": "image", "status": "ready"},
    ):
        with counting() as reads:
            page = listing("shop", **query, limit="5")
        assert reads.keys + reads.items < 80, (query, reads)  # never every matching item
        if "tag" in query and "status" not in query:
            assert page["pagination"]["total_is_estimate"] is True
            assert page["pagination"]["total"] == len(both) == 30  # the smaller counter
    exact = listing("shop", kind="image", status="ready", limit="5")["pagination"]
    assert (exact["total"], exact["total_is_estimate"]) == (80, False)  # ready by kind: one counter
    last = listing("shop", tag="red,blue", offset="28", limit="5")["pagination"]
    assert (last["total"], last["total_is_estimate"]) == (30, False)  # the page reached the end


def test_an_estimate_is_never_below_what_the_page_has_seen(monkeypatch):
    store(12, folder="/")
    monkeypatch.setattr(media_store, "count", lambda tenant_id, dimension: 0)  # counters behind
    pagination = listing("shop", kind="image", folder="/", limit="5")["pagination"]
    assert pagination["total_is_estimate"] is True
    assert pagination["total"] == 6  # five on the page and at least one more
