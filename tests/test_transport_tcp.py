"""TcpClientTransport (with the Panasonic login and generic scripts) and TcpListenTransport."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from panasonic_server import CRLF, DASHES, HEADER_A, PanasonicSmdrServer

from smdr.errors import TransportClosed, TransportError
from smdr.transports import LINK_LOST, Backoff, open_url, read_stream
from smdr.transports.login import EchoFilter
from smdr.transports.tcp import TcpListenTransport

RECORDS = [
    f"21/11/26 08:{minute:02d}AM   1{minute:02d} 01 0912123{minute:04d}"
    "                     00:01'25               "
    for minute in range(12)
]
# A record starting with '*' (Panasonic prints **/**/** after clock changes) must survive the echo filter.
STAR_RECORD = "**/**/** **:****   101 01 09121234567                       00:00'10               "
FAST_BACKOFF = {"initial": 0.02, "cap": 0.1, "jitter": 0.0}


def stream_bytes(records: list[str], header: bool = True) -> bytes:
    head = b"\x0c" + HEADER_A + CRLF + DASHES + CRLF if header else b""
    return head + b"".join(r.encode() + CRLF for r in records)


async def read_until(transport: Any, wanted: bytes, timeout: float = 5.0) -> bytes:
    received = b""
    async with asyncio.timeout(timeout):
        while wanted not in received:
            received += await transport.read()
    return received


def test_panasonic_login_then_byte_exact_data(arun: Callable[..., Any]) -> None:
    records = [STAR_RECORD, *RECORDS[:3]]

    async def scenario() -> tuple[bytes, PanasonicSmdrServer]:
        async with PanasonicSmdrServer(records, password="PCCSMDR") as server:
            transport = open_url(f"{server.url}?login=panasonic&password=PCCSMDR")
            await transport.open()
            try:
                return await read_until(transport, records[-1].encode() + CRLF), server
            finally:
                await transport.close()

    data, server = arun(scenario())
    assert data == stream_bytes(records)  # no '*' echo, no bare CR, nothing lost
    assert (server.connections, server.logins, server.failed_logins) == (1, 1, 0)


def test_panasonic_password_from_userinfo_and_override(arun: Callable[..., Any]) -> None:
    async def scenario() -> int:
        async with PanasonicSmdrServer(RECORDS[:1], password="s3cr3t") as server:
            for transport in (open_url(f"tcp://SMDR:s3cr3t@127.0.0.1:{server.port}?login=panasonic"),
                              open_url(f"{server.url}?login=panasonic", password="s3cr3t")):
                await transport.open()
                await read_until(transport, DASHES + CRLF)  # each login starts with the header
                await transport.close()
            return server.logins

    assert arun(scenario()) == 2


def test_wrong_password_is_a_clear_error_without_the_password(arun: Callable[..., Any]) -> None:
    async def scenario() -> tuple[str, PanasonicSmdrServer]:
        async with PanasonicSmdrServer(RECORDS, password="PCCSMDR") as server:
            transport = open_url(f"{server.url}?login=panasonic&password=WrongHorse")
            with pytest.raises(TransportError) as caught:
                await transport.open()
            await transport.close()
            return str(caught.value), server

    message, server = arun(scenario())
    assert "login refused" in message and "wrong user or password" in message
    assert "WrongHorse" not in message
    assert server.failed_logins == 1 and server.logins == 0


def test_generic_login_script(arun: Callable[..., Any]) -> None:
    script = [{"expect": "-"}, {"send": "smdr\r"}, {"expect": "Enter Password:", "timeout": 2},
              {"send": "{password}\r"}]

    async def scenario() -> bytes:
        async with PanasonicSmdrServer(RECORDS[:2], password="abc") as server:
            transport = open_url(server.url, login_script=script, password="abc")
            await transport.open()
            try:
                return await read_until(transport, RECORDS[1].encode() + CRLF)
            finally:
                await transport.close()

    assert arun(scenario()) == stream_bytes(RECORDS[:2])


def test_expect_timeout_quotes_the_server(arun: Callable[..., Any]) -> None:
    async def scenario() -> str:
        async def chatty(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"Welcome to the PBX\r\nlogin: ")
            await writer.drain()
            await reader.read()
            writer.close()

        server = await asyncio.start_server(chatty, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        transport = open_url(f"tcp://127.0.0.1:{port}?password=hunter2",
                             login_script=[{"expect": "Enter Password:", "timeout": 0.2},
                                           {"send": "{password}\r"}])
        try:
            with pytest.raises(TransportError) as caught:
                await transport.open()
            return str(caught.value)
        finally:
            await transport.close()
            server.close()

    message = arun(scenario())
    assert "no 'Enter Password:' from the server within 0.2 s" in message
    assert "Welcome to the PBX" in message and "hunter2" not in message


def test_bad_login_script_is_rejected() -> None:
    with pytest.raises(TransportError, match="step 1 must have exactly one of"):
        open_url("tcp://127.0.0.1:1", login_script=[{"wait": "-"}])


@pytest.mark.parametrize("split", [1, 2, 3, 7])
def test_echo_filter_handles_any_split(split: int) -> None:
    wire = b"*******\r\x0c  Date\r\n**/**/** record"
    echo = EchoFilter(b"PCCSMDR")
    out = b"".join(echo.feed(wire[i:i + split]) for i in range(0, len(wire), split))
    assert out == b"\x0c  Date\r\n**/**/** record"


def test_echo_filter_crlf_and_no_echo() -> None:
    assert EchoFilter(b"pw").feed(b"**\r\n\r\nX") == b"\r\nX"  # one line end is echo, the next is data
    assert EchoFilter(b"pw").feed(b"  Date") == b"  Date"       # a server that does not echo


def test_disconnect_mid_line_then_the_rest_after_reconnect(arun: Callable[..., Any]) -> None:
    async def scenario() -> tuple[list[bytes | None], PanasonicSmdrServer]:
        async with PanasonicSmdrServer(RECORDS, cut_every=4, max_cuts=2, page_every=5) as server:
            transport = open_url(f"{server.url}?login=panasonic")
            items: list[bytes | None] = []
            last = RECORDS[-1].encode() + CRLF
            async with contextlib.aclosing(read_stream(transport, Backoff(**FAST_BACKOFF))) as stream:
                async for item in stream:
                    items.append(item)
                    if item and b"".join(i for i in items[-3:] if i).endswith(last):
                        break
            return items, server

    items, server = arun(scenario())
    assert items.count(LINK_LOST) == 2 and server.cuts == 2 and server.logins == 3
    complete: list[bytes] = []
    segments = b"".join(b"\0" if item is None else item for item in items).split(b"\0")
    for number, segment in enumerate(segments):
        lines = segment.split(CRLF)
        complete += lines[:-1]  # what follows the last CR LF of a connection was cut
        if number < len(segments) - 1:
            assert lines[-1], "every cut connection ended inside a line"
    records = [line for line in complete if line.startswith(b"21/")]
    assert records == [r.encode() for r in RECORDS]  # none lost, none doubled


def test_idle_timeout_counts_as_link_lost(arun: Callable[..., Any]) -> None:
    async def scenario() -> None:
        async with PanasonicSmdrServer([]) as server:
            transport = open_url(f"{server.url}?login=panasonic&idle_timeout=0.2")
            await transport.open()
            try:
                await read_until(transport, DASHES + CRLF)
                with pytest.raises(TransportClosed, match="idle_timeout"):
                    await asyncio.wait_for(transport.read(), 5)
            finally:
                await transport.close()

    arun(scenario())


def test_connection_refused_is_a_transport_error(arun: Callable[..., Any]) -> None:
    async def scenario() -> None:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        with pytest.raises(TransportError, match="cannot connect"):
            await open_url(f"tcp://127.0.0.1:{port}").open()

    arun(scenario())


async def push(port: int, data: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    return reader, writer


def test_listen_receives_and_a_newer_connection_replaces_the_old(arun: Callable[..., Any]) -> None:
    async def scenario() -> None:
        transport = open_url("tcp-listen://127.0.0.1:0")
        assert isinstance(transport, TcpListenTransport)
        await transport.start()
        port = transport.port
        assert port
        try:
            old_reader, old_writer = await push(port, b"from the first\r\n")
            await transport.open()
            assert await read_until(transport, b"first\r\n") == b"from the first\r\n"

            _, new_writer = await push(port, b"from the second\r\n")
            with pytest.raises(TransportClosed):  # the old connection is closed by the listener
                await asyncio.wait_for(transport.read(), 5)
            assert await asyncio.wait_for(old_reader.read(), 5) == b""
            await transport.close()

            await transport.open()  # takes the newer connection, with what it already sent
            assert await read_until(transport, b"second\r\n") == b"from the second\r\n"
            new_writer.close()
            with pytest.raises(TransportClosed):  # the PBX hung up: EOF
                await asyncio.wait_for(transport.read(), 5)
            await transport.close()

            _, third = await push(port, b"third\r\n")  # the listening socket is still there
            await transport.open()
            assert await read_until(transport, b"third\r\n") == b"third\r\n"
            assert transport.connections_accepted == 3
            third.close()
            old_writer.close()
        finally:
            await transport.shutdown()
        assert transport.port is None

    arun(scenario())


def test_listen_open_waits_for_a_connection(arun: Callable[..., Any]) -> None:
    async def scenario() -> bytes:
        transport = open_url("tcp-listen://127.0.0.1:0")
        await transport.start()
        opening = asyncio.create_task(transport.open())
        await asyncio.sleep(0.05)
        assert not opening.done()
        _, writer = await push(transport.port, b"pushed\r\n")
        await asyncio.wait_for(opening, 5)
        try:
            return await read_until(transport, b"\r\n")
        finally:
            writer.close()
            await transport.shutdown()

    assert arun(scenario()) == b"pushed\r\n"


def test_listen_keeps_connections_that_arrive_while_none_is_read(arun: Callable[..., Any]) -> None:
    # a PBX that reconnects twice while the source backs off after a lost link (HiPath TCP client): what the
    # earlier connection sent is still read, before the newer connection, and nothing is lost
    async def scenario() -> None:
        transport = open_url("tcp-listen://127.0.0.1:0")
        await transport.start()
        try:
            _, first = await push(transport.port, b"sent on the first\r\n")
            first.close()  # the PBX hangs up, and comes back before smdr looks again
            _, second = await push(transport.port, b"sent on the second\r\n")
            await asyncio.sleep(0.05)
            assert transport.connections_accepted == 2
            await transport.open()
            assert await read_until(transport, b"first\r\n") == b"sent on the first\r\n"
            with pytest.raises(TransportClosed):
                await asyncio.wait_for(transport.read(), 5)
            await transport.close()
            await transport.open()
            assert await read_until(transport, b"second\r\n") == b"sent on the second\r\n"
            second.close()
        finally:
            await transport.shutdown()

    arun(scenario())
