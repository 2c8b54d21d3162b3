"""Pure rules of API keys: key format, Authorization header parsing, hashing, scopes, ids.

No network and no tables: nothing here reaches the store.
"""

from __future__ import annotations

import pytest

from medialib.api.auth import principal_from_event, require_scope
from medialib.domain.errors import Forbidden, Unauthorized, ValidationFailed
from medialib.domain.principal import SCOPES, Principal
from medialib.services import api_keys

KEY_ID = "AbCdEfGh12345678"
SECRET = "s" * 20 + "-_" + "x" * 21  # 43 url-safe characters
KEY = f"mlk_{KEY_ID}_{SECRET}"


# ---------------------------------------------------------------- key format
def test_a_new_key_round_trips_through_format_and_parse():
    key_id, secret = api_keys.new_key_id(), api_keys.new_secret()

    key = api_keys.format_key(key_id, secret)

    assert key.startswith("mlk_")
    assert api_keys.parse_key(key) == (key_id, secret)


def test_key_ids_are_16_alphanumerics_and_secrets_carry_at_least_128_bits():
    key_ids = {api_keys.new_key_id() for _ in range(200)}
    secrets = {api_keys.new_secret() for _ in range(200)}

    assert len(key_ids) == 200 and len(secrets) == 200
    assert all(len(key_id) == 16 and key_id.isalnum() and key_id.isascii() for key_id in key_ids)
    # token_urlsafe(32): 32 random bytes → 43 characters of 6 bits each.
    assert all(len(secret) == 43 for secret in secrets)


def test_a_secret_may_contain_the_separator_and_still_parses():
    assert api_keys.parse_key(KEY) == (KEY_ID, SECRET)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "mlk_",
        f"xyz_{KEY_ID}_{SECRET}",  # wrong prefix
        f"MLK_{KEY_ID}_{SECRET}",  # the prefix is case-sensitive
        f"mlk_{KEY_ID[:-1]}_{SECRET}",  # key id too short
        f"mlk_{KEY_ID}x_{SECRET}",  # key id too long
        f"mlk_{KEY_ID[:-1]}-_{SECRET}",  # key id with a non-alphanumeric
        f"mlk_{KEY_ID}{SECRET}",  # no separator
        f"mlk_{KEY_ID}_{SECRET[:-1]}",  # secret too short
        f"mlk_{KEY_ID}_{SECRET}x",  # secret too long
        f"mlk_{KEY_ID}_{SECRET[:-1]}=",  # outside the url-safe alphabet
        f"mlk_{KEY_ID}_{SECRET[:-1]}é",
        f" {KEY}",
    ],
)
def test_malformed_keys_are_unauthorized(key):
    with pytest.raises(Unauthorized):
        api_keys.parse_key(key)


# ---------------------------------------------------------------- Authorization header
@pytest.mark.parametrize(
    "header",
    [f"Bearer {KEY}", f"bearer {KEY}", f"BEARER {KEY}", f"bEaReR   {KEY}", f"  Bearer {KEY}  "],
)
def test_the_bearer_scheme_is_case_insensitive(header):
    assert api_keys.parse_authorization(header) == (KEY_ID, SECRET)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "   ",
        KEY,  # no scheme
        f"Basic {KEY}",
        f"Token {KEY}",
        f"Bearer{KEY}",  # no space
        "Bearer",
        "Bearer ",
        f"Bearer {KEY} extra",
        f"Bearer {KEY},Bearer {KEY}",
        f"Bearer\t{KEY}",
        f"Bearer {KEY[:-1]}",
        "Bearer " + "a" * 5000,  # oversized
    ],
)
def test_missing_or_malformed_headers_are_unauthorized(header):
    with pytest.raises(Unauthorized):
        api_keys.parse_authorization(header)


# ---------------------------------------------------------------- hashing
def test_only_a_hash_of_the_secret_is_kept_and_it_matches_only_that_secret():
    digest = api_keys.hash_secret(SECRET)

    assert SECRET not in digest and len(digest) == 64
    assert api_keys.secret_matches(SECRET, digest)
    assert not api_keys.secret_matches(SECRET[:-1] + "y", digest)


# ---------------------------------------------------------------- scopes, tenant ids, labels
def test_scopes_are_deduplicated_and_put_in_canonical_order():
    assert api_keys.normalise_scopes(["media:delete", "media:read", "media:read"]) == (
        "media:read",
        "media:delete",
    )
    assert api_keys.normalise_scopes("media:write") == ("media:write",)
    assert api_keys.normalise_scopes(SCOPES) == SCOPES


@pytest.mark.parametrize("scopes", [[], [""], ["media:admin"], ["media:read", "MEDIA:WRITE"], "media"])
def test_empty_or_unknown_scopes_are_rejected(scopes):
    with pytest.raises(ValidationFailed) as raised:
        api_keys.normalise_scopes(scopes)
    assert raised.value.errors[0]["field"] == "scopes"


@pytest.mark.parametrize("tenant_id", ["acme", "a", "acme-store-2", "0", "a" * 63])
def test_valid_tenant_ids(tenant_id):
    assert api_keys.validate_tenant_id(tenant_id) == tenant_id


@pytest.mark.parametrize("tenant_id", ["", "Acme", "-acme", "acme-", "ac_me", "a" * 64, "acme store", "ácme"])
def test_invalid_tenant_ids(tenant_id):
    with pytest.raises(ValidationFailed):
        api_keys.validate_tenant_id(tenant_id)


def test_labels_are_optional_short_and_printable():
    assert api_keys.validate_label(None) is None
    assert api_keys.validate_label("") is None
    assert api_keys.validate_label("CMS production") == "CMS production"
    for bad in ["x" * 101, "line\nbreak", "bell\x07"]:
        with pytest.raises(ValidationFailed):
            api_keys.validate_label(bad)


def test_timestamps_are_utc_with_milliseconds_and_z():
    stamp = api_keys.now_iso()

    assert stamp.endswith("Z") and len(stamp) == len("2026-04-10T12:00:00.000Z") and stamp[19] == "."


# ---------------------------------------------------------------- the API side of the authorizer
def _proxy_event(authorizer):
    return {"requestContext": {"requestId": "r-1", "authorizer": authorizer}}


def test_the_principal_comes_from_the_authorizer_context():
    event = _proxy_event(
        {"principalId": "k", "tenant_id": "acme", "key_id": KEY_ID, "scopes": "media:read media:write"}
    )

    principal = principal_from_event(event)

    assert principal == Principal("acme", KEY_ID, frozenset({"media:read", "media:write"}))


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"requestContext": {}},
        _proxy_event(None),
        _proxy_event({"principalId": "k"}),
        _proxy_event({"tenant_id": "", "key_id": KEY_ID, "scopes": "media:read"}),
        _proxy_event({"tenant_id": "acme", "scopes": "media:read"}),
    ],
)
def test_no_authorizer_context_is_unauthorized(event):
    with pytest.raises(Unauthorized):
        principal_from_event(event)


def test_require_scope():
    principal = Principal("acme", KEY_ID, frozenset({"media:read"}))

    require_scope(principal, "media:read")
    with pytest.raises(Forbidden) as raised:
        require_scope(principal, "media:write")
    assert raised.value.detail == "This key lacks the media:write scope"
