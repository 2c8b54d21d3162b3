"""The local stack: template loading, routing and proxy events, the emulator's notifications,
the poller, and LocalStack's start and stop.

The gateway and LocalStack tests run against a small template of their own with fake handlers
written to tmp_path, so they test the machinery, not the media handlers.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import logging
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote_plus

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from werkzeug.test import Client

from devstack.cfn_yaml import REPO_ROOT, read_template
from devstack.emulator import Emulator
from devstack.emulator_requests import OneRequestAtATime
from devstack.environment import build_environment
from devstack.gateway import LocalApiGateway
from devstack.intrinsics import Unresolved
from devstack.routing import RouteTable
from devstack.runtime import FunctionRuntime
from devstack.specs import ApiRoute, FunctionSpec
from devstack.stack import LocalStack
from devstack.template import LocalTemplate

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAcCBlCwAAAABJRU5ErkJggg=="
)

FAKE_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  StageName: {Type: String, Default: test}
Globals:
  Function:
    Runtime: python3.12
    Timeout: 10
    Environment:
      Variables:
        ITEMS_TABLE: !Ref ItemsTable
        ITEMS_BUCKET: !Ref ItemsBucket
        WORK_QUEUE_NAME: !GetAtt WorkQueue.QueueName
        MEDIA_BASE_URL: !Sub "https://${Cdn.DomainName}"
        CURSOR_SIGNING_KEY: "{{resolve:secretsmanager:cursor:SecretString}}"
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: !Ref StageName
      Auth:
        DefaultAuthorizer: KeyAuthorizer
        AddDefaultAuthorizerToCorsPreflight: false
        Authorizers:
          KeyAuthorizer:
            FunctionArn: !GetAtt AuthFunction.Arn
            FunctionPayloadType: REQUEST
            Identity: {Headers: [Authorization], ReauthorizeEvery: 0}
      Cors:
        AllowOrigin: "'*'"
        AllowHeaders: "'Authorization,Content-Type'"
      GatewayResponses:
        UNAUTHORIZED:
          StatusCode: 401
          ResponseParameters:
            Headers: {Content-Type: "'application/problem+json'", X-Request-Id: "context.requestId"}
          ResponseTemplates:
            application/json: '{"code": "unauthorized", "request_id": "$context.requestId"}'
        MISSING_AUTHENTICATION_TOKEN:
          StatusCode: 404
          ResponseParameters:
            Headers: {Content-Type: "'application/problem+json'", X-Request-Id: "context.requestId"}
          ResponseTemplates:
            application/json: '{"code": "not_found", "request_id": "$context.requestId"}'
        DEFAULT_5XX:
          ResponseParameters:
            Headers: {Content-Type: "'application/problem+json'", Retry-After: "'1'"}
          ResponseTemplates:
            application/json: '{"code": "unavailable", "request_id": "$context.requestId"}'
  AuthFunction:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: fns/, Handler: AUTH.lambda_handler, MemorySize: 256}
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fns/
      Handler: ECHO.lambda_handler
      Events:
        ListItems: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /items, Method: GET}}
        GetItem: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/items/{item_id}", Method: GET}}
        PostItem: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/items/{item_id}", Method: POST}}
        Special: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /items/special, Method: GET}}
        Files: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/files/{path+}", Method: GET}}
        Ping:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /ping, Method: GET, Auth: {Authorizer: NONE}}
        Boom: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /boom, Method: GET}}
        Malformed: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /malformed, Method: GET}}
        Binary: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /binary, Method: GET}}
  WorkerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fns/
      Handler: WORKER.lambda_handler
      Events:
        Arrived:
          Type: SQS
          Properties:
            Queue: !GetAtt WorkQueue.Arn
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
  ItemsTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-items"
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
  WorkQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 120
      RedrivePolicy: {deadLetterTargetArn: !GetAtt WorkDeadLetterQueue.Arn, maxReceiveCount: 3}
  WorkDeadLetterQueue:
    Type: AWS::SQS::Queue
  ItemsBucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${AWS::StackName}-items-${AWS::AccountId}"
      NotificationConfiguration:
        QueueConfigurations:
          - Event: "s3:ObjectCreated:*"
            Queue: !GetAtt WorkQueue.Arn
            Filter: {S3Key: {Rules: [{Name: prefix, Value: incoming/}]}}
  Cdn:
    Type: AWS::CloudFront::Distribution
    Properties: {}
"""

