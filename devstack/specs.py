"""The specs read from ``template.yaml``, resolved and frozen: functions with their API routes,
queue sources and schedules; the Api with its authorizers, CORS and gateway responses; tables,
queues and buckets with their physical names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.local_account import ACCOUNT_ID, PARTITION, REGION, STACK_NAME


@dataclass(frozen=True)
class ApiRoute:
    function_id: str
    event_name: str
    api_id: str
    path: str
    method: str  # upper case; ANY matches every method
    authorizer: str | None  # the authorizer's name, None for ``Auth: {Authorizer: NONE}``
    api_key_required: bool = False  # metered by the Api's usage plan


@dataclass(frozen=True)
class SqsSource:
    function_id: str
    event_name: str
    queue_id: str
    batch_size: int
    function_response_types: tuple[str, ...]
    enabled: bool = True

    @property
    def reports_batch_item_failures(self) -> bool:
        return "ReportBatchItemFailures" in self.function_response_types


@dataclass(frozen=True)
class ScheduleSource:
    function_id: str
    event_name: str
    schedule: str
    input: str | None = None


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str  # "module.function"
    memory_size: int
    timeout: float
    environment: dict[str, Any]  # Globals merged with the function's own, resolved
    api_routes: tuple[ApiRoute, ...]
    sqs_sources: tuple[SqsSource, ...]
    schedules: tuple[ScheduleSource, ...]

    @property
    def name(self) -> str:
        return f"{STACK_NAME}-{self.logical_id}"

    @property
    def arn(self) -> str:
        return f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT_ID}:function:{self.name}"


@dataclass(frozen=True)
class AuthorizerSpec:
    name: str
    function_id: str
    payload_type: str  # TOKEN or REQUEST
    identity_headers: tuple[str, ...]
    identity_query_strings: tuple[str, ...]
    ttl_seconds: int
    validation_expression: str | None = None


@dataclass(frozen=True)
class CorsSpec:
    allow_origin: str
    allow_headers: str | None
    allow_methods: str | None
    expose_headers: str | None
    max_age: str | None
    allow_credentials: bool


@dataclass(frozen=True)
class GatewayResponseSpec:
    status_code: int | None
    headers: dict[str, str]  # raw mapping expressions: "'static'", "context.requestId", ...
    templates: dict[str, str]


@dataclass(frozen=True)
class UsagePlanSpec:
    """An ``AWS::ApiGateway::UsagePlan`` on the Api: every key in it gets these limits of its own."""

    logical_id: str
    rate_limit: float | None  # requests per second, refilling the key's token bucket
    burst_limit: int | None  # the bucket's size
    quota_limit: int | None  # requests per quota period
    quota_period: str | None  # DAY, WEEK or MONTH


@dataclass(frozen=True)
class ApiSpec:
    logical_id: str
    stage_name: str
    default_authorizer: str | None
    authorizers: dict[str, AuthorizerSpec]
    authorize_preflight: bool
    cors: CorsSpec | None
    gateway_responses: dict[str, GatewayResponseSpec]
    binary_media_types: tuple[str, ...]
    api_key_required: bool = False  # the default of its routes (``Auth.ApiKeyRequired``)
    api_key_source: str = "HEADER"  # HEADER (x-api-key) or AUTHORIZER (its usageIdentifierKey)
    usage_plan: UsagePlanSpec | None = None

    @property
    def api_id(self) -> str:
        return self.logical_id.lower()[:10]


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    name: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    name: str
    url: str
    arn: str
    properties: dict[str, Any]
    dead_letter_queue_id: str | None
    max_receive_count: int | None


@dataclass(frozen=True)
class QueueNotification:
    event: str
    queue_id: str
    queue_arn: str
    prefix: str | None
    suffix: str | None


@dataclass(frozen=True)
class BucketSpec:
    logical_id: str
    name: str
    arn: str
    cors_rules: tuple[dict[str, Any], ...]
    lifecycle_rules: tuple[dict[str, Any], ...]
    properties: dict[str, Any]
    queue_notifications: tuple[QueueNotification, ...]
