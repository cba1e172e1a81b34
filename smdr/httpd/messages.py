"""Requests and responses of the connector's HTTP server (a small HTTP/1.1 subset, no framework)."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

JSON_TYPE = "application/json; charset=utf-8"


@dataclass(slots=True)
class Request:
    method: str
    path: str                        # percent-decoded path, without the query
    query: dict[str, str]            # the last value of each name
    headers: dict[str, str]          # lower-case names; repeated headers joined with ", "
    body: bytes = b""
    peer: str = ""
    route_rest: str = ""             # for a prefix route: the path after the prefix

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def carries_token(self, token: str) -> bool:
        """The connector's one token scheme: ``?token=`` or ``Authorization: Bearer``, compared in
        constant time; no token configured: never."""
        if not token:
            return False
        given = self.query.get("token", "")
        authorization = self.header("authorization")
        if authorization[:7].lower() == "bearer ":
            given = authorization[7:].strip()
        return hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))


@dataclass(slots=True)
class FilePart:
    """A byte range of a file, streamed from disk (recordings are megabytes)."""

    path: Path
    offset: int
    length: int


@dataclass(slots=True)
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    file: FilePart | None = None     # instead of ``body``

    @property
    def length(self) -> int:
        return self.file.length if self.file is not None else len(self.body)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), JSON_TYPE, dict(headers or {}))


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """Every error is JSON: ``{"error": {"status": 404, "reason": "Not Found", "message": "..."}}``."""
    reason = HTTPStatus(status).phrase
    return json_response({"error": {"status": status, "reason": reason, "message": message}}, status, headers)


class HttpError(Exception):
    """Raised by a handler (or the server) to answer with a JSON error."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, dict(headers or {})

    def response(self) -> Response:
        return error_response(self.status, self.message, self.headers)
