"""``python -m devstack invoke``: every sample event in events/ runs through it against an emulator
holding the template's resources, and each answers as its event source expects.

The invocations run in a child process: handlers read their settings and build their clients
once, at import, and other tests in this process import them under mock_aws.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.emulator import Emulator
from devstack.invoke import function_for_event
from devstack.template import LocalTemplate

ROOT = Path(__file__).resolve().parents[2]
EVENTS = sorted((ROOT / "events").glob("*.json"))

# Runs every event through invoke.main (the command's own entry point), then the authorizer
# once more with a real key; prints {event name: {"code", "stdout"}} as the last line.
EVERY_EVENT_SCRIPT = textwrap.dedent(
    """
    import contextlib, io, json, sys
    from pathlib import Path
    from devstack import invoke
    from devstack.environment import apply_environment, build_environment, restore_environment
    from devstack.template import LocalTemplate

    aws_url, paths = sys.argv[1], sys.argv[2:]
    results = {}
    for path in paths:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = invoke.main(["-", "-e", path, "--aws-url", aws_url])
        results[Path(path).stem] = {"code": code, "stdout": out.getvalue()}

    previous = apply_environment(build_environment(LocalTemplate.load(aws_url=aws_url), aws_url=aws_url))
    try:
        from medialib.services.api_keys import create_key
        _, key = create_key("demo", ["media:read"], label="invoke test")
    finally:
        restore_environment(previous)
    event = json.loads(Path("events/authorizer-request.json").read_text())
    event["headers"]["authorization"] = f"Bearer {key}"
    event["multiValueHeaders"]["authorization"] = [f"Bearer {key}"]
    with contextlib.redirect_stdout(io.StringIO()):
        policy = invoke.invoke("AuthorizerFunction", event, aws_url=aws_url)
    results["authorizer-with-a-real-key"] = {"code": 0, "stdout": json.dumps(policy)}
    print(json.dumps(results))
    """
)


@pytest.fixture(scope="module")
def aws_url() -> Iterator[str]:
    emulator = Emulator(port=0)
    url = emulator.start()
    try:
        emulator.create_resources(LocalTemplate.load(aws_url=url))
        yield url
    finally:
        emulator.stop()


@pytest.fixture(scope="module")
def results(aws_url: str) -> dict[str, dict]:
    completed = subprocess.run(
        [sys.executable, "-c", EVERY_EVENT_SCRIPT, aws_url, *(str(path) for path in EVENTS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    results: dict[str, dict] = json.loads(completed.stdout.strip().splitlines()[-1])
    return results


def _kind(event: dict) -> str:
    if "methodArn" in event:
        return "authorizer"
    if "httpMethod" in event:
        return "api"
    if event.get("Records"):
        return "sqs"
    return "schedule"


def test_every_event_file_is_run(results):
    assert len(EVENTS) >= 20
    assert {path.stem for path in EVENTS} <= set(results)


@pytest.mark.parametrize("path", EVENTS, ids=[path.stem for path in EVENTS])
def test_each_event_gets_the_answer_its_source_expects(results, path):
    event = json.loads(path.read_text())
    result = results[path.stem]
    kind = _kind(event)

    if kind == "authorizer":
        # The sample's key does not exist: the authorizer refuses it as API Gateway expects (401).
        assert result["code"] == 1
        assert json.loads(result["stdout"]) == {"errorType": "Exception", "errorMessage": "Unauthorized"}
        return
    assert result["code"] == 0, result["stdout"]
    response = json.loads(result["stdout"])
    if kind == "api":
        assert isinstance(response["statusCode"], int) and 200 <= response["statusCode"] < 500, response
        assert isinstance(response["body"], str)
        content_types = [
            *(response.get("multiValueHeaders") or {}).get("Content-Type", []),
            (response.get("headers") or {}).get("Content-Type", ""),
        ]
        if any("json" in content_type for content_type in content_types):
            json.loads(response["body"])  # a JSON answer parses
    elif kind == "sqs":
        assert set(response) == {"batchItemFailures"} and isinstance(response["batchItemFailures"], list)
    else:
        assert {"purged", "expired", "errors"} <= set(response), response
        assert response["errors"] == 0


def test_the_authorizer_allows_a_real_key_for_its_tenant(results):
    policy = json.loads(results["authorizer-with-a-real-key"]["stdout"])

    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert policy["context"]["tenant_id"] == "demo"


def test_the_template_wires_each_sample_to_one_function():
    template = LocalTemplate.load()
    wired = {path.stem: function_for_event(template, json.loads(path.read_text())) for path in EVENTS}

    assert wired["get-media"] == "MediaApiFunction"
    assert wired["presign-upload"] == "UploadsApiFunction"
    assert wired["process-original-landed"] == "ProcessFunction"
    assert wired["dead-letter-original-landed"] == "DeadLetterFunction"
    assert wired["sweeper-scheduled"] == "SweeperFunction"
    assert wired["authorizer-request"] == "AuthorizerFunction"


def _invoke(aws_url: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devstack", "invoke", *argv, "--aws-url", aws_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_as_a_command_by_logical_id_with_only_the_response_on_stdout(aws_url, results):
    completed = _invoke(aws_url, "MediaApiFunction", "-e", "events/list-media.json")

    assert completed.returncode == 0, completed.stderr[-3000:]
    response = json.loads(completed.stdout)  # the logs went to stderr
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["pagination"]["limit"] >= 1


def test_as_a_command_by_module_name_and_unknown_names_are_refused(aws_url, results):
    completed = _invoke(aws_url, "sweeper", "-e", "events/sweeper-scheduled.json")
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert json.loads(completed.stdout)["errors"] == 0

    unknown = _invoke(aws_url, "NoSuchFunction", "-e", "events/get-media.json")
    assert unknown.returncode == 2
    assert "MediaApiFunction" in unknown.stderr and "Traceback" not in unknown.stderr


def test_without_a_running_emulator_the_command_says_so():
    completed = _invoke("http://127.0.0.1:9", "MediaApiFunction", "-e", "events/get-media.json")

    assert completed.returncode == 2
    assert "make dev" in completed.stderr and "Traceback" not in completed.stderr
