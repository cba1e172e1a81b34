"""SerialTransport through a real socat pty pair at 9600 baud, plus socket:// and rfc2217://."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import serial
import serial.rfc2217
from ptys import PtyPair

from smdr.errors import TransportClosed, TransportError
from smdr.transports import LINK_LOST, Backoff, open_url, read_stream
from smdr.transports.serial import SerialTransport

FAST_BACKOFF = {"initial": 0.02, "cap": 0.1, "jitter": 0.0}


async def read_exactly(transport: Any, count: int, timeout: float = 5.0) -> bytes:
    received = b""
    async with asyncio.timeout(timeout):
        while len(received) < count:
            received += await transport.read()
    return received


def pty_url(ptys: PtyPair) -> str:
    return f"serial://{ptys.a}?baudrate=9600&parity=N&bytesize=8&stopbits=1&xonxoff=0&rtscts=0"


def test_bytes_written_on_one_end_arrive(ptys: PtyPair, arun: Callable[..., Any]) -> None:
    payload = bytes(range(256)) + b"04/01/07 09:27     138 01 7105993                        00:00'22\r\n"

    async def scenario() -> bytes:
        transport = open_url(pty_url(ptys))
        await transport.open()
        try:
            with serial.Serial(str(ptys.b), 9600) as far_end:
                far_end.write(payload)
                far_end.flush()
                return await read_exactly(transport, len(payload))
        finally:
            await transport.close()
            await transport.close()  # safe twice

    assert arun(scenario()) == payload


def test_vanished_device_raises_transport_closed(ptys: PtyPair, arun: Callable[..., Any]) -> None:
    async def scenario() -> None:
        transport = open_url(pty_url(ptys))
        await transport.open()
        try:
            ptys.stop()  # like pulling the USB adapter out
            with pytest.raises(TransportClosed):
                async with asyncio.timeout(5):
                    while True:
                        await transport.read()
        finally:
            await transport.close()

    arun(scenario())


def test_idle_timeout_counts_as_link_lost(ptys: PtyPair, arun: Callable[..., Any]) -> None:
    async def scenario() -> None:
        transport = open_url(f"{pty_url(ptys)}&idle_timeout=0.2")
        await transport.open()
        try:
            with pytest.raises(TransportClosed, match="idle_timeout"):
                await asyncio.wait_for(transport.read(), 5)
        finally:
            await transport.close()

    arun(scenario())


def test_missing_device_is_a_transport_error(tmp_path: Any, arun: Callable[..., Any]) -> None:
    transport = open_url(f"serial://{tmp_path}/no-such-tty?baudrate=9600")
    with pytest.raises(TransportError, match="cannot open"):
        arun(transport.open())


class OpenSignallingSerial(SerialTransport):
    """Tells the test when the port is (re)opened, so that it writes only to a reader that is there."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.opened = asyncio.Queue[int]()
        self.open_count = 0

    async def open(self) -> None:
        await super().open()
        self.open_count += 1
        self.opened.put_nowait(self.open_count)


def test_read_stream_reconnects_after_socat_restart(ptys: PtyPair, arun: Callable[..., Any]) -> None:
    async def scenario() -> list[bytes | None]:
        transport = OpenSignallingSerial(pty_url(ptys))
        items: list[bytes | None] = []
        stream = read_stream(transport, Backoff(**FAST_BACKOFF))

        async def collect(until: bytes) -> None:
            while not b"".join(item for item in items if item).endswith(until):
                items.append(await anext(stream))

        async with contextlib.aclosing(stream):
            collector = asyncio.create_task(collect(b"before\r\n"))
            await asyncio.wait_for(transport.opened.get(), 5)
            with serial.Serial(str(ptys.b), 9600) as far_end:
                far_end.write(b"before\r\n")
                far_end.flush()
            await asyncio.wait_for(collector, 5)

            ptys.stop()
            collector = asyncio.create_task(collect(b"after\r\n"))
            await asyncio.sleep(0.2)  # a few failed reopen attempts while the device is gone
            ptys.start()
            await asyncio.wait_for(transport.opened.get(), 5)
            with serial.Serial(str(ptys.b), 9600) as far_end:
                far_end.write(b"after\r\n")
                far_end.flush()
            await asyncio.wait_for(collector, 5)
        return items

    items = arun(scenario())
    assert LINK_LOST in items
    lost_at = items.index(LINK_LOST)
    assert b"".join(items[:lost_at]) == b"before\r\n"
    assert b"".join(item for item in items[lost_at + 1:] if item) == b"after\r\n"


