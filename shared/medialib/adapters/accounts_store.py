"""Persistence for tenants and API keys (``TenantsTable`` and ``ApiKeysTable``).

The module speaks plain dataclasses and domain errors; the pynamodb models never leave it.
Table names come from the settings, read once at import (cold start). Region and endpoint come
from the standard AWS configuration: ``host`` is left unset so botocore resolves
``AWS_ENDPOINT_URL_DYNAMODB`` / ``AWS_ENDPOINT_URL`` (the local stack, LocalStack) or the real
regional endpoint.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from medialib.adapters.dynamo import aws_region
from medialib.domain.errors import AlreadyExists, NotFound, Unavailable
from medialib.domain.principal import SCOPES
from medialib.settings import get_settings

_CONDITION_FAILED = "ConditionalCheckFailedException"


_SETTINGS = get_settings()
# The region the tables live in; tests and tools create clients for the same one.
REGION = aws_region()


# ---------------------------------------------------------------- domain-facing records
@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    public: bool
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class StoredKey:
    """An API key as stored: the hash of its secret, never the secret."""

    key_id: str
    tenant_id: str
    secret_hash: str
    scopes: tuple[str, ...]
    label: str | None
    created_at: str
    revoked_at: str | None = None


# ---------------------------------------------------------------- pynamodb models (private)
class _TenantModel(Model):
    class Meta:
        table_name = _SETTINGS.tenants_table
        region = REGION

    tenant_id = UnicodeAttribute(hash_key=True)
    public = BooleanAttribute(default=False)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class _KeysByTenant(GlobalSecondaryIndex["_ApiKeyModel"]):
    class Meta:
        index_name = "by_tenant"
        projection = AllProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class _ApiKeyModel(Model):
    class Meta:
        table_name = _SETTINGS.keys_table
        region = REGION

    key_id = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute()
    secret_hash = UnicodeAttribute()
    scopes = UnicodeSetAttribute()
    label = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    revoked_at = UnicodeAttribute(null=True)

    by_tenant = _KeysByTenant()


def _tenant(model: _TenantModel) -> Tenant:
    return Tenant(
        tenant_id=model.tenant_id,
        public=bool(model.public),
        created_at=model.created_at,
        updated_at=model.updated_at,
    )


def _ordered_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    present = set(scopes)
    known = tuple(scope for scope in SCOPES if scope in present)
    return known + tuple(sorted(present.difference(SCOPES)))


def _stored_key(model: _ApiKeyModel) -> StoredKey:
    return StoredKey(
        key_id=model.key_id,
        tenant_id=model.tenant_id,
        secret_hash=model.secret_hash,
        scopes=_ordered_scopes(model.scopes or ()),
        label=model.label,
        created_at=model.created_at,
        revoked_at=model.revoked_at,
    )


def _unavailable() -> Unavailable:
    # The detail is safe to show; the cause stays chained for logs and the CLI.
    return Unavailable("The account store is unavailable; retry")


# ---------------------------------------------------------------- tenants
def put_tenant(tenant: Tenant) -> None:
    """Create a tenant; AlreadyExists if one with that id exists (conditional, race-safe)."""
    model = _TenantModel(
        tenant.tenant_id,
        public=tenant.public,
        created_at=tenant.created_at,
        updated_at=tenant.updated_at,
    )
    try:
        model.save(condition=_TenantModel.tenant_id.does_not_exist())
    except PynamoDBException as exc:
        if exc.cause_response_code == _CONDITION_FAILED:
            raise AlreadyExists("Tenant already exists") from exc
        raise _unavailable() from exc


def get_tenant(tenant_id: str) -> Tenant | None:
    try:
        return _tenant(_TenantModel.get(tenant_id, consistent_read=True))
    except _TenantModel.DoesNotExist:
        return None
    except PynamoDBException as exc:
        raise _unavailable() from exc


def set_tenant_public(tenant_id: str, public: bool, updated_at: str) -> Tenant:
    """Switch public read on or off; NotFound if the tenant does not exist."""
    model = _TenantModel(tenant_id)
    try:
        model.update(
            actions=[_TenantModel.public.set(public), _TenantModel.updated_at.set(updated_at)],
            condition=_TenantModel.tenant_id.exists(),
        )
    except PynamoDBException as exc:
        if exc.cause_response_code == _CONDITION_FAILED:
            raise NotFound("Tenant not found") from exc
        raise _unavailable() from exc
    return _tenant(model)


def list_tenants() -> list[Tenant]:
    """Every tenant, by id. A scan: meant for the operator's CLI, never for a request path."""
    try:
        tenants = [_tenant(model) for model in _TenantModel.scan()]
    except PynamoDBException as exc:
        raise _unavailable() from exc
    return sorted(tenants, key=lambda tenant: tenant.tenant_id)


# ---------------------------------------------------------------- keys
def put_key(key: StoredKey) -> None:
    """Store a new key; AlreadyExists if the key id is taken (conditional, never overwrites)."""
    model = _ApiKeyModel(
        key.key_id,
        tenant_id=key.tenant_id,
        secret_hash=key.secret_hash,
        scopes=set(key.scopes),
        label=key.label,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )
    try:
        model.save(condition=_ApiKeyModel.key_id.does_not_exist())
    except PynamoDBException as exc:
        if exc.cause_response_code == _CONDITION_FAILED:
            raise AlreadyExists("Key id already exists") from exc
        raise _unavailable() from exc


def get_key(key_id: str) -> StoredKey | None:
    # A strongly consistent read, so a revocation takes effect on the next authorization.
    try:
        return _stored_key(_ApiKeyModel.get(key_id, consistent_read=True))
    except _ApiKeyModel.DoesNotExist:
        return None
    except PynamoDBException as exc:
        raise _unavailable() from exc


def mark_key_revoked(key_id: str, revoked_at: str) -> StoredKey:
    """Set ``revoked_at`` unless already set (idempotent: the first revocation time stays)."""
    model = _ApiKeyModel(key_id)
    try:
        model.update(
            actions=[_ApiKeyModel.revoked_at.set(_ApiKeyModel.revoked_at | revoked_at)],
            condition=_ApiKeyModel.key_id.exists(),
        )
    except PynamoDBException as exc:
        if exc.cause_response_code == _CONDITION_FAILED:
            raise NotFound("API key not found") from exc
        raise _unavailable() from exc
    return _stored_key(model)


def keys_of_tenant(tenant_id: str) -> list[StoredKey]:
    """The tenant's keys, oldest first, through the ``by_tenant`` index."""
    try:
        return [_stored_key(model) for model in _ApiKeyModel.by_tenant.query(tenant_id)]
    except PynamoDBException as exc:
        raise _unavailable() from exc
