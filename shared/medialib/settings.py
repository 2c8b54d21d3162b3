"""Typed settings, read once from the environment at cold start.

Nothing else in the project reads ``os.environ``; the names here are the ones ``template.yaml``
declares (``Globals.Function.Environment``, and a function's own ``Environment``).

The tables, the bucket and the delivery URL have no defaults: a function started without one
fails its cold start with an error naming the variable, instead of quietly using a name that
only exists on a laptop. The local stack (``devstack.environment``), the tests
(``tests/conftest.py``) and the ``medialib`` command supply their own values.

The list-cursor signing key never sits in a deployed function's environment: the functions that
sign or verify cursors get ``CURSOR_SIGNING_SECRET_ARN`` and read the key from Secrets Manager
here, once. Locally the key itself comes in ``CURSOR_SIGNING_KEY``.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

MB = 1024 * 1024
CURSOR_KEY_MIN_LENGTH = 16
# Where the cursor key comes from, by where the code runs; both name the same setting.
SECRET_ARN_VARIABLE = "CURSOR_SIGNING_SECRET_ARN"  # noqa: S105 - a variable name, not a secret
LOCAL_KEY_VARIABLE = "CURSOR_SIGNING_KEY"


# Set by the Lambda runtime itself (never by the local stack): where the code really runs.
LAMBDA_RUNTIME_VARIABLE = "AWS_LAMBDA_RUNTIME_API"
LOOPBACK_IMPORTS_VARIABLE = "ALLOW_LOOPBACK_IMPORTS"


class SettingsError(RuntimeError):
    """The environment lacks a setting or holds an invalid one; the message names the variable."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    media_table: str = Field(min_length=1)
    tenants_table: str = Field(min_length=1)
    keys_table: str = Field(min_length=1)
    idempotency_table: str = Field(min_length=1)
    media_bucket: str = Field(min_length=1)
    # Where originals and variants are delivered from (CloudFront in AWS, the emulator locally).
    media_base_url: str = Field(min_length=1)
    # The CloudFront distribution whose cache forgets deleted files; empty where there is none.
    media_distribution_id: str = ""
    # The API's per-key usage plan (the stack's KeyUsagePlanId output), for the command that
    # creates keys; empty where the gateway meters keys itself (the local stack).
    usage_plan_id: str = ""
    upload_url_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    max_image_bytes: int = 25 * MB
    max_video_bytes: int = 1024 * MB
    max_document_bytes: int = 50 * MB
    max_model_bytes: int = 15 * MB
    # SVG is parsed into a tree to be sanitised: a tighter bound than other images.
    max_svg_bytes: int = 5 * MB
    max_image_pixels: int = 50_000_000
    max_image_frames: int = 1000
    # Remote import: the decoded bytes one URL may bring (larger files go through presign).
    max_import_bytes: int = Field(default=25 * MB, gt=0)
    # Only the local stack sets it (ALLOW_LOOPBACK_IMPORTS=1): remote import may then reach
    # 127.0.0.1 and ::1, never private, link-local or metadata addresses. Never in template.yaml.
    allow_loopback_imports: bool = False
    # Only in functions that sign or verify list cursors; read through ``cursor_signing_key``.
    cursor_key: SecretStr | None = None

    @field_validator("cursor_key")
    @classmethod
    def _long_enough(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None and len(key.get_secret_value()) < CURSOR_KEY_MIN_LENGTH:
            raise ValueError(f"must be at least {CURSOR_KEY_MIN_LENGTH} characters")
        return key

    @property
    def cursor_signing_key(self) -> str:
        """The HMAC key for list cursors; a function deployed without it fails here, loudly."""
        if self.cursor_key is None:
            raise SettingsError(
                f"{SECRET_ARN_VARIABLE} is not set: this function signs or verifies list cursors, so "
                f"template.yaml must pass it the secret's ARN ({LOCAL_KEY_VARIABLE} locally)"
            )
        return self.cursor_key.get_secret_value()

    def max_bytes_for(self, kind: str, content_type: str | None = None) -> int:
        limit = {
            "image": self.max_image_bytes,
            "video": self.max_video_bytes,
            "document": self.max_document_bytes,
            "model": self.max_model_bytes,
        }[kind]
        # SVG is parsed whole to be sanitised: a smaller bound than other images.
        return min(limit, self.max_svg_bytes) if content_type == "image/svg+xml" else limit


# Every field but the key is read from the variable of its name in capitals.
_PLAIN_FIELDS = [name for name in Settings.model_fields if name != "cursor_key"]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Validate the environment once; a missing or bad value fails the cold start, naming it."""
    values: dict[str, object] = {
        name: os.environ[name.upper()] for name in _PLAIN_FIELDS if name.upper() in os.environ
    }
    missing = [
        name.upper()
        for name in _PLAIN_FIELDS
        if Settings.model_fields[name].is_required() and name not in values
    ]
    if missing:
        raise SettingsError("missing environment variable(s): " + ", ".join(missing))
    if os.environ.get(LAMBDA_RUNTIME_VARIABLE) and _switched_on(os.environ.get(LOOPBACK_IMPORTS_VARIABLE)):
        # In Lambda, loopback is the runtime API (the next invocation's event, its responses).
        raise SettingsError(f"{LOOPBACK_IMPORTS_VARIABLE} is for the local stack only, never in Lambda")
    values["cursor_key"] = _cursor_key(
        os.environ.get(SECRET_ARN_VARIABLE), os.environ.get(LOCAL_KEY_VARIABLE)
    )
    try:
        return Settings.model_validate(values)
    except ValidationError as error:
        # Name the variable and the rule, never the value (it may be the key).
        problems = "; ".join(
            f"{_variable_of(str(detail['loc'][0]))}: {detail['msg']}" for detail in error.errors()
        )
        raise SettingsError(f"invalid settings: {problems}") from None


def _switched_on(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _variable_of(field_name: str) -> str:
    return LOCAL_KEY_VARIABLE if field_name == "cursor_key" else field_name.upper()


def _cursor_key(secret_arn: str | None, local_key: str | None) -> str | None:
    if secret_arn and local_key:
        raise SettingsError(f"set {SECRET_ARN_VARIABLE} (deployed) or {LOCAL_KEY_VARIABLE} (local), not both")
    if secret_arn:
        return read_secret_string(secret_arn)
    return local_key


def read_secret_string(secret_arn: str) -> str:
    """The ``SecretString`` of a Secrets Manager secret, read with the standard AWS configuration
    (``AWS_ENDPOINT_URL_SECRETS_MANAGER`` / ``AWS_ENDPOINT_URL`` honoured by boto3)."""
    # Imported here: only the functions that hold a secret's ARN pay for it at this point.
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    parts = secret_arn.split(":")
    region = parts[3] if len(parts) > 3 and parts[0] == "arn" and parts[3] else None
    try:
        response = boto3.client("secretsmanager", region_name=region).get_secret_value(SecretId=secret_arn)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        raise SettingsError(f"{SECRET_ARN_VARIABLE}: the secret cannot be read ({code})") from error
    except BotoCoreError as error:
        raise SettingsError(f"{SECRET_ARN_VARIABLE}: the secret cannot be read ({error})") from error
    secret = response.get("SecretString")
    if not secret:
        raise SettingsError(f"{SECRET_ARN_VARIABLE}: the secret holds no SecretString")
    return secret
