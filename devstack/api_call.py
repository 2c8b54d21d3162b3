"""One request to the API as API Gateway sees it: the path still percent-encoded, the
``X-Forwarded-*`` headers added, the payload limit applied."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlsplit

from werkzeug.wrappers import Request

from devstack.routing import RouteMatch

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


@dataclass
class ApiCall:
    """What the gateway knows of one request; ``match`` is set once the route is chosen."""

    request_id: str
    method: str
    path: str  # percent-encoded, as REST APIs pass it
    headers: dict[str, str]
    query: list[tuple[str, str]]
    body: bytes
    source_ip: str
    user_agent: str | None
    too_large: bool = False
    match: RouteMatch | None = None
    usage_identifier: str | None = None  # the API key the authorizer named (usageIdentifierKey)
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def read(cls, request: Request, request_id: str) -> ApiCall:
        raw_uri = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
        path = urlsplit(raw_uri).path if raw_uri else quote(request.path, safe="/:@!$&'()*+,;=~")
        headers = dict(request.headers.items())
        source_ip = request.remote_addr or "127.0.0.1"
        headers.setdefault("X-Forwarded-For", source_ip)
        headers.setdefault("X-Forwarded-Proto", "http")
        headers.setdefault("X-Forwarded-Port", str(request.environ.get("SERVER_PORT", "")))
        too_large = (request.content_length or 0) > MAX_REQUEST_BYTES
        body = b"" if too_large else request.get_data(cache=False)
        return cls(
            request_id=request_id,
            method=request.method.upper(),
            path=path or "/",
            headers=headers,
            query=parse_qsl(request.environ.get("QUERY_STRING", ""), keep_blank_values=True),
            body=body,
            source_ip=source_ip,
            user_agent=request.headers.get("User-Agent"),
            too_large=too_large or len(body) > MAX_REQUEST_BYTES,
        )

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers.items() if key.lower() == name.lower()), None)

    def query_parameters(self) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
        if not self.query:
            return None, None
        multi: dict[str, list[str]] = {}
        for name, value in self.query:
            multi.setdefault(name, []).append(value)
        return {name: values[-1] for name, values in multi.items()}, multi
