"""The sample events in events/, loaded and adjusted for a test (so the samples stay valid)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
SAMPLE_MEDIA_ID = "med_01JD3Z8Q4W5E6R7T8Y9V0J1Q2P"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / f"{name}.json").read_text())


def api_event(
    name: str,
    *,
    media_id: str | None = None,
    path: dict[str, str] | None = None,
    body: Any = ...,
    query: dict[str, str] | None = ...,  # type: ignore[assignment]
    headers: dict[str, str] | None = None,
    tenant_id: str = "demo",
    scopes: str = "media:read media:write media:delete",
) -> dict[str, Any]:
    """A sample API Gateway proxy event with the given path parameters (``media_id`` is a
    shorthand for ``path={"media_id": ...}``), body, query, headers and caller.

    Path parameters replace the sample's values, and the path is rebuilt from the event's
    ``resource`` (``/v1/media/{media_id}/tags/{tag_id}``), so any route's parameters work.
    """
    event = copy.deepcopy(load_event(name))
    params = dict(path or {})
    if media_id is not None:
        params["media_id"] = media_id
    if params:
        _set_path_parameters(event, params)
    if body is not ...:
        event["body"] = body if isinstance(body, str) or body is None else json.dumps(body)
    if query is not ...:
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in (query or {}).items()} or None
    for name_, value in (headers or {}).items():
        event["headers"][name_] = value
        event["multiValueHeaders"][name_] = [value]
    authorizer = event["requestContext"].get("authorizer")
    if authorizer is not None:
        authorizer.update(tenant_id=tenant_id, scopes=scopes)
    return event


def _set_path_parameters(event: dict[str, Any], params: dict[str, str]) -> None:
    values = {**(event.get("pathParameters") or {}), **params}
    unknown = set(values) - set(re.findall(r"{(\w+)}", event["resource"]))
    if unknown:
        raise ValueError(f"{event['resource']} has no path parameter(s) {sorted(unknown)}")
    rebuilt = re.sub(r"{(\w+)}", lambda match: values[match[1]], event["resource"])
    event["pathParameters"] = values
    event["path"] = rebuilt
    context = event.get("requestContext") or {}
    if "path" in context:
        stage = context.get("stage")
        context["path"] = f"/{stage}{rebuilt}" if stage else rebuilt


def sqs_event_for(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The sample SQS-wrapped S3 event, carrying the given S3 object records."""
    event = copy.deepcopy(load_event("process-original-landed"))
    template = event["Records"][0]
    s3_template = json.loads(template["body"])["Records"][0]
    event["Records"] = []
    for index, obj in enumerate(records):
        s3_record = copy.deepcopy(s3_template)
        s3_record["s3"]["object"] = obj
        message = copy.deepcopy(template)
        message["messageId"] = f"message-{index}"
        message["body"] = json.dumps({"Records": [s3_record]})
        event["Records"].append(message)
    return event


class FakeLambdaContext:
    function_name = "test-function"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id = "test-request-id"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000
