"""Fixtures the integration tests share."""

import boto3
import pytest
from moto import mock_aws

from medialib.adapters import accounts_store
from tests.support.tables import create_tables_from_template


@pytest.fixture
def dynamodb(monkeypatch):
    """The account tables (tenants, API keys) under mock_aws, with no endpoint override."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=accounts_store.REGION)
        create_tables_from_template(client, names=["TenantsTable", "ApiKeysTable"])
        yield client
