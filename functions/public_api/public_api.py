"""Lambda: public read of tenants that enabled it (no key)."""

from aws_lambda_powertools.logging import correlation_paths

from medialib.api.app import build_resolver, respond
from medialib.api.routes import public
from medialib.observability import logger, tracer

app = build_resolver(public.router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: object) -> dict:
    return respond(app, event, context)
