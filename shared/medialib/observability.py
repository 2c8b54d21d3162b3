"""Logger, tracer and metrics, built once and shared by every function.

Logs are keyed by tenant and media id through ``logger.append_keys``; nothing here ever logs a
request body, an Authorization header, an API key or a presigned URL.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from medialib.tracing import NO_TRACING, PATCHED_MODULES

# MetricUnit is re-exported: services name units without importing Powertools themselves.
__all__ = ["NAMESPACE", "MetricUnit", "count_failure", "logger", "metrics", "tracer"]

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
NAMESPACE = "MediaLibrary"
metrics = Metrics(namespace=NAMESPACE, service="medialib")


def count_failure(code: str) -> None:
    """``MediaFailed`` in the function's metrics, and once more with the code as a dimension,
    in a metric of its own: a dimension added to ``metrics`` would apply to every metric it
    flushes."""
    metrics.add_metric(name="MediaFailed", unit=MetricUnit.Count, value=1)
    with single_metric(
        name="MediaFailedByCode",
        unit=MetricUnit.Count,
        value=1,
        namespace=NAMESPACE,
        default_dimensions={"service": "medialib"},
    ) as by_code:
        by_code.add_dimension(name="ErrorCode", value=code)
