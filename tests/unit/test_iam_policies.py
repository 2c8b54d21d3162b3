"""Every function's IAM role allows each AWS call its code makes, and grants nothing it never uses.

Each function runs through its real handler, with its sample events from events/, on moto, while
every request botocore builds (presigned URLs and POST forms included: a client's upload is
authorised by the signer's permissions) is recorded. Each recorded call becomes the IAM actions
and resources it needs, checked against the function's role as SAM's transform expands
template.yaml. Every invocation starts cold, with the environment template.yaml gives that
function, so a function that reads the cursor key from Secrets Manager shows that read too.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import authorizer
import boto3
import catalogue_api
import docs_api
import media_api
import process
import public_api
import pytest
import sweeper
import uploads_api
from botocore.client import BaseClient
from botocore.signers import S3PostPresigner
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from devstack.intrinsics import Resolver
from devstack.local_account import ACCOUNT_ID, PARTITION
from medialib.domain.errors import Unavailable
from medialib.domain.media import variant_key
from medialib.settings import LOCAL_KEY_VARIABLE, SECRET_ARN_VARIABLE, Settings, get_settings
from tests.support import api
from tests.support.api import CONTEXT, call, land
from tests.support.aws import mocked_aws
from tests.support.events import api_event, load_event, sqs_event_for

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
DEAD_LETTERS_CODE = ROOT / "functions" / "dead_letters" / "dead_letters.py"
DISTRIBUTION_VARIABLE = "MEDIA_DISTRIBUTION_ID"


# ---------------------------------------------------------------- the template's policies
class _NoManagedPolicies:
    @staticmethod
    def load() -> dict:
        return {}


@cache
def _raw_template() -> dict[str, Any]:
    return yaml_parse(TEMPLATE.read_text())


@cache
def _translated_template() -> dict[str, Any]:
    packaged = copy.deepcopy(_raw_template())
    for name, resource in packaged["Resources"].items():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if key in properties:
                properties[key] = f"s3://artifacts/{name}.zip"
    previous = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    try:
        return transform(packaged, {}, _NoManagedPolicies())
    finally:
        if previous is not None:
            os.environ["AWS_DEFAULT_REGION"] = previous


def _function_ids() -> list[str]:
    return [
        logical_id
        for logical_id, resource in _raw_template()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    ]


def _role_statements(function_id: str) -> list[dict[str, Any]]:
    """The inline statements of the function's role, as SAM expands its policies (unresolved)."""
    role = _translated_template()["Resources"][f"{function_id}Role"]
    return [
        statement
        for policy in role["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Grant:
    actions: tuple[str, ...]
    resources: tuple[str, ...]

    def allows(self, action: str, resource: str) -> bool:
        return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in self.actions) and any(
            fnmatch.fnmatchcase(resource, pattern) for pattern in self.resources
        )


def _grants(function_id: str, secret_arn: str, distribution_id: str = "") -> list[Grant]:
    """The role's Allow statements with every intrinsic resolved as for stack ``medialib`` on moto."""
    translated = _translated_template()
    resolver = Resolver(translated)
    grants = []
    for statement in _role_statements(function_id):
        assert statement["Effect"] == "Allow", statement
        resources = []
        for resource in _listed(statement["Resource"]):
            if "CursorSigningSecret" in json.dumps(resource):
                resources.append(secret_arn)  # CloudFormation's ARN for it is moto's here
                continue
            if "MediaDistribution" in json.dumps(resource):
                resources.append(_distribution_arn(distribution_id))  # moto's distribution here
                continue
            resolved = resolver.resolve(resource)
            assert isinstance(resolved, str), f"{function_id}: {resource!r} does not resolve"
            resources.append(resolved)
        grants.append(Grant(tuple(_listed(statement["Action"])), tuple(resources)))
    return grants


# ---------------------------------------------------------------- recording the calls
@dataclass(frozen=True)
class Permission:
    action: str
    resource: str


def _distribution_arn(distribution_id: str) -> str:
    return f"arn:{PARTITION}:cloudfront::{ACCOUNT_ID}:distribution/{distribution_id}"


def _table_arn(region: str, table: str, index: str | None = None) -> str:
    arn = f"arn:{PARTITION}:dynamodb:{region}:{ACCOUNT_ID}:table/{table}"
    return f"{arn}/index/{index}" if index else arn


_S3_OBJECT_ACTIONS = {
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "DeleteObject": "s3:DeleteObject",
}
_TRANSACT_WRITE_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}
_DYNAMODB_TABLE_OPERATIONS = {
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "DescribeTable",
}