AUTH_HANDLER = """\
CALLS = []


def lambda_handler(event, context):
    CALLS.append(event)
    token = event["headers"].get("Authorization", "")
    if token == "Bearer boom":
        raise RuntimeError("a bug in the authorizer")
    if token == "Bearer nested":
        return {"principalId": "k", "policyDocument": {"Statement": []}, "context": {"scopes": ["a"]}}
    if token not in ("Bearer good", "Bearer deny"):
        raise Exception("Unauthorized")
    api = event["methodArn"].split("/", 1)[0]
    effect = "Deny" if token == "Bearer deny" else "Allow"
    statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": api + "/*/*"}
    return {
        "principalId": "key-1",
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        "context": {"tenant_id": "t1", "count": 3, "admin": False},
    }
"""

ECHO_HANDLER = """\
import base64
import json

PNG = base64.b64decode("PNG_BASE64")


def lambda_handler(event, context):
    resource = event["resource"]
    if resource == "/boom":
        raise RuntimeError("a bug in the handler")
    if resource == "/malformed":
        return {"statusCode": 200, "body": {"not": "a string"}}
    if resource == "/binary":
        body = base64.b64encode(PNG).decode()
        headers = {"Content-Type": "image/png"}
        return {"statusCode": 200, "headers": headers, "body": body, "isBase64Encoded": True}
    seen = {
        "function_name": context.function_name,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "invoked_function_arn": context.invoked_function_arn,
        "aws_request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "X-Echo": "1"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": json.dumps({"event": event, "context": seen}),
    }
"""

WORKER_HANDLER = """\
RECORDS = []


def lambda_handler(event, context):
    RECORDS.extend(event["Records"])
    failed = [record["messageId"] for record in event["Records"] if "fail-me" in record["body"]]
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
"""


@pytest.fixture
def fake_project(tmp_path: Path) -> dict[str, object]:
    """A template with its own fake handlers; module names are unique per test, since handler
    modules stay imported in the process."""
    suffix = uuid.uuid4().hex[:8]
    modules = {
        "auth": f"fake_auth_{suffix}",
        "echo": f"fake_echo_{suffix}",
        "worker": f"fake_worker_{suffix}",
    }
    functions = tmp_path / "fns"
    functions.mkdir()
    (functions / f"{modules['auth']}.py").write_text(AUTH_HANDLER)
    (functions / f"{modules['echo']}.py").write_text(
        ECHO_HANDLER.replace("PNG_BASE64", base64.b64encode(PNG).decode())
    )
    (functions / f"{modules['worker']}.py").write_text(WORKER_HANDLER)
    template = (
        FAKE_TEMPLATE.replace("AUTH.", f"{modules['auth']}.")
        .replace("ECHO.", f"{modules['echo']}.")
        .replace("WORKER.", f"{modules['worker']}.")
    )
    (tmp_path / "template.yaml").write_text(template)
    return {"template_path": tmp_path / "template.yaml", "modules": modules}


@pytest.fixture
def gateway(fake_project: dict[str, object]) -> Client:
    template = LocalTemplate.load(fake_project["template_path"])  # type: ignore[arg-type]
    runtime = FunctionRuntime(template.functions)
    return Client(LocalApiGateway(template.only_api(), template.routes, runtime))


def body_of(response) -> dict:
    return json.loads(response.get_data(as_text=True))


# ---------------------------------------------------------------- template.yaml


def test_template_resolves_names_of_tables_bucket_and_queues():
    # Given the project's template, When it is loaded for the local stack
    template = LocalTemplate.load(aws_url="http://127.0.0.1:5999")

    # Then names resolve as CloudFormation would for stack "medialib"
    table_names = {table.name for table in template.tables.values()}
    assert {"medialib-media", "medialib-tenants", "medialib-api-keys"} <= table_names
    assert template.only_bucket().name == "medialib-media-123456789012-us-east-1"
    queue = template.queues["ProcessQueue"]
    assert queue.url == "http://127.0.0.1:5999/123456789012/medialib-ProcessQueue"
    assert queue.arn == "arn:aws:sqs:us-east-1:123456789012:medialib-ProcessQueue"
    assert queue.dead_letter_queue_id == "ProcessDeadLetterQueue"
    assert template.environment["MEDIA_TABLE"] == "medialib-media"
    assert template.environment["MEDIA_BUCKET"] == "medialib-media-123456789012-us-east-1"
    assert isinstance(template.environment["MEDIA_BASE_URL"], Unresolved)
    # The cursor key is read from a secret in AWS: its ARN resolves only there
    media_api = template.functions["MediaApiFunction"].environment
    assert isinstance(media_api["CURSOR_SIGNING_SECRET_ARN"], Unresolved)


