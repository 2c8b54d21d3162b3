"""Benchmark: how long a warm handler runs per request, in-process on moto, for the cost model
(docs/cost.md).

Each request goes through the real handler (`lambda_handler` with a sample API Gateway event),
under moto's in-process AWS: the authorizer on a real key, GET of one item, a list page of 24
items out of 100, a presign, and the processing of a 12 MP photo-like JPEG (bench_imaging's).
The figures are CPU time of this process (moto's own work included) and the number of AWS calls
the request made: on Lambda each call adds a network round trip instead of moto's work, and a
function with less than 1,769 MB gets a share of a core (docs/cost.md).

    .venv/bin/python bench/bench_durations.py [--runs 15]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import secrets
import statistics
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The environment the tests use (tests/conftest.py): moto's credentials, no tracing or metrics.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "MEDIA_TABLE": "medialib-media",
        "TENANTS_TABLE": "medialib-tenants",
        "KEYS_TABLE": "medialib-api-keys",
        "IDEMPOTENCY_TABLE": "medialib-idempotency",
        "MEDIA_BUCKET": "medialib-media-123456789012-us-east-1",
        "MEDIA_BASE_URL": "https://cdn.example.test",
        "CURSOR_SIGNING_KEY": secrets.token_urlsafe(32),
    }
)
warnings.filterwarnings("ignore", "No application metrics to publish")
for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "CURSOR_SIGNING_SECRET_ARN"):
    os.environ.pop(name, None)
sys.path[:0] = [str(ROOT), str(ROOT / "shared"), str(ROOT / "bench")]
sys.path[:0] = [str(path) for path in sorted((ROOT / "functions").iterdir())]

import authorizer  # noqa: E402
import botocore.client  # noqa: E402
from bench_imaging import SIZE, photo_like  # noqa: E402
from moto.core.botocore_stubber import BotocoreStubber  # noqa: E402

from medialib.services.api_keys import create_key  # noqa: E402
from tests.support import api  # noqa: E402
from tests.support.aws import mocked_aws  # noqa: E402
from tests.support.events import load_event  # noqa: E402

_operations: list[str] = []
_in_moto_ms = [0.0]


@contextmanager
def counting_aws_calls() -> Iterator[list[str]]:
    """Counts every AWS API call (boto3's and pynamodb's both go through botocore) and the CPU
    time moto spends answering them: on Lambda that part is a network wait, while botocore's
    own work (signing, serialising, parsing) stays the function's."""
    original_call = botocore.client.BaseClient._make_api_call
    original_answer = BotocoreStubber.process_request

    def counted(self: Any, operation: str, params: dict[str, Any]) -> Any:
        _operations.append(operation + _size_of(operation, params))
        return original_call(self, operation, params)

    def answered(self: Any, request: Any) -> Any:
        start = time.process_time()
        try:
            return original_answer(self, request)
        finally:
            _in_moto_ms[0] += (time.process_time() - start) * 1000

    botocore.client.BaseClient._make_api_call = counted
    BotocoreStubber.process_request = answered  # type: ignore[method-assign]
    try:
        yield _operations
    finally:
        botocore.client.BaseClient._make_api_call = original_call
        BotocoreStubber.process_request = original_answer  # type: ignore[method-assign]


def _size_of(operation: str, params: dict[str, Any]) -> str:
    """How many items a batch or transaction carries: DynamoDB bills each."""
    if operation == "TransactWriteItems":
        return f" ({len(params['TransactItems'])} items)"
    if operation == "BatchGetItem":
        return f" ({sum(len(table['Keys']) for table in params['RequestItems'].values())} keys)"
    return ""


# CPU ms in all, CPU ms of the function (not moto's), the AWS calls ("GetItem x2, Query")
Timing = tuple[float, float, str]


def once(request: Callable[[], Any]) -> Timing:
    before_calls, before_moto, start = len(_operations), _in_moto_ms[0], time.process_time()
    request()
    cpu = (time.process_time() - start) * 1000
    counts = Counter(_operations[before_calls:])
    calls = ", ".join(f"{name} x{count}" if count > 1 else name for name, count in sorted(counts.items()))
    return cpu, cpu - (_in_moto_ms[0] - before_moto), calls


def timed(request: Callable[[], Any], runs: int) -> Timing:
    """Medians over ``runs`` warm requests."""
    request()  # the first call builds clients and models: a cold start's share, not a request's
    samples = [once(request) for _ in range(runs)]
    return (
        statistics.median(cpu for cpu, _, _ in samples),
        statistics.median(own for _, own, _ in samples),
        samples[-1][2],
    )


def jpeg_12mp() -> bytes:
    buffer = io.BytesIO()
    photo_like(SIZE).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def authorizer_event(key: str) -> dict[str, Any]:
    event = load_event("authorizer-request")
    event["headers"]["authorization"] = f"Bearer {key}"
    event["multiValueHeaders"]["authorization"] = [f"Bearer {key}"]
    return event


def measure(runs: int) -> dict[str, Timing]:
    results = {}
    with mocked_aws(), counting_aws_calls():
        _, key = create_key("demo", ["media:read", "media:write", "media:delete"])
        ids = [api.make_item(f"item-{n}.jpg") for n in range(100)]
        item_id = ids[0]["id"]

        def authorize() -> None:
            assert "principalId" in authorizer.lambda_handler(authorizer_event(key), api.CONTEXT)

        def get() -> None:
            assert api.media("get-media", media_id=item_id)[0] == 200

        def list_page() -> None:
            assert api.media("list-media", query={"limit": "24"})[0] == 200

        def presign() -> None:
            assert api.presign("photo.jpg", 2_000_000)[0] == 201

        results["authorizer (key lookup)"] = timed(authorize, runs)
        results["GET /v1/media/{id}"] = timed(get, runs)
        results["GET /v1/media (24 of 100)"] = timed(list_page, runs)
        results["POST /v1/media/presign"] = timed(presign, runs)

        photo = jpeg_12mp()

        def landed_photo() -> dict[str, Any]:
            """The S3 record of a presigned, uploaded and confirmed photo, ready to process."""
            _, _, presigned = api.presign("photo.jpg", len(photo))
            upload_id = presigned["data"]["upload_id"]
            record = api.land(upload_id, photo)
            assert api.uploads("confirm-upload", body={"upload_id": upload_id})[0] == 201
            return record

        def processing(record: dict[str, Any]) -> Callable[[], None]:
            def process() -> None:
                assert api.process_records(record) == {"batchItemFailures": []}

            return process

        processing(landed_photo())()  # warm-up
        records = [landed_photo() for _ in range(max(3, runs // 3))]
        processed = [once(processing(record)) for record in records]
        results[f"process a 12 MP JPEG ({len(photo) / 1e6:.1f} MB)"] = (
            statistics.median(cpu for cpu, _, _ in processed),
            statistics.median(own for _, own, _ in processed),
            processed[-1][2],
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="warm requests per kind")
    args = parser.parse_args(argv)
    with contextlib.redirect_stdout(io.StringIO()):  # the handlers' metrics (EMF) lines
        results = measure(args.runs)
    print("| request | CPU ms | of which the function's (not moto's) | AWS calls |")
    print("|---|---|---|---|")
    for name, (cpu, own, calls) in results.items():
        print(f"| {name} | {cpu:.1f} | {own:.1f} | {calls} |")
    where = f"python {platform.python_version()} on {platform.machine()}"
    print(f"\nIn-process on moto, {where}, median of {args.runs} warm requests.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
