"""Serial ports (RS-232 SMDR output), plus pyserial's ``socket://`` and ``rfc2217://`` URL handlers.

    serial:///dev/ttyUSB0?baudrate=9600&parity=N&bytesize=8&stopbits=1&xonxoff=0&rtscts=0
    serial://COM3?baudrate=9600
    socket://10.0.0.5:4001              (raw TCP serial server, e.g. a Moxa in "TCP server" mode)
    rfc2217://10.0.0.5:4001?baudrate=9600  (telnet COM-port control: the serial settings reach the far port)
    serial://COM4?baudrate=9600&init=AT%2BVCID%3D1   (sent, with CR, every time the port opens: a modem's
                                                     caller-ID mode, which some modems forget on reset)

How each kind is read (checked against the installed pyserial-asyncio-fast 0.16 source, and by trying):

* ``serial``: ``serial_asyncio_fast.create_serial_connection`` (through ``streams.open_serial_connection``,
  whose reader tells a burst elsewhere to wait when a live record arrives) -- the port's file descriptor
  is watched by the event loop (``add_reader``); on Windows the library polls instead.
* ``socket``: also ``serial_asyncio_fast``: it special-cases ``socket://`` and opens a plain asyncio TCP
  connection to host:port (pyserial's socket object is created with ``do_not_open`` and never used to read).
* ``rfc2217``: **not** through ``serial_asyncio_fast``. Tried: its transport constructor sets
  ``write_timeout = 0``, which ``rfc2217.Serial`` refuses (``NotImplementedError: write_timeout is currently
  not supported``); and even past that, ``rfc2217.Serial`` has no ``fileno()`` (it reads the telnet socket in
  its own thread into a queue), so the library's ``add_reader`` could never be used. We use a reader thread
  instead: blocking ``read`` calls with a short timeout run in the default executor, and a read cancelled
  while waiting is resumed by the next ``read()``, not restarted, so no byte is lost to an abandoned thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import queue
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import serial

from ..errors import TransportClosed, TransportError
from . import streams
from .base import Transport
from .urls import merge_options, option_bool, option_float, parse_url, redact, without_query_keys

log = logging.getLogger("smdr.transport.serial")

SERIAL_OPTION_NAMES = ("baudrate", "parity", "bytesize", "stopbits", "xonxoff", "rtscts", "dsrdtr",
                       "exclusive")
OTHER_OPTION_NAMES = ("connect_timeout", "idle_timeout", "init")
READ_CHUNK = 4096
THREAD_READ_POLL_SECONDS = 0.2  # how long one blocking read waits in the reader-thread mode
DEVICE_POLL_SECONDS = 0.25  # a missing local port (USB adapter unplugged) is looked for this often
CLOSE_TIMEOUT_SECONDS = 3.0

_PARITY_NAMES = {
    "N": serial.PARITY_NONE, "NONE": serial.PARITY_NONE,
    "E": serial.PARITY_EVEN, "EVEN": serial.PARITY_EVEN,
    "O": serial.PARITY_ODD, "ODD": serial.PARITY_ODD,
    "M": serial.PARITY_MARK, "MARK": serial.PARITY_MARK,
    "S": serial.PARITY_SPACE, "SPACE": serial.PARITY_SPACE,
}
_STOPBITS = {"1": serial.STOPBITS_ONE, "1.5": serial.STOPBITS_ONE_POINT_FIVE, "2": serial.STOPBITS_TWO}
_BYTESIZES = {5: serial.FIVEBITS, 6: serial.SIXBITS, 7: serial.SEVENBITS, 8: serial.EIGHTBITS}

#: URL schemes whose pyserial objects have no file descriptor: read them with a thread.
THREADED_SCHEMES = frozenset({"rfc2217"})
#: the rates PBX SMDR ports and USB adapters offer; anything else is a typo (96000, 9601)
STANDARD_BAUD_RATES = (300, 600, 1200, 2400, 4800, 9600, 14400, 19200, 28800, 38400, 57600, 115200, 230400)


@dataclass(slots=True, frozen=True)
class SerialSettings:
    """Line settings, validated; defaults 9600 8N1 without flow control (common PBX practice)."""

    baudrate: int = 9600
    parity: str = serial.PARITY_NONE
    bytesize: int = serial.EIGHTBITS
    stopbits: float = serial.STOPBITS_ONE
    xonxoff: bool = False
    rtscts: bool = False
    dsrdtr: bool = False
    exclusive: bool | None = None

    @classmethod
    def from_options(cls, url: str, options: Mapping[str, Any]) -> SerialSettings:
        where = redact(url)
        baud_text = str(options.get("baudrate", 9600)).strip()
        if not baud_text.isdigit() or int(baud_text) <= 0:
            raise TransportError(
                f"{where}: baudrate={baud_text!r} must be a positive whole number, e.g. 9600")
        if int(baud_text) not in STANDARD_BAUD_RATES:
            raise TransportError(f"{where}: baudrate={baud_text} is not a rate a PBX port uses; one of "
                                 f"{', '.join(map(str, STANDARD_BAUD_RATES))} (9600 is the most common)")
        parity_text = str(options.get("parity", "N")).strip().upper()
        if parity_text not in _PARITY_NAMES:
            raise TransportError(f"{where}: parity={parity_text!r} must be one of N, E, O, M, S")
        bytesize_text = str(options.get("bytesize", 8)).strip()
        if not bytesize_text.isdigit() or int(bytesize_text) not in _BYTESIZES:
            raise TransportError(f"{where}: bytesize={bytesize_text!r} must be 5, 6, 7 or 8")
        stopbits_text = str(options.get("stopbits", 1)).strip()
        stopbits_key = {"1.0": "1", "2.0": "2"}.get(stopbits_text, stopbits_text)
        if stopbits_key not in _STOPBITS:
            raise TransportError(f"{where}: stopbits={stopbits_text!r} must be 1, 1.5 or 2")
        exclusive = option_bool(url, options, "exclusive", False) if "exclusive" in options else None
        return cls(
            baudrate=int(baud_text),
            parity=_PARITY_NAMES[parity_text],
            bytesize=_BYTESIZES[int(bytesize_text)],
            stopbits=_STOPBITS[stopbits_key],
            xonxoff=option_bool(url, options, "xonxoff", False),
            rtscts=option_bool(url, options, "rtscts", False),
            dsrdtr=option_bool(url, options, "dsrdtr", False),
            exclusive=exclusive,
        )

    def pyserial_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "baudrate": self.baudrate, "parity": self.parity, "bytesize": self.bytesize,
            "stopbits": self.stopbits, "xonxoff": self.xonxoff, "rtscts": self.rtscts, "dsrdtr": self.dsrdtr,
        }
        if self.exclusive is not None:
            kwargs["exclusive"] = self.exclusive
        return kwargs

    def describe(self) -> str:
        stop = {serial.STOPBITS_ONE: "1", serial.STOPBITS_ONE_POINT_FIVE: "1.5", serial.STOPBITS_TWO: "2"}
        return f"{self.baudrate} {self.bytesize}{self.parity}{stop[self.stopbits]}"


class SerialTransport(Transport):
    """A serial port, or pyserial's ``socket://`` / ``rfc2217://``. A vanished device -> TransportClosed."""

    def __init__(self, url: str, **overrides: Any) -> None:
        super().__init__(url)
        parsed = parse_url(url)
        self.scheme = parsed.scheme
        if self.scheme == "serial":
            options = merge_options(url, parsed.query, overrides, SERIAL_OPTION_NAMES + OTHER_OPTION_NAMES)
            if not parsed.target:
                raise TransportError(f"{redact(url)}: no device; use serial:///dev/ttyUSB0 or serial://COM3")
            self.port_url = parsed.target
        else:
            # Our names are taken out; everything else in the query is pyserial's own (e.g. ?logging=debug).
            ours = {key: value for key, value in parsed.query.items()
                    if key in SERIAL_OPTION_NAMES + OTHER_OPTION_NAMES}
            options = merge_options(url, ours, overrides, SERIAL_OPTION_NAMES + OTHER_OPTION_NAMES)
            self.port_url = without_query_keys(url, SERIAL_OPTION_NAMES + OTHER_OPTION_NAMES)
        self.settings = SerialSettings.from_options(url, options)
        self.connect_timeout = option_float(url, options, "connect_timeout", 10.0) or 10.0
        self.idle_timeout = option_float(url, options, "idle_timeout", None)  # quiet this long = lost
        self.init = str(options.get("init") or "")
        self.threaded = self.scheme in THREADED_SCHEMES
        if self.scheme == "serial":  # socket:// and rfc2217:// are network peers: they keep the backoff
            self.reopen_at_most_every = DEVICE_POLL_SECONDS
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._port: serial.SerialBase | None = None  # reader-thread mode only
        self._pending_read: asyncio.Future[bytes] | None = None

    # -- open -----------------------------------------------------------------------------------

    async def open(self) -> None:
        await self.close()
        kwargs = self.settings.pyserial_kwargs()
        try:
            if self.threaded:
                loop = asyncio.get_running_loop()
                opener = functools.partial(serial.serial_for_url, self.port_url,
                                           timeout=THREAD_READ_POLL_SECONDS, **kwargs)
                self._port = await loop.run_in_executor(None, opener)
            else:
                opening = streams.open_serial_connection(url=self.port_url, **kwargs)
                if self.scheme == "socket":
                    opening = asyncio.wait_for(opening, self.connect_timeout)
                self._reader, self._writer = await opening
        except (serial.SerialException, OSError, ValueError, TimeoutError) as exc:
            await self.close()
            raise TransportError(f"{self.display_url}: cannot open: {_describe(exc)}") from exc
        log.debug("%s: open (%s)", self.display_url, self.settings.describe())
        if self.init:
            try:
                await self.write(self.init.encode("latin-1") + b"\r")
            except TransportClosed as exc:
                await self.close()
                raise TransportError(f"{self.display_url}: cannot send the init string: {exc}") from exc

    # -- read / write ---------------------------------------------------------------------------

    async def read(self) -> bytes:
        if not self.idle_timeout:
            return await self._read_any()
        try:
            return await asyncio.wait_for(self._read_any(), self.idle_timeout)
        except TimeoutError:
            raise TransportClosed(f"{self.display_url}: no data for {self.idle_timeout:g} s (idle_timeout); "
                                  "treating the link as lost") from None

    async def _read_any(self) -> bytes:
        if self.threaded:
            return await self._read_threaded()
        if self._reader is None:
            raise TransportClosed(f"{self.display_url}: not open")
        try:
            data = await self._reader.read(READ_CHUNK)
        except (serial.SerialException, OSError) as exc:
            raise TransportClosed(f"{self.display_url}: {_describe(exc)}") from exc
        if not data:
            raise TransportClosed(f"{self.display_url}: port closed")
        return data

    async def _read_threaded(self) -> bytes:
        loop = asyncio.get_running_loop()
        while True:
            port = self._port
            if port is None:
                raise TransportClosed(f"{self.display_url}: not open")
            if self._pending_read is None:
                self._pending_read = loop.run_in_executor(None, _blocking_read, port)
            pending = self._pending_read
            try:
                data = await asyncio.shield(pending)  # cancelled: the thread's read is kept for next time
            except (serial.SerialException, OSError, AttributeError, TypeError) as exc:
                # AttributeError/TypeError: pyserial internals after the port was closed under the read
                raise TransportClosed(f"{self.display_url}: {_describe(exc)}") from exc
            finally:
                if pending.done() and self._pending_read is pending:
                    self._pending_read = None
            if data:
                return data

    async def write(self, data: bytes) -> None:
        try:
            if self.threaded and self._port is not None:
                await asyncio.get_running_loop().run_in_executor(None, self._port.write, data)
            elif self._writer is not None:
                self._writer.write(data)
                await self._writer.drain()
            else:
                raise TransportClosed(f"{self.display_url}: not open")
        except (serial.SerialException, OSError) as exc:
            raise TransportClosed(f"{self.display_url}: {_describe(exc)}") from exc

    # -- close ----------------------------------------------------------------------------------

    async def close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception, asyncio.TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), CLOSE_TIMEOUT_SECONDS)
        port, self._port = self._port, None
        pending, self._pending_read = self._pending_read, None
        if pending is not None:
            pending.add_done_callback(_discard_result)
        if port is not None:
            with contextlib.suppress(Exception):
                await asyncio.get_running_loop().run_in_executor(None, port.close)


