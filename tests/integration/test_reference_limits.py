"""An item lists the entities that use it in its own record, so their number is bounded: one
more than the bound is a 400, never a write DynamoDB refuses (a 5xx)."""

import pytest

from medialib.services import references
from tests.support.api import catalogue, get_item, make_item
from tests.support.aws import mocked_aws


@pytest.fixture(autouse=True)
def aws():
    with mocked_aws():
        yield


def attach(entity_id: str, media_ids: list[str]) -> tuple[int, dict]:
    path = {"entity_type": "product", "entity_id": entity_id}
    status, _, body = catalogue("put-entity-media", path=path, body={"media_ids": media_ids})
    return status, body


def test_an_item_used_by_as_many_entities_as_allowed_refuses_one_more(monkeypatch):
    monkeypatch.setattr(references, "MAX_ENTITIES_PER_ITEM", 2)
    item = make_item()
    assert attach("p1", [item["id"]])[0] == 200
    assert attach("p2", [item["id"]])[0] == 200
    assert attach("p2", [item["id"]])[0] == 200  # already attached there: no new reference
    status, problem = attach("p3", [item["id"]])
    assert (status, problem["code"]) == (400, "validation_error")
    assert problem["errors"] == [
        {"field": "media_ids", "message": f"attached to too many entities: {item['id']}"}
    ]
    assert [ref["id"] for ref in get_item(item["id"])["used_by"]] == ["p1", "p2"]
