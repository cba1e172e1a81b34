"""One form POST to one fixed URL, straight to the connection pool of an httpx.AsyncClient.

``client.post(url, data=form)`` parses the URL, merges headers, cookies and parameters, runs the auth
and redirect machinery and the cookie jar for every request: about a fifth of the client's CPU per
ProcessCDR, none of it needed for the same form endpoint again and again (no auth, no redirects, no
cookies). Here the URL, the headers and the pool (the one the client itself picks for that URL, so
proxies from the environment still apply) are resolved once; a request costs its body's encoding
and the pool's own work. Errors are the httpx exceptions ``client.post`` raises.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import httpx

FORM_TYPE = "application/x-www-form-urlencoded"


class FormPoster:
    """POSTs forms to ``url`` through ``client``'s pool; ``fixed`` fields lead every form."""

    __slots__ = ("_url", "_headers", "_transport", "_timeout", "_fixed")

    def __init__(self, client: httpx.AsyncClient, url: str, fixed: dict[str, str]) -> None:
        self._url = httpx.URL(url)
        headers = httpx.Headers(client.headers)
        headers["Content-Type"] = FORM_TYPE
        self._headers = headers
        # the transport the client would use for this URL (its pool, or a proxy's from the environment)
        self._transport = client._transport_for_url(self._url)
        self._timeout = client.timeout.as_dict()
        self._fixed = urlencode(fixed) + "&" if fixed else ""  # the same bytes as urlencode of the whole form

    async def post(self, fields: dict[str, str],
                   trace: Callable[[str, dict[str, Any]], Awaitable[None]] | None = None) -> httpx.Response:
        """The answer, read in full."""
        extensions: dict[str, Any] = {"timeout": self._timeout}
        if trace is not None:
            extensions["trace"] = trace
        body = (self._fixed + urlencode(fields)).encode()
        request = httpx.Request("POST", self._url, headers=self._headers, content=body, extensions=extensions)
        response = await self._transport.handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response
