"""Many clients at once through the local stack: overlapping uploads and confirms while ready
items are edited, tagged, untagged and deleted. Every request answers below 500, every upload
settles, totals equal what is listed, and the stack prints no emulator or gateway failure."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.client import auth, photo, upload

pytestmark = pytest.mark.e2e

UPLOADS = 32
EDITED, EDITED_AND_DELETED, DELETED = 4, 2, 2  # the ready items the uploads overlap with
EDIT_ROUNDS = 4
WORKERS = 16
SETTLE_DEADLINE_S = 120
PAGE_SIZE = 10
# Plain-text lines are the stack's own logging (functions log JSON): an emulator failure, a
# traceback, or a gateway answer of 5xx (its line is "METHOD PATH STATUS DURATION").
TROUBLE = re.compile(
    r"Traceback|RuntimeError|Error on request|devstack\.emulator|devstack\.gateway \S+ \S+ 5\d\d "
)


class Calls:
    """Every request the test makes, with what came back, from any thread."""

    def __init__(self, stack, key: str):
        self._stack, self._key = stack, key
        self._lock = threading.Lock()
        self.made: list[tuple[str, str, int]] = []

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {**auth(self._key), **kwargs.pop("headers", {})}
        response = requests.request(
            method, f"{self._stack.api_url}{path}", headers=headers, timeout=60, **kwargs
        )
        self._record(method, path, response)
        return response

    def upload(self, presigned: dict, data: bytes) -> requests.Response:
        response = upload(presigned, data)
        self._record(presigned["method"], "(presigned upload)", response)
        return response

    def _record(self, method: str, path: str, response: requests.Response) -> None:
        with self._lock:
            self.made.append((method, path, response.status_code))

    def server_errors(self) -> list[tuple[str, str, int]]:
        with self._lock:
            return [call for call in self.made if call[2] >= 500]


def upload_and_confirm(calls: Calls, number: int) -> str:
    data = photo(480 + number, 360)
    body = {"filename": f"crowd {number}.jpg", "content_type": "image/jpeg", "size": len(data)}
    if number % 2:
        body["method"] = "PUT"
    presigned = calls.api("POST", "/v1/media/presign", json=body)
    assert presigned.status_code == 201, presigned.text
    upload_id = presigned.json()["data"]["upload_id"]
    landed = calls.upload(presigned.json()["data"], data)
    assert landed.status_code in (200, 201, 204), landed.text
    confirmed = calls.api("POST", "/v1/media/confirm", json={"upload_id": upload_id})
    assert confirmed.status_code == 201, confirmed.text
    return upload_id


def settle(calls: Calls, media_id: str, deadline: float) -> dict:
    while time.monotonic() < deadline:
        response = calls.api("GET", f"/v1/media/{media_id}")
        if response.status_code == 200 and response.json()["data"]["status"] in ("ready", "failed"):
            return response.json()["data"]
    raise AssertionError(f"{media_id} did not settle within {SETTLE_DEADLINE_S} s")


def edit_and_tag(calls: Calls, media_id: str, tag_id: str) -> str | None:
    """Edits the title and adds then removes the tag, round after round, ending with the tag on;
    returns the title of the last edit that succeeded."""
    last_title = None
    for round_ in range(EDIT_ROUNDS):
        current = calls.api("GET", f"/v1/media/{media_id}")
        if current.status_code == 404:
            return None  # deleted meanwhile
        title = f"round {round_}"
        edited = calls.api(
            "PATCH",
            f"/v1/media/{media_id}",
            json={"title": title},
            headers={"If-Match": current.headers["ETag"]},
        )
        assert edited.status_code in (200, 404, 412), edited.text  # 412: a tag change came first
        if edited.status_code == 200:
            last_title = title
        tagged = calls.api("POST", f"/v1/media/{media_id}/tags", json={"tag_id": tag_id})
        assert tagged.status_code in (201, 404), tagged.text
        untagged = calls.api("DELETE", f"/v1/media/{media_id}/tags/{tag_id}")
        assert untagged.status_code in (200, 404), untagged.text
    tagged = calls.api("POST", f"/v1/media/{media_id}/tags", json={"tag_id": tag_id})
    assert tagged.status_code in (201, 404), tagged.text
    return last_title


def delete(calls: Calls, media_id: str) -> None:
    deleted = calls.api("DELETE", f"/v1/media/{media_id}")
    assert deleted.status_code == 204, deleted.text


def listed(calls: Calls, **filters) -> tuple[list[str], list[int]]:
    """Every id of the list, page by page through the cursor, and the total each page reported."""
    ids: list[str] = []
    totals: list[int] = []
    params: dict = {"limit": PAGE_SIZE, **filters}
    while True:
        page = calls.api("GET", "/v1/media", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        ids += body["media_ids"]
        totals.append(body["pagination"]["total"])
        if not body["pagination"].get("next_cursor"):
            return ids, totals
        params = {"limit": PAGE_SIZE, **filters, "cursor": body["pagination"]["next_cursor"]}


def log_entry(line: str) -> dict:
    """A function's JSON log line; {} for the stack's own lines (and any cut by another's write)."""
    try:
        entry = json.loads(line)
    except ValueError:
        return {}
    return entry if isinstance(entry, dict) else {}


def test_overlapping_uploads_edits_tags_and_deletes(stack):
    # Given a tenant with ready items and a tag
    calls = Calls(stack, stack.new_key(f"crowd-{uuid.uuid4().hex[:8]}"))
    before = EDITED + EDITED_AND_DELETED + DELETED
    with ThreadPoolExecutor(WORKERS) as pool:
        ids = list(
            pool.map(lambda number: upload_and_confirm(calls, number), range(UPLOADS, UPLOADS + before))
        )
        deadline = time.monotonic() + SETTLE_DEADLINE_S
        assert {
            item["status"] for item in pool.map(lambda media_id: settle(calls, media_id, deadline), ids)
        } == {"ready"}
    edited, edited_and_deleted, deleted = ids[:EDITED], ids[EDITED:-DELETED], ids[-DELETED:]
    tag = calls.api("POST", "/v1/tags", json={"name": "Crowd"})
    assert tag.status_code == 201, tag.text
    tag_id = tag.json()["data"]["id"]
    first_line = len(stack.output.lines())

    # When uploads go through presign, upload and confirm while those items are edited, tagged,
    # untagged and deleted, all at once
    with ThreadPoolExecutor(WORKERS) as pool:
        uploads = [pool.submit(upload_and_confirm, calls, number) for number in range(UPLOADS)]
        edits = {media_id: pool.submit(edit_and_tag, calls, media_id, tag_id) for media_id in edited}
        racing_edits = [pool.submit(edit_and_tag, calls, media_id, tag_id) for media_id in edited_and_deleted]
        deletes = [pool.submit(delete, calls, media_id) for media_id in edited_and_deleted + deleted]
        new_ids = [future.result() for future in uploads]
        for future in [*edits.values(), *racing_edits, *deletes]:
            future.result()
        deadline = time.monotonic() + SETTLE_DEADLINE_S
        settled = list(pool.map(lambda media_id: settle(calls, media_id, deadline), new_ids))

    # Then every upload ended ready, no request was answered with a 5xx ...
    assert {item["id"]: item["status"] for item in settled} == dict.fromkeys(new_ids, "ready")
    assert calls.server_errors() == []

    # ... each edited item kept its last edit and the tag, the deleted ones are gone ...
    for media_id, edit in edits.items():
        item = calls.api("GET", f"/v1/media/{media_id}").json()["data"]
        assert (item["title"], item["tags"]) == (edit.result(), ["crowd"])
    for media_id in edited_and_deleted + deleted:
        assert calls.api("GET", f"/v1/media/{media_id}").status_code == 404

    # ... every total equals what its list holds ...
    everything, totals = listed(calls)
    assert sorted(everything) == sorted([*new_ids, *edited])
    assert set(totals) == {len(everything)}
    for filters, expected in (({"tag": "crowd"}, edited), ({"status": "ready"}, [*new_ids, *edited])):
        ids_listed, totals = listed(calls, **filters)
        assert sorted(ids_listed) == sorted(expected), filters
        assert set(totals) == {len(ids_listed)}, filters

    # ... the stack printed no failure of its own while all this ran ...
    printed = stack.output.lines(first_line)
    assert [line for line in printed if not line.startswith("{") and TROUBLE.search(line)] == []

    # ... and processing logged with its own keys, not those of an API call running beside it
    processing = [
        entry for entry in map(log_entry, printed) if entry.get("function_name") == "medialib-ProcessFunction"
    ]
    assert processing
    assert [entry for entry in processing if not {"media_id", "tenant_id"} <= set(entry)] == []
