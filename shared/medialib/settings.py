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
from dataclasses import MISSING, dataclass, field, fields
from functools import lru_cache

MB = 1024 * 1024
DEFAULT_MAX_IMPORT_BYTES = 25 * MB
CURSOR_KEY_MIN_LENGTH = 16
# Where the cursor key comes from, by where the code runs; both name the same setting.
SECRET_ARN_VARIABLE = "CURSOR_SIGNING_SECRET_ARN"  # noqa: S105 - a variable name, not a secret
LOCAL_KEY_VARIABLE = "CURSOR_SIGNING_KEY"


# Set by the Lambda runtime itself (never by the local stack): where the code really runs.
LAMBDA_RUNTIME_VARIABLE = "AWS_LAMBDA_RUNTIME_API"
LOOPBACK_IMPORTS_VARIABLE = "ALLOW_LOOPBACK_IMPORTS"


class SettingsError(RuntimeError):
    """The environment lacks a setting or holds an invalid one; the message names the variable."""


# A plain dataclass, not a pydantic model: the authorizer reads settings and nothing else of
# pydantic, whose import would be a third of its cold start (bench/bench_cold_start.py).
@dataclass(frozen=True)
class Settings:
    # Required, non-empty: no default names.
    media_table: str
    tenants_table: str
    keys_table: str
    idempotency_table: str
    media_bucket: str
    # Where originals and variants are delivered from (CloudFront in AWS, the emulator locally).
    media_base_url: str
    # The CloudFront distribution whose cache forgets deleted files; empty where there is none.
    media_distribution_id: str = ""
    # The API's per-key usage plan (the stack's KeyUsagePlanId output), for the command that
    # creates keys; empty where the gateway meters keys itself (the local stack).
    usage_plan_id: str = ""
    upload_url_ttl_seconds: int = 900
    max_image_bytes: int = 25 * MB
    max_video_bytes: int = 1024 * MB
    max_document_bytes: int = 50 * MB
    max_model_bytes: int = 15 * MB
    # SVG is parsed into a tree to be sanitised: a tighter bound than other images.
    max_svg_bytes: int = 5 * MB
    max_image_pixels: int = 50_000_000
    max_image_frames: int = 1000
    # Remote import: the decoded bytes one URL may bring (larger files go through presign).
    max_import_bytes: int = DEFAULT_MAX_IMPORT_BYTES
    # Only the local stack sets it (ALLOW_LOOPBACK_IMPORTS=1): remote import may then reach
    # 127.0.0.1 and ::1, never private, link-local or metadata addresses. Never in template.yaml.
    allow_loopback_imports: bool = False
    # Only in functions that sign or verify list cursors; read through ``cursor_signing_key``.
    # Never in repr, so a logged or printed Settings cannot show it.
    cursor_key: str | None = field(default=None, repr=False)

    @property
    def cursor_signing_key(self) -> str:
        """The HMAC key for list cursors; a function deployed without it fails here, loudly."""
        if self.cursor_key is None:
            raise SettingsError(
                f"{SECRET_ARN_VARIABLE} is not set: this function signs or verifies list cursors, so "
                f"template.yaml must pass it the secret's ARN ({LOCAL_KEY_VARIABLE} locally)"
            )
        return self.cursor_key

    def max_bytes_for(self, kind: str, content_type: str | None = None) -> int:
        limit = {
            "image": self.max_image_bytes,
            "video": self.max_video_bytes,
            "document": self.max_document_bytes,
            "model": self.max_model_bytes,
        }[kind]
        # SVG is parsed whole to be sanitised: a smaller bound than other images.
        return min(limit, self.max_svg_bytes) if content_type == "image/svg+xml" else limit


_FIELDS = {setting.name: setting for setting in fields(Settings)}
# Every field but the key is read from the variable of its name in capitals.
_PLAIN_FIELDS = [name for name in _FIELDS if name != "cursor_key"]
# Text settings (the others are whole numbers or switches); those without a default are required.
_TEXT = [name for name in _PLAIN_FIELDS if _FIELDS[name].type == "str"]
_REQUIRED = [name for name in _TEXT if _FIELDS[name].default is MISSING]
# Bounds of the numbers that have any: (least, most).
_BOUNDS = {"upload_url_ttl_seconds": (60, 3600), "max_import_bytes": (1, 1024 * MB)}
# On/off settings, and the spellings they accept.
_SWITCHES = [name for name in _PLAIN_FIELDS if _FIELDS[name].type == "bool"]
_ON = ("1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Validate the environment once; a missing or bad value fails the cold start, naming it."""
    raw = {name: os.environ[name.upper()] for name in _PLAIN_FIELDS if name.upper() in os.environ}
    missing = [name.upper() for name in _REQUIRED if name not in raw]
    if missing:
        raise SettingsError("missing environment variable(s): " + ", ".join(missing))
    if os.environ.get(LAMBDA_RUNTIME_VARIABLE) and _switched_on(os.environ.get(LOOPBACK_IMPORTS_VARIABLE)):
        # In Lambda, loopback is the runtime API (the next invocation's event, its responses).
        raise SettingsError(f"{LOOPBACK_IMPORTS_VARIABLE} is for the local stack only, never in Lambda")
    cursor_key = _cursor_key(os.environ.get(SECRET_ARN_VARIABLE), os.environ.get(LOCAL_KEY_VARIABLE))
    values: dict[str, object] = {}
    problems = []
    for name, text in raw.items():
        value, problem = _parsed(name, text)
        values[name] = value
        if problem:
            problems.append(f"{name.upper()}: {problem}")
    if cursor_key is not None and len(cursor_key) < CURSOR_KEY_MIN_LENGTH:
        # Name the variable and the rule, never the value (it is the key).
        problems.append(f"{LOCAL_KEY_VARIABLE}: must be at least {CURSOR_KEY_MIN_LENGTH} characters")
    if problems:
        raise SettingsError("invalid settings: " + "; ".join(problems))
    return Settings(**values, cursor_key=cursor_key)  # type: ignore[arg-type]


def _parsed(name: str, text: str) -> tuple[object, str | None]:
    """The value of one plain setting and what is wrong with it, if anything."""
    if name in _TEXT:
        return text, None if text or name not in _REQUIRED else "must not be empty"
    if name in _SWITCHES:
        switch = text.strip().lower()
        if switch not in _ON + _OFF:
            return None, "must be 1 or 0 (or true/false, yes/no, on/off)"
        return switch in _ON, None
    try:
        number = int(text)
    except ValueError:
        return None, "must be a whole number"
    least, most = _BOUNDS.get(name, (None, None))
    if (least is not None and number < least) or (most is not None and number > most):
        return number, f"must be between {least} and {most}"
    return number, None


def _switched_on(value: str | None) -> bool:
    return (value or "").strip().lower() in _ON


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
