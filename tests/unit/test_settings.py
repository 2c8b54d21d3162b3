"""Settings fail loudly: no default names, a clear error naming what is missing or wrong, and the
cursor key from Secrets Manager in AWS, from the environment locally."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from devstack.cli import _default_settings
from devstack.environment import build_environment
from devstack.template import LocalTemplate
from medialib.settings import SettingsError, get_settings

REQUIRED = [
    "MEDIA_TABLE",
    "TENANTS_TABLE",
    "KEYS_TABLE",
    "IDEMPOTENCY_TABLE",
    "MEDIA_BUCKET",
    "MEDIA_BASE_URL",
]
SECRET = "a-key-read-from-the-secret-0123456789"


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch) -> Iterator[pytest.MonkeyPatch]:
    """Settings read afresh from the environment this test sets (and again after it)."""
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.fixture
def secret_arn(monkeypatch) -> Iterator[str]:
    with mock_aws():
        arn = boto3.client("secretsmanager").create_secret(Name="cursor", SecretString=SECRET)["ARN"]
        monkeypatch.delenv("CURSOR_SIGNING_KEY")
        monkeypatch.setenv("CURSOR_SIGNING_SECRET_ARN", arn)
        yield arn


def test_every_table_bucket_and_the_delivery_url_must_be_set(monkeypatch):
    for name in REQUIRED:
        monkeypatch.delenv(name)

    with pytest.raises(SettingsError) as raised:
        get_settings()

    assert str(raised.value) == "missing environment variable(s): " + ", ".join(REQUIRED)


def test_one_missing_variable_is_named(monkeypatch):
    monkeypatch.delenv("MEDIA_BUCKET")

    with pytest.raises(SettingsError, match=r"^missing environment variable\(s\): MEDIA_BUCKET$"):
        get_settings()


def test_an_empty_name_is_as_bad_as_a_missing_one(monkeypatch):
    monkeypatch.setenv("MEDIA_TABLE", "")

    with pytest.raises(SettingsError, match="MEDIA_TABLE"):
        get_settings()


def test_an_invalid_value_names_its_variable_and_never_echoes_the_key(monkeypatch):
    monkeypatch.setenv("UPLOAD_URL_TTL_SECONDS", "5")
    monkeypatch.setenv("CURSOR_SIGNING_KEY", "short-secret")

    with pytest.raises(SettingsError) as raised:
        get_settings()

    message = str(raised.value)
    assert "UPLOAD_URL_TTL_SECONDS" in message and "CURSOR_SIGNING_KEY" in message
    assert "short-secret" not in message and raised.value.__cause__ is None


def test_locally_the_key_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("CURSOR_SIGNING_KEY", "k" * 32)

    assert get_settings().cursor_signing_key == "k" * 32
    assert "k" * 32 not in repr(get_settings())


def test_in_aws_the_key_is_read_from_the_secret_the_arn_names(secret_arn):
    assert get_settings().cursor_signing_key == SECRET


def test_the_secret_is_read_once_per_cold_start(secret_arn, monkeypatch):
    reads = []
    real_client = boto3.client

    def counting_client(service, *args, **kwargs):
        reads.append(service)
        return real_client(service, *args, **kwargs)

    monkeypatch.setattr(boto3, "client", counting_client)
    for _ in range(3):
        assert get_settings().cursor_signing_key == SECRET

    assert reads == ["secretsmanager"]


def test_a_secret_that_cannot_be_read_fails_the_cold_start_naming_the_variable(secret_arn, monkeypatch):
    monkeypatch.setenv("CURSOR_SIGNING_SECRET_ARN", secret_arn.replace("cursor", "nothing"))

    with pytest.raises(SettingsError, match=r"CURSOR_SIGNING_SECRET_ARN: .*ResourceNotFoundException"):
        get_settings()


def test_the_arn_and_a_local_key_together_are_refused(secret_arn, monkeypatch):
    monkeypatch.setenv("CURSOR_SIGNING_KEY", "k" * 32)

    with pytest.raises(SettingsError, match="not both"):
        get_settings()


def test_a_function_without_the_key_starts_but_cannot_sign_a_cursor(monkeypatch):
    # The functions that never list (authorizer, uploads, processing...) get neither variable.
    monkeypatch.delenv("CURSOR_SIGNING_KEY")

    settings = get_settings()

    assert settings.media_table == "medialib-media"
    with pytest.raises(SettingsError, match="CURSOR_SIGNING_SECRET_ARN is not set"):
        _ = settings.cursor_signing_key


def test_the_local_stack_supplies_a_random_key_instead_of_the_secret_arn():
    template = LocalTemplate.load(aws_url="http://127.0.0.1:5999")

    environment = build_environment(template, aws_url="http://127.0.0.1:5999")

    assert "CURSOR_SIGNING_SECRET_ARN" not in environment
    assert len(environment["CURSOR_SIGNING_KEY"]) >= 32
    assert {name for name in REQUIRED} <= set(environment)


def test_the_command_defaults_to_the_names_of_stack_medialib(monkeypatch):
    for name in REQUIRED:
        monkeypatch.delenv(name)
    monkeypatch.setenv("KEYS_TABLE", "other-api-keys")

    _default_settings()

    settings = get_settings()
    assert (settings.tenants_table, settings.keys_table) == ("medialib-tenants", "other-api-keys")
    assert settings.media_bucket == "medialib-media-123456789012-us-east-1"


def test_loopback_imports_are_off_unless_the_switch_is_set(monkeypatch):
    monkeypatch.delenv("ALLOW_LOOPBACK_IMPORTS", raising=False)
    assert get_settings().allow_loopback_imports is False

    get_settings.cache_clear()
    monkeypatch.setenv("ALLOW_LOOPBACK_IMPORTS", "1")
    assert get_settings().allow_loopback_imports is True


@pytest.mark.parametrize(("shell", "expected"), [(None, "0"), ("0", "0"), ("yes", "0"), ("1", "1")])
def test_the_local_stack_sets_the_loopback_switch_only_when_started_with_it(monkeypatch, shell, expected):
    if shell is None:
        monkeypatch.delenv("ALLOW_LOOPBACK_IMPORTS", raising=False)
    else:
        monkeypatch.setenv("ALLOW_LOOPBACK_IMPORTS", shell)
    template = LocalTemplate.load(aws_url="http://127.0.0.1:5999")

    environment = build_environment(template, aws_url="http://127.0.0.1:5999")

    # Always set, so what the process environment holds never decides it unseen.
    assert environment["ALLOW_LOOPBACK_IMPORTS"] == expected


def test_the_local_stack_refuses_a_template_that_sets_the_loopback_switch(monkeypatch):
    template = LocalTemplate.load(aws_url="http://127.0.0.1:5999")
    monkeypatch.setitem(template.environment, "ALLOW_LOOPBACK_IMPORTS", "1")

    with pytest.raises(ValueError, match="must not set ALLOW_LOOPBACK_IMPORTS"):
        build_environment(template, aws_url="http://127.0.0.1:5999")


def test_loopback_imports_cannot_be_switched_on_inside_lambda(monkeypatch):
    """In Lambda, 127.0.0.1 is the runtime API: a function started with the switch fails loudly."""
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
    monkeypatch.setenv("ALLOW_LOOPBACK_IMPORTS", "1")

    with pytest.raises(SettingsError, match="ALLOW_LOOPBACK_IMPORTS is for the local stack only"):
        get_settings()

    get_settings.cache_clear()
    monkeypatch.setenv("ALLOW_LOOPBACK_IMPORTS", "0")
    assert get_settings().allow_loopback_imports is False