def test_only_originals_feed_the_process_queue_and_each_queue_feeds_a_function():
    template = LocalTemplate.load()

    (notification,) = template.only_bucket().queue_notifications

    assert notification.prefix == "originals/"
    assert notification.event == "s3:ObjectCreated:*"
    assert notification.queue_id == "ProcessQueue"
    feeds = {source.queue_id: source.function_id for source in template.sqs_sources}
    assert feeds == {"ProcessQueue": "ProcessFunction", "ProcessDeadLetterQueue": "DeadLetterFunction"}


def test_routes_are_every_api_event_of_the_template():
    raw = read_template()
    expected = {
        (str(event["Properties"]["Method"]).upper(), event["Properties"]["Path"], logical_id)
        for logical_id, resource in raw["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
        for event in resource.get("Properties", {}).get("Events", {}).values()
        if event["Type"] == "Api"
    }

    routes = {(route.method, route.path, route.function_id) for route in LocalTemplate.load().routes}

    assert routes == expected
    assert ("POST", "/v1/media/presign", "UploadsApiFunction") in routes


def test_authorizer_is_the_api_default_except_where_a_route_opts_out():
    template = LocalTemplate.load()
    api = template.only_api()

    authorizer = api.authorizers[api.default_authorizer]  # type: ignore[index]

    assert authorizer.function_id == "AuthorizerFunction"
    assert authorizer.payload_type == "REQUEST"
    assert authorizer.identity_headers == ("Authorization",)
    opted_out = {
        event["Properties"]["Path"]
        for resource in read_template()["Resources"].values()
        for event in resource.get("Properties", {}).get("Events", {}).values()
        if event["Type"] == "Api" and event["Properties"].get("Auth", {}).get("Authorizer") == "NONE"
    }
    open_routes = {route.path for route in template.routes if route.authorizer is None}
    assert open_routes == opted_out
    assert {"/v1/openapi.json", "/v1/docs"} <= open_routes
    assert {route.authorizer for route in template.routes if route.authorizer} == {api.default_authorizer}
    assert {"UNAUTHORIZED", "MISSING_AUTHENTICATION_TOKEN", "DEFAULT_5XX"} <= set(api.gateway_responses)


def test_environment_replaces_what_only_aws_knows():
    template = LocalTemplate.load(aws_url="http://127.0.0.1:5999")

    environment = build_environment(template, aws_url="http://127.0.0.1:5999")

    assert environment["MEDIA_BASE_URL"] == "http://127.0.0.1:5999/medialib-media-123456789012-us-east-1"
    assert len(environment["CURSOR_SIGNING_KEY"]) >= 16
    assert environment["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5999"
    assert environment["MEDIA_TABLE"] == "medialib-media"
    assert environment["UPLOAD_URL_TTL_SECONDS"] == "900"
    assert all(isinstance(value, str) for value in environment.values())


# ---------------------------------------------------------------- routing


def test_static_segments_win_over_parameters_then_the_method_decides():
    table = RouteTable(LocalTemplate.load().routes)

    presign = table.match("/v1/media/presign")
    item = table.match("/v1/media/med_123")

    assert presign is not None and presign.resource == "/v1/media/presign"
    assert presign.route_for("POST").function_id == "UploadsApiFunction"  # type: ignore[union-attr]
    assert presign.route_for("GET") is None  # API Gateway does not fall back to /v1/media/{id}
    assert item is not None and item.resource.startswith("/v1/media/{")
    assert list(item.path_parameters.values()) == ["med_123"]
    assert item.route_for("GET").function_id == "MediaApiFunction"  # type: ignore[union-attr]
    assert table.match("/v1/nothing-here") is None
    assert table.match("/v1/media/med_1/extra/segments") is None


def test_greedy_parameters_match_the_rest_of_the_path_and_decode():
    def route(path: str) -> ApiRoute:
        return ApiRoute("F", path, "Api", path, "GET", None)

    table = RouteTable([route("/files/{path+}"), route("/files/{name}"), route("/files/index")])

    assert table.match("/files/index").resource == "/files/index"  # type: ignore[union-attr]
    assert table.match("/files/a%20b").path_parameters == {"name": "a b"}  # type: ignore[union-attr]
    deep = table.match("/files/a/b%2Fc")
    assert deep is not None and deep.resource == "/files/{path+}"
    assert deep.path_parameters == {"path": "a/b/c"}
    assert table.match("/files") is None


# ---------------------------------------------------------------- the gateway


def test_gateway_builds_a_rest_proxy_event_with_the_authorizer_context(gateway: Client):
    response = gateway.post(
        "/items/a%20b?tag=x&tag=y&empty=",
        data=json.dumps({"name": "n"}),
        headers={"Authorization": "Bearer good", "Content-Type": "application/json"},
    )

    assert response.status_code == 200
    echoed = body_of(response)
    event, context = echoed["event"], echoed["context"]
    assert event["resource"] == "/items/{item_id}"
    assert event["path"] == "/items/a%20b"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"item_id": "a b"}
    assert event["queryStringParameters"] == {"tag": "y", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"tag": ["x", "y"], "empty": [""]}
    assert event["headers"]["Authorization"] == "Bearer good"
    assert event["multiValueHeaders"]["Content-Type"] == ["application/json"]
    assert event["stageVariables"] is None
    assert event["body"] == '{"name": "n"}' and event["isBase64Encoded"] is False
    request_context = event["requestContext"]
    assert uuid.UUID(request_context["requestId"])
    assert request_context["stage"] == "test"
    assert request_context["resourcePath"] == "/items/{item_id}"
    assert request_context["httpMethod"] == "POST"
    assert request_context["path"] == "/test/items/a%20b"
    assert request_context["accountId"] == "123456789012"
    assert request_context["identity"]["sourceIp"] == "127.0.0.1"
    authorizer = request_context["authorizer"]
    assert authorizer["principalId"] == "key-1"
    assert (authorizer["tenant_id"], authorizer["count"], authorizer["admin"]) == ("t1", "3", "false")
    assert context["function_name"] == "medialib-EchoFunction"
    assert context["memory_limit_in_mb"] == 128
    assert context["invoked_function_arn"].endswith(":function:medialib-EchoFunction")
    assert 0 < context["remaining_ms"] <= 10_000
    assert response.headers["X-Echo"] == "1"
    assert sorted(response.headers.getlist("Set-Cookie")) == ["a=1", "b=2"]
    assert "Access-Control-Allow-Origin" not in response.headers  # the function's job, not the gateway's


def test_gateway_runs_the_authorizer_with_a_request_payload(gateway: Client, fake_project):
    gateway.get("/items/42", headers={"Authorization": "Bearer good"})

    auth_module = sys.modules[fake_project["modules"]["auth"]]
    event = auth_module.CALLS[-1]
    assert event["type"] == "REQUEST"
    assert event["methodArn"].endswith(":123456789012:api/test/GET/items/42")
    assert event["resource"] == "/items/{item_id}"
    assert event["path"] == "/items/42"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"item_id": "42"}
    assert event["headers"]["Authorization"] == "Bearer good"
    assert event["requestContext"]["resourcePath"] == "/items/{item_id}"


