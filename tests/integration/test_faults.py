"""Fault injection at every AWS call of presign, confirm, processing, delete, tag delete and the
sweeper: whichever call fails, and however, the client gets a 4xx or a 503 (never a 500), and
once retries and a sweep have run nothing is left behind: no orphan object, no dangling row or
index entry, no total off by one, no item stuck in ``processing``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from medialib.services.sweeping import sweep
from tests.support import invariants
from tests.support.api import (
    catalogue,
    get_item,
    jpeg_bytes,
    land,
    media,
    presign,
    process_records,
    uploads,
)
from tests.support.aws import mocked_aws
from tests.support.faults import FAULTS, Recorder, injected

SOON = timedelta(minutes=20)  # stalled processing is re-driven
LATE = timedelta(hours=3)  # unconfirmed uploads have expired


@dataclass
class World:
    """What a flow's set-up made, and what its action answered."""

    upload_id: str = ""
    record: dict[str, Any] = field(default_factory=dict)
    answers: list[int] = field(default_factory=list)


def _presigned(world: World, size: int | None = None) -> bytes:
    data = jpeg_bytes(320, 240)
    status, _, body = presign(size=size or len(data))
    assert status == 201, body
    world.upload_id = body["data"]["upload_id"]
    return data


def _confirm(world: World) -> int:
    return uploads("confirm-upload", body={"upload_id": world.upload_id})[0]


def _landed(world: World) -> None:
    data = _presigned(world)
    world.record = land(world.upload_id, data)


def _confirmed(world: World) -> None:
    _landed(world)
    assert _confirm(world) == 201


def _ready(world: World) -> None:
    _confirmed(world)
    assert process_records(world.record) == {"batchItemFailures": []}
    assert get_item(world.upload_id)["status"] == "ready"


def _tagged(world: World) -> None:
    _ready(world)
    status, _, tag = catalogue("create-tag", body={"name": "Brand"})
    assert status == 201, tag
    world.record = {"tag_id": tag["data"]["id"]}
    assert catalogue("add-item-tag", media_id=world.upload_id, body={"slug": "brand"})[0] == 201


def _untidy(world: World) -> None:
    """Work for every part of the sweeper: a stalled item, an expired upload, a purge."""
    _confirmed(world)  # its storage event is lost
    _presigned(World())  # never uploaded nor confirmed
    doomed = World()
    _ready(doomed)
    assert media("delete-media", media_id=doomed.upload_id)[0] == 204


def _deliver(world: World) -> None:
    """The queue delivers the event, and again while the function reports it failed."""
    for _ in range(5):
        if process_records(world.record) == {"batchItemFailures": []}:
            return


@dataclass(frozen=True)
class Flow:
    set_up: Callable[[World], None]
    action: Callable[[World], None]
    heal: Callable[[World], None]  # what clients, the queue and the sweeper do afterwards
    outcome: str  # the item's status once healed: "ready", "gone"
    may_find_original_gone: bool = False


def _answer(world: World, result: tuple[int, Any, Any]) -> None:
    world.answers.append(result[0])


FLOWS = {
    "presign": Flow(
        set_up=lambda w: None,
        action=lambda w: _answer(w, presign(size=1000)),
        heal=lambda w: None,
        outcome="gone",  # nothing was uploaded: whatever was created expires
    ),
    "confirm": Flow(
        set_up=_landed,
        action=lambda w: w.answers.append(_confirm(w)),
        heal=lambda w: (w.answers.append(_confirm(w)), _deliver(w)),
        outcome="ready",
    ),
    "processing": Flow(
        set_up=_confirmed,
        action=lambda w: process_records(w.record),
        heal=_deliver,
        outcome="ready",
    ),
    "processing_before_confirm": Flow(
        set_up=_landed,
        action=lambda w: process_records(w.record),
        heal=lambda w: (_deliver(w), w.answers.append(_confirm(w))),
        outcome="ready",
    ),
    "delete": Flow(
        set_up=_ready,
        action=lambda w: _answer(w, media("delete-media", media_id=w.upload_id)),
        heal=lambda w: _answer(w, media("delete-media", media_id=w.upload_id)),
        outcome="gone",
    ),
    "tag_delete": Flow(
        set_up=_tagged,
        action=lambda w: _answer(w, catalogue("delete-tag", path={"tag_id": w.record["tag_id"]})),
        heal=lambda w: _answer(w, catalogue("delete-tag", path={"tag_id": w.record["tag_id"]})),
        outcome="ready",
    ),
    "sweeper": Flow(
        set_up=_untidy,
        action=lambda w: sweep(datetime.now(UTC) + LATE),
        heal=lambda w: None,
        outcome="ready",
        may_find_original_gone=True,
    ),
}


def _run(flow: Flow, recorder: Recorder) -> tuple[World, list[str]]:
    world = World()
    with mocked_aws():
        flow.set_up(world)
        with injected(recorder):
            try:
                flow.action(world)
            except Exception as error:  # an event handler or the sweeper may raise: the queue retries
                assert recorder.failed is not None, f"raised without a fault: {error!r}"
        flow.heal(world)
        sweep(datetime.now(UTC) + SOON)
        sweep(datetime.now(UTC) + LATE)
        broken = invariants.violations()
        if flow.outcome == "ready" and world.upload_id:
            item = get_item(world.upload_id)
            status = None if item is None else item["status"]
            # S3 telling the sweeper a stalled item's original is gone leaves one honest end.
            gone = flow.may_find_original_gone and recorder.failed == "HeadObject" and recorder.said_missing
            if status != "ready" and not (gone and status == "failed"):
                broken.append(f"the item ended {status}, not ready")
        if flow.outcome == "gone" and world.upload_id and get_item(world.upload_id) is not None:
            broken.append("the deleted item is still there")
        if flow.set_up is _tagged and catalogue("list-tags")[2]["data"]:
            broken.append("the tag survived its delete and a retry")
    server_errors = [status for status in world.answers if status >= 500 and status != 503]
    if server_errors:
        broken.append(f"answered {server_errors}")
    return world, broken


@pytest.mark.parametrize("flow_name", list(FLOWS))
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_at_any_call_leaves_nothing_behind(flow_name, fault):
    flow = FLOWS[flow_name]
    counted = Recorder()
    _, broken = _run(flow, counted)
    assert broken == [], f"{flow_name} without faults: {broken}"
    assert counted.calls, f"{flow_name} made no AWS call"
    failures = {}
    for index in range(len(counted.calls)):
        recorder = Recorder(fail_at=index, fault=FAULTS[fault])
        _, broken = _run(flow, recorder)
        if broken:
            failures[f"call {index} ({recorder.failed})"] = broken
    assert failures == {}, f"{flow_name} with {fault}"
