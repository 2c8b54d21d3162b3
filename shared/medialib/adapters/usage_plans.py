"""API Gateway's usage plan for API keys: each medialib key gets an API Gateway API key in it.

The API meters keys as the authorizer names them (``ApiKeySourceType: AUTHORIZER``): the
authorizer returns the key's usage identifier, and API Gateway throttles (and counts the quota
of) the API Gateway API key whose value it is. A key missing from the plan is refused with 403.
Only the ``medialib`` command creates and revokes keys, with the operator's AWS credentials; no
function needs these permissions. Without ``USAGE_PLAN_ID`` (the local stack, whose gateway
meters every identifier itself) there is nothing to do.
"""

from __future__ import annotations

import contextlib
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from medialib.domain.errors import Unavailable
from medialib.settings import get_settings


@lru_cache(maxsize=1)
def _client() -> Any:
    return boto3.client("apigateway", config=Config(retries={"mode": "standard", "max_attempts": 4}))


def plan_id() -> str:
    return get_settings().usage_plan_id


def register(usage_identifier: str, tenant_id: str) -> None:
    """Create the API Gateway key named and valued ``usage_identifier`` and add it to the plan."""
    if not plan_id():
        return
    try:
        created = _client().create_api_key(
            name=usage_identifier,
            value=usage_identifier,
            enabled=True,
            customerId=tenant_id,
            description=f"Usage metering of a medialib key of tenant {tenant_id}",
        )
        _client().create_usage_plan_key(usagePlanId=plan_id(), keyId=created["id"], keyType="API_KEY")
    except (ClientError, BotoCoreError) as error:
        raise Unavailable("API Gateway did not register the key in the usage plan; retry") from error


def registered() -> set[str]:
    """The usage identifiers (API Gateway key names) in the plan."""
    if not plan_id():
        return set()
    names: set[str] = set()
    try:
        for page in _client().get_paginator("get_usage_plan_keys").paginate(usagePlanId=plan_id()):
            names.update(item["name"] for item in page.get("items", []))
    except (ClientError, BotoCoreError) as error:
        raise Unavailable("API Gateway did not list the usage plan's keys; retry") from error
    return names


def unregister(usage_identifier: str) -> None:
    """Take the API Gateway key of ``usage_identifier`` out of the plan, then delete it."""
    if not plan_id():
        return
    try:
        found = _client().get_api_keys(nameQuery=usage_identifier, limit=500).get("items", [])
        for key in found:
            if key["name"] == usage_identifier:
                with contextlib.suppress(_client().exceptions.NotFoundException):
                    _client().delete_usage_plan_key(usagePlanId=plan_id(), keyId=key["id"])
                _client().delete_api_key(apiKey=key["id"])
    except (ClientError, BotoCoreError) as error:
        raise Unavailable("API Gateway did not delete the key; retry") from error