def test_binary_bodies_travel_base64_both_ways(gateway: Client):
    upload = gateway.post(
        "/items/1", data=PNG, headers={"Authorization": "Bearer good", "Content-Type": "image/png"}
    )
    download = gateway.get("/binary", headers={"Authorization": "Bearer good"})

    event = body_of(upload)["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == PNG
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "image/png"
    assert download.get_data() == PNG


def test_static_route_and_greedy_route_through_the_gateway(gateway: Client):
    special = body_of(gateway.get("/items/special", headers={"Authorization": "Bearer good"}))["event"]
    files = body_of(gateway.get("/files/a/b.txt", headers={"Authorization": "Bearer good"}))["event"]

    assert special["resource"] == "/items/special" and special["pathParameters"] is None
    assert files["resource"] == "/files/{path+}" and files["pathParameters"] == {"path": "a/b.txt"}


def test_routes_without_an_authorizer_skip_it(gateway: Client, fake_project):
    auth_module_name = fake_project["modules"]["auth"]

    response = gateway.get("/ping")

    assert response.status_code == 200
    assert "authorizer" not in body_of(response)["event"]["requestContext"]
    assert auth_module_name not in sys.modules  # never imported, never called


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "unauthorized"),  # no identity source: the authorizer is not even called
        ({"Authorization": "Bearer wrong"}, 401, "unauthorized"),  # raise Exception("Unauthorized")
    ],
)
def test_unauthorized_is_the_templates_gateway_response(gateway: Client, headers, status, code):
    response = gateway.get("/items", headers=headers)

    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    body = body_of(response)
    assert body["code"] == code
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert uuid.UUID(body["request_id"])


