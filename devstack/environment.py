"""What the functions run with locally: their process environment.

Handlers read their settings once, at import, so the environment must be applied to
``os.environ`` before any handler or ``medialib`` module is imported. The environment is
process-wide: one local stack per process at a time.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from devstack.emulator import CREDENTIALS
from devstack.intrinsics import Unresolved
from devstack.local_account import REGION
from devstack.template import LocalTemplate

# A developer's own AWS configuration must not leak into the local stack.
_CLEARED_VARIABLES = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_DEFAULT_PROFILE")
_CLEARED_PREFIX = "AWS_ENDPOINT_URL_"
_CURSOR_SIGNING_KEY = secrets.token_urlsafe(32)  # per process: handlers read it once
# Read from a secret in AWS; locally the settings take the key itself (CURSOR_SIGNING_KEY).
_AWS_ONLY = ("CURSOR_SIGNING_SECRET_ARN",)
# `ALLOW_LOOPBACK_IMPORTS=1 make dev`: remote import may fetch from 127.0.0.1 / ::1 (and only
# those), to try it against a local HTTP server. Local only: template.yaml never sets it.
LOOPBACK_IMPORTS_SWITCH = "ALLOW_LOOPBACK_IMPORTS"


def loopback_imports_requested() -> bool:
    """True when the local stack was started with ``ALLOW_LOOPBACK_IMPORTS=1``."""
    return os.environ.get(LOOPBACK_IMPORTS_SWITCH, "").strip() == "1"


def build_environment(
    template: LocalTemplate, *, aws_url: str, media_url: str | None = None
) -> dict[str, str]:
    """The template's function environment, with what only AWS knows replaced by local values.

    ``media_url`` is the local delivery endpoint (the stack's stand-in for the CloudFront
    distribution); without one, path-style object URLs on the emulator stand in for it."""
    declared: dict[str, Any] = dict(template.environment)
    for function in template.functions.values():
        for name, value in function.environment.items():
            if name in declared and declared[name] != value:
                raise ValueError(
                    f"{function.logical_id} sets {name} differently from another function; the local "
                    "stack runs every function in one process, so it needs one value"
                )
            declared[name] = value
    for name in _AWS_ONLY:
        declared.pop(name, None)
    local = {
        "MEDIA_BASE_URL": media_url or f"{aws_url}/{template.only_bucket().name}",
        "MEDIA_DISTRIBUTION_ID": "",  # no CDN cache to invalidate: devstack.delivery reads the bucket
        "CURSOR_SIGNING_KEY": _CURSOR_SIGNING_KEY,
        "AWS_ENDPOINT_URL": aws_url,
        "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "AWS_XRAY_SDK_ENABLED": "false",
    }
    if LOOPBACK_IMPORTS_SWITCH in declared:
        raise ValueError(f"template.yaml must not set {LOOPBACK_IMPORTS_SWITCH}: it is a local switch")
    # Always set, so a value left in the process environment never decides it unseen.
    local[LOOPBACK_IMPORTS_SWITCH] = "1" if loopback_imports_requested() else "0"
    unresolved = sorted(
        name for name, value in declared.items() if isinstance(value, Unresolved) and name not in local
    )
    if unresolved:
        raise ValueError(f"no local value for {', '.join(unresolved)}; add one in devstack.environment")
    return {**{name: str(value) for name, value in declared.items()}, **local}


def apply_environment(environment: dict[str, str]) -> dict[str, str | None]:
    """Set ``environment`` in ``os.environ``; returns what to hand to :func:`restore_environment`."""
    cleared = [
        name
        for name in os.environ
        if name in (*_CLEARED_VARIABLES, *_AWS_ONLY) or name.startswith(_CLEARED_PREFIX)
    ]
    previous = {name: os.environ.get(name) for name in [*environment, *cleared]}
    for name in cleared:
        del os.environ[name]
    os.environ.update(environment)
    return previous


def restore_environment(previous: dict[str, str | None]) -> None:
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
