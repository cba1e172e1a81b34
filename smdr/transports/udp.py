"""UDP: listen for datagrams a box sends (``udp://0.0.0.0:3520``: CallerID.com Ethernet Link units).

    udp://0.0.0.0:3520                     every interface, the Ethernet Link default port
    udp://127.0.0.1:3520?idle_timeout=900  a quiet quarter of an hour is reported as a lost link

Each read() returns one datagram (a packet is a record: its framer never sees two glued together).
UDP has no connection, so there is nothing to lose but the socket: the port is bound once and kept
across open/close (as tcp-listen); an error on it closes it and the reconnect backoff binds it again.
Datagrams that come while the source is busy wait in a bounded queue; past ``max_queue`` the oldest
are dropped and counted (``dropped``) rather than let memory grow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from ..errors import TransportClosed, TransportError
from ..slicing import live_read
from .base import Transport
from .urls import merge_options, option_float, option_int, parse_url

log = logging.getLogger("smdr.transport.udp")

UDP_OPTIONS = ("idle_timeout", "max_queue")


class _Receiver(asyncio.DatagramProtocol):
    def __init__(self, owner: UdpTransport) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.owner._arrived(data, addr)
        live_read(len(data))  # a caller-ID box's datagram: read before another source's next slice

    def error_received(self, exc: Exception) -> None:
        self.owner._failed(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            self.owner._failed(exc)


class UdpTransport(Transport):
    """Binds ``host:port`` and yields every datagram, in arrival order."""

    def __init__(self, url: str, **overrides: Any) -> None:
        super().__init__(url)
        parsed = parse_url(url)
        options = merge_options(url, parsed.query, overrides, UDP_OPTIONS)
        self.host, self.requested_port = parsed.host_port(url)
        self.idle_timeout = option_float(url, options, "idle_timeout", None)
        self.max_queue = max(1, option_int(url, options, "max_queue", 10000))
        self._socket: asyncio.DatagramTransport | None = None
        self._queue: asyncio.Queue[bytes | Exception] | None = None
        self.received = 0
        self.dropped = 0
        self.last_peer: str | None = None

    @property
    def port(self) -> int | None:
        """The bound port (useful with port 0); None before open()."""
        if self._socket is None:
            return None
        return self._socket.get_extra_info("sockname")[1]

    async def open(self) -> None:
        if self._socket is not None:
            return
        self._queue = asyncio.Queue()
        try:
            self._socket, _ = await asyncio.get_running_loop().create_datagram_endpoint(
                lambda: _Receiver(self), local_addr=(self.host, self.requested_port))
        except OSError as exc:
            raise TransportError(f"{self.display_url}: cannot listen: {exc}") from exc
        log.info("%s: listening on UDP port %s", self.display_url, self.port)

    def _arrived(self, data: bytes, addr: Any) -> None:
        queue = self._queue
        if queue is None or not data:
            return
        if queue.qsize() >= self.max_queue:
            queue.get_nowait()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("%s: the source is behind; %d datagram(s) dropped", self.display_url, self.dropped)
        self.received += 1
        self.last_peer = f"{addr[0]}:{addr[1]}" if isinstance(addr, tuple) else str(addr)
        queue.put_nowait(data)

    def _failed(self, exc: Exception) -> None:
        if self._queue is not None:
            self._queue.put_nowait(exc)

    async def read(self) -> bytes:
        queue = self._queue
        if queue is None or self._socket is None:
            raise TransportClosed(f"{self.display_url}: not listening")
        try:
            item = await (asyncio.wait_for(queue.get(), self.idle_timeout) if self.idle_timeout else queue.get())
        except TimeoutError:
            raise TransportClosed(
                f"{self.display_url}: no datagram for {self.idle_timeout:g} s (idle_timeout)") from None
        if isinstance(item, Exception):
            await self.shutdown()  # the socket is in error: bind it again on the next open()
            raise TransportClosed(f"{self.display_url}: {item}")
        return item

    async def close(self) -> None:
        """Nothing to hang up: the port stays bound so no datagram is missed between reads (see shutdown)."""

    async def shutdown(self) -> None:
        sock, self._socket = self._socket, None
        if sock is not None:
            with contextlib.suppress(Exception):
                sock.close()
        self._queue = None
