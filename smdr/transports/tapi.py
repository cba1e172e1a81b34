"""``tapi://``: a Windows PC's TAPI lines (the PBX's TSP) as a stream of trace lines, and a dialer.

    tapi://?lines=101,102                  monitor the lines of extensions 101 and 102 (default: all lines)
    tapi://?lines=101,102&dial=1           also owner privilege, for click-to-call (lineMakeCallW)
    tapi://?library=/path/libtapi32.so     a library with tapi32's exports instead of tapi32.dll (tests)

``lineInitializeExW`` in event mode; every line negotiated (TAPI 2.0-2.2) and opened with monitor
privilege; a worker thread blocks in ``lineGetMessage`` and hands each message, as one JSON trace line
(smdr.cti.tapi_monitor), to the event loop. Parse with the ``tapi-trace`` layout. When the provider
restarts (LINE_LINEDEVSTATE REINIT), closes a line or adds one, the link counts as lost: the session is
shut down and built again with the usual backoff (lineInitializeExW answers LINEERR_REINIT until then).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from ..cti import tapi_abi as abi
from ..cti.dialing import DialError, DialResult
from ..cti.tapi_binding import TapiLibrary, TapiSession, TapiShutDown
from ..cti.tapi_monitor import Monitor, encode
from ..errors import TransportClosed, TransportError
from .base import Transport
from .urls import merge_options, option_bool, option_int, parse_url

log = logging.getLogger("smdr.transport.tapi")

TAPI_OPTIONS = ("library", "lines", "dial", "app", "buffer", "poll_ms", "reply_timeout")
_LOST = object()
_JOIN_SECONDS = 5.0


class TapiTransport(Transport):
    def __init__(self, url: str, **overrides: Any) -> None:
        super().__init__(url)
        parsed = parse_url(url)
        options = merge_options(url, parsed.query, overrides, TAPI_OPTIONS)
        self.library_path = str(options.get("library") or parsed.target or "") or None
        self.wanted = [item.strip() for item in str(options.get("lines", "")).split(",") if item.strip()]
        self.can_dial = option_bool(url, options, "dial", False)
        self.app_name = str(options.get("app") or "smdr")
        self.initial_size = option_int(url, options, "buffer", 1024)
        self.poll_ms = option_int(url, options, "poll_ms", 500)
        self.reply_timeout = float(options.get("reply_timeout") or 15.0)
        self._library: TapiLibrary | None = None
        self._monitor: Monitor | None = None
        self._queue: asyncio.Queue[Any] | None = None
        self._worker: threading.Thread | None = None
        self._stopping = threading.Event()
        self.sessions = 0

    @property
    def lines(self) -> list[str]:
        """The addresses (extensions) of the lines open now."""
        return [line.address for line in self._monitor.lines.values()] if self._monitor else []

    def _start(self) -> Monitor:
        if self._library is None:
            self._library = TapiLibrary(self.library_path)
        session = TapiSession(self._library, app_name=self.app_name, initial_size=self.initial_size)
        session.initialize()
        monitor = Monitor(session)
        privileges = abi.LINECALLPRIVILEGE_MONITOR | (abi.LINECALLPRIVILEGE_OWNER if self.can_dial else 0)
        try:
            monitor.open_lines(self.wanted, privileges)
        except BaseException:
            monitor.close()
            raise
        if not monitor.lines:
            monitor.close()
            raise TransportError(f"{self.display_url}: no TAPI line to open ({session.devices} line device(s))")
        return monitor

    async def open(self) -> None:
        await self.close()
        self._monitor = monitor = await asyncio.to_thread(self._start)
        self.sessions += 1
        loop = asyncio.get_running_loop()
        self._queue = queue = asyncio.Queue()
        queue.put_nowait(encode(monitor.opened_entry()))
        self._stopping = stopping = threading.Event()
        self._worker = threading.Thread(target=self._run, args=(monitor, loop, queue, stopping),
                                        name="tapi-messages", daemon=True)
        self._worker.start()
        log.info("%s: TAPI 0x%08X, lines %s", self.display_url, monitor.session.tapi_version,
                 ", ".join(self.lines))

    def _run(self, monitor: Monitor, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue,
             stopping: threading.Event) -> None:
        def hand_over(item: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is closed: the source is gone
                stopping.set()

        while not stopping.is_set():
            try:
                message = monitor.session.get_message(self.poll_ms)
            except TapiShutDown:
                break
            except TransportError as exc:
                log.error("%s: %s", self.display_url, exc)
                hand_over(_LOST)
                break
            if message is None:
                continue
            try:
                entries, rebuild = monitor.translate(message)
            except Exception as exc:  # noqa: BLE001 - one odd message must not stop the monitor
                log.error("%s: message %d not translated: %s", self.display_url, message.message_id, exc)
                continue
            for entry in entries:
                hand_over(encode(entry))
            if rebuild:
                hand_over(_LOST)
                break

    async def read(self) -> bytes:
        if self._queue is None:
            raise TransportClosed(f"{self.display_url}: not open")
        item = await self._queue.get()
        if item is _LOST:
            raise TransportClosed(f"{self.display_url}: the TAPI provider reinitialized or closed a line")
        return item

    async def close(self) -> None:
        monitor, self._monitor = self._monitor, None
        worker, self._worker = self._worker, None
        self._stopping.set()
        if monitor is not None:
            await asyncio.to_thread(monitor.close)  # lineShutdown releases the blocked lineGetMessage
        if worker is not None:
            await asyncio.to_thread(worker.join, _JOIN_SECONDS)

    # -- the dialer ------------------------------------------------------------------------------

    async def dial(self, extension: str, number: str) -> DialResult:
        """lineMakeCallW on the line of ``extension``; answers once its LINE_REPLY came."""
        monitor = self._monitor
        if monitor is None:
            raise DialError("unavailable", "the TAPI session is not open (the provider may be restarting)")
        if not self.can_dial:
            raise DialError("not-available", "this TAPI source monitors only; set dial=1 in its URL to dial")
        loop = asyncio.get_running_loop()
        replied: asyncio.Future[int] = loop.create_future()

        def done(result: int) -> None:
            loop.call_soon_threadsafe(lambda: replied.done() or replied.set_result(result))

        try:
            request = await asyncio.to_thread(monitor.place_call, extension, number, done)
        except LookupError:
            raise DialError("unknown-extension", f"extension {extension} has no open TAPI line") from None
        except TransportError as exc:
            raise DialError("failed", str(exc)) from exc
        try:
            result = await asyncio.wait_for(replied, self.reply_timeout)
        except TimeoutError:
            raise DialError("failed", f"no LINE_REPLY for request {request} within {self.reply_timeout:g} s") from None
        if result:
            raise DialError("failed", f"lineMakeCallW: {abi.error_name(result)}")
        return DialResult(via="tapi", reference=str(request))
