"""A Hypothesis state machine over the media item lifecycle, through the real handlers on moto.

Rules drive presign, uploads (good, oversized, wrong type, never, re-uploaded), confirm (early,
on time, twice, from another tenant), storage events (normal, duplicated, reordered, lost: an
event is only ever delivered when a rule says so), the dead-letter drain, PATCH with a fresh or
stale ETag, entity references (attach, detach, across tenants), delete with and without force,
and sweeper ticks on a clock that moves forward by 16 minutes or 2 hours.

A model predicts each answer and each item's status; after every step the store is checked
against the model and against the store-wide auditor (``invariants.violations``): legal states
only, variants iff ``ready``, nothing unconfirmed listed or gettable, totals equal the listed
items, no reference to a missing item, no tenant seeing another tenant's ids, no 5xx. Each
example ends with a sweep two hours on, after which nothing may be ``processing`` and the
settled invariants must hold.

The clock: the application stamps items with ``utc_now()`` / ``datetime.now`` in
``medialib.domain.media`` and ``medialib.services.uploads``; both are patched to read the
machine's clock (real time plus an offset the "time passes" rule moves), and the sweeper is
given the same clock's ``now``. A presign checks that the patch still reaches the stamps.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import boto3
import dead_letters
from hypothesis import HealthCheck, settings
from hypothesis import event as hypothesis_event
from hypothesis import note as hypothesis_note
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from PIL import Image

import medialib.domain.media as domain_media
import medialib.services.uploads as upload_service
from medialib.services.sweeping import sweep
from tests.support import api
from tests.support.api import CONTEXT, all_ids, bucket, process_records
from tests.support.aws import mocked_aws
from tests.support.events import sqs_event_for
from tests.support.invariants import stored_items, violations

TENANTS = ("acme", "globex")
ENTITIES = (("product", "p_1"), ("blog_post", "post-2"))
URL_TTL = timedelta(minutes=15)
PENDING_GRACE = timedelta(hours=1)
PROCESSING_STALL = timedelta(minutes=15)
LISTED = ("processing", "ready", "failed")
# Few items per example, so rules meet the same item in many states.
MAX_LIVE_ITEMS, MAX_ITEMS = 4, 8


# ------------------------------------------------------------------ files the client uploads


def _jpeg(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(buffer, "PNG")
    return buffer.getvalue()


# Three distinct small JPEGs: uploads pick among them, so copies (on_duplicate) happen.
GOOD = [_jpeg(color) for color in ((200, 30, 40), (30, 200, 40), (40, 30, 200))]
SMALLEST, LARGEST = min(map(len, GOOD)), max(map(len, GOOD))
WRONG = {
    "png": _png(),
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48"><rect width="64"/></svg>',
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n",
}
assert max(map(len, WRONG.values())) < SMALLEST  # wrong-type uploads fail on type, not size


# ------------------------------------------------------------------ notes outside Hypothesis too


def note(text: str) -> None:
    try:
        hypothesis_note(text)
    except InvalidArgument:  # a replayed sequence, outside a Hypothesis test
        print(text)


def event(text: str) -> None:
    with contextlib.suppress(InvalidArgument):  # a replayed sequence, outside a Hypothesis test
        hypothesis_event(text)


# ------------------------------------------------------------------ the clock


class _Clock:
    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def _shifted_datetime(clock: _Clock) -> type[datetime]:
    class ShiftedDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:  # type: ignore[override]
            return datetime.now(tz) + clock.offset

    return ShiftedDatetime


# ------------------------------------------------------------------ the model


@dataclass
class Landed:
    """One upload that reached storage: its S3 event record and what it held."""

    record: dict[str, Any]
    data: bytes
    kind: str  # "jpeg", "png", "svg", "pdf"

    @property
    def etag(self) -> str:
        return self.record["eTag"]

    @property
    def sequencer(self) -> str:
        return self.record["sequencer"]


@dataclass
class Item:
    id: str
    tenant: str
    declared: int
    method: str
    policy: str
    presigned_at: datetime
    status: str = "pending"  # pending | processing | ready | failed | discarded | gone
    confirmed: bool = False
    landed: list[Landed] = field(default_factory=list)
    stored: Landed | None = None  # what storage holds now
    source: Landed | None = None  # what processing's results (or kept failure) describe
    kept_error: str | None = None  # a failure kept on a pending item for confirm
    sha: str | None = None  # the sha256 processing recorded
    error: str | None = None
    duplicate_of: str | None = None
    discarded_at: datetime | None = None
    touched: datetime | None = None  # when the item last changed (re-drive is 15 min after)
    refs: set[tuple[str, str]] = field(default_factory=set)

    @property
    def listed(self) -> bool:
        return self.status in LISTED

    @property
    def uploadable(self) -> bool:
        return self.status == "pending" and not self.confirmed


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _verdict(item: Item, landed: Landed) -> str | None:
    """The rule confirm and processing share: size within the declared bound, type as declared."""
    if len(landed.data) > item.declared:
        return "too_large"
    if landed.kind != "jpeg":
        return "type_mismatch"
    return None


class LifecycleMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = _Clock()
        self._aws = mocked_aws()
        self._aws.__enter__()
        shifted = _shifted_datetime(self.clock)
        self._patches = [
            mock.patch.object(domain_media, "datetime", shifted),
            mock.patch.object(upload_service, "datetime", shifted),
        ]
        for patch in self._patches:
            patch.start()
        self.items: dict[str, Item] = {}  # in presign order
        self.labels: dict[str, str] = {}  # a short name per item for the notes ("A1", "B2" …)
        self.entities: dict[tuple[str, str, str], list[str]] = {}
        self.sequence = 0x65F1A2B3C4D5E6F7
        self.s3 = boto3.client("s3")

    def teardown(self) -> None:
        try:
            note("teardown: the clock moves 2 hours on, then a sweep")
            self.clock.offset += timedelta(hours=2)
            self._sweep_and_expect()
            stuck = [m.id for m in stored_items().values() if m.status == "processing"]
            assert stuck == [], f"still processing after the final sweep: {stuck}"
            assert violations(settled=True) == []
            self._check_against_model()
        finally:
            self.close()

    def close(self) -> None:
        for patch in reversed(self._patches):
            patch.stop()
        self._aws.__exit__(None, None, None)

    # -------------------------------------------------------------- helpers

    def _call(self, how: Any, name: str, **kwargs: Any) -> tuple[int, dict[str, str], Any]:
        status, headers, body = how(name, **kwargs)
        assert status < 500, (name, kwargs, status, body)
        return status, headers, body

    def _code(self, body: Any) -> str | None:
        return body.get("code") if isinstance(body, dict) else None

    def _other(self, tenant: str) -> str:
        return TENANTS[1 - TENANTS.index(tenant)]

    def _deliver(self, *records: dict[str, Any]) -> None:
        assert process_records(*records) == {"batchItemFailures": []}

    def _pick(self, data: st.DataObject, candidates: list[Item]) -> Item:
        index = data.draw(st.integers(0, len(candidates) - 1), label="item")
        return candidates[index]

    def _live(self) -> list[Item]:
        return [item for item in self.items.values() if item.status != "gone"]

    def _uploadable(self) -> list[Item]:
        now = self.clock.now()
        return [i for i in self.items.values() if i.uploadable and now < i.presigned_at + URL_TTL]

    def _with_uploads(self) -> list[Item]:
        return [item for item in self.items.values() if item.landed]

    def _note(self, item: Item, text: str) -> None:
        note(f"{self.labels[item.id]} ({item.id}, {item.tenant}): {text} -> model: {item.status}")

    # -------------------------------------------------------------- rules

    @initialize(
        method=st.sampled_from(["POST", "PUT"]),
        declared=st.sampled_from(["exact-smallest", "exact-largest", "roomy"]),
        policy=st.sampled_from(["allow", "reject", "return_existing"]),
    )
    def first_uploads(self, method: str, declared: str, policy: str) -> None:
        """Every example starts with an upload presigned in each tenant."""
        for tenant in TENANTS:
            self.presign_item(tenant, method, declared, policy, "first")

    @precondition(lambda self: len(self._live()) < MAX_LIVE_ITEMS and len(self.items) < MAX_ITEMS)
    @rule(
        tenant=st.sampled_from(TENANTS),
        method=st.sampled_from(["POST", "PUT"]),
        declared=st.sampled_from(["exact-smallest", "exact-largest", "roomy"]),
        policy=st.sampled_from(["allow", "allow", "reject", "return_existing"]),
        name=st.text(alphabet="abcXYZ019 -_éü", min_size=1, max_size=12),
    )
    def presign(self, tenant: str, method: str, declared: str, policy: str, name: str) -> None:
        self.presign_item(tenant, method, declared, policy, name)

    def presign_item(
        self,
        tenant: str,
        method: str = "PUT",
        declared: str = "roomy",
        policy: str = "allow",
        name: str = "a",
    ) -> Item:
        size = {"exact-smallest": SMALLEST, "exact-largest": LARGEST, "roomy": LARGEST + 1000}[declared]
        filename = (name.strip() or "x") + ".jpg"
        extra: dict[str, Any] = {"method": method}
        if policy != "allow":
            extra["on_duplicate"] = policy
        status, _, body = self._call(
            api.uploads,
            "presign-upload",
            body={"filename": filename, "content_type": "image/jpeg", "size": size, **extra},
            tenant_id=tenant,
        )
        assert status == 201, body
        data = body["data"]
        upload_id = data["upload_id"]
        now = self.clock.now()
        expires = datetime.fromisoformat(data["expires_at"].replace("Z", "+00:00"))
        assert abs(expires - (now + URL_TTL)) < timedelta(seconds=30), (
            "the application no longer reads its clock where this test patches it",
            data["expires_at"],
            now,
        )
        item = Item(upload_id, tenant, size, method, policy, presigned_at=now)
        self.items[upload_id] = item
        same_tenant = sum(1 for i in self.items.values() if i.tenant == tenant)
        self.labels[upload_id] = f"{'AB'[TENANTS.index(tenant)]}{same_tenant}"
        self._note(item, f"presign {method} size={size} on_duplicate={policy}")
        return item

    @precondition(lambda self: self._uploadable())
    @rule(
        data=st.data(),
        what=st.sampled_from(["good", "good", "good", "oversized", "png", "svg", "pdf"]),
        pick=st.integers(0, len(GOOD) - 1),
        extra=st.sampled_from([1, 700]),
    )
    def upload(self, data: st.DataObject, what: str, pick: int, extra: int) -> None:
        """The client stores bytes with its presigned URL (again, replacing them, if it likes),
        while the URL is valid and before confirm. Never uploading is the absence of this rule."""
        self.upload_to(self._pick(data, self._uploadable()), what, pick, extra)

    def upload_to(self, item: Item, what: str, pick: int = 0, extra: int = 1) -> None:
        if what == "good":
            fitting = [good for good in GOOD if len(good) <= item.declared]
            body, kind = fitting[pick % len(fitting)], "jpeg"
        elif what == "oversized":  # a valid JPEG with trailing bytes, over the declared size
            base = GOOD[pick]
            body, kind = base + b"\0" * (item.declared - len(base) + extra), "jpeg"
        else:
            body, kind = WRONG[what], what
        key = f"originals/{item.tenant}/{item.id}"
        put = self.s3.put_object(Bucket=bucket(), Key=key, Body=body, ContentType="image/jpeg")
        self.sequence += 1
        record = {
            "key": key,
            "size": len(body),
            "eTag": put["ETag"].strip('"'),
            "sequencer": f"{self.sequence:X}",
        }
        event(f"upload {what}" + (" (replacing an earlier one)" if item.landed else ""))
        item.landed.append(Landed(record, body, kind))
        item.stored = item.landed[-1]
        self._note(item, f"upload #{len(item.landed)}: {what} ({len(body)} bytes, image {pick})")

    @precondition(lambda self: self._with_uploads())
    @rule(data=st.data(), how=st.sampled_from(["normal", "normal", "duplicated", "reordered", "oldest"]))
    def storage_event(self, data: st.DataObject, how: str) -> None:
        """Deliver an upload's storage event: normal (the latest), duplicated (twice in one
        batch), reordered (the latest, then an older sequencer), the oldest only now. An event
        never delivered is a lost one."""
        self.deliver(self._pick(data, self._with_uploads()), how)

    def deliver(self, item: Item, how: str = "normal") -> None:
        event(f"storage event {how}: {item.status}, {len(item.landed)} upload(s)")
        latest = item.landed[-1]
        if how == "normal":
            self._deliver(latest.record)
            self._expect_delivery(item, latest)
        elif how == "duplicated":
            self._deliver(latest.record, latest.record)
            self._expect_delivery(item, latest)
            self._expect_delivery(item, latest)
        elif how == "reordered":
            if len(item.landed) > 1:
                older = item.landed[-2]
            else:  # the same object's event again, with an older sequencer
                older = Landed({**latest.record, "sequencer": "1"}, latest.data, latest.kind)
            self._deliver(latest.record, older.record)
            self._expect_delivery(item, latest)
            self._expect_delivery(item, older)
        else:
            self._deliver(item.landed[0].record)
            self._expect_delivery(item, item.landed[0])
        self._note(item, f"storage event {how}")

    @precondition(lambda self: self._with_uploads())
    @rule(data=st.data())
    def dead_letter(self, data: st.DataObject) -> None:
        """The latest event exhausted its retries: the drain ends the item."""
        item = self._pick(data, self._with_uploads())
        latest = item.landed[-1]
        result = dead_letters.lambda_handler(sqs_event_for([latest.record]), CONTEXT)
        assert result == {"batchItemFailures": []}
        self._expect_give_up(item, latest)
        self._note(item, "dead letter drained")

    @precondition(lambda self: self.items)
    @rule(data=st.data(), as_other=st.sampled_from([False, False, False, True]))
    def confirm(self, data: st.DataObject, as_other: bool) -> None:
        self.confirm_item(self._pick(data, list(self.items.values())), as_other)

    def confirm_item(self, item: Item, as_other: bool = False) -> None:
        tenant = self._other(item.tenant) if as_other else item.tenant
        status, _, body = self._call(
            api.uploads, "confirm-upload", body={"upload_id": item.id}, tenant_id=tenant
        )
        if as_other:
            self._note(item, f"confirm by the other tenant: {status}")
            assert (status, self._code(body)) == (404, "not_found"), body
            return
        before = item.status
        expected_status, expected_code, expected_id = self._expect_confirm(item)
        event(f"confirm: {before} -> {expected_status} {expected_code or item.status}")
        self._note(item, f"confirm: {status} {self._code(body) or ''}")
        got_id = body["data"]["id"] if status in (200, 201) else None
        assert (status, self._code(body), got_id) == (expected_status, expected_code, expected_id), (
            item,
            body,
        )
        if expected_code == "duplicate":
            assert body["existing"]["id"] == item.duplicate_of, body
        if status in (200, 201) and got_id == item.id:
            assert body["data"]["status"] == item.status, (item, body)

    @precondition(lambda self: self.items)
    @rule(data=st.data(), fresh=st.booleans(), as_other=st.sampled_from([False, False, True]))
    def patch(self, data: st.DataObject, fresh: bool, as_other: bool) -> None:
        item = self._pick(data, list(self.items.values()))
        tenant = self._other(item.tenant) if as_other else item.tenant
        self._note(item, f"patch {'fresh' if fresh else 'stale'}{' by the other tenant' if as_other else ''}")
        status, headers, got = self._call(api.media, "get-media", media_id=item.id, tenant_id=tenant)
        if as_other or not item.listed:
            assert status == 404, got
            # Another tenant's (or an unconfirmed) item cannot be edited either.
            status, _, body = self._call(
                api.media,
                "patch-media",
                media_id=item.id,
                body={"alt": "x"},
                headers={"If-Match": "*"},
                tenant_id=tenant,
            )
            assert (status, self._code(body)) == (404, "not_found"), body
            return
        assert status == 200, got
        version = got["data"]["version"]
        assert headers["etag"] == f'"{version}"'
        if_match = f'"{version}"' if fresh else f'"{version - 1}"'
        status, _, body = self._call(
            api.media,
            "patch-media",
            media_id=item.id,
            body={"alt": f"alt {version}", "title": "Edited"},
            headers={"If-Match": if_match},
            tenant_id=tenant,
        )
        if fresh:
            assert status == 200, body
            assert body["data"]["version"] == version + 1 and body["data"]["status"] == item.status
            item.touched = self.clock.now()
        else:
            assert (status, self._code(body)) == (412, "precondition_failed"), body

    @precondition(lambda self: self.items)
    @rule(data=st.data(), entity=st.sampled_from(ENTITIES), as_other=st.sampled_from([False, False, True]))
    def attach(self, data: st.DataObject, entity: tuple[str, str], as_other: bool) -> None:
        """Add an item to an entity's media (one of another tenant's items is unknown)."""
        item = self._pick(data, list(self.items.values()))
        tenant = self._other(item.tenant) if as_other else item.tenant
        key = (tenant, *entity)
        self._note(item, f"attach to {tenant}'s {entity[0]}/{entity[1]}")
        self._put_entity(key, [*self.entities.get(key, []), item.id])

    @precondition(lambda self: any(self.entities.values()))
    @rule(data=st.data(), index=st.integers(0, 3))
    def detach(self, data: st.DataObject, index: int) -> None:
        keys = [key for key, media_ids in self.entities.items() if media_ids]
        key = keys[data.draw(st.integers(0, len(keys) - 1), label="entity")]
        current = self.entities[key]
        gone = current[index % len(current)]
        note(f"detach {self.labels[gone]} from {key}")
        self._put_entity(key, [m for m in current if m != gone])

    def _put_entity(self, key: tuple[str, str, str], wanted: list[str]) -> None:
        tenant, entity_type, entity_id = key
        path = {"entity_type": entity_type, "entity_id": entity_id}
        status, _, body = self._call(
            api.catalogue, "put-entity-media", path=path, body={"media_ids": wanted}, tenant_id=tenant
        )
        wanted = list(dict.fromkeys(wanted))
        known = all(
            media_id in self.items and self.items[media_id].tenant == tenant and self.items[media_id].listed
            for media_id in wanted
        )
        if not known:
            assert (status, self._code(body)) == (400, "validation_error"), (wanted, body)
            return
        assert status == 200, body
        assert body["media_ids"] == wanted
        now = self.clock.now()
        before = set(self.entities.get(key, []))
        for media_id in before ^ set(wanted):
            item = self.items[media_id]
            item.refs ^= {(entity_type, entity_id)}
            item.touched = now
        self.entities[key] = wanted

    @precondition(lambda self: self.items)
    @rule(data=st.data(), force=st.booleans(), as_other=st.sampled_from([False, False, False, True]))
    def delete(self, data: st.DataObject, force: bool, as_other: bool) -> None:
        item = self._pick(data, list(self.items.values()))
        tenant = self._other(item.tenant) if as_other else item.tenant
        status, _, body = self._call(
            api.media,
            "delete-media",
            media_id=item.id,
            query={"force": "true"} if force else None,
            tenant_id=tenant,
        )
        self._note(
            item, f"delete{' force' if force else ''}{' by the other tenant' if as_other else ''}: {status}"
        )
        if as_other or not item.listed:
            assert (status, self._code(body)) == (404, "not_found"), body
            return
        if item.refs and not force:
            assert (status, self._code(body)) == (409, "in_use"), body
            return
        assert status == 204, body
        item.status, item.stored = "gone", None
        for entity in item.refs:
            key = (item.tenant, *entity)
            self.entities[key] = [m for m in self.entities[key] if m != item.id]
        item.refs = set()

    @rule(minutes=st.sampled_from([0, 0, 16, 16, 120]), run_sweeper=st.booleans())
    def clock_tick(self, minutes: int, run_sweeper: bool) -> None:
        """Time passes (0, 16 minutes or 2 hours), and the sweeper runs or not."""
        note(f"time passes: {minutes} minutes" + ("; sweeper tick" if run_sweeper else ""))
        self.clock.offset += timedelta(minutes=minutes)
        if run_sweeper:
            self._sweep_and_expect()

    # -------------------------------------------------------------- what the model expects

    def _expect_delivery(self, item: Item, landed: Landed) -> None:
        """Processing of one storage event, as the contract says it must go."""
        if item.status in ("gone", "discarded"):
            return  # no item owns these bytes any more: the object is removed (if still there)
        if item.source is not None:
            if item.status in ("pending", "processing"):
                if item.source.etag == landed.etag:
                    return  # worked out already
            elif landed.sequencer.rjust(32, "0") < item.source.sequencer.rjust(32, "0"):
                return  # an older event than the one the item reflects
            elif landed.sequencer == item.source.sequencer and landed.etag == item.source.etag:
                return  # the same event again
        if item.stored is None or item.stored.etag != landed.etag:
            # The event is about bytes that were replaced or removed since: it cannot decide
            # anything about the item (whatever those bytes were).
            return
        verdict = _verdict(item, landed)
        now = self.clock.now()
        if verdict is not None:
            if item.status == "pending":
                return  # confirm judges the same bytes and tells the client
            self._fail(item, verdict)
            item.source = landed
            return
        item.source, item.sha, item.touched = landed, _sha(landed.data), now
        if item.status == "pending":
            item.kept_error = None
        else:
            item.status, item.error = "ready", None

    def _expect_give_up(self, item: Item, landed: Landed) -> None:
        if item.status in ("gone", "discarded", "ready", "failed"):
            return
        if item.source is not None and item.source.etag == landed.etag:
            return
        item.source, item.touched = landed, self.clock.now()
        if item.status == "pending":
            item.kept_error = "processing_failed"
        else:
            self._fail(item, "processing_failed")

    def _fail(self, item: Item, code: str) -> None:
        item.status, item.error, item.stored, item.touched = "failed", code, None, self.clock.now()

    def _expect_confirm(self, item: Item) -> tuple[int, str | None, str | None]:
        """(status, problem code, returned id) confirm must answer, updating the model."""
        if item.status == "gone":
            return 404, "not_found", None
        if item.status == "discarded":
            existing = self.items[item.duplicate_of or ""]
            if not existing.listed:
                return 404, "not_found", None
            if item.policy == "reject":
                return 409, "duplicate", None
            return 200, None, existing.id
        if item.confirmed:
            return 200, None, item.id
        if item.stored is None:
            return 409, "upload_missing", None
        stored = item.stored
        verdict = _verdict(item, stored)
        now = self.clock.now()
        if verdict is not None:
            self._fail(item, verdict)
            item.confirmed = True
            return (
                (413, "payload_too_large", None)
                if verdict == "too_large"
                else (415, "unsupported_media_type", None)
            )
        if item.policy != "allow":
            sha = _sha(stored.data)
            copies = [
                other
                for other in self.items.values()
                if other.tenant == item.tenant
                and other.id != item.id
                and other.status in ("processing", "ready")
                and other.sha == sha
            ]
            if copies:
                existing = min(copies, key=lambda other: other.id)
                item.status, item.duplicate_of, item.discarded_at = "discarded", existing.id, now
                item.confirmed, item.stored = True, None
                if item.policy == "reject":
                    return 409, "duplicate", None
                return 200, None, existing.id
        item.confirmed, item.touched = True, now
        worked_out = item.source is not None and item.source.etag == stored.etag
        if worked_out and item.kept_error is not None:
            self._fail(item, item.kept_error)
        elif worked_out:
            item.status = "ready"
        else:
            item.status = "processing"
        return 201, None, item.id

    def _sweep_and_expect(self) -> None:
        now = self.clock.now()
        expected_redrive = {}
        for item in self.items.values():
            if item.status == "pending" and item.presigned_at + URL_TTL < now - PENDING_GRACE:
                item.status, item.stored = "gone", None
            elif item.status == "discarded" and item.discarded_at and item.discarded_at < now - PENDING_GRACE:
                item.status = "gone"
            elif item.status == "processing" and item.touched and item.touched < now - PROCESSING_STALL:
                expected_redrive[item.id] = item
        report = sweep(now)
        event(f"sweep: {report.expired} expired, {len(report.reprocessed)} re-driven")
        assert report.errors == 0, report
        assert set(report.reprocessed) == set(expected_redrive), (report, expected_redrive)
        for item in expected_redrive.values():
            if item.stored is None:
                self._fail(item, "processing_failed")
            else:
                item.status, item.error, item.touched = "ready", None, now
                item.sha = _sha(item.stored.data)
                sequencer = item.source.sequencer if item.source else ""
                item.source = Landed({**item.stored.record, "sequencer": sequencer}, item.stored.data, "jpeg")

    # -------------------------------------------------------------- invariants

    @invariant()
    def store_is_consistent(self) -> None:
        assert violations(settled=False) == []

    @invariant()
    def clients_see_what_the_model_expects(self) -> None:
        self._check_against_model()

    def _check_against_model(self) -> None:
        for tenant in TENANTS:
            ids = all_ids(tenant)
            assert len(ids) == len(set(ids)), ids
            expected = {i.id for i in self.items.values() if i.tenant == tenant and i.listed}
            assert set(ids) == expected, {"tenant": tenant, "listed": ids, "model": expected}
            assert api.total(tenant) == len(ids)
            for entity_type, entity_id in ENTITIES:
                path = {"entity_type": entity_type, "entity_id": entity_id}
                status, _, body = self._call(api.catalogue, "get-entity-media", path=path, tenant_id=tenant)
                assert status == 200, body
                assert body["media_ids"] == self.entities.get((tenant, entity_type, entity_id), [])
        for item in self.items.values():
            other = self._other(item.tenant)
            status, _, body = self._call(api.media, "get-media", media_id=item.id, tenant_id=other)
            assert (status, self._code(body)) == (404, "not_found"), body
            status, _, body = self._call(api.media, "get-media", media_id=item.id, tenant_id=item.tenant)
            if not item.listed:
                assert (status, self._code(body)) == (404, "not_found"), (item, body)
                continue
            assert status == 200, body
            got = body["data"]
            assert got["status"] == item.status, (item, got)
            assert got["status"] in LISTED
            assert bool(got["variants"]) == (got["status"] == "ready"), got
            if item.status == "failed":
                assert got["error"]["code"] == item.error, (item, got)
            assert {(r["type"], r["id"]) for r in got["used_by"]} == item.refs, (item, got)


TestLifecycle = LifecycleMachine.TestCase
TestLifecycle.settings = settings(
    max_examples=15,
    stateful_step_count=50,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# ------------------------------------------------------------------ sequences replayed as is
#
# Short sequences of the machine's own steps, with every invariant checked after each step, for
# interleavings the bounded random search above reaches only rarely.


def _replay(*steps: Callable[[LifecycleMachine], None]) -> None:
    machine = LifecycleMachine()
    finished = False
    try:
        for step in steps:
            step(machine)
            machine.store_is_consistent()
            machine.clients_see_what_the_model_expects()
        finished = True
    finally:
        if finished:
            machine.teardown()
        else:
            machine.close()


def test_replaced_upload_confirmed_after_processing_ahead_has_no_stale_variants():
    """Processing works the first upload out ahead of confirm; the client then replaces the
    bytes (same URL, still valid) and confirms: the item is ``processing`` for the new bytes and
    must not show the old bytes' variants (or dimensions, hash) meanwhile."""
    item: list[Item] = []
    _replay(
        lambda m: item.append(m.presign_item("acme", "PUT", "roomy")),
        lambda m: m.upload_to(item[0], "good", pick=0),
        lambda m: m.deliver(item[0], "normal"),
        lambda m: m.upload_to(item[0], "good", pick=1),
        lambda m: m.confirm_item(item[0]),
    )


def test_stale_event_for_replaced_oversized_bytes_does_not_fail_a_confirmed_item():
    """The client first uploads too many bytes, then replaces them with a good file and
    confirms (201, ``processing``). The first upload's event arrives late: it describes bytes
    that are no longer stored, so it must not end the item ``failed`` (``too_large``)."""
    item: list[Item] = []
    _replay(
        lambda m: item.append(m.presign_item("acme", "PUT", "exact-largest")),
        lambda m: m.upload_to(item[0], "oversized", pick=0),
        lambda m: m.upload_to(item[0], "good", pick=0),
        lambda m: m.confirm_item(item[0]),
        lambda m: m.deliver(item[0], "oldest"),
    )