def _blocking_read(port: serial.SerialBase) -> bytes:
    """Runs in a worker thread: wait up to the port timeout for a byte, then take what else is there."""
    received = b""
    try:
        received = port.read(1)
        waiting = port.in_waiting if received else 0
        if waiting:
            received += port.read(min(waiting, READ_CHUNK))
        return received
    except serial.SerialException:
        received += _bytes_left_in_rfc2217_queue(port)
        if received:
            return received  # the error comes again on the next read, after these bytes are delivered
        raise


def _bytes_left_in_rfc2217_queue(port: serial.SerialBase) -> bytes:
    """Bytes rfc2217.Serial received before its connection closed.

    Its ``read`` raises as soon as its reader thread has ended, even when that thread had queued bytes
    (the last ones the PBX sent before hanging up); we take them from that queue (a private attribute,
    looked up defensively) so they are not lost.
    """
    received_queue = getattr(port, "_read_buffer", None)
    taken = bytearray()
    while received_queue is not None:
        try:
            item = received_queue.get_nowait()
        except (queue.Empty, AttributeError, TypeError):  # empty, or not a queue at all
            break
        if isinstance(item, (bytes, bytearray)):
            taken += item
    return bytes(taken)


def _discard_result(future: asyncio.Future[bytes]) -> None:
    if not future.cancelled():
        future.exception()  # retrieved, so asyncio does not log "exception was never retrieved"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__
