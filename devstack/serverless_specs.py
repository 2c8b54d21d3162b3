"""The Api and function specs, read from the template's SAM resources (``AWS::Serverless::Api``,
``AWS::Serverless::Function``) and their shorthand: Globals, the default authorizer, quoted CORS
values, event sources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devstack.intrinsics import Resolver, logical_id_of
from devstack.specs import (
    ApiRoute,
    ApiSpec,
    AuthorizerSpec,
    CorsSpec,
    FunctionSpec,
    GatewayResponseSpec,
    ScheduleSource,
    SqsSource,
)


def api_spec(logical_id: str, properties: dict[str, Any], resolver: Resolver) -> ApiSpec:
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
        api_key_required=_true(auth.get("ApiKeyRequired", False)),
        api_key_source=str(resolver.resolve(properties.get("ApiKeySourceType", "HEADER"))),
    )


def function_spec(
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
            auth = config.get("Auth", {})
            authorizer = auth.get("Authorizer", api.default_authorizer if api else None)
            key_required = auth.get("ApiKeyRequired", api.api_key_required if api else False)
            routes.append(
                ApiRoute(
                    function_id=logical_id,
                    event_name=event_name,
                    api_id=api_id,
                    path=config["Path"],
                    method=str(config["Method"]).upper(),
                    authorizer=None if authorizer in (None, "NONE") else authorizer,
                    api_key_required=_true(key_required),
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


def _true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _unquote(value: Any) -> str:
    """API Gateway header values in SAM are quoted string literals: ``"'*'"`` means ``*``."""
    text = str(value)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "'" else text
