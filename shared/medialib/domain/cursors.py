"""Opaque, tamper-evident list cursors: a JSON payload signed with HMAC-SHA256.

A cursor names the tenant and the query it belongs to, so an edited cursor, one from another
tenant, or one replayed against another sort or filter is rejected rather than trusted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from medialib.domain.errors import ValidationFailed

_SIGNATURE_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(payload: dict[str, Any], *, scope: str, key: str) -> str:
    body = json.dumps({"s": scope, "p": payload}, separators=(",", ":"), sort_keys=True).encode()
    signature = hmac.new(key.encode(), body, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
    return _b64(signature + body)


def decode_cursor(cursor: str, *, scope: str, key: str) -> dict[str, Any]:
    invalid = ValidationFailed(
        "The cursor is invalid for this query", errors=[{"field": "cursor", "message": "invalid cursor"}]
    )
    try:
        raw = _unb64(cursor)
    except (ValueError, TypeError):
        raise invalid from None
    signature, body = raw[:_SIGNATURE_BYTES], raw[_SIGNATURE_BYTES:]
    expected = hmac.new(key.encode(), body, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
    if len(cursor) > 2048 or not hmac.compare_digest(signature, expected):
        raise invalid
    decoded = json.loads(body)
    if decoded.get("s") != scope or not isinstance(decoded.get("p"), dict):
        raise invalid
    return decoded["p"]
