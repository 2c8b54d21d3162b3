"""On AWS every medialib key is metered by an API Gateway API key in the stack's usage plan:
created with the key, deleted when it is revoked, and added afterwards for keys made before the
plan existed (on moto's API Gateway)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from devstack import cli
from medialib.adapters import usage_plans
from medialib.domain.errors import Unavailable
from medialib.services import api_keys
from medialib.settings import get_settings


@pytest.fixture
def usage_plan(dynamodb, monkeypatch) -> Iterator[str]:
    """A usage plan on an API stage, named by USAGE_PLAN_ID as the stack's output would be."""
    gateway = boto3.client("apigateway", region_name="us-east-1")
    plan_id = gateway.create_usage_plan(
        name="medialib-per-key", throttle={"rateLimit": 50, "burstLimit": 100}
    )["id"]
    monkeypatch.setenv("USAGE_PLAN_ID", plan_id)
    get_settings.cache_clear()
    yield plan_id
    get_settings.cache_clear()


def plan_keys(plan_id: str) -> dict[str, str]:
    """name → value of the API Gateway keys in the plan."""
    gateway = boto3.client("apigateway", region_name="us-east-1")
    items = gateway.get_usage_plan_keys(usagePlanId=plan_id)["items"]
    return {item["name"]: item["value"] for item in items}


def test_a_created_key_joins_the_usage_plan_under_its_usage_identifier(usage_plan):
    info, _ = api_keys.create_key("acme", ["media:read"])

    identifier = api_keys.usage_identifier(info.key_id)
    assert plan_keys(usage_plan) == {identifier: identifier}
    assert 20 <= len(identifier) <= 128  # API Gateway's bounds for a key's value


def test_a_revoked_key_leaves_the_usage_plan(usage_plan):
    kept, _ = api_keys.create_key("acme", ["media:read"])
    revoked, _ = api_keys.create_key("acme", ["media:read"])

    api_keys.revoke_key(revoked.key_id)

    assert set(plan_keys(usage_plan)) == {api_keys.usage_identifier(kept.key_id)}


def test_without_a_usage_plan_keys_are_only_stored(dynamodb, monkeypatch):
    monkeypatch.delenv("USAGE_PLAN_ID", raising=False)
    get_settings.cache_clear()

    info, key = api_keys.create_key("acme", ["media:read"])

    assert api_keys.authenticate(f"Bearer {key}").key_id == info.key_id
    assert boto3.client("apigateway", region_name="us-east-1").get_api_keys()["items"] == []


def test_sync_adds_the_active_keys_made_before_the_plan(dynamodb, monkeypatch, capsys):
    # Given keys created while no usage plan was named, one of them revoked
    monkeypatch.delenv("USAGE_PLAN_ID", raising=False)
    get_settings.cache_clear()
    older, _ = api_keys.create_key("acme", ["media:read"])
    gone, _ = api_keys.create_key("shop", ["media:read"])
    api_keys.revoke_key(gone.key_id)
    gateway = boto3.client("apigateway", region_name="us-east-1")
    plan_id = gateway.create_usage_plan(name="medialib-per-key")["id"]
    monkeypatch.setenv("USAGE_PLAN_ID", plan_id)
    get_settings.cache_clear()
    newer, _ = api_keys.create_key("acme", ["media:read"])

    # When the operator syncs the plan
    assert cli.main(["keys", "sync-usage-plan"]) == 0

    # Then the older active key joined it, once
    assert set(plan_keys(plan_id)) == {api_keys.usage_identifier(k.key_id) for k in (older, newer)}
    assert capsys.readouterr().out.splitlines() == [f"added 1 key(s) to usage plan {plan_id}", older.key_id]
    assert cli.main(["keys", "sync-usage-plan"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"added 0 key(s) to usage plan {plan_id}"]
    get_settings.cache_clear()


@pytest.fixture
def unreachable_gateway(dynamodb, monkeypatch) -> Iterator[None]:
    """API Gateway cannot be reached: nothing listens on port 9 of this machine."""
    monkeypatch.setenv("USAGE_PLAN_ID", "someplan")
    monkeypatch.setenv("AWS_ENDPOINT_URL_API_GATEWAY", "http://127.0.0.1:9")
    get_settings.cache_clear()
    usage_plans._client.cache_clear()
    yield
    get_settings.cache_clear()
    usage_plans._client.cache_clear()


def test_a_key_the_usage_plan_cannot_take_is_not_left_usable(unreachable_gateway):
    # When a key is created, Then creation fails as unavailable
    with pytest.raises(Unavailable):
        api_keys.create_key("acme", ["media:read"])

    # And the stored key is revoked: the gateway would refuse it anyway
    (stored,) = api_keys.list_keys("acme")
    assert stored.revoked
