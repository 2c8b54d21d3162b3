"""``make deploy-web``: the page's files and its config.json land under web/ in the stack's bucket."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from devstack import deploy_web
from devstack.web_files import WEB_ROOT

API_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/Prod"
# A stand-in stack with the outputs the real template gives (its bucket, API and page URL).
STACK = {
    "Resources": {"MediaBucket": {"Type": "AWS::S3::Bucket"}},
    "Outputs": {
        "ApiUrl": {"Value": API_URL + "/"},
        "MediaBucketName": {"Value": {"Ref": "MediaBucket"}},
        "MediaBrowserUrl": {"Value": "https://d111.cloudfront.net/web/index.html"},
    },
}


@pytest.fixture
def deployed_stack(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        cloudformation = boto3.client("cloudformation")
        cloudformation.create_stack(StackName="medialib", TemplateBody=json.dumps(STACK))
        yield deploy_web.stack_outputs(cloudformation, "medialib")["MediaBucketName"]


def test_the_page_and_its_config_are_uploaded_with_their_types(deployed_stack: str, capsys) -> None:
    assert deploy_web.main(["--stack", "medialib"]) == 0
    s3 = boto3.client("s3")
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=deployed_stack)["Contents"]}
    assert {"web/index.html", "web/app.js", "web/styles.css", "web/config.json"} <= keys
    assert all(key.startswith("web/") for key in keys)

    script = s3.get_object(Bucket=deployed_stack, Key="web/app.js")
    assert script["ContentType"] == "text/javascript; charset=utf-8"
    assert script["Body"].read() == (WEB_ROOT / "app.js").read_bytes()
    config = s3.get_object(Bucket=deployed_stack, Key="web/config.json")
    assert json.loads(config["Body"].read()) == {"api": API_URL}
    assert "Media browser: https://d111.cloudfront.net/web/index.html" in capsys.readouterr().out