def test_a_deny_policy_is_access_denied(gateway: Client):
    response = gateway.get("/items", headers={"Authorization": "Bearer deny"})

    # ACCESS_DENIED is not in this template: API Gateway's own default answers.
    assert response.status_code == 403
    assert body_of(response) == {
        "message": "User is not authorized to access this resource with an explicit deny"
    }


@pytest.mark.parametrize("token", ["boom", "nested"])
def test_a_failing_or_invalid_authorizer_is_a_5xx(gateway: Client, token: str):
    response = gateway.get("/items", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 500
    assert body_of(response)["code"] == "unavailable"
    assert response.headers["Retry-After"] == "1"


@pytest.mark.parametrize(("method", "path"), [("GET", "/nowhere"), ("DELETE", "/items"), ("PUT", "/items/1")])
def test_unknown_routes_and_methods_are_missing_authentication_token(gateway: Client, method, path):
    response = gateway.open(path, method=method, headers={"Authorization": "Bearer good"})

    assert response.status_code == 404
    assert body_of(response)["code"] == "not_found"
    assert response.headers["X-Request-Id"] == body_of(response)["request_id"]


@pytest.mark.parametrize("path", ["/boom", "/malformed"])
def test_a_failing_handler_or_a_malformed_result_is_the_default_5xx(gateway: Client, path: str):
    response = gateway.get(path, headers={"Authorization": "Bearer good"})

    assert response.status_code == 502  # DEFAULT_5XX sets no StatusCode, so API Gateway's 502 stays
    assert body_of(response)["code"] == "unavailable"
    assert response.headers["Content-Type"] == "application/problem+json"


def test_preflight_is_answered_from_the_api_cors_settings(gateway: Client):
    response = gateway.options("/items/1")

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Headers"] == "Authorization,Content-Type"
    assert response.headers["Access-Control-Allow-Methods"] == "GET,OPTIONS,POST"
    assert gateway.options("/nowhere").status_code == 404


# ---------------------------------------------------------------- the runtime

SHARED_LOGGER_MODULE = """\
import io
import threading

from aws_lambda_powertools import Logger

LINES = io.StringIO()
logger = Logger(service="fake", stream=LINES, level="INFO")
API_PAUSED, API_MAY_GO_ON = threading.Event(), threading.Event()
"""

API_LIKE_HANDLER = """\
from SHARED import API_MAY_GO_ON, API_PAUSED, logger


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event, context):
    logger.append_keys(tenant_id=event["tenant_id"])
    logger.info("api started")
    API_PAUSED.set()
    API_MAY_GO_ON.wait(timeout=10)
    logger.info("api finished")
"""

PROCESSING_LIKE_HANDLER = """\
from SHARED import logger


@logger.inject_lambda_context
def lambda_handler(event, context):
    for media_id in event["media_ids"]:
        logger.append_keys(media_id=media_id)
        logger.info("processed")
"""


def test_each_function_logs_with_its_own_keys_while_another_runs(tmp_path: Path):
    # Given two functions that log through one shared Powertools logger, as the media functions do
    suffix = uuid.uuid4().hex[:8]
    shared, api, processing = f"fake_shared_{suffix}", f"fake_api_{suffix}", f"fake_processing_{suffix}"
    (tmp_path / f"{shared}.py").write_text(SHARED_LOGGER_MODULE)
    (tmp_path / f"{api}.py").write_text(API_LIKE_HANDLER.replace("SHARED", shared))
    (tmp_path / f"{processing}.py").write_text(PROCESSING_LIKE_HANDLER.replace("SHARED", shared))
    runtime = FunctionRuntime(
        {
            logical_id: FunctionSpec(
                logical_id, tmp_path, f"{module}.lambda_handler", 128, 10, {}, (), (), ()
            )
            for logical_id, module in (("ApiFunction", api), ("ProcessFunction", processing))
        }
    )
    runtime.invoke("ProcessFunction", {"media_ids": ["med_0"]})  # warm, as a running stack is

    # When processing runs while an API invocation is halfway through, and again after it
    with ThreadPoolExecutor(1) as pool:
        api_call = pool.submit(runtime.invoke, "ApiFunction", {"tenant_id": "t1"})
        assert sys.modules[shared].API_PAUSED.wait(timeout=10)
        runtime.invoke("ProcessFunction", {"media_ids": ["med_1", "med_2"]})
        sys.modules[shared].API_MAY_GO_ON.set()
        api_call.result()
    runtime.invoke("ProcessFunction", {"media_ids": ["med_3"]})

    # Then every line carries its own function's name and keys, and none of the other's
    lines = [json.loads(line) for line in sys.modules[shared].LINES.getvalue().splitlines()]
    seen = [
        (line["message"], line["function_name"], line.get("tenant_id"), line.get("media_id"))
        for line in lines
    ]
    assert seen == [
        ("processed", "medialib-ProcessFunction", None, "med_0"),
        ("api started", "medialib-ApiFunction", "t1", None),
        ("processed", "medialib-ProcessFunction", None, "med_1"),
        ("processed", "medialib-ProcessFunction", None, "med_2"),
        ("api finished", "medialib-ApiFunction", "t1", None),
        ("processed", "medialib-ProcessFunction", None, "med_3"),
    ]


# ---------------------------------------------------------------- the emulator


def test_originals_reach_the_process_queue_and_variants_do_not():
    # Given the emulator with the template's resources
    emulator = Emulator(port=0)
    url = emulator.start()
    try:
        template = LocalTemplate.load(aws_url=url)
        emulator.create_resources(template)
        s3, sqs = emulator.client("s3"), emulator.client("sqs")
        bucket, queue = template.only_bucket().name, template.queues["ProcessQueue"]

        # When a variant and then an original land in the bucket
        s3.put_object(Bucket=bucket, Key="variants/med_1/400.webp", Body=b"variant")
        s3.put_object(Bucket=bucket, Key="originals/med_1/photo one.jpg", Body=b"original")

        # Then only the original's event is on the queue (S3's own s3:TestEvent aside)
        keys = received_object_keys(sqs, queue.url, until="originals/med_1/photo one.jpg")
        assert keys == ["originals/med_1/photo one.jpg"]
        tables = emulator.client("dynamodb").list_tables()["TableNames"]
        assert {table.name for table in template.tables.values()} <= set(tables)
        attributes = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["RedrivePolicy"])[
            "Attributes"
        ]
        assert json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"].endswith(
            "ProcessDeadLetterQueue"
        )

        # And objects are readable without credentials, as through the CDN (MEDIA_BASE_URL)
        delivered = requests.get(f"{url}/{bucket}/variants/med_1/400.webp", timeout=10)
        assert (delivered.status_code, delivered.content) == (200, b"variant")

        # And a reset empties everything and recreates the resources
        emulator.reset(template)
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    finally:
        emulator.stop()


