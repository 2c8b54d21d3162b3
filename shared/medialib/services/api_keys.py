"""API keys and tenants: the rules.

A key reads ``mlk_<key_id>_<secret>``. The key id is public (it names the key in logs, lists
and the authorizer's principal); the secret is 256 bits from ``secrets`` and is stored only as a
hash. A key belongs to one tenant and carries scopes from ``SCOPES``; the tenant always comes
from the key.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from medialib.adapters import accounts_store, usage_plans
from medialib.adapters.accounts_store import StoredKey, Tenant
from medialib.domain.errors import AlreadyExists, NotFound, Unauthorized, Unavailable, ValidationFailed
from medialib.domain.principal import SCOPES, TENANT_ID_PATTERN, Principal
from medialib.services.retrying import retry_on_conflict

KEY_PREFIX = "mlk_"
USAGE_IDENTIFIER_PREFIX = "medialib-"
KEY_ID_LENGTH = 16
# Letters and digits only (a subset of the URL-safe alphabet): no "_" or "-", so the key id
# never blurs the separators of the key format. 62**16 ≈ 2**95 ids.
KEY_ID_ALPHABET = string.ascii_letters + string.digits
SECRET_BYTES = 32  # 256 bits of entropy, well above the required 128
SECRET_LENGTH = 43  # len(secrets.token_urlsafe(32))
MAX_LABEL_LENGTH = 100
_KEY_ID_PATTERN = re.compile(rf"[A-Za-z0-9]{{{KEY_ID_LENGTH}}}")
_KEY_PATTERN = re.compile(
    rf"{KEY_PREFIX}(?P<key_id>[A-Za-z0-9]{{{KEY_ID_LENGTH}}})_(?P<secret>[A-Za-z0-9_-]{{{SECRET_LENGTH}}})"
)
# RFC 9110 credentials: the scheme, one or more spaces, then the token (here, the key).
_BEARER_PATTERN = re.compile(r"(?i:bearer) +(?P<token>\S+)")
_MAX_HEADER_LENGTH = 512
# Compared against when the key id is unknown, so that path costs the same as a wrong secret.
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown about a key: never its secret or its hash."""

    key_id: str
    tenant_id: str
    scopes: tuple[str, ...]
    label: str | None
    created_at: str
    revoked_at: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


# ---------------------------------------------------------------- pure rules
def now_iso() -> str:
    """UTC, milliseconds, ``Z``: the API's timestamp format."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def usage_identifier(key_id: str) -> str:
    """The API Gateway API key that meters this key in the usage plan (name and value: 25
    characters, API Gateway asks for 20-128). Not a secret: with ``ApiKeySourceType:
    AUTHORIZER`` no client sends it; the authorizer names it for a key it accepted."""
    return f"{USAGE_IDENTIFIER_PREFIX}{key_id}"


def format_key(key_id: str, secret: str) -> str:
    return f"{KEY_PREFIX}{key_id}_{secret}"


def parse_key(key: str) -> tuple[str, str]:
    """Split a full key into ``(key_id, secret)``; Unauthorized if it is not one of ours."""
    match = _KEY_PATTERN.fullmatch(key)
    if match is None:
        raise Unauthorized("Malformed API key")
    return match["key_id"], match["secret"]


def parse_authorization(header: str | None) -> tuple[str, str]:
    """``Authorization: Bearer <key>`` → ``(key_id, secret)``; Unauthorized if missing/malformed."""
    if not header or len(header) > _MAX_HEADER_LENGTH:
        raise Unauthorized("Missing API key")
    match = _BEARER_PATTERN.fullmatch(header.strip())
    if match is None:
        raise Unauthorized("Malformed Authorization header")
    return parse_key(match["token"])


def hash_secret(secret: str) -> str:
    # A plain SHA-256 is enough here: the secret is 256 bits from a CSPRNG, so neither
    # brute force nor a dictionary can invert the hash, and a slow KDF (bcrypt, scrypt) would
    # only add latency to every authorization. Slow hashes exist for low-entropy passwords.
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def secret_matches(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), secret_hash)


def new_key_id() -> str:
    return "".join(secrets.choice(KEY_ID_ALPHABET) for _ in range(KEY_ID_LENGTH))


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def normalise_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """Known scopes, deduplicated, in ``SCOPES`` order; ValidationFailed if empty or unknown."""
    if isinstance(scopes, str):  # a lone string would otherwise iterate as characters
        scopes = [scopes]
    requested = [scope.strip() for scope in scopes if isinstance(scope, str) and scope.strip()]
    unknown = sorted(set(requested).difference(SCOPES))
    if unknown:
        raise ValidationFailed(
            "Unknown scope",
            errors=[
                {
                    "field": "scopes",
                    "message": f"Unknown scope(s): {', '.join(unknown)}; allowed: {', '.join(SCOPES)}",
                }
            ],
        )
    if not requested:
        raise ValidationFailed(
            "At least one scope is required",
            errors=[{"field": "scopes", "message": f"Give at least one of: {', '.join(SCOPES)}"}],
        )
    return tuple(scope for scope in SCOPES if scope in requested)


def validate_tenant_id(tenant_id: str) -> str:
    if not isinstance(tenant_id, str) or not TENANT_ID_PATTERN.fullmatch(tenant_id):
        raise ValidationFailed(
            "Invalid tenant id",
            errors=[
                {
                    "field": "tenant_id",
                    "message": "1-63 lowercase letters, digits or '-', "
                    "starting and ending with a letter or digit",
                }
            ],
        )
    return tenant_id


def validate_label(label: str | None) -> str | None:
    if label is None or label == "":
        return None
    if len(label) > MAX_LABEL_LENGTH or not label.isprintable():
        raise ValidationFailed(
            "Invalid label",
            errors=[{"field": "label", "message": f"At most {MAX_LABEL_LENGTH} printable characters"}],
        )
    return label


def _key_info(key: StoredKey) -> KeyInfo:
    return KeyInfo(
        key_id=key.key_id,
        tenant_id=key.tenant_id,
        scopes=key.scopes,
        label=key.label,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


# ---------------------------------------------------------------- keys
def create_key(tenant_id: str, scopes: Iterable[str], label: str | None = None) -> tuple[KeyInfo, str]:
    """Create a key (and its tenant if missing) and add it to the usage plan when there is one.
    Returns the key's info and the full key, which is shown once and never stored."""
    validate_tenant_id(tenant_id)
    ordered_scopes = normalise_scopes(scopes)
    label = validate_label(label)
    created_at = now_iso()
    _ensure_tenant(tenant_id, created_at)

    def attempt() -> tuple[KeyInfo, str]:
        key_id, secret = new_key_id(), new_secret()
        stored = StoredKey(
            key_id=key_id,
            tenant_id=tenant_id,
            secret_hash=hash_secret(secret),
            scopes=ordered_scopes,
            label=label,
            created_at=created_at,
        )
        accounts_store.put_key(stored)
        return _key_info(stored), format_key(key_id, secret)

    # A key id collision (about 2**-95 per pair) is drawn again rather than overwritten.
    info, key = retry_on_conflict(attempt, retry_on=(AlreadyExists,), gave_up="Could not draw a free key id")
    try:
        usage_plans.register(usage_identifier(info.key_id), tenant_id)
    except Unavailable:
        accounts_store.mark_key_revoked(info.key_id, now_iso())  # never a key the gateway refuses
        raise
    return info, key


