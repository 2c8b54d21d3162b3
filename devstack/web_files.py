"""The media browser's files (``web/``) served next to the local API, as CloudFront serves them
next to the deployed one: ``GET /`` is ``index.html`` and ``GET /<file>`` a file of ``web/``.

Only paths no API route matches are looked up here, so the page can never shadow a ``/v1`` route,
and only files inside ``web/`` are ever read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from werkzeug.security import safe_join
from werkzeug.wrappers import Request, Response

from devstack.cfn_yaml import REPO_ROOT
from devstack.routing import RouteTable

WEB_ROOT = REPO_ROOT / "web"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",  # module scripts are refused under any non-JavaScript type
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}
# The page loads its own scripts and styles only; pictures come from the media URLs and calls go
# to the API and to storage (presigned POST), which may be other origins.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' http: https: data: blob:; connect-src 'self' http: https:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


class WebFiles:
    """WSGI middleware: the page's files for GET/HEAD on unrouted paths, everything else to ``app``."""

    def __init__(self, app: Callable[..., Iterable[bytes]], routes: RouteTable, root: Path = WEB_ROOT):
        self._app = app
        self._routes = routes
        self._root = root

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        path = self.file_for(request.method, request.path)
        if path is None:
            return self._app(environ, start_response)
        body = path.read_bytes()
        response = Response(
            b"" if request.method == "HEAD" else body,
            headers={
                "Content-Type": CONTENT_TYPES[path.suffix],
                "Content-Length": str(len(body)),
                "Cache-Control": "no-cache",
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "Referrer-Policy": "no-referrer",
            },
        )
        return response(environ, start_response)

    def file_for(self, method: str, url_path: str) -> Path | None:
        """The file of ``web/`` this request asks for, or None when it is the API's to answer."""
        if method not in ("GET", "HEAD") or self._routes.match(url_path) is not None:
            return None
        name = "index.html" if url_path == "/" else url_path.lstrip("/")
        if name.startswith("v1/"):
            return None
        joined = safe_join(str(self._root), name)
        if joined is None:
            return None
        path = Path(joined)
        return path if path.suffix in CONTENT_TYPES and path.is_file() else None
