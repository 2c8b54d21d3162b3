"""The OpenAPI document declares what every operation answers (success status and body, each
problem, who may call it), so the end-to-end schema test can hold the running API to it."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import docs_api
import pytest

import medialib
from medialib.domain.failures import FAILURE_CODES, FAILURE_MESSAGES
from tests.support.api import call
from tests.support.events import load_event

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
PUBLIC = {("/v1/public/{tenant}/media", "get"), ("/v1/public/{tenant}/media/{media_id}", "get")}
# What each operation answers on success, where it is not a 200 (or a 204 for a DELETE).
SUCCESS = {
    ("/v1/media", "post"): {"201"},
    ("/v1/media/presign", "post"): {"201"},
    ("/v1/media/confirm", "post"): {"201", "200"},
    ("/v1/tags", "post"): {"201", "200"},
    ("/v1/folders", "post"): {"201"},
    ("/v1/media/{media_id}/tags", "post"): {"201"},
    ("/v1/media/{media_id}/tags/{tag_id}", "delete"): {"200"},
}


@pytest.fixture(scope="module")
def document() -> dict:
    status, headers, document = call(docs_api, load_event("get-openapi"))
    assert status == 200 and headers["content-type"] == "application/json"
    return document


def operations(document: dict):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_every_operation_declares_its_success_status_and_body(document):
    for path, method, operation in operations(document):
        responses = operation["responses"]
        default = {"204"} if method == "delete" else {"200"}
        successes = {status for status in responses if status.startswith("2")}
        assert successes == SUCCESS.get((path, method), default), (method, path)
        for status in successes:
            if status == "204":
                assert "content" not in responses[status], (method, path)
            else:
                schema = responses[status]["content"]["application/json"]["schema"]
                assert schema["$ref"].startswith("#/components/schemas/"), (method, path)


def test_every_error_is_a_problem_and_keys_are_required_except_for_public_read(document):
    for path, method, operation in operations(document):
        responses = operation["responses"]
        problems = {status for status in responses if int(status) >= 400}
        for status in problems:
            assert responses[status]["content"] == PROBLEM, (method, path, status)
            assert responses[status]["description"].startswith("`"), (method, path, status)
        assert {"429", "503"} <= problems, (method, path)
        if "requestBody" in operation:  # invalid, too large for the gateway, or not JSON
            assert {"400", "413", "415"} <= problems, (method, path)
        if (path, method) in PUBLIC:
            assert "security" not in operation and not {"401", "403"} & problems, (method, path)
        else:
            assert operation["security"] == [{"apiKey": []}], (method, path)
            assert {"401", "403"} <= problems, (method, path)
    assert document["components"]["securitySchemes"]["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "Authorization: Bearer <api key>",
    }
    assert "security" not in document


def test_posts_document_idempotency_keys_and_nothing_documents_a_default_422(document):
    for path, method, operation in operations(document):
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        if method == "post":
            assert "Idempotency-Key" in headers, path
            assert "`idempotency_key_reused`" in operation["responses"]["422"]["description"], path
            assert "`request_in_progress`" in operation["responses"]["409"]["description"], path
        else:
            assert "422" not in operation["responses"] and "Idempotency-Key" not in headers, (method, path)
    assert "HTTPValidationError" not in json.dumps(document)


def test_problem_schema_has_the_contract_fields(document):
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"title", "status", "code", "detail"}
    assert {"type", "request_id", "errors", "used_by", "existing"} <= set(problem["properties"])
    assert document["components"]["schemas"]["FieldError"]["required"] == ["field", "message"]


def test_swagger_ui_shows_the_same_document():
    status, _, html = call(docs_api, load_event("get-docs"))
    assert status == 200 and "idempotency_key_reused" in html and "HTTPValidationError" not in html


def test_remote_import_documents_its_body_its_limits_and_every_per_url_code(document):
    from medialib.api.routes.remote_imports import URL_ERROR_CODES
    from medialib.services.remote_imports import STATUS_OF_CODE

    operation = document["paths"]["/v1/media"]["post"]
    body = operation["requestBody"]["content"]
    assert {"multipart/form-data", "application/json"} <= set(body)
    assert body["application/json"]["schema"]["properties"]["urls"]["maxItems"] == 10
    for code in URL_ERROR_CODES:
        assert f"`{code}`" in operation["description"], code
    for code, status in STATUS_OF_CODE.items():
        assert f"`{code}`" in operation["responses"][str(status)]["description"], code
    for limit in ("2048 characters", "ports 80/443", "3 redirects", "12 s", "25 MB", "presign"):
        assert limit in operation["description"], limit
    schemas = document["components"]["schemas"]
    assert {"filename", "code", "message"} <= set(schemas["DirectUploadError"]["properties"])
    assert set(schemas["UrlImportError"]["required"]) == {"url", "code", "message"}


def test_the_item_error_codes_are_the_failure_vocabulary(document):
    """The documented enum is the one list in the code (domain/failures.py), which mypy holds
    every emitter to; and every code in it is emitted somewhere, so none is documented in vain."""
    error = document["components"]["schemas"]["MediaError"]["properties"]["code"]
    assert error["enum"] == list(FAILURE_CODES)
    assert set(FAILURE_CODES) == set(FAILURE_MESSAGES)
    package = Path(medialib.__file__).parent
    literals = {
        node.value
        for path in package.rglob("*.py")
        if path != package / "domain" / "failures.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert set(FAILURE_CODES) <= literals
