"""TCP: connect to the PBX's SMDR port (``tcp://``), or wait for a PBX that pushes (``tcp-listen://``).

    tcp://10.0.0.2:2300?login=panasonic&password=PCCSMDR   (Panasonic KX-NS/TDE, user SMDR by default)
    tcp://10.0.0.2:2300?idle_timeout=900                     (no login; lost after 15 quiet minutes)
    tcp-listen://0.0.0.0:5100                                (e.g. a HiPath in "TCP client" mode)

A generic login is given as the ``login_script`` override (see ``smdr.transports.login``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import deque
from dataclasses import dataclass
from typing import Any

from ..errors import TransportClosed, TransportError
from . import streams
from .base import Transport
from .login import (
    PANASONIC_DEFAULT_PASSWORD,
    PANASONIC_DEFAULT_USER,
    PANASONIC_LOGIN_SCRIPT,
    EchoFilter,
    LoginDialogue,
    LoginStep,
    parse_login_script,
)
from .urls import merge_options, option_bool, option_float, parse_url

log = logging.getLogger("smdr.transport.tcp")

# what one read takes at most: a burst is committed in few transactions (one per read, one fsync each);
# the loop is not held meanwhile: a read is decoded and encoded in slices (smdr.slicing, Outbox._encode)
READ_CHUNK = 256 * 1024
CLOSE_TIMEOUT_SECONDS = 2.0
KEEPALIVE_IDLE_SECONDS = 60
KEEPALIVE_INTERVAL_SECONDS = 15
KEEPALIVE_PROBES = 4

CLIENT_OPTIONS = ("login", "user", "password", "login_script", "login_timeout", "idle_timeout",
                  "connect_timeout", "keepalive")
LISTEN_OPTIONS = ("idle_timeout", "keepalive")
LOGIN_KINDS = ("none", "panasonic", "script")


def enable_keepalive(writer: asyncio.StreamWriter) -> None:
    """TCP keepalive, so that a PBX that vanished without a FIN is noticed within a few minutes."""
    sock = writer.get_extra_info("socket")
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for name, value in (("TCP_KEEPIDLE", KEEPALIVE_IDLE_SECONDS),
                            ("TCP_KEEPINTVL", KEEPALIVE_INTERVAL_SECONDS), ("TCP_KEEPCNT", KEEPALIVE_PROBES)):
            if hasattr(socket, name):
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)


async def close_writer(writer: asyncio.StreamWriter | None) -> None:
    if writer is None:
        return
    writer.close()
    with contextlib.suppress(Exception, asyncio.TimeoutError):
        await asyncio.wait_for(writer.wait_closed(), CLOSE_TIMEOUT_SECONDS)


async def read_chunk(reader: asyncio.StreamReader, where: str, idle_timeout: float | None) -> bytes:
    """The next bytes from a TCP stream; TransportClosed at EOF, on error, or after ``idle_timeout`` quiet."""
    try:
        if idle_timeout:
            data = await asyncio.wait_for(reader.read(READ_CHUNK), idle_timeout)
        else:
            data = await reader.read(READ_CHUNK)
    except TimeoutError:
        raise TransportClosed(
            f"{where}: no data for {idle_timeout:g} s (idle_timeout); treating the link as lost") from None
    except OSError as exc:
        raise TransportClosed(f"{where}: {exc}") from exc
    if not data:
        raise TransportClosed(f"{where}: connection closed by the peer")
    return data


class TcpClientTransport(Transport):
    """Connects to ``host:port``, optionally logs in, then reads the SMDR stream."""

    def __init__(self, url: str, **overrides: Any) -> None:
        super().__init__(url)
        parsed = parse_url(url)
        options = merge_options(url, parsed.query, overrides, CLIENT_OPTIONS)
        self.host, self.port = parsed.host_port(url)
        self.idle_timeout = option_float(url, options, "idle_timeout", None)
        self.connect_timeout = option_float(url, options, "connect_timeout", 10.0) or 10.0
        self.keepalive = option_bool(url, options, "keepalive", True)
        login_timeout = option_float(url, options, "login_timeout", None)
        self.login_steps = self._login_steps(options, login_timeout)
        default_user = PANASONIC_DEFAULT_USER if self.login_steps else ""
        default_password = PANASONIC_DEFAULT_PASSWORD if self.login_kind == "panasonic" else ""
        self.user = str(options.get("user") or parsed.username or default_user)
        self._password = str(options.get("password") or parsed.password or default_password)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pending = b""
        self._echo_filter: EchoFilter | None = None

    def _login_steps(self, options: dict[str, Any], login_timeout: float | None) -> list[LoginStep]:
        script = options.get("login_script")
        if isinstance(script, str) and script.strip().lower() in LOGIN_KINDS:  # login_script="panasonic"
            options = {**options, "login": script.strip().lower()}
            options.pop("login_script")
        login = str(options.get("login", "script" if "login_script" in options else "none")).lower()
        self.login_kind = login
        if login not in LOGIN_KINDS:
            raise TransportError(
                f"{self.display_url}: login={login!r}; expected one of {', '.join(LOGIN_KINDS)}")
        if login == "none":
            return []
        if login == "script" and "login_script" not in options:
            raise TransportError(f"{self.display_url}: login=script needs a login_script")
        script = PANASONIC_LOGIN_SCRIPT if login == "panasonic" else options["login_script"]
        steps = parse_login_script(script, self.display_url)
        if login_timeout is not None:  # one value for every expect (the prompt check keeps its own)
            steps = [LoginStep(s.kind, s.text, login_timeout) if s.kind == "expect" else s for s in steps]
        return steps

    async def open(self) -> None:
        await self.close()
        try:
            self._reader, self._writer = await asyncio.wait_for(
                streams.open_connection(self.host, self.port), self.connect_timeout)
        except (OSError, TimeoutError) as exc:
            reason = "timed out" if isinstance(exc, TimeoutError) else str(exc)
            raise TransportError(f"{self.display_url}: cannot connect: {reason}") from exc
        if self.keepalive:
            enable_keepalive(self._writer)
        if not self.login_steps:
            return
        dialogue = LoginDialogue(self._reader, self._writer, self.display_url,
                                 values={"user": self.user, "password": self._password},
                                 secrets=[self._password])
        try:
            outcome = await dialogue.run(self.login_steps)
        except (TransportError, OSError) as exc:
            await self.close()
            if isinstance(exc, TransportError):
                raise
            raise TransportError(f"{self.display_url}: login failed: {exc}") from exc
        except BaseException:
            await self.close()
            raise
        self._pending = outcome.data
        self._echo_filter = outcome.echo_filter
        log.debug("%s: logged in as %s", self.display_url, self.user)

    async def read(self) -> bytes:
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        while True:
            if self._reader is None:
                raise TransportClosed(f"{self.display_url}: not connected")
            data = await read_chunk(self._reader, self.display_url, self.idle_timeout)
            if self._echo_filter is not None:
                data = self._echo_filter.feed(data)
                if self._echo_filter.done:
                    self._echo_filter = None
            if data:
                return data

    async def write(self, data: bytes) -> None:
        if self._writer is None:
            raise TransportClosed(f"{self.display_url}: not connected")
        try:
            self._writer.write(data)
            await self._writer.drain()
        except OSError as exc:
            raise TransportClosed(f"{self.display_url}: {exc}") from exc

    async def close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        self._pending, self._echo_filter = b"", None
        await close_writer(writer)


@dataclass(slots=True)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    peer: str


class TcpListenTransport(Transport):
    """Listens on ``host:port`` (created once, kept across open/close); open() waits for the PBX to connect.

    A newer connection replaces the current one: the old one is closed (its already-received bytes are still
    read, then its end is reported as a lost link) and the next open() takes the new one. Connections that
    arrive while none is being read (the source is backing off after a lost link) wait their turn, oldest
    first: a PBX that reconnects quickly, or connects once per record, loses nothing it already sent.
    """

    def __init__(self, url: str, **overrides: Any) -> None:
        super().__init__(url)
        parsed = parse_url(url)
        options = merge_options(url, parsed.query, overrides, LISTEN_OPTIONS)
        self.host, self.requested_port = parsed.host_port(url)
        self.idle_timeout = option_float(url, options, "idle_timeout", None)
        self.keepalive = option_bool(url, options, "keepalive", True)
        self._server: asyncio.Server | None = None
        self._waiting: deque[_Connection] = deque()  # accepted, not read yet, oldest first
        self._active: _Connection | None = None   # the connection read() reads
        self._arrived = asyncio.Event()
        self.connections_accepted = 0

    @property
    def port(self) -> int | None:
        """The bound port (useful with port 0); None before ``start``."""
        if self._server is None or not self._server.sockets:
            return None
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> None:
        """Bind and listen (open() does this too); safe to call again."""
        if self._server is not None:
            return
        try:
            self._server = await streams.start_server(self._accept, self.host, self.requested_port)
        except OSError as exc:
            raise TransportError(f"{self.display_url}: cannot listen: {exc}") from exc
        log.info("%s: listening on port %s", self.display_url, self.port)

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        connection = _Connection(reader, writer, f"{peer[0]}:{peer[1]}" if peer else "?")
        if self.keepalive:
            enable_keepalive(writer)
        self.connections_accepted += 1
        older = [c for c in (self._active, *self._waiting) if c is not None and not c.writer.is_closing()]
        if older:
            log.warning("%s: new connection from %s replaces the one from %s", self.display_url,
                        connection.peer, older[-1].peer)
            for previous in older:
                previous.writer.close()  # its reader gets EOF after the bytes it already has
        else:
            log.info("%s: connection from %s", self.display_url, connection.peer)
        self._waiting.append(connection)
        self._arrived.set()

    async def open(self) -> None:
        await self.start()
        while not self._waiting:
            self._arrived.clear()
            await self._arrived.wait()
        self._active = self._waiting.popleft()

    async def read(self) -> bytes:
        if self._active is None:
            raise TransportClosed(f"{self.display_url}: no connection")
        return await read_chunk(self._active.reader, f"{self.display_url} ({self._active.peer})",
                                self.idle_timeout)

    async def write(self, data: bytes) -> None:
        if self._active is None:
            raise TransportClosed(f"{self.display_url}: no connection")
        try:
            self._active.writer.write(data)
            await self._active.writer.drain()
        except OSError as exc:
            raise TransportClosed(f"{self.display_url}: {exc}") from exc

    async def close(self) -> None:
        """Close the current connection (not the listening socket: see ``shutdown``)."""
        active, self._active = self._active, None
        if active is not None:
            await close_writer(active.writer)

    async def shutdown(self) -> None:
        await self.close()
        while self._waiting:
            await close_writer(self._waiting.popleft().writer)
        server, self._server = self._server, None
        if server is not None:
            server.close()
            with contextlib.suppress(Exception, asyncio.TimeoutError):
                await asyncio.wait_for(server.wait_closed(), CLOSE_TIMEOUT_SECONDS)
