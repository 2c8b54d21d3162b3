"""Lambda: presign uploads and confirm them; small direct uploads."""

from aws_lambda_powertools.logging import correlation_paths

from medialib.api.app import build_resolver, respond
from medialib.api.routes import uploads
from medialib.observability import logger, metrics, tracer

app = build_resolver(uploads.router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: object) -> dict:
    return respond(app, event, context)
