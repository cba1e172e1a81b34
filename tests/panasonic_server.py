"""A small Panasonic-style SMDR TCP server for tests (docs/formats/panasonic.md §1.6), on 127.0.0.1.

Dialogue: prompt ``-``; the client sends ``SMDR`` (any case) + CR; the server answers CR LF ``SMDR`` CR
``Enter Password:``; the client sends the password + CR, echoed as one ``*`` per character and a bare CR.
A wrong password gives CR LF ``-`` (the prompt again). After a good one the server sends the header and dash
line, then the records it was given, each + CR LF.

Options:
* ``cut_every=N``: after N records on a connection, send half of the next record and close the connection
  (at most ``max_cuts`` times); the next connection sends that record again, whole, then continues -- like a
  PBX that had not finished sending it.
* ``page_every=K``: a page break (FF + header + dash line) before every K-th record.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Self

HEADER_A = b"  Date     Time    Ext CO        Dial Number        Ring Duration  Acc code  CD "
DASHES = b"-" * 80
CRLF = b"\r\n"
FORM_FEED = b"\x0c"
LINE_TIMEOUT_SECONDS = 5.0


class PanasonicSmdrServer:
    def __init__(self, records: Sequence[bytes | str], *, password: str = "PCCSMDR", user: str = "SMDR",
                 header: bytes = HEADER_A, cut_every: int | None = None, max_cuts: int | None = None,
                 page_every: int | None = None, close_when_done: bool = False) -> None:
        self.records = [r.encode("latin-1") if isinstance(r, str) else bytes(r) for r in records]
        self.password = password
        self.user = user
        self.header = header
        self.cut_every = cut_every
        self.max_cuts = max_cuts
        self.page_every = page_every
        self.close_when_done = close_when_done
        self.next_record = 0  # first record not yet delivered whole
        self.connections = 0
        self.logins = 0
        self.failed_logins = 0
        self.cuts = 0
        self.sent = bytearray()  # every byte sent after a successful login (headers, records, cut halves)
        self.all_sent = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def header_block(self, page_break: bool = False) -> bytes:
        return (FORM_FEED if page_break else b"") + self.header + CRLF + DASHES + CRLF

    async def start(self) -> Self:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def stop(self) -> None:
        for writer in list(self._writers):
            writer.close()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        try:
            if await self._login(reader, writer) and await self._stream(writer) and not self.close_when_done:
                await reader.read()  # stay connected (an idle PBX) until the client leaves
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _read_line(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                         echo: bytes | None = None) -> bytes | None:
        """One input line up to CR or LF (a leading LF, left from a CR LF, is skipped); None at EOF."""
        line = bytearray()
        while True:
            byte = await asyncio.wait_for(reader.read(1), LINE_TIMEOUT_SECONDS)
            if not byte:
                return None
            if byte in (b"\r", b"\n"):
                if line:
                    return bytes(line)
                continue
            line += byte
            if echo is not None:
                writer.write(echo)
                await writer.drain()

    async def _login(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        while True:
            writer.write(b"-")
            await writer.drain()
            command = await self._read_line(reader, writer)
            if command is None:
                return False
            if command.strip().lower() == b"q":
                writer.write(CRLF + b"Goodbye." + CRLF)
                return False
            if command.strip().upper() != self.user.encode():
                writer.write(CRLF + b"No such command." + CRLF)
                continue
            writer.write(CRLF + command.strip().upper() + b"\rEnter Password:")
            await writer.drain()
            password = await self._read_line(reader, writer, echo=b"*")
            if password is None:
                return False
            if password.decode("latin-1") != self.password:
                self.failed_logins += 1
                writer.write(CRLF)
                continue
            self.logins += 1
            writer.write(b"\r")  # the bare CR after the echo, as the real port does
            return True

    def _send(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        self.sent += data
        writer.write(data)

    async def _stream(self, writer: asyncio.StreamWriter) -> bool:
        """Header, then records from ``next_record``; False when the connection was cut mid-line."""
        self._send(writer, self.header_block(page_break=True))
        sent_here = 0
        while self.next_record < len(self.records):
            index = self.next_record
            if self.page_every and index and index % self.page_every == 0 and sent_here:
                self._send(writer, self.header_block(page_break=True))
            line = self.records[index] + CRLF
            may_cut = self.max_cuts is None or self.cuts < self.max_cuts
            if self.cut_every and sent_here >= self.cut_every and may_cut:
                self.cuts += 1
                self._send(writer, line[: max(1, len(line) // 2)])
                await writer.drain()
                writer.close()  # FIN after the half line: the client gets those bytes, then EOF
                return False
            self._send(writer, line)
            await writer.drain()
            self.next_record += 1
            sent_here += 1
        self.all_sent.set()
        return True
