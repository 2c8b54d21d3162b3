"""Logger, tracer and metrics, built once and shared by every function.

Logs are keyed by tenant and media id through ``logger.append_keys``; nothing here ever logs a
request body, an Authorization header, an API key or a presigned URL.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="medialib")
tracer = Tracer(service="medialib")
metrics = Metrics(namespace="MediaLibrary", service="medialib")
