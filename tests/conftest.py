"""Test-wide environment: fake AWS credentials, no real endpoints, no tracing or EMF output, and
the settings the local stack would supply (its table and bucket names, a random cursor key).

Set before anything imports boto3 or medialib, since settings are read once at import.
"""

import os
import secrets

for name in (
    "AWS_ENDPOINT_URL",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "CURSOR_SIGNING_SECRET_ARN",
):
    os.environ.pop(name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        # The names template.yaml gives stack "medialib", as the local stack builds them.
        "MEDIA_TABLE": "medialib-media",
        "TENANTS_TABLE": "medialib-tenants",
        "KEYS_TABLE": "medialib-api-keys",
        "IDEMPOTENCY_TABLE": "medialib-idempotency",
        "MEDIA_BUCKET": "medialib-media-123456789012-us-east-1",
        "MEDIA_BASE_URL": "https://cdn.example.test",
        "CURSOR_SIGNING_KEY": secrets.token_urlsafe(32),
    }
)
