"""Which of the template's routes a request reaches, chosen as API Gateway chooses a REST API's
resource and method."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from devstack.specs import ApiRoute


@dataclass(frozen=True)
class RouteMatch:
    resource: str
    path_parameters: dict[str, str]
    methods: dict[str, ApiRoute]

    def route_for(self, method: str) -> ApiRoute | None:
        return self.methods.get(method) or self.methods.get("ANY")


class RouteTable:
    """API Gateway's resource selection: the resource whose segments match most specifically
    (static before ``{param}`` before ``{proxy+}``, left to right), then the method on it."""

    def __init__(self, routes: list[ApiRoute]):
        self._resources: dict[str, dict[str, ApiRoute]] = {}
        for route in routes:
            methods = self._resources.setdefault(route.path, {})
            if route.method in methods:
                raise ValueError(f"{route.method} {route.path} is defined twice in the template")
            methods[route.method] = route

    def match(self, path: str) -> RouteMatch | None:
        segments = _segments(path)
        best: tuple[tuple[int, ...], RouteMatch] | None = None
        for resource, methods in self._resources.items():
            matched = _match_resource(_segments(resource), segments)
            if matched is not None and (best is None or matched[0] < best[0]):
                best = (matched[0], RouteMatch(resource, matched[1], methods))
        return best[1] if best else None


def _segments(path: str) -> list[str]:
    stripped = path.strip("/")
    return stripped.split("/") if stripped else []


def _match_resource(parts: list[str], segments: list[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """Match percent-encoded ``segments``; parameter values come back decoded, as REST APIs pass them."""
    rank: list[int] = []
    parameters: dict[str, str] = {}
    for index, part in enumerate(parts):
        if part.startswith("{") and part.endswith("+}"):
            rest = segments[index:]
            if index != len(parts) - 1 or not rest:
                return None
            parameters[part[1:-2]] = unquote("/".join(rest))
            return (*rank, 2), parameters
        if index >= len(segments):
            return None
        segment = unquote(segments[index])
        if part.startswith("{") and part.endswith("}") and segment:
            parameters[part[1:-1]] = segment
            rank.append(1)
        elif part == segment:
            rank.append(0)
        else:
            return None
    return (tuple(rank), parameters) if len(parts) == len(segments) else None
