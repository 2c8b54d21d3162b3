"""Lambda: the OpenAPI document and Swagger UI (no key needed)."""

from aws_lambda_powertools.logging import correlation_paths

from medialib.api.app import build_resolver, respond
from medialib.api.openapi import configure_docs
from medialib.api.routes import entities, folders, media, public, tags, uploads
from medialib.observability import logger, tracer

# The document describes every route, so this function includes them all; API Gateway only
# ever sends it the two documentation paths.
app = build_resolver(
    media.router, uploads.router, tags.router, folders.router, entities.router, public.router
)
configure_docs(app)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: object) -> dict:
    return respond(app, event, context)