def permissions_of(service: str, operation: str, params: dict[str, Any], region: str) -> list[Permission]:
    """What IAM checks for one call (the service authorisation reference's mapping)."""
    if service == "s3":
        bucket = f"arn:{PARTITION}:s3:::{params['Bucket']}"
        if operation == "CreateBucket" and "Key" in params:  # a presigned POST (see the recorder)
            return [Permission("s3:PutObject", f"{bucket}/{params['Key']}")]
        if operation in ("ListObjectsV2", "ListObjects"):
            return [Permission("s3:ListBucket", bucket)]
        if operation == "DeleteObjects":
            return [
                Permission("s3:DeleteObject", f"{bucket}/{o['Key']}") for o in params["Delete"]["Objects"]
            ]
        if operation in _S3_OBJECT_ACTIONS:
            return [Permission(_S3_OBJECT_ACTIONS[operation], f"{bucket}/{params['Key']}")]
    if service == "dynamodb":
        if operation in _DYNAMODB_TABLE_OPERATIONS:
            arn = _table_arn(region, params["TableName"], params.get("IndexName"))
            return [Permission(f"dynamodb:{operation}", arn)]
        if operation == "TransactWriteItems":
            return [
                Permission(_TRANSACT_WRITE_ACTIONS[kind], _table_arn(region, body["TableName"]))
                for item in params["TransactItems"]
                for kind, body in item.items()
            ]
        if operation == "TransactGetItems":
            return [
                Permission("dynamodb:GetItem", _table_arn(region, item["Get"]["TableName"]))
                for item in params["TransactItems"]
            ]
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [
                Permission(f"dynamodb:{operation}", _table_arn(region, table))
                for table in params["RequestItems"]
            ]
    if service == "cloudfront" and operation == "CreateInvalidation":
        return [Permission("cloudfront:CreateInvalidation", _distribution_arn(params["DistributionId"]))]
    if service == "secretsmanager" and operation == "GetSecretValue":
        return [Permission("secretsmanager:GetSecretValue", params["SecretId"])]
    raise AssertionError(f"no IAM mapping for {service} {operation}: add it to permissions_of")


@dataclass
class Recorder:
    active: bool = False
    permissions: set[Permission] = field(default_factory=set)
    read_cursor_key: bool = False
    _post_bucket: str | None = None

    def record(self, client: BaseClient, operation_model: Any, params: dict[str, Any]) -> None:
        if not self.active:
            return
        if operation_model.name == "CreateBucket" and self._post_bucket is None and "Key" not in params:
            # botocore builds a presigned POST on CreateBucket's model; the key comes with the form.
            self._post_bucket = params["Bucket"]
            return
        service = operation_model.service_model.service_name
        self.permissions.update(
            permissions_of(service, operation_model.name, params, client.meta.region_name)
        )

    def record_post_form(self, fields: dict[str, Any]) -> None:
        bucket, self._post_bucket = self._post_bucket, None
        if self.active and bucket is not None:
            self.permissions.update(
                permissions_of("s3", "CreateBucket", {"Bucket": bucket, "Key": fields["key"]}, "")
            )


