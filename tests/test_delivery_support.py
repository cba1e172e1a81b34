"""Test helpers (no tests here): the CRM peers, events, bounded waits, a running Deliverer.

Two real HTTP peers on 127.0.0.1:
- ``SimCrm``: crm-sim (smdr.crmsim) in this process; the CRM the delivery tests talk to.
- ``CrmDouble``: a small stdlib server speaking the same contract, for what crm-sim does not do on
  purpose: arbitrary answers (HTML with 200, success without a record id, ...) and holding CDR
  requests at the server until the test lets them go. Run as a script it serves until killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import ssl
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from smdr.crm import CrmSettings, GenericClient, PopupSettings
from smdr.crmsim import CrmSimServer, SimOptions
from smdr.crmsim.faults import FaultSettings
from smdr.model import CallEvent, Provenance
from smdr.outbox import Deliverer, Outbox

ENDPOINT_PATH = "/modules/ParsVT/ws/API/V2/PBX/Generic"
SECRET = "s3cr3t-Key_42"
REQUIRED = ("agent", "phone", "call_id", "direction", "event")

Answer = tuple[int, str, bytes]  # status, content type, body


@dataclass(slots=True)
class Received:
    method: str            # GET or POST
    name: str              # ProcessCDR, SearchPBX, Lookup
    fields: dict[str, str]
    raw_query: str
    at: float = field(default_factory=time.time)


class CrmDouble:
    """A real HTTP server on 127.0.0.1 in a background thread."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.auth_status = 401                  # 200 imitates installs that answer auth errors with 200
        self.reject_call_ids: set[str] = set()  # answered with INVALID
        self.fail_rate = 0.0                    # share of ProcessCDR answered 503 (seeded)
        self.delay = 0.0                        # seconds before each answer
        self.override: Callable[[Received], Answer | None] | None = None
        self.release_cdrs = threading.Event()   # cleared: non-ringing ProcessCDR waits at the server
        self.release_cdrs.set()
        self.contacts: dict[str, dict[str, str]] = {}
        self.records: dict[str, int] = {}
        self._random = random.Random(7)
        self._server: ThreadingHTTPServer | None = None
        self._tls = False

    @property
    def url(self) -> str:
        assert self._server is not None
        scheme = "https" if self._tls else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}{ENDPOINT_PATH}"

    def start(self, port: int = 0, tls: ssl.SSLContext | None = None) -> CrmDouble:
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave in two writes: no delayed-ACK stalls

            def do_GET(self) -> None:
                double._handle(self, "GET")

            def do_POST(self) -> None:
                double._handle(self, "POST")

            def log_message(self, *args: object) -> None:
                pass

        self._server = _QuietServer(("127.0.0.1", port), Handler)
        self._tls = tls is not None
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.release_cdrs.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def cdrs(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.name == "ProcessCDR"]

    def events_of(self, call_id: str) -> list[str]:
        return [r.fields.get("event", "") for r in self.cdrs() if r.fields.get("call_id") == call_id]

    # --- the request handler -------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        fields = dict(parse_qsl(parts.query, keep_blank_values=True))
        if method == "POST":
            length = int(handler.headers.get("Content-Length") or 0)
            fields.update(parse_qsl(handler.rfile.read(length).decode("utf-8"), keep_blank_values=True))
        name = parts.path.rsplit("/", 1)[-1]
        if parts.path == "/events":  # as crm-sim's GET /events: what arrived when (for bench/deliver.py)
            self._reply(handler, _json(200, {"events": [
                {"call_id": r.fields.get("call_id"), "event": r.fields.get("event"), "arrived": r.at}
                for r in self.cdrs()]}))
            return
        request = Received(method, name, fields, parts.query)
        with self.lock:
            self.received.append(request)
        if name == "ProcessCDR" and fields.get("event") != "ringing":
            self.release_cdrs.wait(30)
        if self.delay:
            time.sleep(self.delay)
        self._reply(handler, self._answer(request))

    def _reply(self, handler: BaseHTTPRequestHandler, answer: Answer) -> None:
        status, kind, body = answer
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _answer(self, request: Received) -> Answer:
        if self.override is not None:
            answer = self.override(request)
            if answer is not None:
                return answer
        if not request.raw_query and request.name == "Lookup":
            return 400, "text/html", b"<html>no phone</html>"
        if request.name == "Lookup":
            return 200, "text/html; charset=utf-8", b"<html><body>Lookup</body></html>"
        if request.fields.get("secretkey") != self.secret:
            return _json(self.auth_status, {"success": False,
                                            "error": {"code": "AUTH", "message": "invalid secretkey"}})
        if request.name == "SearchPBX":
            contact = self.contacts.get(request.fields.get("phone", ""))
            return _json(200, {"result": contact} if contact else {"result": False})
        if request.name != "ProcessCDR":
            return 404, "text/html", b"<html>not found</html>"
        if self.fail_rate and self._random.random() < self.fail_rate:
            return 503, "text/html", b"<html>busy</html>"
        missing = [name for name in REQUIRED if not request.fields.get(name)]
        call_id = request.fields.get("call_id", "")
        if missing or call_id in self.reject_call_ids:
            message = f"missing required field: {', '.join(missing)}" if missing else "unknown extension"
            return _json(200, {"success": False, "error": {"code": "INVALID", "message": message}})
        with self.lock:
            record = self.records.setdefault(call_id, 1000 + len(self.records))
        return _json(200, {"success": True, "result": str(record)})


