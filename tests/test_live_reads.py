"""A live record's bytes, read while another source decodes a burst, are read before the burst's next
slice (smdr.slicing.live_read): real sockets on 127.0.0.1, the transports' own stream functions and the
UDP transport."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest

from smdr import slicing
from smdr.transports import streams, udp

RECORD = b"01/12/26 10:00AM   101 01 <I>09125000000                                     RC \r\n"
WAIT = 10.0


def _slices_and_reads(monkeypatch: pytest.MonkeyPatch, chunk: bytes, serve) -> list[str]:
    """The order of a burst's slices (1 ms of work each), the bytes' arrival and their read; ``serve``
    makes (reader, sending socket, what to keep open)."""
    monkeypatch.setattr(slicing, "_URGENT", slicing._Urgent())
    order: list[str] = []
    for owner in (streams, udp):  # where the transports report what arrived
        monkeypatch.setattr(owner, "live_read", lambda size: order.append("arrived") or slicing.live_read(size))

    async def burst(stop: asyncio.Event) -> None:
        deadline = time.monotonic() + WAIT  # bounded; it goes on until the read is done
        while not stop.is_set() and time.monotonic() < deadline:
            busy_until = time.perf_counter() + 0.001
            while time.perf_counter() < busy_until:
                pass
            order.append("slice")
            await slicing.make_way()

    async def go() -> None:
        reader, sender, _keep = await serve()
        stop = asyncio.Event()
        other = asyncio.ensure_future(burst(stop))
        await asyncio.sleep(0.02)
        threading.Thread(target=sender.sendall, args=(chunk,), daemon=True).start()  # while a slice runs
        got = b""
        for _ in range(1000):  # bounded; a read at the end of the stream would return at once
            data = await asyncio.wait_for(reader.read(1 << 16), WAIT)
            got += data
            if not data or len(got) >= len(chunk):
                break
        assert got == chunk
        order.append("read")
        stop.set()
        await asyncio.wait_for(other, WAIT)
        sender.close()

    asyncio.run(asyncio.wait_for(go(), 30))
    return order


def _client_of_a_listening_source():
    async def serve():
        accepted: asyncio.Future = asyncio.get_running_loop().create_future()
        server = await streams.start_server(lambda r, w: accepted.set_result(r), "127.0.0.1", 0)
        sender = socket.create_connection(server.sockets[0].getsockname()[:2], timeout=WAIT)
        return await asyncio.wait_for(accepted, WAIT), sender, server
    return serve


def _server_of_a_connecting_source():
    async def serve():
        listener = socket.create_server(("127.0.0.1", 0))
        reader, writer = await streams.open_connection("127.0.0.1", listener.getsockname()[1])
        sender, _ = listener.accept()
        listener.close()
        return reader, sender, writer  # the writer kept: once collected it would close the connection
    return serve


class _Datagrams:
    """A UdpTransport as the reader (its read() gives a datagram)."""

    def __init__(self, transport: udp.UdpTransport) -> None:
        self.transport = transport

    async def read(self, _size: int) -> bytes:
        return await self.transport.read()


def _udp_source():
    async def serve():
        transport = udp.UdpTransport("udp://127.0.0.1:0")
        await transport.open()
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sender.connect(("127.0.0.1", transport.port))
        return _Datagrams(transport), sender, transport
    return serve


@pytest.mark.parametrize("serve", [_client_of_a_listening_source, _server_of_a_connecting_source, _udp_source],
                         ids=["tcp-listen", "tcp", "udp"])
def test_a_live_record_is_read_before_the_bursts_next_slice(monkeypatch: pytest.MonkeyPatch, serve) -> None:
    order = _slices_and_reads(monkeypatch, RECORD, serve())
    assert order.count("slice") >= 5 and "arrived" in order
    assert order[order.index("arrived") + 1] == "read", order[order.index("arrived") - 3:]


def test_only_a_read_of_live_size_holds_a_burst_back_and_for_one_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slicing, "_URGENT", slicing._Urgent())

    async def go() -> list[int]:
        reader = streams.LiveStreamReader()
        seen = []
        for data in (RECORD * 200, b"", RECORD):  # a burst of its own, nothing, a live record
            reader.feed_data(data) if data else None
            seen.append(slicing._URGENT.count)
            await asyncio.sleep(0)
            seen.append(slicing._URGENT.count)
        return seen

    assert asyncio.run(go()) == [0, 0, 0, 0, 1, 0]
