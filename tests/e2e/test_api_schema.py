"""The running API against its own OpenAPI document, with schemathesis on the local stack: no
input gets a 5xx, every response (status, content type, body) is one the document declares, and
every operation that needs a key answers 401 without a valid one.

Schemathesis parametrizes the tests when they are collected, before the stack runs, so it loads
the document from the code that serves it; the first test proves the stack serves exactly that
document. Generation is deterministic and bounded: the coverage cases schemathesis derives from
each schema, plus a fixed number of positive and negative examples per operation. The cases run
as the demo tenant (the concurrency tests use tenants of their own).
"""

from __future__ import annotations

import json

import docs_api
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.client import auth
from tests.support.events import FakeLambdaContext, load_event

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = 15  # per operation and generation mode, on top of the coverage cases
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
INVALID_CREDENTIALS = {
    "missing": None,
    "unknown key": "Bearer mlk_" + "A" * 43,
    "malformed key": "Bearer not-a-key",
    "another scheme": "Basic ZGVtbzpkZW1v",
}
SETTINGS = settings(
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
    suppress_health_check=list(HealthCheck),
)

DOCUMENT = json.loads(docs_api.lambda_handler(load_event("get-openapi"), FakeLambdaContext())["body"])


def _config(generation: dict, phases: dict | None = None) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "generation": {
                "deterministic": True,
                "database": "none",
                "with-security-parameters": False,  # credentials are the tests' to choose
                **generation,
            },
            "phases": phases or {},
        }
    )


def _offline(case):
    """The case, with any URLs a remote import would fetch pointed at loopback: the stack (without
    ALLOW_LOOPBACK_IMPORTS) refuses them with no connection and no lookup, so generated URLs never
    reach the network. Whatever else the body holds is left as generated."""
    body = case.body
    if case.path == "/v1/media" and isinstance(body, dict) and isinstance(body.get("urls"), list):
        case.body = {
            **body,
            "urls": [
                f"http://127.0.0.1/{n}" if isinstance(u, str) and u else u for n, u in enumerate(body["urls"])
            ],
        }
    return case


def _needs_key(ctx) -> bool:
    return bool(ctx.operation.definition.raw.get("security"))


def _takes_body(ctx) -> bool:
    return "requestBody" in ctx.operation.definition.raw


schema = schemathesis.openapi.from_dict(DOCUMENT, config=_config({"max-examples": MAX_EXAMPLES}))
# Valid inputs only, and no coverage cases: the answers below must not depend on them.
valid_requests = schemathesis.openapi.from_dict(
    DOCUMENT, config=_config({"mode": "positive", "max-examples": 2}, {"coverage": {"enabled": False}})
)
keyed_operations = valid_requests.include(func=_needs_key)
bodied_operations = valid_requests.include(func=_takes_body)


def test_the_stack_serves_the_document_under_test(stack):
    served = requests.get(f"{stack.api_url}/v1/openapi.json", timeout=10)
    assert served.status_code == 200 and served.json() == DOCUMENT


@schema.parametrize()
@SETTINGS
def test_every_response_is_declared_and_none_is_a_server_error(case, stack):
    _offline(case).call_and_validate(
        base_url=stack.api_url, headers=auth(stack.demo_key), checks=CHECKS, timeout=30
    )


@keyed_operations.parametrize()
@SETTINGS
def test_operations_that_need_a_key_answer_401_without_a_valid_one(case, stack):
    _offline(case)
    for kind, authorization in INVALID_CREDENTIALS.items():
        headers = {} if authorization is None else {"Authorization": authorization}
        response = case.call_and_validate(base_url=stack.api_url, headers=headers, checks=CHECKS, timeout=30)
        assert response.status_code == 401, (kind, case.method, case.formatted_path, response.text)
        assert response.json()["code"] == "unauthorized"


@bodied_operations.parametrize()
@settings(SETTINGS, max_examples=1)
def test_a_body_sent_as_another_type_than_json_is_a_declared_415(case, stack):
    _offline(case)
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        headers = {**auth(stack.demo_key), "Content-Type": content_type}
        response = case.call_and_validate(base_url=stack.api_url, headers=headers, checks=CHECKS, timeout=30)
        assert response.status_code == 415, (content_type, case.method, case.formatted_path, response.text)
