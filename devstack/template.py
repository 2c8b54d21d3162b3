"""``template.yaml`` read for the local stack: CloudFormation short-form tags, intrinsics resolved
with local values, and the specs the emulator, gateway and poller are built from.

Values only AWS can know (a CloudFront domain, a secret, a function ARN) resolve to
:class:`Unresolved`; the local environment overrides each of them or refuses to start.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
STACK_NAME = "medialib"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
DEFAULT_AWS_URL = "http://127.0.0.1:5000"

_NAME_PROPERTY = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SQS::Queue": "QueueName",
}
_NO_VALUE = object()  # what ``!Ref AWS::NoValue`` resolves to: the key disappears
_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


@dataclass(frozen=True)
class Unresolved:
    """A value only a real deployment knows."""

    expression: str


class CloudFormationLoader(yaml.SafeLoader):
    """A SafeLoader that reads ``!Ref``, ``!Sub``, ``!GetAtt``... as their long form."""


def _construct_intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _construct_intrinsic)


def read_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as plain data, intrinsics in their long form and unresolved."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=CloudFormationLoader)  # noqa: S506


def logical_id_of(value: Any) -> str:
    """The logical id a ``!Ref X`` or ``!GetAtt X.Attr`` names."""
    if isinstance(value, dict) and "Ref" in value:
        return value["Ref"]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return value["Fn::GetAtt"][0]
    raise ValueError(f"expected !Ref or !GetAtt to a resource in the template, got {value!r}")


class Resolver:
    """Resolves intrinsics the way CloudFormation would for stack ``medialib``, with local endpoints."""

    def __init__(self, template: dict[str, Any], aws_url: str = DEFAULT_AWS_URL):
        self.resources: dict[str, Any] = template.get("Resources", {})
        self._conditions: dict[str, Any] = template.get("Conditions", {})
        self._mappings: dict[str, Any] = template.get("Mappings", {})
        self._aws_url = aws_url.rstrip("/")
        self._values: dict[str, Any] = {
            "AWS::StackName": STACK_NAME,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Region": REGION,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{STACK_NAME}/local",
            "AWS::NoValue": _NO_VALUE,
        }
        for name, parameter in template.get("Parameters", {}).items():
            default = parameter.get("Default")
            # CloudFormation hands every parameter over as a string, Number ones included.
            self._values[name] = Unresolved(f"Ref {name}") if default is None else str(default)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in map(self.resolve, value) if item is not _NO_VALUE]
        if isinstance(value, str) and "{{resolve:" in value:  # a dynamic reference: a secret or a parameter
            return Unresolved(value)
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key.startswith("Fn::"):
                return self._function(key[4:], argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def ref(self, name: str) -> Any:
        if name in self._values:
            return self._values[name]
        kind = self._resource(name)["Type"]
        if kind in ("AWS::DynamoDB::Table", "AWS::S3::Bucket"):
            return self.physical_name(name)
        if kind == "AWS::SQS::Queue":
            return f"{self._aws_url}/{ACCOUNT_ID}/{self.physical_name(name)}"
        return Unresolved(f"Ref {name}")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        kind = self._resource(logical_id)["Type"]
        if kind not in _NAME_PROPERTY:
            return Unresolved(f"GetAtt {logical_id}.{attribute}")
        name = self.physical_name(logical_id)
        attributes = {
            "AWS::SQS::Queue": {
                "Arn": f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT_ID}:{name}",
                "QueueName": name,
                "QueueUrl": f"{self._aws_url}/{ACCOUNT_ID}/{name}",
            },
            "AWS::S3::Bucket": {
                "Arn": f"arn:{PARTITION}:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{REGION}.amazonaws.com",
            },
            "AWS::DynamoDB::Table": {"Arn": f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"},
        }[kind]
        return attributes.get(attribute, Unresolved(f"GetAtt {logical_id}.{attribute}"))

    def physical_name(self, logical_id: str) -> str:
        resource = self._resource(logical_id)
        explicit = resource.get("Properties", {}).get(_NAME_PROPERTY[resource["Type"]])
        if explicit is None:
            # CloudFormation would add a random suffix; locally the name stays predictable.
            name = f"{STACK_NAME}-{logical_id}"
            if resource["Type"] == "AWS::S3::Bucket":
                return name.lower()
            fifo = resource.get("Properties", {}).get("FifoQueue") in (True, "true")
            return f"{name}.fifo" if fifo else name
        name = self.resolve(explicit)
        if not isinstance(name, str):
            raise ValueError(f"{logical_id}: its name does not resolve locally: {explicit!r}")
        return name

    def _resource(self, logical_id: str) -> dict[str, Any]:
        if logical_id not in self.resources:
            raise KeyError(f"template refers to {logical_id!r}, which is neither a parameter nor a resource")
        return self.resources[logical_id]

    def _function(self, name: str, argument: Any) -> Any:
        if name == "GetAtt":
            logical_id, attribute = argument
            return self.get_att(logical_id, self.resolve(attribute))
        if name == "Sub":
            return self._sub(argument)
        if name == "If":
            condition, when_true, when_false = argument
            return self.resolve(when_true if self.condition(condition) else when_false)
        if name in ("Equals", "And", "Or", "Not"):
            return self._truth({f"Fn::{name}": argument})
        if name == "FindInMap":
            mapping, top, second = self.resolve(argument)
            return self._mappings[mapping][top][second]
        arguments = self.resolve(argument)
        if any(isinstance(item, Unresolved) for item in _flatten(arguments)):
            return Unresolved(f"Fn::{name} {argument!r}")
        if name == "Join":
            return arguments[0].join(str(item) for item in arguments[1])
        if name == "Select":
            return arguments[1][int(arguments[0])]
        if name == "Split":
            return arguments[1].split(arguments[0])
        if name == "Base64":
            return base64.b64encode(str(arguments).encode()).decode()
        if name == "GetAZs":
            return [f"{REGION}{zone}" for zone in "abcdef"]
        return Unresolved(f"Fn::{name} {argument!r}")

    def _sub(self, argument: Any) -> Any:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        if "{{resolve:" in text:  # a dynamic reference: only CloudFormation can read the secret
            return Unresolved(f"Fn::Sub {text}")
        variables = self.resolve(variables)
        missing: list[str] = []

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                value = variables[name]
            elif "." in name:
                value = self.get_att(*name.split(".", 1))
            else:
                value = self.ref(name)
            if isinstance(value, Unresolved):
                missing.append(name)
                return ""
            return str(value)

        result = _SUB_VARIABLE.sub(substitute, text)
        return Unresolved(f"Fn::Sub {text}") if missing else result

    def condition(self, name: str) -> bool:
        return self._truth(self._conditions[name])

    def _truth(self, expression: Any) -> bool:
        if isinstance(expression, bool):
            return expression
        ((key, argument),) = expression.items()
        if key == "Condition":
            return self.condition(argument)
        if key == "Fn::Equals":
            left, right = (self.resolve(item) for item in argument)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self._truth(argument[0])
        if key == "Fn::And":
            return all(self._truth(item) for item in argument)
        if key == "Fn::Or":
            return any(self._truth(item) for item in argument)
        raise ValueError(f"not a condition: {expression!r}")


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [leaf for item in value for leaf in _flatten(item)]
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _flatten(item)]
    return [value]


def _unquote(value: Any) -> str:
    """API Gateway header values in SAM are quoted string literals: ``"'*'"`` means ``*``."""
    text = str(value)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "'" else text


# ---------------------------------------------------------------- specs


@dataclass(frozen=True)
class ApiRoute:
    function_id: str
    event_name: str
    api_id: str
    path: str
    method: str  # upper case; ANY matches every method
    authorizer: str | None  # the authorizer's name, None for ``Auth: {Authorizer: NONE}``


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
class ApiSpec:
    logical_id: str
    stage_name: str
    default_authorizer: str | None
    authorizers: dict[str, AuthorizerSpec]
    authorize_preflight: bool
    cors: CorsSpec | None
    gateway_responses: dict[str, GatewayResponseSpec]
    binary_media_types: tuple[str, ...]

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
    def load(cls, path: Path = TEMPLATE_PATH, *, aws_url: str = DEFAULT_AWS_URL) -> LocalTemplate:
        raw = read_template(path)
        resolver = Resolver(raw, aws_url)
        globals_ = raw.get("Globals", {})
        environment = resolver.resolve(
            globals_.get("Function", {}).get("Environment", {}).get("Variables", {})
        )
        apis = {
            logical_id: _api_spec(
                logical_id, {**globals_.get("Api", {}), **resource.get("Properties", {})}, resolver
            )
            for logical_id, resource in _resources_of(raw, "AWS::Serverless::Api")
        }
        functions = {
            logical_id: _function_spec(
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


def _api_spec(logical_id: str, properties: dict[str, Any], resolver: Resolver) -> ApiSpec:
    auth = properties.get("Auth", {})
    authorizers = {}
    for name, config in auth.get("Authorizers", {}).items():
        identity = config.get("Identity", {})
        payload_type = config.get("FunctionPayloadType", "TOKEN")
        headers = (
            identity.get("Headers", [])
            if payload_type == "REQUEST"
            else [identity.get("Header", "Authorization")]
        )
        authorizers[name] = AuthorizerSpec(
            name=name,
            function_id=logical_id_of(config["FunctionArn"]),
            payload_type=payload_type,
            identity_headers=tuple(headers),
            identity_query_strings=tuple(identity.get("QueryStrings", [])),
            ttl_seconds=int(identity.get("ReauthorizeEvery", 300)),
            validation_expression=identity.get("ValidationExpression"),
        )
    cors = properties.get("Cors")
    if isinstance(cors, str):
        cors = {"AllowOrigin": cors}
    responses = {
        kind: GatewayResponseSpec(
            status_code=int(config["StatusCode"]) if "StatusCode" in config else None,
            headers={
                name: str(value)
                for name, value in config.get("ResponseParameters", {}).get("Headers", {}).items()
            },
            templates=dict(config.get("ResponseTemplates", {})),
        )
        for kind, config in resolver.resolve(properties.get("GatewayResponses", {})).items()
    }
    return ApiSpec(
        logical_id=logical_id,
        stage_name=str(resolver.resolve(properties.get("StageName", "Prod"))),
        default_authorizer=auth.get("DefaultAuthorizer"),
        authorizers=authorizers,
        authorize_preflight=bool(auth.get("AddDefaultAuthorizerToCorsPreflight", True)),
        cors=None
        if cors is None
        else CorsSpec(
            allow_origin=_unquote(cors.get("AllowOrigin", "'*'")),
            allow_headers=_unquote(cors["AllowHeaders"]) if "AllowHeaders" in cors else None,
            allow_methods=_unquote(cors["AllowMethods"]) if "AllowMethods" in cors else None,
            expose_headers=_unquote(cors["ExposeHeaders"]) if "ExposeHeaders" in cors else None,
            max_age=_unquote(cors["MaxAge"]) if "MaxAge" in cors else None,
            allow_credentials=bool(cors.get("AllowCredentials", False)),
        ),
        gateway_responses=responses,
        binary_media_types=tuple(
            str(item).replace("~1", "/") for item in properties.get("BinaryMediaTypes", [])
        ),
    )


def _function_spec(
    logical_id: str,
    resource: dict[str, Any],
    globals_: dict[str, Any],
    root: Path,
    resolver: Resolver,
    apis: dict[str, ApiSpec],
) -> FunctionSpec:
    properties = {**globals_, **resource.get("Properties", {})}
    code_uri = properties.get("CodeUri")
    if not isinstance(code_uri, str) or code_uri.startswith("s3://"):
        raise ValueError(f"{logical_id}: the local stack needs a local CodeUri directory, got {code_uri!r}")
    environment = {
        **globals_.get("Environment", {}).get("Variables", {}),
        **resource.get("Properties", {}).get("Environment", {}).get("Variables", {}),
    }
    routes, sqs_sources, schedules = [], [], []
    for event_name, event in properties.get("Events", {}).items():
        config = event.get("Properties", {})
        if event["Type"] == "Api":
            api_id = logical_id_of(config["RestApiId"]) if "RestApiId" in config else "ServerlessRestApi"
            api = apis.get(api_id)
            authorizer = config.get("Auth", {}).get("Authorizer", api.default_authorizer if api else None)
            routes.append(
                ApiRoute(
                    function_id=logical_id,
                    event_name=event_name,
                    api_id=api_id,
                    path=config["Path"],
                    method=str(config["Method"]).upper(),
                    authorizer=None if authorizer in (None, "NONE") else authorizer,
                )
            )
        elif event["Type"] == "SQS":
            sqs_sources.append(
                SqsSource(
                    function_id=logical_id,
                    event_name=event_name,
                    queue_id=logical_id_of(config["Queue"]),
                    batch_size=int(config.get("BatchSize", 10)),
                    function_response_types=tuple(config.get("FunctionResponseTypes", [])),
                    enabled=bool(config.get("Enabled", True)),
                )
            )
        elif event["Type"] in ("Schedule", "ScheduleV2"):
            schedules.append(
                ScheduleSource(
                    logical_id,
                    event_name,
                    str(config.get("Schedule") or config.get("ScheduleExpression")),
                    config.get("Input"),
                )
            )
    return FunctionSpec(
        logical_id=logical_id,
        code_dir=(root / code_uri).resolve(),
        handler=properties["Handler"],
        memory_size=int(properties.get("MemorySize", 128)),
        timeout=float(properties.get("Timeout", 3)),
        environment=resolver.resolve(environment),
        api_routes=tuple(routes),
        sqs_sources=tuple(sqs_sources),
        schedules=tuple(schedules),
    )


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
