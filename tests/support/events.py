"""The sample events in events/, loaded and adjusted for a test (so the samples stay valid)."""

from __future__ import annotations

import copy
import json
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
    body: Any = ...,
    query: dict[str, str] | None = ...,  # type: ignore[assignment]
    headers: dict[str, str] | None = None,
    tenant_id: str = "demo",
    scopes: str = "media:read media:write media:delete",
) -> dict[str, Any]:
    """A sample API Gateway proxy event with the given id, body, query, headers and caller."""
    event = copy.deepcopy(load_event(name))
    if media_id is not None:
        event["path"] = event["path"].replace(SAMPLE_MEDIA_ID, media_id)
        event["pathParameters"] = {"media_id": media_id}
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