@pytest.fixture
def recorder(monkeypatch) -> Recorder:
    """Records every request botocore builds: API calls, presigned URLs and presigned POST forms."""
    recorder = Recorder()
    build_request = BaseClient._convert_to_request_dict

    def recording(self, api_params, operation_model, *args, **kwargs):
        recorder.record(self, operation_model, api_params)
        return build_request(self, api_params, operation_model, *args, **kwargs)

    monkeypatch.setattr(BaseClient, "_convert_to_request_dict", recording)
    sign_post = S3PostPresigner.generate_presigned_post

    def recording_post(self, request_dict, fields=None, *args, **kwargs):
        recorder.record_post_form(fields or {})
        return sign_post(self, request_dict, fields, *args, **kwargs)

    monkeypatch.setattr(S3PostPresigner, "generate_presigned_post", recording_post)
    read_key = Settings.cursor_signing_key

    def reading_key(settings: Settings) -> str:
        recorder.read_cursor_key = recorder.read_cursor_key or recorder.active
        return read_key.__get__(settings)

    monkeypatch.setattr(Settings, "cursor_signing_key", property(reading_key))
    return recorder


@contextmanager
def _environment_of(function_id: str, secret_arn: str, distribution_id: str) -> Iterator[None]:
    """The function's own environment for the cursor key and the CDN, with settings read afresh
    (a cold start)."""
    own = {SECRET_ARN_VARIABLE: secret_arn} if _declares_secret_arn(function_id) else {}
    own[DISTRIBUTION_VARIABLE] = distribution_id
    saved = {
        name: os.environ.pop(name, None)
        for name in (SECRET_ARN_VARIABLE, LOCAL_KEY_VARIABLE, DISTRIBUTION_VARIABLE)
    }
    os.environ.update(own)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value
        get_settings.cache_clear()


