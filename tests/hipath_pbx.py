"""A HiPath 3000 in "TCP client" mode for tests: it connects OUT to the collector on 127.0.0.1 and sends
its call-charge records, one per write (docs/formats/siemens-avaya.md A.1: "If call charges have been
incurred, a TCP/IP connection to an external call charge server is initiated by the client ... The
connection remains permanently open ... Each data record is therefore transmitted individually").

Options:
* ``line_end``: CR LF (DOS mode) or LF (UNIX mode), as the PBX's LAN output format is set.
* ``cut_every=N``: after N records on a connection, send the first half of the next record and close
  (at most ``max_cuts`` times); the PBX then connects again and sends that record again, whole, then
  continues, like a PBX whose connection broke before the record was out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

CONNECT_ATTEMPTS = 100
CONNECT_RETRY_SECONDS = 0.02


class HiPathTcpClient:
    def __init__(self, port: int, records: Sequence[bytes], *, line_end: bytes = b"\r\n",
                 cut_every: int | None = None, max_cuts: int | None = None) -> None:
        self.port = port
        self.records = list(records)
        self.line_end = line_end
        self.cut_every = cut_every
        self.max_cuts = max_cuts
        self.next_record = 0   # first record not yet sent whole
        self.connections = 0
        self.cuts = 0
        self._writer: asyncio.StreamWriter | None = None  # the connection left open after the last record

    async def _connect(self) -> asyncio.StreamWriter:
        for _ in range(CONNECT_ATTEMPTS):  # the collector may still be between two connections
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(CONNECT_RETRY_SECONDS)
                continue
            self.connections += 1
            return writer
        raise ConnectionError(f"nothing listens on 127.0.0.1:{self.port}")

    async def run(self) -> None:
        """Send every record; returns when the last one is out (the connection is then left open)."""
        while self.next_record < len(self.records):
            writer = await self._connect()
            if not await self._send_from_next(writer):
                writer.close()  # FIN after the half record: the collector gets those bytes, then EOF
                await writer.wait_closed()
                continue
            self._writer = writer

    async def _send_from_next(self, writer: asyncio.StreamWriter) -> bool:
        """False when the connection was cut in the middle of a record."""
        sent_here = 0
        while self.next_record < len(self.records):
            record = self.records[self.next_record] + self.line_end
            may_cut = self.max_cuts is None or self.cuts < self.max_cuts
            if self.cut_every and sent_here >= self.cut_every and may_cut:
                self.cuts += 1
                writer.write(record[: max(1, len(record) // 2)])
                await writer.drain()
                return False
            writer.write(record)
            await writer.drain()
            self.next_record += 1
            sent_here += 1
        return True

    async def hang_up(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            await writer.wait_closed()
