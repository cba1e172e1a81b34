"""httpcore on asyncio's own transport (smdr.crm.netbackend): the client's pools use it, and a timeout, a
closed or reset connection, a refused connect and a full send buffer end as the httpcore errors the anyio
backend gives (httpx and the client then report them as before). Real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import struct
import sys

import httpcore
import httpx
import pytest
from ports import free_port
from test_delivery_support import SimCrm, crm_settings, make_event

from smdr.crm import GenericClient
from smdr.crm.netbackend import AsyncioBackend, use_asyncio_backend

WAIT = 10.0  # seconds at most for any step of a test


def test_the_client_pools_connect_through_the_asyncio_backend(crm: SimCrm) -> None:
    async def go() -> list[object]:
        async with GenericClient(crm_settings(crm.url)) as client:
            assert await client.process_cdr(make_event("c1"))
            return [pool._transport._pool._network_backend  # type: ignore[attr-defined]
                    for pool in (client._http, client._popup_http)]
    backends = asyncio.run(go())
    assert all(isinstance(backend, AsyncioBackend) for backend in backends)


def test_a_client_with_a_transport_of_its_own_is_left_alone() -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(200)))
    assert use_asyncio_backend(client) is False


def test_on_windows_the_connections_stay_on_anyio(monkeypatch: pytest.MonkeyPatch) -> None:
    """The proactor loop's TLS upgrade was not verified: a Windows connector keeps httpx's own backend."""
    monkeypatch.setattr(sys, "platform", "win32")
    client = httpx.AsyncClient()
    assert use_asyncio_backend(client) is False
    assert not isinstance(client._transport._pool._network_backend, AsyncioBackend)  # type: ignore[attr-defined]
    monkeypatch.undo()
    assert use_asyncio_backend(httpx.AsyncClient()) is True


async def _server(handle) -> tuple[asyncio.AbstractServer, int]:
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_a_silent_server_times_out_then_its_close_reads_as_the_end() -> None:
    async def go() -> None:
        close = asyncio.Event()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await close.wait()
            writer.close()

        server, port = await _server(handle)
        async with server:
            stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=WAIT)
            with pytest.raises(httpcore.ReadTimeout):
                await stream.read(1024, timeout=0.2)
            assert stream.get_extra_info("is_readable") is False
            assert stream.get_extra_info("server_addr")[1] == port
            close.set()
            assert await asyncio.wait_for(stream.read(1024, timeout=WAIT), WAIT) == b""
            assert stream.get_extra_info("is_readable") is True  # httpcore drops such an idle connection
            with pytest.raises(httpcore.WriteError):
                await stream.write(b"GET / HTTP/1.1\r\n\r\n", timeout=WAIT)
            await stream.aclose()
    asyncio.run(asyncio.wait_for(go(), 3 * WAIT))


def test_bytes_a_server_sent_are_read_in_order_and_in_pieces_of_at_most_the_size_asked() -> None:
    async def go() -> bytes:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            request = await reader.readexactly(5)
            writer.write(request * 1000)
            await writer.drain()
            writer.close()

        server, port = await _server(handle)
        async with server:
            stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=WAIT)
            await stream.write(b"hello", timeout=WAIT)
            received = b""
            for _ in range(10_000):  # bounded: 5,000 bytes in pieces of at most 64
                piece = await stream.read(64, timeout=WAIT)
                assert len(piece) <= 64
                if not piece:
                    break
                received += piece
            await stream.aclose()
            return received
    assert asyncio.run(asyncio.wait_for(go(), 3 * WAIT)) == b"hello" * 1000


def test_a_reset_connection_is_a_read_error() -> None:
    async def go() -> None:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST
            writer.transport.abort()

        server, port = await _server(handle)
        async with server:
            stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=WAIT)
            with pytest.raises(httpcore.ReadError):
                await stream.read(1024, timeout=WAIT)
            await stream.aclose()
    asyncio.run(asyncio.wait_for(go(), 3 * WAIT))


def test_a_refused_connection_is_a_connect_error() -> None:
    async def go() -> None:
        with pytest.raises(httpcore.ConnectError):
            await AsyncioBackend().connect_tcp("127.0.0.1", free_port(), timeout=WAIT)
    asyncio.run(asyncio.wait_for(go(), WAIT))


def test_a_write_waits_while_the_send_buffer_is_full_and_times_out_when_nobody_reads() -> None:
    async def go() -> int:
        reading = asyncio.Event()
        got = 0

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal got
            await reading.wait()
            try:
                while chunk := await reader.read(1 << 20):
                    got += len(chunk)
            except ConnectionError:
                pass  # the client's close discards what it had not sent yet
            writer.close()

        server, port = await _server(handle)
        async with server:
            stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=WAIT)
            big = b"x" * (64 << 20)  # far beyond the kernel's buffers: the transport pauses the writer
            with pytest.raises(httpcore.WriteTimeout):
                await stream.write(big, timeout=0.3)
            reading.set()  # now the server reads: what was buffered goes out, the next write completes
            await stream.write(b"y" * 1000, timeout=WAIT)
            await stream.aclose()
        return got
    assert asyncio.run(asyncio.wait_for(go(), 6 * WAIT)) > 0