@dataclass
class FunctionRun:
    """Invokes one function's handler as that function, recording only what the handler does."""

    function_id: str
    module: ModuleType
    recorder: Recorder
    secret_arn: str
    distribution_id: str

    def lambda_handler(self, event: dict[str, Any], context: Any) -> Any:
        with _environment_of(self.function_id, self.secret_arn, self.distribution_id):
            self.recorder.active = True
            try:
                return self.module.lambda_handler(event, context)
            finally:
                self.recorder.active = False

    def invoke(self, event: dict[str, Any]) -> Any:
        return self.lambda_handler(event, CONTEXT)

    def api(self, event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        return call(self, event)


# ---------------------------------------------------------------- what each function does
def _confirmed_upload(data: bytes) -> tuple[str, dict[str, Any]]:
    """An upload confirmed but not processed yet; returns its id and its storage event record."""
    status, _, presigned = api.presign(size=len(data))
    assert status == 201, presigned
    upload_id = presigned["data"]["upload_id"]
    record = land(upload_id, data)
    status, _, confirmed = api.uploads("confirm-upload", body={"upload_id": upload_id})
    assert status == 201, confirmed
    return upload_id, record


def authorizer_flow(run: FunctionRun) -> None:
    from medialib.domain.principal import SCOPES
    from medialib.services.api_keys import create_key

    _, key = create_key("demo", SCOPES)
    event = load_event("authorizer-request")
    event["headers"]["authorization"] = f"Bearer {key}"
    assert run.invoke(event)["context"]["tenant_id"] == "demo"
    event["headers"]["authorization"] = "Bearer mlk_UNKNOWNKEYID00000_" + "x" * 43
    with pytest.raises(Exception, match="Unauthorized"):
        run.invoke(event)


def media_api_flow(run: FunctionRun) -> None:
    kept, deleted = api.make_item(), api.make_item()
    status, _, page = run.api(api_event("list-media", query={"limit": "1"}))
    assert status == 200 and page["pagination"]["next_cursor"], page
    cursor = page["pagination"]["next_cursor"]
    assert run.api(api_event("list-media", query={"limit": "1", "cursor": cursor}))[0] == 200
    assert run.api(api_event("get-media", media_id=kept["id"]))[0] == 200
    fresh = {"If-Match": f'"{kept["version"]}"'}
    assert run.api(api_event("patch-media", media_id=kept["id"], headers=fresh))[0] == 200
    assert run.api(api_event("delete-media", media_id=deleted["id"]))[0] == 204


def uploads_api_flow(run: FunctionRun) -> None:
    data = api.distinct_jpeg()
    body = {"filename": "red-mug.jpg", "content_type": "image/jpeg", "size": len(data)}
    status, _, presigned = run.api(
        api_event("presign-upload", body=body, headers={"Idempotency-Key": "iam-presign"})
    )
    assert status == 201, presigned
    upload_id = presigned["data"]["upload_id"]
    record = land(upload_id, data)
    assert run.api(api_event("confirm-upload", body={"upload_id": upload_id}))[0] == 201
    api.process_records(record)
    assert run.api(api_event("check-duplicates"))[0] == 200
    # A copy whose storage event was processed before its confirm: discarded with its variants.
    status, _, copy_presigned = run.api(api_event("presign-upload", body=body))
    assert status == 201, copy_presigned
    copy_id = copy_presigned["data"]["upload_id"]
    api.process_records(land(copy_id, data))
    status, _, problem = run.api(
        api_event("confirm-upload", body={"upload_id": copy_id, "on_duplicate": "reject"})
    )
    assert (status, problem["code"]) == (409, "duplicate"), problem
    # A PUT upload larger than it declared: removed at confirm.
    status, _, put = run.api(api_event("presign-upload", body={**body, "size": 100, "method": "PUT"}))
    assert status == 201, put
    land(put["data"]["upload_id"], api.distinct_jpeg())
    status, _, problem = run.api(api_event("confirm-upload", body={"upload_id": put["data"]["upload_id"]}))
    assert status == 413, problem


def catalogue_api_flow(run: FunctionRun) -> None:
    item = api.make_item()
    status, _, created = run.api(api_event("create-tag", headers={"Idempotency-Key": "iam-tag"}))
    assert status == 201, created
    tag_id = created["data"]["id"]
    on_item = {"media_id": item["id"]}
    for event, expected in [
        (api_event("list-tags"), 200),
        (api_event("patch-tag", path={"tag_id": tag_id}), 200),
        (api_event("add-item-tag", path=on_item, body={"tag_id": tag_id}), 200),
        (api_event("get-item-tags", path=on_item), 200),
        (api_event("replace-item-tags", path=on_item, body={"tag_ids": [tag_id]}), 200),
        (api_event("remove-item-tag", path={**on_item, "tag_id": tag_id}), 200),
        (api_event("delete-tag", path={"tag_id": tag_id}), 204),
        (api_event("create-folder", body={"path": "/images/old"}), 201),
        (api_event("list-folders"), 200),
        (api_event("delete-folder"), 204),
        (api_event("put-entity-media", body={"media_ids": [item["id"]]}), 200),
        (api_event("get-entity-media"), 200),
    ]:
        status, _, body = run.api(event)
        assert status // 100 == expected // 100, (event["resource"], event["httpMethod"], status, body)


def public_api_flow(run: FunctionRun) -> None:
    from medialib.services.api_keys import create_tenant

    create_tenant("demo", public=True)
    item = api.make_item()
    api.make_item()
    assert run.api(api_event("public-list-media", query={"limit": "1"}))[0] == 200
    assert run.api(api_event("public-get-media", media_id=item["id"]))[0] == 200


def docs_api_flow(run: FunctionRun) -> None:
    assert run.api(load_event("get-openapi"))[0] == 200
    assert run.api(load_event("get-docs"))[0] == 200


def process_flow(run: FunctionRun) -> None:
    good = _confirmed_upload(api.distinct_jpeg())
    assert run.invoke(sqs_event_for([good[1]])) == {"batchItemFailures": []}
    whole = api.distinct_jpeg(400, 300)
    broken = _confirmed_upload(whole[: len(whole) // 2])  # a truncated JPEG: the item fails
    _left_by_a_crashed_attempt(broken[0])
    assert run.invoke(sqs_event_for([broken[1]])) == {"batchItemFailures": []}
    assert api.get_item(good[0])["status"] == "ready"  # type: ignore[index]


def _left_by_a_crashed_attempt(media_id: str) -> None:
    """A variant an earlier run wrote before it crashed: the item's failure must remove it."""
    key = variant_key("demo", media_id, "earlier", "150")
    boto3.client("s3").put_object(Bucket=api.bucket(), Key=key, Body=b"RIFF")


def sweeper_flow(run: FunctionRun, monkeypatch: pytest.MonkeyPatch) -> None:
    from medialib.adapters import object_storage
    from medialib.services import sweeping

    stalled_id, _ = _confirmed_upload(api.distinct_jpeg())  # its storage event was lost
    status, _, expired = api.presign()  # never confirmed
    assert status == 201
    land(expired["data"]["upload_id"], api.distinct_jpeg())
    purged = api.make_item()
    with monkeypatch.context() as storage_down:
        storage_down.setattr(object_storage, "delete_keys", _storage_down)
        assert api.media("delete-media", media_id=purged["id"])[0] == 204  # its purge is left to do

    class ThreeHoursLater(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return datetime.now(tz) + timedelta(hours=3)

    monkeypatch.setattr(sweeping, "datetime", ThreeHoursLater)
    report = run.invoke(load_event("sweeper-scheduled"))
    assert report["reprocessed"] == {stalled_id: "ready"}, report
    assert report["expired"] == 1 and report["purged"] == 1, report


def _storage_down(keys: Any) -> None:
    raise Unavailable("Storage is unavailable; retry")


def dead_letter_flow(run: FunctionRun) -> None:
    media_id, record = _confirmed_upload(api.distinct_jpeg())
    _left_by_a_crashed_attempt(media_id)
    event = load_event("dead-letter-original-landed")
    event["Records"][0]["body"] = sqs_event_for([record])["Records"][0]["body"]
    assert run.invoke(event) == {"batchItemFailures": []}
    failed = api.get_item(media_id)
    assert failed is not None and failed["status"] == "failed", failed


FLOWS: dict[str, tuple[Callable[[], ModuleType], Callable[..., None]]] = {
    "AuthorizerFunction": (lambda: authorizer, authorizer_flow),
    "MediaApiFunction": (lambda: media_api, media_api_flow),
    "UploadsApiFunction": (lambda: uploads_api, uploads_api_flow),
    "CatalogueApiFunction": (lambda: catalogue_api, catalogue_api_flow),
    "PublicApiFunction": (lambda: public_api, public_api_flow),
    "DocsApiFunction": (lambda: docs_api, docs_api_flow),
    "ProcessFunction": (lambda: process, process_flow),
    "SweeperFunction": (lambda: sweeper, sweeper_flow),
    "DeadLetterFunction": (lambda: __import__("dead_letters"), dead_letter_flow),
}


# ---------------------------------------------------------------- the checks
@dataclass
class FlowResult:
    used: set[Permission]
    secret_arn: str
    read_cursor_key: bool
    distribution_id: str


def _run_flow(function_id: str, recorder: Recorder, monkeypatch: pytest.MonkeyPatch) -> FlowResult:
    assert function_id in FLOWS, f"{function_id} has no flow here: add one that runs its sample events"
    if function_id == "DeadLetterFunction" and not DEAD_LETTERS_CODE.exists():
        pytest.skip("functions/dead_letters/dead_letters.py is not written yet")
    module, flow = FLOWS[function_id]
    with mocked_aws():
        secret_arn = boto3.client("secretsmanager").create_secret(
            Name="medialib-cursor-signing", SecretString="a-cursor-signing-key-for-the-tests"
        )["ARN"]
        distribution_id = _moto_distribution()
        run = FunctionRun(function_id, module(), recorder, secret_arn, distribution_id)
        if function_id == "SweeperFunction":
            flow(run, monkeypatch)
        else:
            flow(run)
    return FlowResult(set(recorder.permissions), secret_arn, recorder.read_cursor_key, distribution_id)


def _moto_distribution() -> str:
    """A distribution for the purges to invalidate, as the template's MediaDistribution."""
    origin = {
        "Id": "media",
        "DomainName": "media.s3.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
    }
    config = {
        "CallerReference": "iam-test",
        "Comment": "",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [origin]},
        "DefaultCacheBehavior": {"TargetOriginId": "media", "ViewerProtocolPolicy": "redirect-to-https"},
    }
    return boto3.client("cloudfront").create_distribution(DistributionConfig=config)["Distribution"]["Id"]


@pytest.mark.parametrize("function_id", _function_ids())
def test_the_role_allows_every_call_the_code_makes(function_id, recorder, monkeypatch):
    # Given the function's role as deployed, When its handler runs its sample events
    result = _run_flow(function_id, recorder, monkeypatch)
    grants = _grants(function_id, result.secret_arn, result.distribution_id)

    # Then IAM would allow every call it made
    denied = sorted(
        f"{p.action} on {p.resource}"
        for p in result.used
        if not any(grant.allows(p.action, p.resource) for grant in grants)
    )
    assert denied == [], f"{function_id}'s role in template.yaml does not allow: {denied}"
    # And grants nothing its code never uses (DynamoDB policy templates are judged by table:
    # their action lists are SAM's, not ours)
    unused = sorted(_unused(grants, result.used))
    if _declares_secret_arn(function_id) and not result.read_cursor_key:
        unused.append("the cursor signing secret: it never signs or verifies a cursor")
    assert unused == [], f"{function_id}'s role in template.yaml grants what its code never uses: {unused}"


def _declares_secret_arn(function_id: str) -> bool:
    properties = _raw_template()["Resources"][function_id]["Properties"]
    return SECRET_ARN_VARIABLE in properties.get("Environment", {}).get("Variables", {})


def _unused(grants: list[Grant], used: set[Permission]) -> Iterator[str]:
    for grant in grants:
        if all(action.startswith("dynamodb:") for action in grant.actions):
            touched = any(
                p.action.startswith("dynamodb:") and _table_of(p.resource) == _table_of(resource)
                for p in used
                for resource in grant.resources
            )
            if not touched:
                yield f"{grant.actions[0]}... on {', '.join(grant.resources)}"
            continue
        for action in grant.actions:
            for resource in grant.resources:
                if not any(
                    p.action.lower() == action.lower() and fnmatch.fnmatchcase(p.resource, resource)
                    for p in used
                ):
                    yield f"{action} on {resource}"


def _table_of(arn: str) -> str:
    return arn.split(":table/", 1)[-1].split("/", 1)[0]


def test_the_sweeper_may_read_originals_and_write_variants_to_redrive_stalled_items(recorder, monkeypatch):
    # Given an item stalled in processing, When the sweeper re-drives it
    result = _run_flow("SweeperFunction", recorder, monkeypatch)

    # Then it read the original and wrote variants, and its role allows both
    bucket = "arn:aws:s3:::medialib-media-123456789012-us-east-1"
    grants = _grants("SweeperFunction", result.secret_arn, result.distribution_id)
    for action, prefix in (("s3:GetObject", "originals/"), ("s3:PutObject", "variants/")):
        calls = [p for p in result.used if p.action == action and p.resource.startswith(f"{bucket}/{prefix}")]
        assert calls, f"the sweeper made no {action} on {prefix}"
        assert all(any(grant.allows(p.action, p.resource) for grant in grants) for p in calls)


def test_only_the_functions_that_sign_cursors_hold_the_signing_secret():
    holders = {
        function_id
        for function_id in _function_ids()
        if any("CursorSigningSecret" in json.dumps(statement) for statement in _role_statements(function_id))
    }
    with_arn = {function_id for function_id in _function_ids() if _declares_secret_arn(function_id)}

    assert holders == with_arn == {"MediaApiFunction", "PublicApiFunction"}
    assert not any(
        "secret" in name.lower()
        for name in _raw_template()["Globals"]["Function"]["Environment"]["Variables"]
    )
    assert LOCAL_KEY_VARIABLE not in TEMPLATE.read_text()


def test_no_role_grants_a_wildcard_action():
    translated = _translated_template()
    wildcards = [
        (logical_id, action)
        for logical_id, resource in translated["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
        for policy in resource["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
        for action in _listed(statement["Action"])
        if "*" in action
    ]
    assert wildcards == []
