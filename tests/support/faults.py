"""Faults injected where the code meets AWS: one botocore API call answers with an error.

Every SDK call of the code under test goes through ``BaseClient._make_api_call`` (pynamodb's
included), so a fault here is what a real throttle, a lost transaction race, an S3 5xx, a
missing object or a timeout looks like to the code: nothing of the project is mocked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from botocore.client import BaseClient
from botocore.exceptions import ClientError, ReadTimeoutError


def client_error(code: str, operation: str, status: int = 400) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": f"injected {code}"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


def transaction_cancelled(operation: str, reason: str) -> ClientError:
    error = client_error("TransactionCanceledException", operation)
    error.response["CancellationReasons"] = [{"Code": reason, "Message": "injected"}]
    return error


# The faults the tests cycle through: what AWS answers on a bad day.
FAULTS: dict[str, Callable[[str], Exception]] = {
    "throttled": lambda op: client_error("ThrottlingException", op),
    "s3_5xx": lambda op: client_error("InternalError", op, 500),
    "no_such_key": lambda op: client_error("NoSuchKey", op, 404),
    "conditional_check": lambda op: transaction_cancelled(op, "ConditionalCheckFailed"),
    "transaction_conflict": lambda op: transaction_cancelled(op, "TransactionConflict"),
    "timeout": lambda op: ReadTimeoutError(endpoint_url="https://aws.example.test"),
}


@dataclass
class Recorder:
    """Counts calls and, when armed, fails the ``fail_at``-th one (0-based) with ``fault``."""

    fail_at: int | None = None
    fault: Callable[[str], Exception] | None = None
    calls: list[str] = field(default_factory=list)
    failed: str | None = None
    said_missing: bool = False  # the fault told the code the object does not exist

    def intercept(self, client: BaseClient, operation: str, params: dict[str, Any], real: Callable) -> Any:
        index = len(self.calls)
        self.calls.append(operation)
        if self.fail_at == index and self.fault is not None:
            self.failed = operation
            error = self.fault(operation)
            self.said_missing = (
                isinstance(error, ClientError) and error.response["Error"]["Code"] == "NoSuchKey"
            )
            raise error
        return real(client, operation, params)


@contextmanager
def injected(recorder: Recorder) -> Iterator[Recorder]:
    real = BaseClient._make_api_call

    def make_api_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        return recorder.intercept(client, operation, params, real)

    with mock.patch.object(BaseClient, "_make_api_call", make_api_call):
        yield recorder
