"""HTTP helpers the end-to-end tests share: a photo, presign, upload, confirm, wait."""

from __future__ import annotations

import io
import time

import boto3
import requests
from PIL import Image

READY_DEADLINE_S = 60


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def photo(width=2400, height=1600) -> bytes:
    """A photo-like JPEG (gradient plus noise), so processing does real work."""
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40)
    image = Image.merge("RGB", (gradient, noise, gradient.rotate(180)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def presign(stack, key, data: bytes, **extra) -> dict:
    body = {"filename": "Summer photo.jpg", "content_type": "image/jpeg", "size": len(data), **extra}
    response = requests.post(f"{stack.api_url}/v1/media/presign", json=body, headers=auth(key), timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def upload(presigned: dict, data: bytes, content_type="image/jpeg") -> requests.Response:
    if presigned["method"] == "POST":
        files = {"file": ("photo.jpg", data, content_type)}
        return requests.post(presigned["url"], data=presigned["fields"], files=files, timeout=30)
    return requests.put(presigned["url"], data=data, headers=presigned["headers"], timeout=30)


def confirm(stack, key, upload_id: str, **extra) -> requests.Response:
    return requests.post(
        f"{stack.api_url}/v1/media/confirm",
        json={"upload_id": upload_id, **extra},
        headers=auth(key),
        timeout=30,
    )


def wait_until_settled(stack, key, media_id: str) -> dict:
    deadline = time.monotonic() + READY_DEADLINE_S
    while time.monotonic() < deadline:
        response = requests.get(f"{stack.api_url}/v1/media/{media_id}", headers=auth(key), timeout=10)
        if response.status_code == 200 and response.json()["data"]["status"] in ("ready", "failed"):
            return response.json()["data"]
    raise AssertionError(f"{media_id} never left processing")


def storage(stack):
    return boto3.client(
        "s3",
        endpoint_url=stack.aws_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def bucket_keys(stack, prefix: str) -> list[str]:
    client = storage(stack)
    bucket = client.list_buckets()["Buckets"][0]["Name"]
    return [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


def uploaded(stack, key, data: bytes, method="POST", **extra) -> dict:
    presigned = presign(stack, key, data, method=method, **extra)
    assert upload(presigned, data).status_code in (200, 201, 204)
    assert confirm(stack, key, presigned["upload_id"]).status_code == 201
    return wait_until_settled(stack, key, presigned["upload_id"])
