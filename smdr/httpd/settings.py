"""The ``http:`` config section: where the connector's one HTTP server listens, and its token."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..yamlfile import Section

HTTP_KEYS = frozenset({"bind", "port", "base_url", "token", "token_env", "max_body", "request_timeout"})
DEFAULT_PORT = 8470


@dataclass(slots=True)
class HttpSettings:
    """``token`` is kept out of repr(): it is a secret like the CRM's, never logged."""

    bind: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    base_url: str = ""                # what CRM users' browsers reach; "" = the bind address and bound port
    token: str = field(default="", repr=False)
    max_body: int = 64 * 1024         # bytes of a request body
    max_head: int = 16 * 1024         # bytes of the request line and headers
    request_timeout: float = 10.0     # seconds to receive one whole request (and an idle keep-alive)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")

    @classmethod
    def from_section(cls, section: Section) -> HttpSettings:
        section.check_keys(HTTP_KEYS)
        port = section.get("port", int, DEFAULT_PORT)
        if not 0 <= port <= 65535:
            raise section.error(f"'{section.prefix}.port' must be 0..65535, not {port}", "port")
        base_url = section.get("base_url", str, "")
        if base_url:
            parts = urlsplit(base_url)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
                raise section.error(f"'{section.prefix}.base_url' must be an http(s):// URL without a query, "
                                    f"as the CRM users' browsers reach this PC; not {base_url!r}", "base_url")
        max_body = section.get("max_body", int, 64 * 1024, minimum=1, maximum=16 << 20, unit="bytes")
        timeout = section.get("request_timeout", (int, float), 10.0, minimum=0.1, maximum=600, unit="seconds")
        for key, value in (("max_body", max_body), ("request_timeout", timeout)):
            if value <= 0:
                raise section.error(f"'{section.prefix}.{key}' must be above zero, not {value}", key)
        return cls(bind=section.get("bind", str, "127.0.0.1"), port=port, base_url=base_url,
                   token=_token(section), max_body=max_body, request_timeout=float(timeout))


def _token(section: Section) -> str:
    if "token" in section and "token_env" in section:
        raise section.error(f"set only one of '{section.prefix}.token' and 'token_env'", "token_env")
    if "token_env" in section:
        variable = section.get("token_env", str)
        value = os.environ.get(variable, "")
        if not value:
            raise section.error(f"environment variable {variable} (named by '{section.prefix}.token_env') "
                                "is not set or empty", "token_env")
        return value
    value = section.written("token", "")
    if not isinstance(value, str):
        raise section.error(f"'{section.prefix}.token' must be text", "token")  # never echo the value
    return value
