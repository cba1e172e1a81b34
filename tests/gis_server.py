"""A fake GIS API (gisapi.php) on 127.0.0.1 for the tests: call records by window, DIAL, recordings, bad days.

    with FakeGis(key="k", tenant="t") as gis:
        gis.records = [...]                  # Asterisk-style CDR dicts with 'calldate'
        gis.faults = ["error", "html", "slow"]   # the next requests misbehave, one fault each
        gis.requests                         # every query received (dicts), in order
        gis.audio = {"1768383605.1": b"RIFF..."}  # info=recording answers (audio/wav); others: JSON error
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit


class FakeGis:
    def __init__(self, key: str = "gis-test-key", tenant: str = "gis-tenant-7", *, slow_seconds: float = 2.0,
                 shape: str = "object") -> None:
        self.key, self.tenant = key, tenant
        self.records: list[dict[str, Any]] = []
        self.faults: list[str] = []
        self.requests: list[dict[str, str]] = []
        self.slow_seconds = slow_seconds
        self.shape = shape          # object: {"cdrs": [...]}; list: [...]
        self.dial_answer: Any = {"status": "ok", "id": "1768383605.77"}
        self.audio: dict[str, bytes] = {}
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"gis://127.0.0.1:{self._server.server_address[1]}/pbx/gisapi.php?tls=0"

    def answer(self, query: dict[str, str]) -> tuple[int, str, str | bytes]:
        with self.lock:
            self.requests.append(query)
            fault = self.faults.pop(0) if self.faults else ""
        if fault == "slow":
            time.sleep(self.slow_seconds)
        if fault == "error":
            return 500, "text/plain", "internal error"
        if fault == "html":
            return 200, "text/html", "<html><body>Maintenance</body></html>"
        if query.get("key") != self.key or query.get("tenant") != self.tenant:
            return 200, "application/json", json.dumps({"status": "error", "error": "bad key"})
        kind = query.get("reqtype", "").lower()
        if kind == "dial":
            return 200, "application/json", json.dumps(self.dial_answer)
        if kind == "info" and query.get("info") == "recording":
            audio = self.audio.get(query.get("id", ""))
            if audio is None:
                return 200, "application/json", json.dumps({"status": "error", "error": "no such recording"})
            return 200, "audio/wav", audio
        if kind == "info" and query.get("info") == "cdrs":
            start, end = query["start"], query["end"]
            with self.lock:
                found = [r for r in self.records if start <= r["calldate"][:16] <= end]
            body: Any = found if self.shape == "list" else {"status": "ok", "cdrs": found}
            return 200, "application/json", json.dumps(body, ensure_ascii=False)
        return 200, "application/json", json.dumps({"status": "error", "error": "unknown request"})

    def __enter__(self) -> Self:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = dict(parse_qsl(urlsplit(self.path).query))
                status, kind, body = fake.answer(query)
                data = body if isinstance(body, bytes) else body.encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (a slow answer)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


def cdr(n: int, calldate: str, *, src: str = "09121234567", dst: str = "201", billsec: int = 30,
        disposition: str = "ANSWERED", recordingfile: str = "") -> dict[str, Any]:
    return {"calldate": calldate, "src": src, "dst": dst, "duration": str(billsec + 5), "billsec": str(billsec),
            "disposition": disposition, "uniqueid": f"1768383605.{n}", "channel": f"SIP/trunk-{n:08x}",
            "recordingfile": recordingfile}
