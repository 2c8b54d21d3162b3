"""The REQUEST authorizer with events/authorizer-request.json, keys in DynamoDB (moto)."""

from __future__ import annotations

import copy
import io
import json
import logging
from pathlib import Path

import pytest

from medialib.services import api_keys

ROOT = Path(__file__).resolve().parents[2]
EVENT = json.loads((ROOT / "events" / "authorizer-request.json").read_text())
API_WILDCARD = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/*/*"


class FakeLambdaContext:
    function_name = "medialib-AuthorizerFunction"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:medialib-AuthorizerFunction"
    aws_request_id = "5b9a1f6e-2d1c-4e0b-9a57-0c1f3c2d9e11"


@pytest.fixture
def handler():
    import authorizer

    return authorizer.lambda_handler


def request_event(authorization: str | None, *, header_name: str = "authorization", **changes) -> dict:
    """The sample event, its placeholder key replaced (or removed when ``authorization`` is None)."""
    event = copy.deepcopy(EVENT)
    for headers in (event["headers"], event["multiValueHeaders"]):
        for name in [name for name in headers if name.lower() == "authorization"]:
            del headers[name]
    if authorization is not None:
        event["headers"][header_name] = authorization
        event["multiValueHeaders"][header_name] = [authorization]
    event.update(changes)
    return event


def test_the_sample_event_is_a_rest_request_authorizer_event():
    assert EVENT["type"] == "REQUEST"
    assert EVENT["methodArn"].startswith("arn:aws:execute-api:")
    assert "Bearer mlk_" in EVENT["headers"]["authorization"]


@pytest.mark.parametrize("header_name", ["Authorization", "authorization", "AUTHORIZATION"])
def test_a_valid_key_is_allowed_on_the_whole_api_with_its_context(dynamodb, handler, header_name):
    info, key = api_keys.create_key("acme", ["media:delete", "media:read", "media:write"])

    response = handler(request_event(f"Bearer {key}", header_name=header_name), FakeLambdaContext())

    assert response == {
        "principalId": info.key_id,
        # the API Gateway key its usage plan throttles it by
        "usageIdentifierKey": f"medialib-{info.key_id}",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": API_WILDCARD}],
        },
        "context": {
            "tenant_id": "acme",
            "key_id": info.key_id,
            "scopes": "media:read media:write media:delete",
        },
    }
    assert all(isinstance(value, str) for value in response["context"].values())


def test_the_policy_covers_paths_whose_parameters_hold_colons(dynamodb, handler):
    _, key = api_keys.create_key("acme", ["media:read"])
    method_arn = "arn:aws:execute-api:eu-west-1:210987654321:zz9/v2/GET/v1/entities/product/gid:1/media"

    response = handler(request_event(f"Bearer {key}", methodArn=method_arn), FakeLambdaContext())

    [statement] = response["policyDocument"]["Statement"]
    assert statement["Resource"] == "arn:aws:execute-api:eu-west-1:210987654321:zz9/v2/*/*"
    assert response["context"]["scopes"] == "media:read"


def test_the_context_is_what_the_api_side_reads(dynamodb, handler):
    from medialib.api.auth import principal_from_event

    _, key = api_keys.create_key("acme", ["media:read", "media:write"])
    response = handler(request_event(f"Bearer {key}"), FakeLambdaContext())
    # API Gateway hands the context to the integration next to the principal id.
    authorizer = {"principalId": response["principalId"], **response["context"]}
    proxy_event = {"requestContext": {"authorizer": authorizer}}

    principal = principal_from_event(proxy_event)

    assert principal == api_keys.authenticate(f"Bearer {key}")


def _rejected_headers(key: str) -> dict[str, str | None]:
    key_id, secret = api_keys.parse_key(key)
    unknown_id = ("Z" if key_id[0] != "Z" else "Y") + key_id[1:]
    wrong_secret = ("A" if secret[0] != "A" else "B") + secret[1:]
    return {
        "missing": None,
        "empty": "",
        "no scheme": key,
        "other scheme": f"Basic {key}",
        "malformed key": "Bearer mlk_short_secret",
        "unknown key": f"Bearer {api_keys.format_key(unknown_id, secret)}",
        "wrong secret": f"Bearer {api_keys.format_key(key_id, wrong_secret)}",
        "placeholder": EVENT["headers"]["authorization"],
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "empty",
        "no scheme",
        "other scheme",
        "malformed key",
        "unknown key",
        "wrong secret",
        "placeholder",
    ],
)
def test_bad_keys_raise_exactly_unauthorized(dynamodb, handler, case):
    _, key = api_keys.create_key("acme", ["media:read"])

    with pytest.raises(Exception) as raised:
        handler(request_event(_rejected_headers(key)[case]), FakeLambdaContext())

    assert type(raised.value) is Exception
    assert str(raised.value) == "Unauthorized"


def test_a_revoked_key_raises_unauthorized(dynamodb, handler):
    info, key = api_keys.create_key("acme", ["media:read"])
    assert handler(request_event(f"Bearer {key}"), FakeLambdaContext())["principalId"] == info.key_id

    api_keys.revoke_key(info.key_id)

    with pytest.raises(Exception, match=r"^Unauthorized$"):
        handler(request_event(f"Bearer {key}"), FakeLambdaContext())


def test_no_headers_at_all_is_unauthorized(dynamodb, handler):
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        handler(request_event(None, headers=None, multiValueHeaders=None), FakeLambdaContext())


def test_the_key_never_reaches_the_logs(dynamodb, handler, monkeypatch, request):
    # Even with the event logging switch on, the authorizer does not log the event.
    import authorizer

    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    stream = io.StringIO()
    monkeypatch.setattr(authorizer.logger.registered_handler, "stream", stream)
    stdlib_logger = logging.getLogger(authorizer.logger.name)
    previous_level = stdlib_logger.level
    stdlib_logger.setLevel(logging.DEBUG)  # the test suite runs at WARNING
    request.addfinalizer(lambda: stdlib_logger.setLevel(previous_level))
    _, key = api_keys.create_key("acme", ["media:read"])
    _, secret = api_keys.parse_key(key)

    handler(request_event(f"Bearer {key}"), FakeLambdaContext())
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        handler(request_event(f"Bearer {key[:-1]}x"), FakeLambdaContext())

    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [record["message"] for record in records] == ["API key accepted", "API key rejected"]
    assert secret not in stream.getvalue() and secret[:-1] not in stream.getvalue()
    # Keyed by the gateway's request id and by tenant.
    assert {record["correlation_id"] for record in records} == {"c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}
    assert records[0]["tenant_id"] == "acme"
