"""``template.yaml`` read for the local stack: the specs the emulator, gateway and poller are
built from, every intrinsic resolved with local values (see :mod:`devstack.intrinsics`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.cfn_yaml import TEMPLATE_PATH, read_template
from devstack.intrinsics import DEFAULT_AWS_URL, Resolver, logical_id_of
from devstack.serverless_specs import api_spec, function_spec
from devstack.specs import (
    ApiRoute,
    ApiSpec,
    BucketSpec,
    FunctionSpec,
    QueueNotification,
    QueueSpec,
    SqsSource,
    TableSpec,
)
from devstack.usage_plans import with_usage_plans


@dataclass(frozen=True)
class LocalTemplate:
    """What the local stack is built from."""

    path: Path
    aws_url: str
    environment: dict[str, Any]  # Globals.Function.Environment.Variables, resolved
    functions: dict[str, FunctionSpec]
    apis: dict[str, ApiSpec]
    tables: dict[str, TableSpec]
    queues: dict[str, QueueSpec]
    buckets: dict[str, BucketSpec]

    @classmethod
    def load(
        cls,
        path: Path = TEMPLATE_PATH,
        *,
        aws_url: str = DEFAULT_AWS_URL,
        parameters: dict[str, str] | None = None,
    ) -> LocalTemplate:
        """``parameters`` override the template's defaults, as ``sam deploy --parameter-overrides``."""
        raw = read_template(path)
        resolver = Resolver(raw, aws_url, parameters)
        globals_ = raw.get("Globals", {})
        environment = resolver.resolve(
            globals_.get("Function", {}).get("Environment", {}).get("Variables", {})
        )
        apis = {
            logical_id: api_spec(
                logical_id, {**globals_.get("Api", {}), **resource.get("Properties", {})}, resolver
            )
            for logical_id, resource in _resources_of(raw, "AWS::Serverless::Api")
        }
        apis = with_usage_plans(apis, raw, resolver)
        functions = {
            logical_id: function_spec(
                logical_id, resource, globals_.get("Function", {}), path.parent, resolver, apis
            )
            for logical_id, resource in _resources_of(raw, "AWS::Serverless::Function")
        }
        return cls(
            path=path,
            aws_url=aws_url,
            environment=environment,
            functions=functions,
            apis=apis,
            tables={
                logical_id: TableSpec(
                    logical_id, resolver.ref(logical_id), resolver.resolve(resource["Properties"])
                )
                for logical_id, resource in _resources_of(raw, "AWS::DynamoDB::Table")
            },
            queues={
                logical_id: _queue_spec(logical_id, resource, resolver)
                for logical_id, resource in _resources_of(raw, "AWS::SQS::Queue")
            },
            buckets={
                logical_id: _bucket_spec(logical_id, resource, resolver)
                for logical_id, resource in _resources_of(raw, "AWS::S3::Bucket")
            },
        )

    @property
    def routes(self) -> list[ApiRoute]:
        return [route for function in self.functions.values() for route in function.api_routes]

    @property
    def sqs_sources(self) -> list[SqsSource]:
        return [source for function in self.functions.values() for source in function.sqs_sources]

    def only_api(self) -> ApiSpec:
        if len(self.apis) != 1:
            raise ValueError(f"the local gateway serves one Api; the template has {sorted(self.apis)}")
        return next(iter(self.apis.values()))

    def only_bucket(self) -> BucketSpec:
        if len(self.buckets) != 1:
            raise ValueError(f"expected one bucket in the template, found {sorted(self.buckets)}")
        return next(iter(self.buckets.values()))


def _resources_of(raw: dict[str, Any], kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (logical_id, resource)
        for logical_id, resource in raw.get("Resources", {}).items()
        if resource.get("Type") == kind
    ]


def _queue_spec(logical_id: str, resource: dict[str, Any], resolver: Resolver) -> QueueSpec:
    raw_redrive = resource.get("Properties", {}).get("RedrivePolicy")
    properties = resolver.resolve(resource.get("Properties", {}))
    redrive = properties.get("RedrivePolicy")
    if isinstance(redrive, str):  # the policy may be given as a JSON string
        redrive = json.loads(redrive)
        raw_redrive = redrive
    return QueueSpec(
        logical_id=logical_id,
        name=resolver.physical_name(logical_id),
        url=resolver.ref(logical_id),
        arn=resolver.get_att(logical_id, "Arn"),
        properties=properties,
        dead_letter_queue_id=_queue_id_of_arn(raw_redrive["deadLetterTargetArn"], resolver)
        if raw_redrive
        else None,
        max_receive_count=int(redrive["maxReceiveCount"]) if redrive else None,
    )


def _queue_id_of_arn(value: Any, resolver: Resolver) -> str:
    if isinstance(value, dict):
        return logical_id_of(value)
    for logical_id, resource in resolver.resources.items():
        if resource.get("Type") == "AWS::SQS::Queue" and resolver.get_att(logical_id, "Arn") == value:
            return logical_id
    raise ValueError(f"no queue in the template has the ARN {value!r}")


def _bucket_spec(logical_id: str, resource: dict[str, Any], resolver: Resolver) -> BucketSpec:
    raw_notifications = resource.get("Properties", {}).get("NotificationConfiguration", {})
    properties = resolver.resolve(resource.get("Properties", {}))
    notifications = []
    for raw in raw_notifications.get("QueueConfigurations", []):
        config = resolver.resolve(raw)
        rules = {
            rule["Name"].lower(): rule["Value"]
            for rule in config.get("Filter", {}).get("S3Key", {}).get("Rules", [])
        }
        notifications.append(
            QueueNotification(
                event=config["Event"],
                queue_id=_queue_id_of_arn(raw["Queue"], resolver),
                queue_arn=config["Queue"],
                prefix=rules.get("prefix"),
                suffix=rules.get("suffix"),
            )
        )
    return BucketSpec(
        logical_id=logical_id,
        name=resolver.physical_name(logical_id),
        arn=resolver.get_att(logical_id, "Arn"),
        cors_rules=tuple(properties.get("CorsConfiguration", {}).get("CorsRules", [])),
        lifecycle_rules=tuple(properties.get("LifecycleConfiguration", {}).get("Rules", [])),
        properties=properties,
        queue_notifications=tuple(notifications),
    )
