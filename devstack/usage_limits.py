"""A usage plan enforced as API Gateway enforces it: per usage identifier (the API key, here the
one the authorizer names), a token bucket of ``burst`` tokens refilled at ``rate`` per second,
and a request count per quota period (UTC days, ISO weeks or months).

API Gateway only meters keys that were added to the plan; locally every identifier counts as
added (the service adds each key it creates when deployed). A keyed route without an
identifier, or an Api without a plan, is refused with INVALID_API_KEY, as on AWS. Throttling is
best effort on AWS too; here it is exact, which lets tests use tiny limits without timing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from devstack.gateway_responses import GatewayRejection
from devstack.specs import UsagePlanSpec

_UNLIMITED = 1e12  # a rate no local run reaches (infinity would make 0 s of refill NaN)


class TokenBucket:
    def __init__(self, rate: float, burst: int, now: float):
        self.rate, self.burst = rate, burst
        self.tokens, self.updated = float(burst), now

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class UsageLimits:
    """The limits of one Api's usage plan (None: the Api has none), one bucket per identifier."""

    def __init__(
        self,
        plan: UsagePlanSpec | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self._plan, self._clock, self._today = plan, clock, today
        self._buckets: dict[str, TokenBucket] = {}
        self._counts: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def admit(self, identifier: str | None) -> None:
        """Count one request of ``identifier``; GatewayRejection (THROTTLED, QUOTA_EXCEEDED,
        INVALID_API_KEY) when API Gateway would refuse it."""
        plan = self._plan
        if plan is None or not identifier:
            raise GatewayRejection("INVALID_API_KEY", 403, "Forbidden")
        with self._lock:
            if plan.quota_limit is not None:
                period = (identifier, _period_of(self._today(), plan.quota_period or "DAY"))
                if self._counts.get(period, 0) >= plan.quota_limit:
                    raise GatewayRejection("QUOTA_EXCEEDED", 429, "Limit Exceeded")
            if plan.rate_limit is not None or plan.burst_limit is not None:
                now = self._clock()
                bucket = self._buckets.get(identifier)
                if bucket is None:
                    rate = plan.rate_limit if plan.rate_limit is not None else _UNLIMITED
                    burst = plan.burst_limit if plan.burst_limit is not None else max(1, int(rate))
                    bucket = self._buckets[identifier] = TokenBucket(rate, burst, now)
                if not bucket.take(now):
                    raise GatewayRejection("THROTTLED", 429, "Too Many Requests")
            if plan.quota_limit is not None:
                self._counts[period] = self._counts.get(period, 0) + 1

    def forget(self) -> None:
        """Every bucket full and every count zero again (a reset stack)."""
        with self._lock:
            self._buckets.clear()
            self._counts.clear()


def _period_of(now: datetime, period: str) -> str:
    if period == "WEEK":
        year, week, _ = now.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "MONTH":
        return now.strftime("%Y-%m")
    return now.strftime("%Y-%m-%d")
