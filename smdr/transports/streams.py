"""asyncio streams for a source's link, whose reader says when bytes arrive (``slicing.live_read``): a live
record is then read before another source's burst takes its next slice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import serial_asyncio_fast

from ..slicing import live_read

ConnectedCallback = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any]


class LiveStreamReader(asyncio.StreamReader):
    def feed_data(self, data: bytes) -> None:
        super().feed_data(data)  # wakes the source's read first: it runs in the turn the burst waits
        live_read(len(data))


async def _pair(connect: Callable[[Callable[[], asyncio.Protocol]], Any]) -> tuple[
        asyncio.StreamReader, asyncio.StreamWriter]:
    """(reader, writer) of the connection ``connect(protocol_factory)`` makes, as asyncio.open_connection."""
    loop = asyncio.get_running_loop()
    reader = LiveStreamReader(loop=loop)
    protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
    transport, _ = await connect(lambda: protocol)
    return reader, asyncio.StreamWriter(transport, protocol, reader, loop)


async def open_connection(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """``asyncio.open_connection`` with a LiveStreamReader."""
    loop = asyncio.get_running_loop()
    return await _pair(lambda factory: loop.create_connection(factory, host, port))


async def open_serial_connection(**kwargs: Any) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """``serial_asyncio_fast.open_serial_connection`` with a LiveStreamReader (``url=``, pyserial's keywords)."""
    loop = asyncio.get_running_loop()
    return await _pair(lambda factory: serial_asyncio_fast.create_serial_connection(
        loop=loop, protocol_factory=factory, **kwargs))


async def start_server(connected: ConnectedCallback, host: str, port: int) -> asyncio.Server:
    """``asyncio.start_server`` with a LiveStreamReader per connection."""
    loop = asyncio.get_running_loop()

    def factory() -> asyncio.StreamReaderProtocol:
        return asyncio.StreamReaderProtocol(LiveStreamReader(loop=loop), connected, loop=loop)

    return await loop.create_server(factory, host, port)
