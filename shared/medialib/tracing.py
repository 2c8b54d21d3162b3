"""What the Tracer traces through: X-Ray's recorder when tracing is on, nothing when it is off.

Powertools builds X-Ray's recorder even for a Tracer it disables, and building it imports the
X-Ray SDK and, outside Lambda, a botocore client for its sampler: over 100 ms of every cold start
(bench/bench_cold_start.py). A disabled Tracer gets ``NO_TRACING`` instead, so tracing that is
off costs nothing at import; when it is on, only the libraries this code calls AWS through are
patched, not every one the SDK knows (sqlite3, httplib, requests...).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Generator, Sequence
from typing import Any

from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

# boto3 (S3, SQS, Secrets Manager) and pynamodb (DynamoDB) both call AWS through botocore.
PATCHED_MODULES = ("botocore", "pynamodb")


class _NoSegment(BaseSegment):
    def close(self, end_time: int | None = None) -> None:
        pass

    def add_subsegment(self, subsegment: Any) -> None:
        pass

    def remove_subsegment(self, subsegment: Any) -> None:
        pass

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        pass


class _NoTracing(BaseProvider):
    """Segments that record nothing, for a Tracer that is disabled."""

    @contextlib.contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _NoSegment()

    @contextlib.asynccontextmanager
    async def in_subsegment_async(
        self, name: str | None = None, **kwargs: Any
    ) -> AsyncGenerator[BaseSegment, None]:
        yield _NoSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def patch(self, modules: Sequence[str]) -> None:
        pass

    def patch_all(self) -> None:
        pass


NO_TRACING = _NoTracing()
