"""Logger, tracer and metrics, built once and shared by every function.

Logs are keyed by tenant and media id through ``logger.append_keys``; nothing here ever logs a
request body, an Authorization header, an API key or a presigned URL.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

from medialib.tracing import NO_TRACING, PATCHED_MODULES

logger = Logger(service="medialib")
# Powertools' own rule decides whether tracing is on (in Lambda, unless POWERTOOLS_TRACE_DISABLED);
# off, the Tracer never loads the X-Ray SDK (medialib/tracing.py).
_TRACING_OFF = bool(Tracer._is_tracer_disabled())
tracer = Tracer(
    service="medialib",
    disabled=_TRACING_OFF,
    provider=NO_TRACING if _TRACING_OFF else None,
    patch_modules=PATCHED_MODULES,
)
metrics = Metrics(namespace="MediaLibrary", service="medialib")
