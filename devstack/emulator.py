"""moto in server mode on 127.0.0.1, holding the tables, queues and bucket ``template.yaml`` declares."""

from __future__ import annotations

import json
import logging
import socket
import threading
import urllib.request
from typing import Any

import boto3
from botocore.config import Config
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from devstack.emulator_requests import OneRequestAtATime
from devstack.local_account import REGION
from devstack.specs import BucketSpec, QueueSpec, TableSpec
from devstack.template import LocalTemplate

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
_TABLE_PROPERTIES = (
    "KeySchema",
    "AttributeDefinitions",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "ProvisionedThroughput",
    "Tags",
    "TableClass",
    "DeletionProtectionEnabled",
)
_QUEUE_NOT_ATTRIBUTES = ("QueueName", "Tags")
_CORS_RULE_KEYS = {
    "AllowedHeaders": "AllowedHeaders",
    "AllowedMethods": "AllowedMethods",
    "AllowedOrigins": "AllowedOrigins",
    "ExposedHeaders": "ExposeHeaders",
    "Id": "ID",
    "MaxAge": "MaxAgeSeconds",
}


class Emulator:
    """S3, SQS and DynamoDB on ``http://127.0.0.1:<port>``; port 0 picks a free one."""

    def __init__(self, port: int = 0):
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._clients: list[Any] = []
        self.url = ""

    def start(self) -> str:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every request through it
        if self._port and not port_is_free(self._port):  # werkzeug would print and sys.exit() instead
            raise OSError(f"127.0.0.1:{self._port} is in use; pick another emulator port")
        # moto's own ThreadedMotoServer, but with its requests run one at a time (see emulator_requests).
        app = OneRequestAtATime(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            "127.0.0.1", self._port, app, threaded=True, request_handler=MotoRequestHandler
        )
        port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"devstack-emulator-{port}", daemon=True
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{port}"
        # moto's backends are process-wide: start empty whatever ran in this process before.
        self._reset_state()
        return self.url

    def stop(self) -> None:
        for client in self._clients:
            client.close()  # closes kept-alive connections, so moto's request threads end
        self._clients.clear()
        server, thread, self._server, self._thread = self._server, self._thread, None, None
        if server is not None and thread is not None:
            server.shutdown()
            thread.join()
            server.server_close()

    def client(self, service: str) -> Any:
        client = boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
            **CREDENTIALS,
        )
        self._clients.append(client)
        return client

    def create_resources(self, template: LocalTemplate) -> None:
        dynamodb, sqs, s3 = self.client("dynamodb"), self.client("sqs"), self.client("s3")
        for table in template.tables.values():
            create_table(dynamodb, table)
        for queue in _dead_letter_queues_first(template.queues):
            create_queue(sqs, queue)
        for bucket in template.buckets.values():
            create_bucket(s3, bucket)

    def reset(self, template: LocalTemplate) -> None:
        """Forget every table, queue and object, then create the template's resources again."""
        self._reset_state()
        self.create_resources(template)

    def _reset_state(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own emulator
            response.read()


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def create_table(dynamodb: Any, table: TableSpec) -> None:
    properties = table.properties
    request: dict[str, Any] = {
        "TableName": table.name,
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
    }
    request.update({key: properties[key] for key in _TABLE_PROPERTIES if key in properties})
    if "SSESpecification" in properties:  # CloudFormation says SSEEnabled where the API says Enabled
        sse = dict(properties["SSESpecification"])
        request["SSESpecification"] = {"Enabled": sse.pop("SSEEnabled", False), **sse}
    if "StreamSpecification" in properties:
        request["StreamSpecification"] = {"StreamEnabled": True, **properties["StreamSpecification"]}
    dynamodb.create_table(**request)
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(TableName=table.name, TimeToLiveSpecification=ttl)


def create_queue(sqs: Any, queue: QueueSpec) -> None:
    attributes = {
        key: _attribute_value(value)
        for key, value in queue.properties.items()
        if key not in _QUEUE_NOT_ATTRIBUTES
    }
    sqs.create_queue(QueueName=queue.name, Attributes=attributes)


def create_bucket(s3: Any, bucket: BucketSpec) -> None:
    s3.create_bucket(Bucket=bucket.name)  # us-east-1 takes no LocationConstraint
    # The emulator stands in for the CDN in front of the bucket (MEDIA_BASE_URL), so reads need no
    # credentials. The template's own bucket policy is not applied: it admits CloudFront only, over TLS.
    read_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "LocalDelivery",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"{bucket.arn}/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket=bucket.name, Policy=json.dumps(read_policy))
    if bucket.cors_rules:
        rules = [{_CORS_RULE_KEYS[key]: value for key, value in rule.items()} for rule in bucket.cors_rules]
        s3.put_bucket_cors(Bucket=bucket.name, CORSConfiguration={"CORSRules": rules})
    if bucket.lifecycle_rules:
        rules = [lifecycle_rule(rule) for rule in bucket.lifecycle_rules]
        s3.put_bucket_lifecycle_configuration(Bucket=bucket.name, LifecycleConfiguration={"Rules": rules})
    versioning = bucket.properties.get("VersioningConfiguration")
    if versioning:
        s3.put_bucket_versioning(Bucket=bucket.name, VersioningConfiguration={"Status": versioning["Status"]})
    if bucket.queue_notifications:
        configurations = []
        for notification in bucket.queue_notifications:
            rules = [
                {"Name": name, "Value": value}
                for name, value in (("prefix", notification.prefix), ("suffix", notification.suffix))
                if value
            ]
            configuration: dict[str, Any] = {
                "QueueArn": notification.queue_arn,
                "Events": [notification.event],
            }
            if rules:
                configuration["Filter"] = {"Key": {"FilterRules": rules}}
            configurations.append(configuration)
        s3.put_bucket_notification_configuration(
            Bucket=bucket.name, NotificationConfiguration={"QueueConfigurations": configurations}
        )


def lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in the shape of the S3 API."""
    converted: dict[str, Any] = {"Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    expiration = {}
    for key, value in rule.items():
        if key in ("Status", "Prefix"):
            continue
        if key == "Id":
            converted["ID"] = value
        elif key == "AbortIncompleteMultipartUpload":
            converted[key] = value
        elif key == "ExpirationInDays":
            expiration["Days"] = value
        elif key == "ExpiredObjectDeleteMarker":
            expiration["ExpiredObjectDeleteMarker"] = value
        elif key == "NoncurrentVersionExpirationInDays":
            converted["NoncurrentVersionExpiration"] = {"NoncurrentDays": value}
        elif key == "NoncurrentVersionExpiration":
            converted[key] = {"NoncurrentDays": value["NoncurrentDays"]}
        elif key == "Transitions":
            converted[key] = [
                {"StorageClass": item["StorageClass"], "Days": item["TransitionInDays"]} for item in value
            ]
        else:
            raise ValueError(f"lifecycle rule property {key!r} is not emulated yet; extend devstack.emulator")
    if expiration:
        converted["Expiration"] = expiration
    return converted


def _attribute_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def _dead_letter_queues_first(queues: dict[str, QueueSpec]) -> list[QueueSpec]:
    ordered: list[QueueSpec] = []

    def visit(queue: QueueSpec) -> None:
        if queue in ordered:
            return
        if queue.dead_letter_queue_id:
            visit(queues[queue.dead_letter_queue_id])
        ordered.append(queue)

    for queue in queues.values():
        visit(queue)
    return ordered