def received_object_keys(sqs, queue_url: str, until: str, timeout: float = 10.0) -> list[str]:
    keys: list[str] = []
    deadline = time.monotonic() + timeout
    while until not in keys and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            keys += [
                unquote_plus(record["s3"]["object"]["key"])
                for record in json.loads(message["Body"]).get("Records", [])
            ]
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    # Anything else the notification let through would already be there: S3 -> SQS is synchronous here.
    for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        keys += [
            unquote_plus(record["s3"]["object"]["key"])
            for record in json.loads(message["Body"]).get("Records", [])
        ]
    return keys


TRANSACTING_THREADS = 8
TRANSACTIONS_PER_THREAD = 25


@pytest.fixture
def emulator():
    emulator = Emulator(port=0)
    emulator.start()
    yield emulator
    emulator.stop()


def no_retry_client(emulator: Emulator, service: str):
    """A client that reports the emulator's first answer: a retried 500 would hide the failure."""
    return boto3.client(
        service,
        endpoint_url=emulator.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"}),
    )


def test_overlapping_transactions_neither_fail_nor_lose_writes(emulator: Emulator):
    # Given a table large enough that the emulator takes a while to snapshot it for each transaction
    dynamodb = emulator.client("dynamodb")
    dynamodb.create_table(
        TableName="counters",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    for start in range(0, 200, 25):
        filler = [{"PutRequest": {"Item": {"pk": {"S": f"filler-{n}"}}}} for n in range(start, start + 25)]
        dynamodb.batch_write_item(RequestItems={"counters": filler})

    def transact(worker: int) -> list[str]:
        client, unexpected = no_retry_client(emulator, "dynamodb"), []
        for round_ in range(TRANSACTIONS_PER_THREAD):
            # One that commits: its counter goes up by one and an item of its own appears ...
            increment = {
                "Update": {
                    "TableName": "counters",
                    "Key": {"pk": {"S": f"counter-{worker}"}},
                    "UpdateExpression": "ADD hits :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            }
            mark = {"Put": {"TableName": "counters", "Item": {"pk": {"S": f"done-{worker}-{round_}"}}}}
            # ... and one that fails its condition, so the emulator rolls the table back.
            missing = {
                "ConditionCheck": {
                    "TableName": "counters",
                    "Key": {"pk": {"S": "missing"}},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            }
            never = {"Put": {"TableName": "counters", "Item": {"pk": {"S": f"never-{worker}-{round_}"}}}}
            for items, expected in (([increment, mark], "committed"), ([missing, never], "cancelled")):
                try:
                    client.transact_write_items(TransactItems=items)
                    outcome = "committed"
                except ClientError as error:
                    code = error.response["Error"]["Code"]
                    status = error.response["ResponseMetadata"]["HTTPStatusCode"]
                    outcome = "cancelled" if code == "TransactionCanceledException" else f"{code} ({status})"
                if outcome != expected:
                    unexpected.append(outcome)
        client.close()
        return unexpected

    # When threads run overlapping transactions, half of them failing their condition
    with ThreadPoolExecutor(TRANSACTING_THREADS) as pool:
        unexpected = [
            answer for answers in pool.map(transact, range(TRANSACTING_THREADS)) for answer in answers
        ]

    # Then every transaction got DynamoDB's answer and every committed write is still there
    assert unexpected == []
    keys = {
        item["pk"]["S"]: item
        for page in dynamodb.get_paginator("scan").paginate(TableName="counters")
        for item in page["Items"]
    }
    hits = {worker: int(keys[f"counter-{worker}"]["hits"]["N"]) for worker in range(TRANSACTING_THREADS)}
    assert hits == dict.fromkeys(range(TRANSACTING_THREADS), TRANSACTIONS_PER_THREAD)
    assert sum(key.startswith("done-") for key in keys) == TRANSACTING_THREADS * TRANSACTIONS_PER_THREAD
    assert not [key for key in keys if key.startswith("never-")]


def test_the_emulator_logs_its_failures_and_server_errors(caplog):
    # Given moto's application failing one way or the other
    def raising(environ, start_response):
        raise RuntimeError("dictionary changed size during iteration")

    def unavailable(environ, start_response):
        start_response("503 SERVICE UNAVAILABLE", [("Content-Type", "application/json")])
        return [b"{}"]

    # When a request reaches each
    with caplog.at_level(logging.INFO, logger="devstack.emulator"):
        failed = Client(OneRequestAtATime(raising)).post(
            "/", data=b"{}", headers={"X-Amz-Target": "DynamoDB_20120810.TransactWriteItems"}
        )
        refused = Client(OneRequestAtATime(unavailable)).get("/bucket/key")

    # Then the client gets a server error, and the stack's output says which request failed and why
    assert (failed.status_code, refused.status_code) == (500, 503)
    assert [(record.levelname, record.getMessage()) for record in caplog.records] == [
        ("ERROR", "the emulator failed on DynamoDB_20120810.TransactWriteItems"),
        ("ERROR", "the emulator answered 503 SERVICE UNAVAILABLE to GET /bucket/key"),
    ]
    assert "dictionary changed size" in caplog.text  # the traceback is logged with the first


LONG_POLL_SECONDS = 10


def test_a_long_poll_lets_other_requests_run_and_ends_at_the_notification(emulator: Emulator):
    # Given a bucket that notifies a queue of every object created, and a consumer long-polling it
    sqs, s3 = emulator.client("sqs"), emulator.client("s3")
    queue_url = sqs.create_queue(QueueName="arrivals")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    s3.create_bucket(Bucket="arrivals-bucket")
    notify = {"QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]}
    s3.put_bucket_notification_configuration(Bucket="arrivals-bucket", NotificationConfiguration=notify)
    sqs.purge_queue(QueueUrl=queue_url)  # S3's own s3:TestEvent
    consumer = no_retry_client(emulator, "sqs")
    started = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        poll = pool.submit(consumer.receive_message, QueueUrl=queue_url, WaitTimeSeconds=LONG_POLL_SECONDS)

        # When an object lands while the consumer waits
        s3.put_object(Bucket="arrivals-bucket", Key="incoming/photo.jpg", Body=b"x")
        put_returned = time.monotonic() - started
        messages = poll.result().get("Messages", [])
        poll_returned = time.monotonic() - started
    consumer.close()

    # Then the upload did not wait for the poll, and the poll ended with the notification
    assert put_returned < LONG_POLL_SECONDS / 2
    assert [
        unquote_plus(record["s3"]["object"]["key"])
        for message in messages
        for record in json.loads(message["Body"])["Records"]
    ] == ["incoming/photo.jpg"]
    assert poll_returned < LONG_POLL_SECONDS / 2


# ---------------------------------------------------------------- LocalStack


def test_local_stack_runs_on_free_ports_and_stops_everything(fake_project):
    environment_before = dict(os.environ)
    with LocalStack(
        port=0, aws_port=0, template_path=fake_project["template_path"], seed_demo=False
    ) as stack:
        api_port, aws_port = int(stack.api_url.rsplit(":", 1)[1]), int(stack.aws_url.rsplit(":", 1)[1])
        assert stack.api_url.startswith("http://127.0.0.1:") and api_port != 0
        assert stack.aws_url.startswith("http://127.0.0.1:") and aws_port not in (0, api_port)
        assert os.environ["AWS_ENDPOINT_URL"] == stack.aws_url
        assert os.environ["ITEMS_TABLE"] == "medialib-items"

        # The gateway answers over real HTTP
        assert requests.get(f"{stack.api_url}/ping", timeout=10).status_code == 200
        missing = requests.get(f"{stack.api_url}/nowhere", timeout=10)
        assert missing.status_code == 404 and missing.json()["request_id"] == missing.headers["X-Request-Id"]

        # The poller hands S3 events to the function and keeps only the failed message
        s3 = stack.client("s3")
        for key in ("incoming/ok.txt", "incoming/fail-me.txt", "elsewhere/skip.txt"):
            s3.put_object(Bucket=stack.bucket, Key=key, Body=b"x")
        stack.wait_for_queues_idle(timeout=30)

        records = sys.modules[fake_project["modules"]["worker"]].RECORDS
        keys = {
            unquote_plus(json.loads(r["body"])["Records"][0]["s3"]["object"]["key"])
            for r in records
            if "Records" in r["body"]
        }
        assert keys == {"incoming/ok.txt", "incoming/fail-me.txt"}
        record = records[-1]
        assert record["eventSource"] == "aws:sqs"
        assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:medialib-WorkQueue"
        assert record["awsRegion"] == "us-east-1"
        assert record["attributes"]["ApproximateReceiveCount"] == "1"
        assert {"messageId", "receiptHandle", "md5OfBody", "messageAttributes"} <= set(record)
        queue_url = f"{stack.aws_url}/123456789012/medialib-WorkQueue"
        counts = stack.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])[
            "Attributes"
        ]
        assert (counts["ApproximateNumberOfMessages"], counts["ApproximateNumberOfMessagesNotVisible"]) == (
            "0",
            "1",
        )

    # After the stack: no thread of ours, nothing listening, the environment as it was
    assert not [thread.name for thread in threading.enumerate() if thread.name.startswith("devstack-")]
    for port in (api_port, aws_port):
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    assert dict(os.environ) == environment_before


def test_only_one_local_stack_runs_per_process(fake_project):
    second = LocalStack(template_path=fake_project["template_path"], seed_demo=False)
    with (
        LocalStack(template_path=fake_project["template_path"], seed_demo=False),
        pytest.raises(RuntimeError),
    ):
        second.start()


SEEDED_STACK_SCRIPT = textwrap.dedent(
    """
    import json
    from devstack.stack import LocalStack

    with LocalStack(port=0, aws_port=0) as stack:
        from medialib.services.api_keys import authenticate

        principal = authenticate("Bearer " + stack.demo_key)
        print(json.dumps({"tenant": principal.tenant_id, "scopes": sorted(principal.scopes)}))
    """
)


@pytest.mark.skipif(
    importlib.util.find_spec("medialib.services.api_keys") is None, reason="api_keys not written yet"
)
def test_local_stack_seeds_a_demo_key_with_every_scope():
    # A process of its own: the real template's handlers and settings are process-wide.
    result = subprocess.run(
        [sys.executable, "-c", SEEDED_STACK_SCRIPT],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    seeded = json.loads(result.stdout.strip().splitlines()[-1])
    assert seeded == {"tenant": "demo", "scopes": ["media:delete", "media:read", "media:write"]}
