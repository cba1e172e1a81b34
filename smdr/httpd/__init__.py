"""The connector's one HTTP server for ``smdr run``: settings, a route registry, JSON errors, signed links.

Later features add routes to the daemon's ``Router`` (click-to-call, status, metrics, recordings);
the server itself does not change for them.
"""

from __future__ import annotations

from .links import LinkSigner
from .messages import FilePart, HttpError, Request, Response, error_response, json_response
from .router import Handler, Route, Router
from .server import HttpServer
from .settings import HttpSettings

__all__ = ["HttpServer", "HttpSettings", "Router", "Route", "Handler", "Request", "Response", "FilePart",
           "HttpError", "error_response", "json_response", "LinkSigner"]
