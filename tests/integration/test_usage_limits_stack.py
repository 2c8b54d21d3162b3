"""Per-key limits through the local stack (real authorizer and handlers, over HTTP): the stack
enforces the template's usage plan, here with tiny limits given as parameter overrides (a rate
of one request per 1,000 s, bursts of 3), so a noisy key is throttled after exactly three
requests, with no timing involved, while another key and the routes without a key are not."""

from __future__ import annotations

import requests

from devstack.stack import LocalStack

TINY_LIMITS = {"KeyRateLimit": "0.001", "KeyBurstLimit": "3"}


def list_media(stack: LocalStack, key: str | None) -> requests.Response:
    return requests.get(f"{stack.api_url}/v1/media", headers={"Authorization": f"Bearer {key}"}, timeout=30)


def test_a_noisy_key_gets_429_with_retry_after_while_another_key_is_unaffected():
    with LocalStack(parameter_overrides=TINY_LIMITS) as stack:
        from medialib.services.api_keys import create_key

        noisy = stack.demo_key
        _, quiet = create_key("quiet-shop", ["media:read"])

        # When the noisy key spends its burst and asks again
        statuses = [list_media(stack, noisy).status_code for _ in range(3)]
        throttled = list_media(stack, noisy)

        # Then it is throttled with the template's 429 problem and Retry-After
        assert statuses == [200, 200, 200]
        assert throttled.status_code == 429
        assert throttled.headers["Retry-After"] == "1"
        assert throttled.headers["Content-Type"] == "application/problem+json"
        assert throttled.json()["code"] == "rate_limited"
        assert throttled.headers["X-Request-Id"] == throttled.json()["request_id"]
        # And the other key, the routes without a key and preflights are not
        assert [list_media(stack, quiet).status_code for _ in range(3)] == [200, 200, 200]
        assert requests.get(f"{stack.api_url}/v1/openapi.json", timeout=30).status_code == 200
        preflight = requests.options(
            f"{stack.api_url}/v1/media",
            headers={"Origin": "https://shop.test", "Access-Control-Request-Method": "GET"},
            timeout=30,
        )
        assert preflight.status_code == 200
        # And a bad key is still a 401, not a 429: the authorizer runs before the meter
        assert list_media(stack, "mlk_" + "x" * 60).status_code == 401
        assert list_media(stack, noisy).status_code == 429
