"""Driving the real API handlers in-process (on moto): call a handler with a sample event,
and make ready items through the real presign → upload → confirm → process loop."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import catalogue_api
import media_api
import process
import public_api
import uploads_api
from PIL import Image

from medialib.settings import get_settings
from tests.support.events import FakeLambdaContext, api_event, sqs_event_for

CONTEXT = FakeLambdaContext()


def call(handler: Any, event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    """(status, lower-cased headers, parsed JSON body or raw body)."""
    response = handler.lambda_handler(event, CONTEXT)
    body = response.get("body")
    headers = {k.lower(): v[0] for k, v in (response.get("multiValueHeaders") or {}).items()}
    headers.update({k.lower(): v for k, v in (response.get("headers") or {}).items()})
    parsed = json.loads(body) if body and headers.get("content-type", "").endswith("json") else body
    return response["statusCode"], headers, parsed


def media(name: str, **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    return call(media_api, api_event(name, **kwargs))


def uploads(name: str, **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    return call(uploads_api, api_event(name, **kwargs))


def catalogue(name: str, **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    return call(catalogue_api, api_event(name, **kwargs))


def public(name: str, **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    return call(public_api, api_event(name, **kwargs))


def jpeg_bytes(width: int = 200, height: int = 100, color: tuple[int, int, int] = (200, 30, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


_colour_counter = [0]


def distinct_jpeg(width: int = 200, height: int = 100) -> bytes:
    """A JPEG whose bytes differ from every other one this process made."""
    _colour_counter[0] += 1
    n = _colour_counter[0]
    return jpeg_bytes(width, height, ((n * 37) % 256, (n * 91) % 256, (n * 53 + n // 256) % 256))


def bucket() -> str:
    return get_settings().media_bucket


def land(upload_id: str, data: bytes, tenant: str = "demo") -> dict[str, Any]:
    """Store the bytes as the client would, and return the S3 event record for them."""
    key = f"originals/{tenant}/{upload_id}"
    put = boto3.client("s3").put_object(Bucket=bucket(), Key=key, Body=data, ContentType="image/jpeg")
    return {"key": key, "size": len(data), "eTag": put["ETag"].strip('"'), "sequencer": "0065F1A2B3C4D5E6F7"}


def process_records(*records: dict[str, Any]) -> dict[str, Any]:
    return process.lambda_handler(sqs_event_for(list(records)), CONTEXT)


def presign(
    filename: str = "red-mug.jpg", size: int = 1000, tenant_id: str = "demo", **extra: Any
) -> tuple[int, dict[str, str], Any]:
    body = {"filename": filename, "content_type": "image/jpeg", "size": size, **extra}
    return uploads("presign-upload", body=body, tenant_id=tenant_id)


def make_item(
    filename: str = "red-mug.jpg",
    data: bytes | None = None,
    *,
    tenant_id: str = "demo",
    confirm: dict[str, Any] | None = None,
    **presign_extra: Any,
) -> dict[str, Any]:
    """A ready item, through presign, upload, confirm and processing; returns GET's item."""
    data = data or distinct_jpeg()
    status, _, presigned = presign(filename, len(data), tenant_id, **presign_extra)
    assert status == 201, presigned
    upload_id = presigned["data"]["upload_id"]
    record = land(upload_id, data, tenant_id)
    status, _, confirmed = uploads(
        "confirm-upload", body={"upload_id": upload_id, **(confirm or {})}, tenant_id=tenant_id
    )
    assert status == 201, confirmed
    assert process_records(record) == {"batchItemFailures": []}
    status, _, got = media("get-media", media_id=upload_id, tenant_id=tenant_id)
    assert status == 200 and got["data"]["status"] == "ready", got
    return got["data"]


def get_item(media_id: str, tenant_id: str = "demo") -> dict[str, Any] | None:
    status, _, got = media("get-media", media_id=media_id, tenant_id=tenant_id)
    if status == 404:
        return None
    assert status == 200, got
    return got["data"]


def listing(tenant_id: str = "demo", **query: str) -> dict[str, Any]:
    status, _, body = media("list-media", query=query or None, tenant_id=tenant_id)
    assert status == 200, body
    assert body["media_ids"] == [item["id"] for item in body["data"]]
    return body


def total(tenant_id: str = "demo", **query: str) -> int:
    return listing(tenant_id, **query)["pagination"]["total"]


def all_ids(tenant_id: str = "demo", **query: str) -> list[str]:
    """Every id a query lists, following next_cursor."""
    ids: list[str] = []
    cursor = None
    for _ in range(100):
        page = listing(tenant_id, **query, limit="100", **({"cursor": cursor} if cursor else {}))
        ids += page["media_ids"]
        cursor = page["pagination"]["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("the listing never ended")


def problem_of(result: tuple[int, dict[str, str], Any]) -> tuple[int, str]:
    """(status, code) of a problem+json response; asserts it is one."""
    status, headers, body = result
    assert headers.get("content-type") == "application/problem+json", (status, body)
    assert body["status"] == status and body["request_id"], body
    return status, body["code"]


def seed_items(count: int, tenant_id: str = "demo", prefix: str = "seed") -> list[str]:
    """``count`` ready items written straight to the store (for tests that need many items
    and exercise something else than the upload loop); returns their ids."""
    from medialib.adapters import media_store
    from medialib.domain.media import Media, new_media_id, original_key, utc_now

    ids = []
    for index in range(count):
        media_id = new_media_id()
        now = utc_now()
        media_store.create(
            Media(
                tenant_id=tenant_id,
                id=media_id,
                kind="image",
                status="ready",
                filename=f"{prefix}-{index:03d}.jpg",
                content_type="image/jpeg",
                size=1000 + index,
                width=10,
                height=10,
                original_key=original_key(tenant_id, media_id),
                created_at=now,
                updated_at=now,
                max_size=1000 + index,
                confirmed_at=now,
            )
        )
        ids.append(media_id)
    return ids


STATUSES = ("processing", "ready", "failed")


def snapshot(tenant_id: str = "demo") -> dict[str, Any]:
    """Everything a client can see of the catalogue: folders, tags, items (with versions and
    timestamps) and the totals of the unfiltered list and of every single filter."""
    folders = catalogue("list-folders", tenant_id=tenant_id)[2]["data"]["folders"]
    tags = catalogue("list-tags", tenant_id=tenant_id)[2]["data"]
    totals = {"all": total(tenant_id), "unused": total(tenant_id, unused="true")}
    totals.update({f"status={s}": total(tenant_id, status=s) for s in STATUSES})
    totals.update({f"folder={f}": total(tenant_id, folder=f) for f in folders})
    totals.update({f"tag={t['slug']}": total(tenant_id, tag=t["slug"]) for t in tags})
    items = listing(tenant_id, limit="100")["data"]
    return {"folders": folders, "tags": tags, "items": items, "totals": totals}


def assert_totals_match_listings(tenant_id: str = "demo") -> dict[str, int]:
    """Every total the counters keep equals what the listing really holds; returns them."""
    totals = snapshot(tenant_id)["totals"]
    for name, value in totals.items():
        if name in ("all", "unused"):
            query = {} if name == "all" else {"unused": "true"}
        else:
            key, filter_value = name.split("=", 1)
            query = {key: filter_value}
        assert value == len(all_ids(tenant_id, **query)), name
    return totals
