"""Lambda: scheduled reconciliation (purges, expired uploads, stalled processing)."""

from dataclasses import asdict

from medialib.observability import logger, metrics, tracer
from medialib.services.sweeping import sweep


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: object) -> dict:
    return asdict(sweep())
