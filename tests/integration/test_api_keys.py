"""API keys and tenants against DynamoDB (moto), tables built from template.yaml."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from medialib.domain.errors import AlreadyExists, NotFound, Unauthorized, ValidationFailed
from medialib.domain.principal import Principal
from medialib.services import api_keys
from tests.support.tables import create_tables_from_template

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_TABLES = ["TenantsTable", "ApiKeysTable"]


# ---------------------------------------------------------------- the template helper
def test_tables_are_built_from_the_template(dynamodb):
    names = dynamodb.list_tables()["TableNames"]
    keys_table = dynamodb.describe_table(TableName="medialib-api-keys")["Table"]

    assert sorted(names) == ["medialib-api-keys", "medialib-tenants"]
    assert keys_table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    [index] = keys_table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "by_tenant"
    assert index["Projection"]["ProjectionType"] == "ALL"
    assert {part["AttributeName"]: part["KeyType"] for part in index["KeySchema"]} == {
        "tenant_id": "HASH",
        "created_at": "RANGE",
    }


def test_every_template_table_can_be_built(dynamodb):
    created = create_tables_from_template(dynamodb, names=["MediaTable"])

    assert created == ["medialib-media"]


# ---------------------------------------------------------------- keys
def test_create_key_stores_only_a_hash_and_creates_the_tenant(dynamodb):
    info, key = api_keys.create_key("acme", ["media:write", "media:read"], label="CMS")

    key_id, secret = api_keys.parse_key(key)
    assert info.key_id == key_id and info.tenant_id == "acme"
    assert info.scopes == ("media:read", "media:write")
    assert info.label == "CMS" and info.revoked_at is None
    assert info.created_at.endswith("Z")
    item = dynamodb.get_item(TableName="medialib-api-keys", Key={"key_id": {"S": key_id}})["Item"]
    assert secret not in json.dumps(item)
    assert item["secret_hash"]["S"] == api_keys.hash_secret(secret)
    assert set(item["scopes"]["SS"]) == {"media:read", "media:write"}
    tenant = api_keys.get_tenant("acme")
    assert tenant.public is False and tenant.created_at == info.created_at


def test_a_second_key_keeps_the_existing_tenant(dynamodb):
    api_keys.create_tenant("acme", public=True)

    api_keys.create_key("acme", ["media:read"])

    assert api_keys.is_public("acme") is True


@pytest.mark.parametrize(
    ("tenant_id", "scopes", "label"),
    [
        ("Bad Tenant", ["media:read"], None),
        ("acme", [], None),
        ("acme", ["media:admin"], None),
        ("acme", ["media:read"], "x" * 101),
    ],
)
def test_invalid_key_requests_change_nothing(dynamodb, tenant_id, scopes, label):
    with pytest.raises(ValidationFailed):
        api_keys.create_key(tenant_id, scopes, label=label)

    assert dynamodb.scan(TableName="medialib-api-keys")["Count"] == 0
    assert dynamodb.scan(TableName="medialib-tenants")["Count"] == 0


def test_concurrent_first_keys_create_the_tenant_once(dynamodb):
    results, errors = [], []

    def create():
        try:
            results.append(api_keys.create_key("racy", ["media:read"]))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len({info.key_id for info, _ in results}) == 8
    assert len(api_keys.list_keys("racy")) == 8
    assert dynamodb.scan(TableName="medialib-tenants")["Count"] == 1


def test_authenticate_returns_the_keys_principal(dynamodb):
    info, key = api_keys.create_key("acme", ["media:read", "media:delete"])

    principal = api_keys.authenticate(f"Bearer {key}")

    assert principal == Principal("acme", info.key_id, frozenset({"media:read", "media:delete"}))
    assert api_keys.authenticate(f"bearer {key}") == principal


def test_authenticate_rejects_missing_malformed_unknown_wrong_and_revoked_keys(dynamodb):
    info, key = api_keys.create_key("acme", ["media:read"])
    key_id, secret = api_keys.parse_key(key)
    other_secret = ("A" if secret[0] != "A" else "B") + secret[1:]
    unknown_id = ("Z" if key_id[0] != "Z" else "Y") + key_id[1:]

    for header in [
        None,
        "",
        key,
        f"Basic {key}",
        "Bearer mlk_nope",
        f"Bearer {api_keys.format_key(unknown_id, secret)}",
        f"Bearer {api_keys.format_key(key_id, other_secret)}",
    ]:
        with pytest.raises(Unauthorized):
            api_keys.authenticate(header)

    api_keys.revoke_key(info.key_id)
    with pytest.raises(Unauthorized):
        api_keys.authenticate(f"Bearer {key}")


def test_revoke_is_idempotent_and_keeps_the_first_time(dynamodb):
    info, _ = api_keys.create_key("acme", ["media:read"])

    first = api_keys.revoke_key(info.key_id)
    second = api_keys.revoke_key(info.key_id)

    assert first.revoked_at is not None and first.revoked
    assert second.revoked_at == first.revoked_at
    assert second.key_id == info.key_id and second.scopes == info.scopes


@pytest.mark.parametrize("key_id", ["AAAAAAAAAAAAAAAA", "", "not-a-key-id", "x" * 300])
def test_revoking_an_unknown_key_is_not_found_and_creates_nothing(dynamodb, key_id):
    with pytest.raises(NotFound):
        api_keys.revoke_key(key_id)

    assert dynamodb.scan(TableName="medialib-api-keys")["Count"] == 0


def test_list_keys_is_per_tenant_oldest_first_and_without_secrets(dynamodb):
    first, first_key = api_keys.create_key("acme", ["media:read"], label="one")
    second, second_key = api_keys.create_key("acme", ["media:write"])
    api_keys.create_key("globex", ["media:read"])
    api_keys.revoke_key(first.key_id)

    keys = api_keys.list_keys("acme")

    assert [key.key_id for key in keys] == [first.key_id, second.key_id]
    assert keys[0].revoked_at is not None and keys[1].revoked_at is None
    assert keys[0].label == "one"
    shown = repr(keys)
    assert api_keys.parse_key(first_key)[1] not in shown and api_keys.parse_key(second_key)[1] not in shown
    assert "hash" not in shown
    assert api_keys.list_keys("nobody") == []


# ---------------------------------------------------------------- tenants
def test_tenant_lifecycle(dynamodb):
    created = api_keys.create_tenant("acme")
    assert created.public is False and api_keys.is_public("acme") is False

    with pytest.raises(AlreadyExists):
        api_keys.create_tenant("acme", public=True)

    updated = api_keys.update_tenant("acme", public=True)
    assert updated.public is True and updated.created_at == created.created_at
    assert updated.updated_at >= created.updated_at
    assert api_keys.get_tenant("acme") == updated
    assert api_keys.is_public("acme") is True

    api_keys.update_tenant("acme", public=False)
    assert api_keys.is_public("acme") is False


def test_missing_tenants(dynamodb):
    with pytest.raises(NotFound):
        api_keys.update_tenant("ghost", public=True)
    with pytest.raises(NotFound):
        api_keys.get_tenant("ghost")
    with pytest.raises(NotFound):
        api_keys.get_tenant("Not A Tenant")
    assert api_keys.is_public("ghost") is False
    assert api_keys.is_public("../etc") is False
    assert dynamodb.scan(TableName="medialib-tenants")["Count"] == 0


def test_create_tenant_validates_the_id(dynamodb):
    with pytest.raises(ValidationFailed):
        api_keys.create_tenant("Acme Corp")


def test_list_tenants(dynamodb):
    api_keys.create_tenant("globex", public=True)
    api_keys.create_tenant("acme")

    assert [(t.tenant_id, t.public) for t in api_keys.list_tenants()] == [("acme", False), ("globex", True)]


# ---------------------------------------------------------------- standard AWS endpoint configuration
@pytest.fixture
def moto_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))  # noqa: S310
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    create_tables_from_template(client, names=ACCOUNT_TABLES)
    yield endpoint, client
    server.stop()


def _clean_aws_env(**extra: str) -> dict[str, str]:
    """The environment of a fresh process: no inherited AWS configuration, fake credentials."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        PYTHONPATH=os.pathsep.join([str(ROOT / "shared"), str(ROOT)]),
    )
    env.update(extra)
    return env


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"])
def test_the_store_honours_the_standard_endpoint_variables(moto_server, variable):
    # A fresh process: pynamodb caches its client per model, and the endpoint is resolved
    # when that client is built, as on a Lambda cold start. No region is configured at all,
    # so this also shows the us-east-1 default.
    endpoint, client = moto_server
    script = (
        "from medialib.adapters import accounts_store\n"
        "from medialib.services import api_keys\n"
        "info, key = api_keys.create_key('remote', ['media:read'])\n"
        "assert api_keys.authenticate('Bearer ' + key).tenant_id == 'remote'\n"
        "print(accounts_store.REGION, info.key_id)\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", script],
        env=_clean_aws_env(**{variable: endpoint}),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    region, key_id = result.stdout.split()
    assert region == "us-east-1"
    item = client.get_item(TableName="medialib-api-keys", Key={"key_id": {"S": key_id}})
    assert item["Item"]["tenant_id"]["S"] == "remote"


def test_the_region_follows_the_standard_configuration():
    script = "from medialib.adapters import accounts_store; print(accounts_store.REGION)"

    def region_with(**extra: str) -> str:
        env = _clean_aws_env(**extra)
        out = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, check=True
        )
        return out.stdout.strip()

    assert region_with() == "us-east-1"
    assert region_with(AWS_DEFAULT_REGION="eu-west-1") == "eu-west-1"
    assert region_with(AWS_REGION="ap-southeast-2") == "ap-southeast-2"
    # Where both are set (as on Lambda, where they agree) botocore's own choice wins.
    assert region_with(AWS_DEFAULT_REGION="eu-west-1", AWS_REGION="ap-southeast-2") == "eu-west-1"
