"""The OpenAPI document, generated from the routers' types, and Swagger UI (served offline)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

TITLE = "Media Library API"
VERSION = "1.0.0"
DESCRIPTION = """\
Upload media straight to storage with presigned URLs, let the service process what lands (type
sniffing, dimensions, WebP variants, hash, placeholder), and manage it over REST.

- Errors are RFC 9457 `application/problem+json` with a stable `code`; every response carries
  `X-Request-Id`.
- Lists cap `offset` at 10,000; page further with `cursor`, which is signed and bound to the
  tenant, sort, order and filters that produced it.
- `pagination.total` is exact and cheap for the unfiltered list and each single filter; for a
  search it is the number of matches. A search matching more than 1,000 items is a 400.
- Limits: 10 tags per item, 40 media per entity, 5 slugs in `tag`, 100 files per duplicate check.
- `on_duplicate` is decided at confirm from the stored bytes' SHA-256.
- POSTs accept `Idempotency-Key` (24 hours, per tenant and route): same body → the first
  response; another body → 422 `idempotency_key_reused`; still running → 409.
- Revoked keys stop working within 60 seconds (authorizer cache).
"""
SECURITY_SCHEMES = {"apiKey": HTTPBearer(description="Authorization: Bearer <api key>")}


def configure_docs(app: APIGatewayRestResolver) -> None:
    """Serve ``GET /v1/openapi.json`` and ``GET /v1/docs`` from ``app``'s routes."""
    spec: dict[str, Any] = {
        "title": TITLE,
        "version": VERSION,
        "description": DESCRIPTION,
        "servers": [Server(url="/")],
        "security_schemes": SECURITY_SCHEMES,
        "security": [{"apiKey": []}],
    }
    app.enable_swagger(path="/v1/docs", **spec)

    @app.get("/v1/openapi.json", include_in_schema=False)
    def openapi_document():
        return Response(
            status_code=200,
            content_type="application/json",
            body=app.get_openapi_json_schema(**spec),
            headers={"Cache-Control": "public, max-age=300"},
        )
