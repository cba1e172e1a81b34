"""The route registry: method + path -> handler. Features add their routes; the server never changes.

    router.add("GET", "/metrics", metrics_handler)                  # needs the http token
    router.add("GET", "/recordings/", serve, prefix=True, auth=False)  # checks a per-link token itself

A handler is ``async def handler(request: Request) -> Response``. ``auth=True`` (the default) means
the request must carry the configured ``http.token`` (``Authorization: Bearer <token>`` or
``?token=<token>``); with no token configured such routes answer 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .messages import Request, Response

Handler = Callable[[Request], Awaitable[Response]]
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})


@dataclass(slots=True, frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    prefix: bool = False
    auth: bool = True


class Router:
    def __init__(self) -> None:
        self._exact: dict[tuple[str, str], Route] = {}
        self._prefixes: list[Route] = []   # longest prefix first

    def add(self, method: str, path: str, handler: Handler, *, prefix: bool = False, auth: bool = True) -> Route:
        method = method.upper()
        if method not in METHODS:
            raise ValueError(f"unknown HTTP method {method!r}")
        if not path.startswith("/"):
            raise ValueError(f"a route path starts with '/': {path!r}")
        route = Route(method, path, handler, prefix, auth)
        if any(r.method == method and r.path == path and r.prefix == prefix for r in self.routes()):
            raise ValueError(f"{method} {path} has a route already")
        if prefix:
            self._prefixes.append(route)
            self._prefixes.sort(key=lambda r: len(r.path), reverse=True)
        else:
            self._exact[(method, path)] = route
        return route

    def routes(self) -> list[Route]:
        return [*self._exact.values(), *self._prefixes]

    def resolve(self, method: str, path: str) -> tuple[Route | None, list[str]]:
        """The route for this request, or None and the methods the path does allow (empty: no such path).
        HEAD is served by the GET route of the path."""
        wanted = "GET" if method == "HEAD" else method
        route = self._exact.get((wanted, path))
        if route is not None:
            return route, []
        for candidate in self._prefixes:
            if candidate.method == wanted and path.startswith(candidate.path):
                return candidate, []
        allowed = {r.method for r in self.routes() if self._matches(r, path)}
        if "GET" in allowed:
            allowed.add("HEAD")
        return None, sorted(allowed)

    @staticmethod
    def _matches(route: Route, path: str) -> bool:
        return path.startswith(route.path) if route.prefix else path == route.path
