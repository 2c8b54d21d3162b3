"""Per-key limits through the local stack (real authorizer and handlers, over HTTP): the stack
enforces the template's usage plan, here with tiny limits given as parameter overrides (a rate
of one request per 1,000 s, bursts of 3), so a noisy key is throttled after exactly three
requests, with no timing involved, while another key and the routes without a key are not.

The stack runs in a process of its own: the real template's handlers and settings are
process-wide (as in test_devstack's seeded-stack test)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from devstack.cfn_yaml import REPO_ROOT

SCENARIO = textwrap.dedent(
    """
    import json
    import requests
    from devstack.stack import LocalStack

    with LocalStack(parameter_overrides={"KeyRateLimit": "0.001", "KeyBurstLimit": "3"}) as stack:
        from medialib.services.api_keys import create_key

        def list_media(key):
            headers = {"Authorization": f"Bearer {key}"}
            return requests.get(f"{stack.api_url}/v1/media", headers=headers, timeout=30)

        _, quiet = create_key("quiet-shop", ["media:read"])
        seen = {"noisy": [list_media(stack.demo_key).status_code for _ in range(3)]}
        throttled = list_media(stack.demo_key)
        seen["throttled"] = {
            "status": throttled.status_code,
            "retry_after": throttled.headers.get("Retry-After"),
            "content_type": throttled.headers.get("Content-Type"),
            "body": throttled.json(),
            "request_id": throttled.headers.get("X-Request-Id"),
        }
        seen["quiet"] = [list_media(quiet).status_code for _ in range(3)]
        seen["docs"] = requests.get(f"{stack.api_url}/v1/openapi.json", timeout=30).status_code
        seen["preflight"] = requests.options(
            f"{stack.api_url}/v1/media",
            headers={"Origin": "https://shop.test", "Access-Control-Request-Method": "GET"},
            timeout=30,
        ).status_code
        seen["bad_key"] = list_media("mlk_" + "x" * 60).status_code
        seen["noisy_again"] = list_media(stack.demo_key).status_code
    print(json.dumps(seen))
    """
)


def test_a_noisy_key_gets_429_with_retry_after_while_another_key_is_unaffected():
    # When one key spends its burst and asks again, and another key, the docs, a preflight and a
    # bad key are tried meanwhile
    result = subprocess.run(
        [sys.executable, "-c", SCENARIO],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    # Then the noisy key is throttled with the template's 429 problem and Retry-After
    assert seen["noisy"] == [200, 200, 200]
    throttled = seen["throttled"]
    assert throttled["status"] == 429
    assert throttled["retry_after"] == "1"
    assert throttled["content_type"] == "application/problem+json"
    assert throttled["body"]["code"] == "rate_limited"
    assert throttled["body"]["request_id"] == throttled["request_id"]
    # And the other key, the routes without a key and preflights are not
    assert seen["quiet"] == [200, 200, 200]
    assert (seen["docs"], seen["preflight"]) == (200, 200)
    # And a bad key is still a 401, not a 429: the authorizer runs before the meter
    assert (seen["bad_key"], seen["noisy_again"]) == (401, 429)
