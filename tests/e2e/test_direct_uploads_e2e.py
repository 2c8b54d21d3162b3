"""End to end over real HTTP: small files posted to POST /v1/media as multipart/form-data
(what `curl -F` and a browser form send), through the local gateway's binary media types,
processed by the storage event like any upload; the gateway's payload limit answers 413."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.client import auth, bucket_keys, photo, wait_until_settled

pytestmark = pytest.mark.e2e


def post_files(stack, files: list[tuple[str, bytes, str]], **fields: str) -> requests.Response:
    return requests.post(
        f"{stack.api_url}/v1/media",
        files=[("file", file) for file in files],
        data=fields,
        headers=auth(stack.demo_key),
        timeout=60,
    )


def test_files_posted_as_a_form_become_ready_items_and_a_bad_one_is_reported(stack):
    first, second = photo(800, 600), photo(640, 480)
    response = post_files(
        stack,
        [
            ("Shop front.jpg", first, "image/jpeg"),
            ("notes.txt", b"plain text, not media", "text/plain"),
            ("counter.jpg", second, "image/jpg"),
        ],
        alt="The shop",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert [i["filename"] for i in body["data"]] == ["Shop front.jpg", "counter.jpg"]
    assert body["errors"] == [
        {"filename": "notes.txt", "code": "unsupported_media_type", "message": body["errors"][0]["message"]}
    ]
    for item, data, size in zip(body["data"], (first, second), ((800, 600), (640, 480)), strict=True):
        ready = wait_until_settled(stack, stack.demo_key, item["id"])
        assert ready["status"] == "ready", ready["error"]
        assert (ready["width"], ready["height"], ready["alt"]) == (*size, "The shop")
        assert ready["content_type"] == "image/jpeg" and len(ready["variants"]) >= 1
        assert requests.get(ready["url"], timeout=10).content == data


@pytest.mark.parametrize("count", [1, 10])
def test_one_file_and_the_most_a_form_takes_all_become_ready(stack, count):
    files = [(f"batch-{count}-{n}.jpg", photo(160 + n, 120), "image/jpeg") for n in range(count)]
    response = post_files(stack, files, folder="/")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["errors"] == []
    assert [item["filename"] for item in body["data"]] == [name for name, _, _ in files]
    for n, (item, (_, data, _)) in enumerate(zip(body["data"], files, strict=True)):
        ready = wait_until_settled(stack, stack.demo_key, item["id"])
        assert ready["status"] == "ready", ready["error"]
        assert (ready["size"], ready["width"], ready["height"]) == (len(data), 160 + n, 120)


def test_a_body_of_another_type_and_a_malformed_form_are_refused_storing_nothing(stack):
    before = bucket_keys(stack, "originals/")
    as_text = requests.post(
        f"{stack.api_url}/v1/media",
        data="file=a.jpg",
        headers={**auth(stack.demo_key), "Content-Type": "text/plain"},
        timeout=10,
    )
    assert as_text.status_code == 415, as_text.text
    assert as_text.json()["code"] == "unsupported_media_type"
    truncated = requests.post(
        f"{stack.api_url}/v1/media",
        data=b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n\xff\xd8',
        headers={**auth(stack.demo_key), "Content-Type": "multipart/form-data; boundary=b"},
        timeout=10,
    )
    assert truncated.status_code == 400, truncated.text
    assert truncated.json()["code"] == "validation_error"
    eleven = post_files(stack, [(f"{n}.jpg", b"\xff\xd8\xff", "image/jpeg") for n in range(11)])
    assert eleven.status_code == 400 and eleven.json()["code"] == "validation_error", eleven.text
    assert bucket_keys(stack, "originals/") == before


def test_a_form_over_the_gateways_payload_limit_is_a_413(stack):
    big = b"\xff\xd8\xff" + b"\0" * (7 * 1024 * 1024)
    response = post_files(stack, [("huge.jpg", big, "image/jpeg")])
    assert response.status_code == 413, response.text
    problem = response.json()
    assert problem["code"] == "payload_too_large" and "/v1/media/presign" in problem["detail"]
