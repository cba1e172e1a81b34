"""httpcore's network calls on asyncio's own transport, for the connector's CRM pools.

httpx talks to the network through anyio by default: every read and write goes through its cancel
scopes, and every write gives the event loop a turn before it returns (a "checkpoint"). On one event
loop that carries popups and a backlog, each such turn runs every other ready callback first: a popup's
request, written in two parts, waits a turn for each, and the extra machinery costs about an eighth of
the CPU of a request. Here a connection is one ``asyncio.Protocol``: a write goes to the transport and
returns (it waits only while the transport's buffer is full), a read returns what has arrived. Timeouts
and errors become the httpcore exceptions the anyio backend raises, so httpx reports them the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import sys
from collections.abc import Awaitable, Iterable
from typing import Any

import httpcore

SocketOption = tuple[int, int, int | bytes] | tuple[int, int, None, int]


class _Connection(asyncio.Protocol):
    """The bytes received and the state of one connection, for ``AsyncioStream``."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.received = bytearray()
        self.closed = False                 # EOF or connection lost: nothing more will be received
        self.error: BaseException | None = None
        self._readable: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None
        self._paused = False

    # -- asyncio.Protocol -------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received += data
        self._wake_reader()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake_reader()
        return False  # close the transport: an HTTP/1.1 client never writes after the server's EOF

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.error = exc
        self._wake_reader()
        self._paused = False
        self._wake_writer()

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._wake_writer()

    # -- for the stream ---------------------------------------------------------------------------
    async def wait_readable(self) -> None:
        while not self.received and not self.closed:
            self._readable = asyncio.get_running_loop().create_future()
            await self._readable

    async def wait_writable(self) -> None:
        while self._paused and not self.closed:
            self._writable = asyncio.get_running_loop().create_future()
            await self._writable

    def _wake_reader(self) -> None:
        if self._readable is not None and not self._readable.done():
            self._readable.set_result(None)

    def _wake_writer(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)


class AsyncioStream(httpcore.AsyncNetworkStream):
    def __init__(self, connection: _Connection) -> None:
        self._connection = connection

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        connection = self._connection
        if not connection.received and not connection.closed:
            try:
                async with asyncio.timeout(timeout):
                    await connection.wait_readable()
            except TimeoutError:
                raise httpcore.ReadTimeout(f"no data within {timeout} s") from None
        received = connection.received
        if not received:
            if connection.error is not None:
                raise httpcore.ReadError(_describe(connection.error))
            return b""  # the server closed the connection
        data = bytes(received[:max_bytes])
        del received[:max_bytes]
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        connection = self._connection
        transport = connection.transport
        if transport is None or connection.closed or transport.is_closing():
            raise httpcore.WriteError(str(connection.error or "the connection is closed"))
        transport.write(buffer)
        try:
            async with asyncio.timeout(timeout):
                await connection.wait_writable()  # at once unless the transport's buffer is full
        except TimeoutError:
            raise httpcore.WriteTimeout(f"could not write within {timeout} s") from None
        if connection.error is not None:
            raise httpcore.WriteError(_describe(connection.error))

    async def aclose(self) -> None:
        transport = self._connection.transport
        if transport is not None and not transport.is_closing():
            transport.close()
            await asyncio.sleep(0)
            transport.abort()  # a TLS close does not wait for the server's answer to it

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        connection = self._connection
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                tls = await loop.start_tls(connection.transport, connection, ssl_context,  # type: ignore[arg-type]
                                           server_hostname=server_hostname)
        except TimeoutError:
            await self.aclose()
            raise httpcore.ConnectTimeout(f"no TLS handshake within {timeout} s") from None
        except (OSError, ssl.SSLError) as exc:
            await self.aclose()
            raise httpcore.ConnectError(_describe(exc)) from exc
        connection.transport = tls  # type: ignore[assignment]
        return self

    def get_extra_info(self, info: str) -> Any:
        connection = self._connection
        transport = connection.transport
        if transport is None:
            return None
        if info == "ssl_object":
            return transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return transport.get_extra_info("sockname")
        if info == "server_addr":
            return transport.get_extra_info("peername")
        if info == "socket":
            return transport.get_extra_info("socket")
        if info == "is_readable":
            # asyncio reads the socket as soon as bytes arrive: an idle connection that got bytes or the
            # server's EOF holds them here (httpcore then drops it instead of sending a request on it)
            return bool(connection.received) or connection.closed
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[SocketOption] | None = None) -> httpcore.AsyncNetworkStream:
        local = (local_address, 0) if local_address else None
        return await _connect(asyncio.get_running_loop().create_connection(_Connection, host, port, local_addr=local),
                              f"{host}:{port}", timeout, socket_options)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[SocketOption] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        return await _connect(asyncio.get_running_loop().create_unix_connection(_Connection, path), path, timeout,
                              socket_options)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _connect(opening: Awaitable[tuple[asyncio.BaseTransport, _Connection]], where: str,
                   timeout: float | None, socket_options: Iterable[SocketOption] | None) -> AsyncioStream:
    """A connection being opened, as a stream; its errors as the anyio backend's (ConnectTimeout, ConnectError)."""
    try:
        async with asyncio.timeout(timeout):
            transport, connection = await opening
    except TimeoutError:
        raise httpcore.ConnectTimeout(f"no connection to {where} within {timeout} s") from None
    except OSError as exc:
        raise httpcore.ConnectError(_describe(exc)) from exc
    sock = transport.get_extra_info("socket")
    for option in socket_options or ():
        sock.setsockopt(*option)  # asyncio set TCP_NODELAY already
    return AsyncioStream(connection)


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def use_asyncio_backend(client: Any) -> bool:
    """Make ``client`` (an httpx.AsyncClient with its own default transport) connect through
    ``AsyncioBackend``; False, and the client unchanged, where httpx or httpcore keep it elsewhere, and on
    Windows: there the proactor loop's TLS upgrade (``loop.start_tls``) has not been verified, and anyio
    does TLS in memory on any loop, so the connections stay on anyio."""
    if sys.platform == "win32":
        return False
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    if not isinstance(pool, httpcore.AsyncConnectionPool) or not hasattr(pool, "_network_backend"):
        return False
    with contextlib.suppress(AttributeError):
        if pool.connections:
            return False  # connections made already keep their streams
    pool._network_backend = AsyncioBackend()
    return True

