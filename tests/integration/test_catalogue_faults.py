"""Tags and listings when the database fails midway, on moto: faults are injected on the
DynamoDB client (one operation, on its Nth call), below every layer of the service."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from medialib.adapters import media_store
from medialib.services import tags as tags_service
from tests.support.api import (
    assert_totals_match_listings,
    catalogue,
    get_item,
    listing,
    media,
    problem_of,
    public,
    seed_items,
    total,
)
from tests.support.aws import mocked_aws

THROTTLED = "ProvisionedThroughputExceededException"


@pytest.fixture(autouse=True)
def aws():
    with mocked_aws():
        yield


@contextmanager
def failing(
    operation: str, *, on_call: int = 1, code: str = THROTTLED, times: int = 1
) -> Iterator[list[int]]:
    """Make the DynamoDB ``operation`` fail with ``code`` from its ``on_call``-th call on, for
    ``times`` calls; yields the list of call numbers that failed."""
    real = BaseClient._make_api_call
    calls, failed = [0], []

    def make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        if operation_name == operation:
            calls[0] += 1
            if on_call <= calls[0] < on_call + times:
                failed.append(calls[0])
                error = {"Error": {"Code": code, "Message": "injected"}}
                raise ClientError(error, operation_name)  # type: ignore[arg-type]
        return real(self, operation_name, api_params)

    BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]
    try:
        yield failed
    finally:
        BaseClient._make_api_call = real  # type: ignore[method-assign]


def carried(ids: list[str]) -> list[list[str]]:
    """The tag ids each item stores (responses show only tags that are not being deleted)."""
    return [media_store.get("demo", media_id).tag_ids for media_id in ids]  # type: ignore[union-attr]


def create_tag(name: str) -> tuple[int, dict]:
    status, _, body = catalogue("create-tag", body={"name": name})
    return status, body


def delete_tag(tag_id: str) -> tuple[int, dict[str, str], Any]:
    return catalogue("delete-tag", path={"tag_id": tag_id})


def tagged_items(tag_id: str, count: int = 3) -> list[str]:
    ids = seed_items(count)
    for media_id in ids:
        assert catalogue("add-item-tag", media_id=media_id, body={"tag_id": tag_id})[0] == 201
    return ids


def interrupted_delete(count: int = 3) -> tuple[dict, list[str]]:
    """A tag on ``count`` items whose DELETE failed after detaching it from the first item."""
    doomed = create_tag("Doomed")[1]["data"]
    ids = tagged_items(doomed["id"], count)
    with failing("TransactWriteItems", on_call=2) as failed:  # the second item's detach
        assert problem_of(delete_tag(doomed["id"])) == (503, "unavailable")
    assert failed == [2]
    assert catalogue("list-tags")[2]["data"] == []  # marked: no longer listed nor assignable
    assert sorted(carried(ids)) == [[]] + [[doomed["id"]]] * (count - 1)
    assert problem_of(catalogue("add-item-tag", media_id=ids[0], body={"tag_id": doomed["id"]})) == (
        404,
        "not_found",
    )
    return doomed, ids


def assert_delete_finished(doomed: dict, ids: list[str]) -> None:
    assert doomed["id"] not in [tag["id"] for tag in catalogue("list-tags")[2]["data"]]
    assert [get_item(i)["tags"] for i in ids] == carried(ids) == [[] for _ in ids]
    assert problem_of(delete_tag(doomed["id"])) == (404, "not_found")
    assert tags_service.finish_interrupted_deletes(datetime.now(UTC) + timedelta(hours=1)) == 0
    assert_totals_match_listings()


# ---------------------------------------------------------------- interrupted tag deletes


def test_an_interrupted_tag_delete_is_finished_by_the_next_delete():
    doomed, ids = interrupted_delete()
    status, _, body = delete_tag(doomed["id"])
    assert status == 204, body
    assert_delete_finished(doomed, ids)
    status, recreated = create_tag("Doomed")  # the slug is free again
    assert status == 201 and recreated["data"]["id"] != doomed["id"]


def test_creating_the_name_of_a_tag_whose_delete_was_interrupted_finishes_that_delete():
    doomed, ids = interrupted_delete()
    status, created = create_tag("Doomed")
    assert status == 201, created
    assert created["data"]["slug"] == "doomed" and created["data"]["id"] != doomed["id"]
    assert [t["id"] for t in catalogue("list-tags")[2]["data"]] == [created["data"]["id"]]
    assert listing(tag="doomed")["media_ids"] == [] and total(tag="doomed") == 0
    assert_delete_finished(doomed, ids)


def test_the_sweeper_finishes_a_tag_delete_interrupted_minutes_ago():
    doomed, ids = interrupted_delete()
    now = datetime.now(UTC)
    assert tags_service.finish_interrupted_deletes(now + timedelta(minutes=1)) == 0  # may be running
    assert sorted(carried(ids)) == [[], [doomed["id"]], [doomed["id"]]]
    assert (
        tags_service.finish_interrupted_deletes(now + tags_service.DELETE_STALL + timedelta(seconds=1)) == 1
    )
    assert_delete_finished(doomed, ids)
    assert create_tag("Doomed")[0] == 201


def test_a_tag_delete_interrupted_at_its_last_step_is_finished_by_the_next_delete():
    doomed = create_tag("Doomed")[1]["data"]
    ids = tagged_items(doomed["id"], 2)
    with failing("TransactWriteItems", on_call=3) as failed:  # two detaches, then the removal
        assert problem_of(delete_tag(doomed["id"])) == (503, "unavailable")
    assert failed == [3]
    assert carried(ids) == [[], []]
    assert delete_tag(doomed["id"])[0] == 204
    assert_delete_finished(doomed, ids)


def test_the_sweeper_keeps_going_when_one_interrupted_delete_fails_again():
    first, first_ids = interrupted_delete()
    second = create_tag("Second")[1]["data"]
    second_ids = tagged_items(second["id"], 2)
    with failing("TransactWriteItems", on_call=1):
        assert problem_of(delete_tag(second["id"])) == (503, "unavailable")
    later = datetime.now(UTC) + timedelta(minutes=10)
    with failing("TransactWriteItems", on_call=1):  # the first tag's next detach fails again
        assert tags_service.finish_interrupted_deletes(later) == 1
    assert tags_service.finish_interrupted_deletes(later) == 1
    assert_delete_finished(first, first_ids)
    assert carried(second_ids) == [[], []]


def test_two_finishers_of_the_same_delete_leave_a_new_tag_with_the_slug_alone(monkeypatch):
    doomed, ids = interrupted_delete()
    real_remove = tags_service.catalogue_store.remove_tag
    raced: list[dict] = []

    def new_tag_first(tenant_id, tag):  # another finisher completed and the name was reused
        if not raced:
            real_remove(tenant_id, tag)
            raced.append(create_tag("Doomed")[1]["data"])
        return real_remove(tenant_id, tag)

    monkeypatch.setattr(tags_service.catalogue_store, "remove_tag", new_tag_first)
    assert delete_tag(doomed["id"])[0] == 204
    monkeypatch.undo()
    assert [t["id"] for t in catalogue("list-tags")[2]["data"]] == [raced[0]["id"]]
    assert catalogue("add-item-tag", media_id=ids[0], body={"slug": "doomed"})[0] == 201


# ---------------------------------------------------------------- database failures are 503s


def test_a_throttled_tag_delete_is_503_not_404_and_changes_nothing():
    brand = create_tag("Brand")[1]["data"]
    ids = tagged_items(brand["id"], 1)
    with failing("UpdateItem"):
        assert problem_of(delete_tag(brand["id"])) == (503, "unavailable")
    assert [t["id"] for t in catalogue("list-tags")[2]["data"]] == [brand["id"]]
    assert get_item(ids[0])["tags"] == ["brand"]
    assert delete_tag(brand["id"])[0] == 204


@pytest.mark.parametrize(
    ("operation", "request_"),
    [
        ("TransactWriteItems", lambda: catalogue("create-tag", body={"name": "Fresh"})),
        ("TransactWriteItems", lambda: catalogue("create-folder", body={"path": "/fresh"})),
        ("Query", lambda: catalogue("list-tags")),
        ("Query", lambda: catalogue("list-folders")),
        ("GetItem", lambda: catalogue("delete-folder", query={"path": "/kept"})),
        (
            "GetItem",
            lambda: catalogue("get-entity-media", path={"entity_type": "product", "entity_id": "p1"}),
        ),
        ("Query", lambda: media("list-media")),
        ("Query", lambda: media("list-media", query={"kind": "image", "folder": "/"})),
        ("BatchGetItem", lambda: media("list-media", query={"tag": "brand,sale"})),
        ("Query", lambda: media("list-media", query={"query": "seed"})),
        ("Query", lambda: public("public-list-media", path={"tenant": "demo"})),
    ],
)
def test_a_throttled_database_is_503_for_every_catalogue_read_and_write(operation, request_):
    from medialib.services import api_keys

    api_keys.create_tenant("demo", public=True)
    catalogue("create-folder", body={"path": "/kept"})
    brand, sale = create_tag("Brand")[1]["data"], create_tag("Sale")[1]["data"]
    for media_id in seed_items(2):
        body = {"tag_ids": [brand["id"], sale["id"]]}
        assert catalogue("replace-item-tags", media_id=media_id, body=body)[0] == 200
    with failing(operation, times=10) as failed:
        result = request_()
    assert failed, "the fault was never reached"
    assert problem_of(result) == (503, "unavailable")
    assert result[1]["retry-after"] == "1"
