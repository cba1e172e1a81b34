"""The connector's one HTTP server (asyncio, HTTP/1.1 keep-alive, no framework).

Bounded: the request line and headers may take ``max_head`` bytes, a body ``max_body`` (by
Content-Length; chunked bodies are refused), and a whole request must arrive within
``request_timeout`` seconds (also the idle time of a keep-alive connection). Every error is JSON.
Nothing of a query string is logged (tokens travel there); the configured token is compared in
constant time and never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from http import HTTPStatus
from urllib.parse import parse_qsl, unquote, urlsplit

from ..errors import SmdrError
from .messages import HttpError, Request, Response, error_response
from .router import Router
from .settings import HttpSettings

log = logging.getLogger("smdr.http")

_CHUNK = 64 * 1024
_SHUTDOWN_GRACE = 2.0  # seconds requests in flight get to finish when the server stops


class HttpServer:
    """``await start()``, then ``port``; ``await close()`` at the end. Routes come from ``router``."""

    def __init__(self, settings: HttpSettings, router: Router | None = None) -> None:
        self.settings = settings
        self.router = router or Router()
        self.port = settings.port
        self.requests = 0
        self.errors: dict[int, int] = {}
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task] = set()
        self._busy: set[asyncio.Task] = set()   # connections in the middle of a request

    async def start(self) -> None:
        settings = self.settings
        try:
            self._server = await asyncio.start_server(self._connection, settings.bind, settings.port,
                                                      limit=settings.max_head)
        except OSError as exc:
            raise SmdrError(f"http: cannot listen on {settings.bind}:{settings.port}: {exc.strerror or exc}") from None
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("http: listening on %s:%d (links: %s)", settings.bind, self.port, self.base_url)

    @property
    def base_url(self) -> str:
        """Where browsers reach this server: ``http.base_url``, else the bind address and the bound port."""
        if self.settings.base_url:
            return self.settings.base_url
        host = "127.0.0.1" if self.settings.bind in ("", "0.0.0.0", "::") else self.settings.bind
        return f"http://{host}:{self.port}"

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for task in list(self._connections - self._busy):
            task.cancel()   # idle keep-alive connections
        if self._busy:
            await asyncio.wait(set(self._busy), timeout=_SHUTDOWN_GRACE)
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), _SHUTDOWN_GRACE)

    # -- one connection ------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        peer = writer.get_extra_info("peername")
        peer_text = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        try:
            keep_alive = True
            while keep_alive:
                try:
                    async with asyncio.timeout(self.settings.request_timeout):
                        head = await reader.readuntil(b"\r\n\r\n")
                        self._busy.add(task)
                        request, keep_alive = self._parse_head(head, peer_text)
                        request.body = await self._read_body(reader, request)
                except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                    return  # idle, slow or gone: nothing to answer
                except asyncio.LimitOverrunError:
                    await self._send(writer, error_response(431, "request line and headers too large"), "GET",
                                     close=True)
                    return
                except HttpError as exc:
                    await self._send(writer, exc.response(), "GET", close=True)
                    return
                response = await self._dispatch(request)
                await self._send(writer, response, request.method, close=not keep_alive)
                self._busy.discard(task)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._busy.discard(task)
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _parse_head(self, head: bytes, peer: str) -> tuple[Request, bool]:
        lines = head.decode("iso-8859-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise HttpError(400, "malformed request line")
        method, target, version = parts
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep or not name.strip():
                raise HttpError(400, "malformed header line")
            name, value = name.strip().lower(), value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        url = urlsplit(target)
        # the request line is Latin-1 on the wire; percent-escapes and raw bytes in it meant UTF-8
        path = unquote(url.path.encode("iso-8859-1").decode("utf-8", "replace"), errors="replace")
        query = dict(parse_qsl(url.query, keep_blank_values=True, errors="replace"))
        connection = headers.get("connection", "").lower()
        keep_alive = "close" not in connection and (version == "HTTP/1.1" or "keep-alive" in connection)
        return Request(method.upper(), path or "/", query, headers, peer=peer), keep_alive

    async def _read_body(self, reader: asyncio.StreamReader, request: Request) -> bytes:
        if "transfer-encoding" in request.headers:
            raise HttpError(411, "send the body with a Content-Length (chunked bodies are not accepted)")
        text = request.headers.get("content-length")
        if not text:
            return b""
        if not text.isdigit():
            raise HttpError(400, "bad Content-Length")
        length = int(text)
        if length > self.settings.max_body:
            raise HttpError(413, f"body larger than {self.settings.max_body} bytes")
        return await reader.readexactly(length)

    async def _dispatch(self, request: Request) -> Response:
        self.requests += 1
        route, allowed = self.router.resolve(request.method, request.path)
        if route is None:
            if allowed:
                return error_response(405, f"{request.method} is not allowed here", {"Allow": ", ".join(allowed)})
            return error_response(404, "no such path")
        if route.auth and not request.carries_token(self.settings.token):
            return error_response(403, "a valid token is required")
        if route.prefix:
            request.route_rest = request.path[len(route.path):]
        try:
            return await route.handler(request)
        except HttpError as exc:
            return exc.response()
        except Exception as exc:  # a handler's bug answers 500, the server goes on
            log.error("http: %s %s failed: %s: %s", request.method, request.path, type(exc).__name__, exc,
                      exc_info=exc)
            return error_response(500, "internal error (see the connector's log)")


    async def _send(self, writer: asyncio.StreamWriter, response: Response, method: str, *, close: bool) -> None:
        if response.status >= 400:
            self.errors[response.status] = self.errors.get(response.status, 0) + 1
        reason = HTTPStatus(response.status).phrase
        headers = {"Server": "smdr", "Content-Type": response.content_type, "Content-Length": str(response.length),
                   "Cache-Control": "no-store", **response.headers}
        if close:
            headers["Connection"] = "close"
        head = f"HTTP/1.1 {response.status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(head.encode("latin-1", "replace") + b"\r\n")
        if method != "HEAD":
            if response.file is not None:
                await self._send_file(writer, response)
            else:
                writer.write(response.body)
        await writer.drain()

    @staticmethod
    async def _send_file(writer: asyncio.StreamWriter, response: Response) -> None:
        part = response.file
        assert part is not None
        left = part.length
        with part.path.open("rb") as file:
            file.seek(part.offset)
            while left > 0:
                chunk = file.read(min(_CHUNK, left))
                if not chunk:
                    raise ConnectionError("the file became shorter while it was sent")
                left -= len(chunk)
                writer.write(chunk)
                await writer.drain()
