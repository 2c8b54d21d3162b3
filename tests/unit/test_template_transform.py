"""template.yaml must survive SAM's own transform, which `sam deploy` runs and cfn-lint does not
fully check (it accepted a Cors key that SAM rejects)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from samtranslator.public.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


class _NoManagedPolicies:
    """The translator asks IAM for managed policy ARNs; the template uses none by name."""

    @staticmethod
    def load() -> dict:
        return {}


def _packaged(template: dict) -> dict:
    """What `sam package` hands CloudFormation: code and layer locations as S3 URIs."""
    packaged = copy.deepcopy(template)
    for name, resource in packaged["Resources"].items():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if key in properties:
                properties[key] = f"s3://artifacts/{name}.zip"
    return packaged


@pytest.fixture
def translated(monkeypatch) -> dict:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    template = yaml_parse(TEMPLATE.read_text())
    try:
        return transform(_packaged(template), {}, _NoManagedPolicies())
    except InvalidDocumentException as error:
        pytest.fail("SAM rejects template.yaml: " + "; ".join(cause.message for cause in error.causes))


def test_sam_transform_accepts_the_template(translated):
    types = {resource["Type"] for resource in translated["Resources"].values()}
    assert {"AWS::ApiGateway::RestApi", "AWS::ApiGateway::Stage", "AWS::Lambda::EventSourceMapping"} <= types


def test_every_api_route_has_a_method_and_the_docs_and_public_routes_need_no_key(translated):
    api = next(r for r in translated["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi")
    paths = api["Properties"]["Body"]["paths"]
    open_routes = {
        (path, method)
        for path, methods in paths.items()
        for method, spec in methods.items()
        # keyed routes: the authorizer, and the usage plan's key it names
        if method != "options" and spec.get("security") != [{"ApiKeyAuthorizer": []}, {"api_key": []}]
    }
    assert open_routes == {
        ("/v1/openapi.json", "get"),
        ("/v1/docs", "get"),
        ("/v1/public/{tenant}/media", "get"),
        ("/v1/public/{tenant}/media/{media_id}", "get"),
    }


def test_every_queue_reports_partial_batch_failures(translated):
    mappings = [
        r["Properties"]
        for r in translated["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
    ]
    assert len(mappings) == 2  # the process queue and its dead-letter queue
    assert all(mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"] for mapping in mappings)


def test_the_dead_letter_queue_is_drained_by_a_function_within_its_visibility_timeout():
    template = yaml_parse(TEMPLATE.read_text())
    resources = template["Resources"]
    drain = resources["DeadLetterFunction"]["Properties"]
    (event,) = drain["Events"].values()

    assert event["Type"] == "SQS"
    assert event["Properties"]["Queue"] == {"Fn::GetAtt": ["ProcessDeadLetterQueue", "Arn"]}
    # Lambda refuses an SQS event source whose queue hides a message for less than the function runs.
    assert resources["ProcessDeadLetterQueue"]["Properties"]["VisibilityTimeout"] >= drain["Timeout"]
