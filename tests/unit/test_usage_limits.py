"""The local gateway's usage plan (devstack/usage_limits.py): a token bucket per key and a quota
per period, on a clock the test turns (the limiter's own input, not a stand-in for it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devstack.gateway_responses import GatewayRejection, gateway_response
from devstack.specs import UsagePlanSpec
from devstack.template import LocalTemplate
from devstack.usage_limits import UsageLimits


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.day = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)

    def __call__(self) -> float:
        return self.now


def plan(rate=None, burst=None, quota=None, period=None) -> UsagePlanSpec:
    return UsagePlanSpec("Plan", rate, burst, quota, period)


def refused(limits: UsageLimits, key: str | None) -> str | None:
    try:
        limits.admit(key)
    except GatewayRejection as rejection:
        return rejection.kind
    return None


def test_a_key_gets_its_burst_then_its_rate_and_other_keys_their_own():
    clock = Clock()
    limits = UsageLimits(plan(rate=2, burst=3), clock=clock)

    assert [refused(limits, "noisy") for _ in range(4)] == [None, None, None, "THROTTLED"]
    assert refused(limits, "quiet") is None  # another key's bucket is full
    clock.now += 0.5  # one token back at 2/s
    assert [refused(limits, "noisy") for _ in range(2)] == [None, "THROTTLED"]
    clock.now += 60  # refilled, never above the burst
    assert [refused(limits, "noisy") for _ in range(4)] == [None, None, None, "THROTTLED"]


def test_a_quota_counts_per_key_and_renews_with_the_period():
    clock = Clock()
    limits = UsageLimits(plan(quota=2, period="DAY"), clock=clock, today=lambda: clock.day)

    assert [refused(limits, "a") for _ in range(3)] == [None, None, "QUOTA_EXCEEDED"]
    assert refused(limits, "b") is None
    clock.day += timedelta(hours=1)  # past midnight UTC
    assert refused(limits, "a") is None


def test_a_throttled_request_does_not_spend_quota():
    clock = Clock()
    limits = UsageLimits(plan(rate=1, burst=1, quota=2, period="DAY"), clock=clock, today=lambda: clock.day)

    assert [refused(limits, "a") for _ in range(3)] == [None, "THROTTLED", "THROTTLED"]
    clock.now += 1
    # The two throttled requests were not counted: a second one passes, then the quota is spent.
    assert [refused(limits, "a"), refused(limits, "a")] == [None, "QUOTA_EXCEEDED"]


@pytest.mark.parametrize("limits", [UsageLimits(None), UsageLimits(plan(rate=10, burst=10))])
def test_without_a_plan_or_an_identifier_a_keyed_route_is_refused(limits):
    assert refused(limits, None) == "INVALID_API_KEY"
    if limits._plan is None:
        assert refused(limits, "a") == "INVALID_API_KEY"


def test_the_template_plan_is_read_with_its_parameters_and_their_overrides():
    default = LocalTemplate.load().only_api()
    assert default.api_key_source == "AUTHORIZER"
    assert default.usage_plan == UsagePlanSpec("KeyUsagePlan", 50.0, 100, None, None)

    tiny = LocalTemplate.load(parameters={"KeyRateLimit": "0.5", "KeyBurstLimit": "2", "KeyDailyQuota": "7"})
    assert tiny.only_api().usage_plan == UsagePlanSpec("KeyUsagePlan", 0.5, 2, 7, "DAY")
    with pytest.raises(ValueError, match="no parameter"):
        LocalTemplate.load(parameters={"KeyRateLimits": "1"})


@pytest.mark.parametrize(("kind", "retry_after"), [("THROTTLED", "1"), ("QUOTA_EXCEEDED", "3600")])
def test_a_refusal_is_the_templates_429_problem_with_retry_after(kind, retry_after):
    api = LocalTemplate.load().only_api()

    response = gateway_response(api, GatewayRejection(kind, 429, "Too Many Requests"), None, "req-1")

    assert response.status_code == 429
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Retry-After"] == retry_after
    body = response.get_json(force=True)
    assert (body["status"], body["code"], body["request_id"]) == (429, "rate_limited", "req-1")
