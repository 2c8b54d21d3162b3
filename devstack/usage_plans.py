"""The template's API Gateway usage plans, attached to the Api whose stage they name.

Only what the local gateway enforces is read: the plan's throttle (rate and burst) and quota.
Per-method throttles of ``ApiStages[].Throttle`` are not applied locally.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from devstack.intrinsics import Resolver, logical_id_of
from devstack.specs import ApiSpec, UsagePlanSpec


def with_usage_plans(apis: dict[str, ApiSpec], raw: dict[str, Any], resolver: Resolver) -> dict[str, ApiSpec]:
    """``apis`` with the usage plan that names each (at most one per Api locally)."""
    plans: dict[str, UsagePlanSpec] = {}
    for logical_id, resource in raw.get("Resources", {}).items():
        if resource.get("Type") != "AWS::ApiGateway::UsagePlan":
            continue
        properties = resource.get("Properties", {})
        for stage in properties.get("ApiStages", []):
            api_id = logical_id_of(stage["ApiId"])
            if api_id in plans:
                raise ValueError(f"{api_id} is in two usage plans; the local gateway enforces one")
            plans[api_id] = _plan(logical_id, properties, resolver)
    return {
        api_id: dataclasses.replace(api, usage_plan=plans[api_id]) if api_id in plans else api
        for api_id, api in apis.items()
    }


def _plan(logical_id: str, properties: dict[str, Any], resolver: Resolver) -> UsagePlanSpec:
    # Resolved whole, so a property set to AWS::NoValue disappears.
    resolved = resolver.resolve({key: properties[key] for key in ("Throttle", "Quota") if key in properties})
    throttle, quota = resolved.get("Throttle", {}), resolved.get("Quota", {})
    return UsagePlanSpec(
        logical_id=logical_id,
        rate_limit=float(throttle["RateLimit"]) if "RateLimit" in throttle else None,
        burst_limit=int(throttle["BurstLimit"]) if "BurstLimit" in throttle else None,
        quota_limit=int(quota["Limit"]) if "Limit" in quota else None,
        quota_period=str(quota.get("Period", "DAY")) if "Limit" in quota else None,
    )