def revoke_key(key_id: str) -> KeyInfo:
    """Revoke a key; idempotent (a second call keeps the first ``revoked_at``). NotFound if unknown."""
    if not isinstance(key_id, str) or not _KEY_ID_PATTERN.fullmatch(key_id):
        raise NotFound("API key not found")
    revoked = _key_info(accounts_store.mark_key_revoked(key_id, now_iso()))
    usage_plans.unregister(usage_identifier(key_id))  # the authorizer refuses it already
    return revoked


def register_keys_in_usage_plan() -> list[str]:
    """Add every active key missing from the usage plan (keys created before the plan existed or
    without ``USAGE_PLAN_ID``); returns their ids."""
    present = usage_plans.registered()
    added = []
    for tenant in accounts_store.list_tenants():
        for key in accounts_store.keys_of_tenant(tenant.tenant_id):
            if key.revoked_at is None and usage_identifier(key.key_id) not in present:
                usage_plans.register(usage_identifier(key.key_id), key.tenant_id)
                added.append(key.key_id)
    return added


def list_keys(tenant_id: str) -> list[KeyInfo]:
    """The tenant's keys, oldest first, revoked ones included; never a secret or a hash."""
    validate_tenant_id(tenant_id)
    return [_key_info(key) for key in accounts_store.keys_of_tenant(tenant_id)]


def authenticate(raw_authorization_header: str | None) -> Principal:
    """Resolve ``Authorization: Bearer <key>`` to its principal.

    Unauthorized for a missing or malformed header, an unknown key, a wrong secret or a revoked
    key (one message for all three, so a caller learns nothing about which). Unavailable
    propagates: a store outage is not a bad key.
    """
    key_id, secret = parse_authorization(raw_authorization_header)
    stored = accounts_store.get_key(key_id)
    if stored is None:
        hmac.compare_digest(hash_secret(secret), _DUMMY_HASH)
        raise Unauthorized("Unknown or revoked API key")
    if not secret_matches(secret, stored.secret_hash) or stored.revoked_at is not None:
        raise Unauthorized("Unknown or revoked API key")
    return Principal(tenant_id=stored.tenant_id, key_id=stored.key_id, scopes=frozenset(stored.scopes))


# ---------------------------------------------------------------- tenants
def _ensure_tenant(tenant_id: str, now: str) -> None:
    # Created earlier or by a concurrent call: either way it exists now.
    with contextlib.suppress(AlreadyExists):
        accounts_store.put_tenant(Tenant(tenant_id=tenant_id, public=False, created_at=now, updated_at=now))


def create_tenant(tenant_id: str, public: bool = False) -> Tenant:
    """Create a tenant; AlreadyExists if it exists."""
    validate_tenant_id(tenant_id)
    now = now_iso()
    tenant = Tenant(tenant_id=tenant_id, public=bool(public), created_at=now, updated_at=now)
    accounts_store.put_tenant(tenant)
    return tenant


def update_tenant(tenant_id: str, public: bool) -> Tenant:
    """Switch the tenant's public read access; NotFound if it does not exist."""
    if not TENANT_ID_PATTERN.fullmatch(tenant_id):
        raise NotFound("Tenant not found")
    return accounts_store.set_tenant_public(tenant_id, bool(public), now_iso())


def get_tenant(tenant_id: str) -> Tenant:
    """The tenant; NotFound if it does not exist."""
    tenant = accounts_store.get_tenant(tenant_id) if TENANT_ID_PATTERN.fullmatch(tenant_id) else None
    if tenant is None:
        raise NotFound("Tenant not found")
    return tenant


def is_public(tenant_id: str) -> bool:
    """Whether the tenant enabled public read; a missing tenant is not public."""
    if not TENANT_ID_PATTERN.fullmatch(tenant_id):
        return False
    tenant = accounts_store.get_tenant(tenant_id)
    return tenant is not None and tenant.public


def list_tenants() -> list[Tenant]:
    """Every tenant, by id (an operator's scan, not for request paths)."""
    return accounts_store.list_tenants()
