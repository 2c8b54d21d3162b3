"""The local gateway serves the media browser's files beside the API, never in its place."""

from __future__ import annotations

from pathlib import Path

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from devstack.routing import RouteTable
from devstack.template import LocalTemplate
from devstack.web_files import WEB_ROOT, WebFiles

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def api_app(environ, start_response):
    return Response(b"api", status=418)(environ, start_response)


@pytest.fixture(scope="module")
def client() -> Client:
    template = LocalTemplate.load(TEMPLATE)
    api_id = template.only_api().logical_id
    routes = RouteTable([route for route in template.routes if route.api_id == api_id])
    return Client(WebFiles(api_app, routes))


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/", "text/html; charset=utf-8"),
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/api.js", "text/javascript; charset=utf-8"),
        ("/styles.css", "text/css; charset=utf-8"),
    ],
)
def test_the_page_and_its_modules_have_their_types(client: Client, path: str, content_type: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    name = "index.html" if path == "/" else path[1:]
    assert response.data == (WEB_ROOT / name).read_bytes()


def test_head_has_no_body(client: Client) -> None:
    response = client.head("/styles.css")
    assert response.status_code == 200
    assert response.data == b""


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/media"),  # an API route
        ("GET", "/v1/openapi.json"),
        ("GET", "/v1/app.js"),  # unrouted under /v1: still the gateway's to refuse
        ("POST", "/"),
        ("GET", "/missing.js"),
        ("GET", "/../Makefile"),  # outside web/
        ("GET", "/%2e%2e/Makefile"),
        ("GET", "/README.md"),  # a type the page never serves
    ],
)
def test_everything_else_goes_to_the_api(client: Client, method: str, path: str) -> None:
    response = client.open(path, method=method)
    assert (response.status_code, response.data) == (418, b"api")