@pytest.mark.parametrize(("query", "message"), [
    ("parity=X", "parity='X' must be one of N, E, O, M, S"),
    ("bytesize=9", "bytesize='9' must be 5, 6, 7 or 8"),
    ("stopbits=3", "stopbits='3' must be 1, 1.5 or 2"),
    ("baudrate=fast", "baudrate='fast' must be a positive whole number"),
    ("xonxoff=maybe", "xonxoff='maybe' must be 0/1"),
])
def test_line_settings_are_validated(query: str, message: str) -> None:
    with pytest.raises(TransportError, match=message.replace("(", r"\(").replace(")", r"\)")):
        open_url(f"serial:///dev/ttyUSB0?{query}")


def test_line_settings_are_understood() -> None:
    transport = open_url("serial://COM3?baudrate=1200&parity=e&bytesize=7&stopbits=1.5&rtscts=1")
    assert isinstance(transport, SerialTransport)
    assert transport.port_url == "COM3"
    assert transport.settings.describe() == "1200 7E1.5"
    assert transport.settings.rtscts and not transport.settings.xonxoff


def test_socket_url_through_serial_asyncio_fast(arun: Callable[..., Any]) -> None:
    async def scenario() -> None:
        async def pbx(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"record one\r\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(pbx, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        transport = open_url(f"socket://127.0.0.1:{port}?baudrate=9600")
        assert isinstance(transport, SerialTransport) and not transport.threaded
        await transport.open()
        try:
            assert await read_exactly(transport, 12) == b"record one\r\n"
            with pytest.raises(TransportClosed):
                await asyncio.wait_for(transport.read(), 5)
        finally:
            await transport.close()
            server.close()

    arun(scenario())


def serve_rfc2217_once(listener: socket.socket, payload: bytes, go: threading.Event,
                       limit: float = 10.0) -> None:
    """A minimal RFC 2217 server (pyserial's PortManager over a loop:// port): after ``go``, sends payload."""
    connection, _ = listener.accept()

    class SocketWriter:
        def write(self, data: bytes) -> None:
            connection.sendall(data)

    manager = serial.rfc2217.PortManager(serial.serial_for_url("loop://"), SocketWriter())
    connection.settimeout(0.02)
    deadline = time.monotonic() + limit
    with connection:
        while time.monotonic() < deadline:
            with contextlib.suppress(socket.timeout):
                data = connection.recv(1024)
                if not data:
                    return
                for _ in manager.filter(data):  # answers the client's option negotiation
                    pass
            if go.is_set():
                connection.sendall(b"".join(manager.escape(payload)))
                return  # closing the connection: the client must see TransportClosed


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pyserial 3.5's rfc2217 uses setDaemon()
def test_rfc2217_url_through_the_reader_thread(arun: Callable[..., Any]) -> None:
    payload = b"rfc2217 \xff bytes\r\n"  # 0xFF is the telnet IAC byte: escaped on the wire
    listener = socket.create_server(("127.0.0.1", 0))
    go = threading.Event()
    server = threading.Thread(target=serve_rfc2217_once,
                              args=(listener, payload, go), daemon=True)
    server.start()

    async def scenario() -> bytes:
        transport = open_url(f"rfc2217://127.0.0.1:{listener.getsockname()[1]}?baudrate=9600")
        assert isinstance(transport, SerialTransport) and transport.threaded
        await transport.open()
        try:
            go.set()
            received = await read_exactly(transport, len(payload))
            with pytest.raises(TransportClosed):
                await asyncio.wait_for(transport.read(), 5)
            return received
        finally:
            await transport.close()

    try:
        assert arun(scenario()) == payload
    finally:
        go.set()
        server.join(timeout=5)
        listener.close()


def test_a_missing_local_port_is_looked_for_every_quarter_second_network_ports_keep_the_backoff() -> None:
    from smdr.transports.base import _reopen_delay

    grown = Backoff(initial=0.5, cap=30.0, jitter=0.0, attempt=20)  # after a long absence
    assert _reopen_delay(open_url("serial:///dev/ttyUSB0"), grown) <= 0.25
    grown.attempt = 20
    assert _reopen_delay(open_url("socket://127.0.0.1:4001"), grown) == 30.0
    grown.attempt = 20
    assert _reopen_delay(open_url("rfc2217://127.0.0.1:4001"), grown) == 30.0