class _QuietServer(ThreadingHTTPServer):
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that gave up (timeout tests)
            super().handle_error(request, client_address)


def _json(status: int, body: object) -> Answer:
    return status, "application/json", json.dumps(body).encode()


class SimCrm:
    """crm-sim on a free port of 127.0.0.1, seeded; faults change live with ``set_faults``."""

    def __init__(self, secret: str = SECRET, **faults: Any) -> None:
        self.secret = secret
        self.server = CrmSimServer(SimOptions(host="127.0.0.1", port=0, secret=secret, seed=7,
                                              faults=FaultSettings(**faults)))

    def start(self) -> SimCrm:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.close()

    @property
    def url(self) -> str:
        return self.server.endpoint_url

    def set_faults(self, **changes: Any) -> None:
        self.server.faults.update(changes)

    def events(self) -> list[dict[str, Any]]:
        """Every ProcessCDR the simulator accepted, in arrival order."""
        return self.server.store.events()

    def events_of(self, call_id: str) -> list[str]:
        return [e["event"] for e in self.events() if e["call_id"] == call_id]

    def requests(self, method: str = "ProcessCDR") -> int:
        """Requests received for ``method`` (accepted or not)."""
        return self.server.app.stats.snapshot()["by_method"][method]


# --- events and waiting ------------------------------------------------------------------------

TEHRAN = timezone(timedelta(hours=3, minutes=30))


def make_event(call_id: str, event: str = "answered", **overrides: object) -> CallEvent:
    values: dict[str, object] = dict(
        call_id=call_id, direction="inbound", event=event, agent="101", phone="09121234567",
        duration=0 if event == "ringing" else 42, gateway="kx-tda", linename="CO 03",
        starttime=datetime(2024, 5, 1, 9, 30, 5, tzinfo=TEHRAN),
        provenance=Provenance(source="test", layout="test", raw=f"{call_id} {event}"),
    )
    if event not in ("ringing", "in-progress"):
        values["endtime"] = datetime(2024, 5, 1, 9, 30, 47, tzinfo=TEHRAN)
    values.update(overrides)
    return CallEvent(**values)  # type: ignore[arg-type]


def crm_settings(url: str, secret: str = SECRET, **overrides: object) -> CrmSettings:
    values: dict[str, object] = dict(url=url, secretkey=secret, timeout=5.0, retry_initial=0.02,
                                     retry_max=0.2)
    values.update(overrides)
    return CrmSettings(**values)  # type: ignore[arg-type]


async def wait_until(predicate: Callable[[], bool], *, timeout: float = 20.0, step: float = 0.005) -> None:
    """Poll ``predicate`` (bounded in time and count); fail the test when it never holds."""
    for _ in range(int(timeout / step) + 1):
        if predicate():
            return
        await asyncio.sleep(step)
    raise AssertionError(f"condition not met within {timeout} s")


@contextlib.asynccontextmanager
async def delivering(outbox: Outbox, crm: CrmSettings, popup: PopupSettings | None = None,
                     **options: Any) -> AsyncIterator[Deliverer]:
    """A Deliverer running in a task, with its own client, stopped (bounded) on exit."""
    async with GenericClient(crm) as client:
        stop = asyncio.Event()
        options.setdefault("poll_interval", 0.02)
        deliverer = Deliverer(outbox, client, crm, popup or PopupSettings(), **options)
        task = asyncio.create_task(deliverer.run(stop))
        try:
            yield deliverer
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)


def states(outbox: Outbox) -> dict[str, int]:
    return outbox.store.counts()


if __name__ == "__main__":  # python tests/test_delivery_support.py [PORT]
    server = CrmDouble().start(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(server.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()
