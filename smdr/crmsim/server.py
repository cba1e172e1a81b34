"""The crm-sim HTTP server: HTTP/1.1 keep-alive, one thread per connection, real downtime.

``down_for`` really stops listening: the listening socket is closed (new connections are refused), open
keep-alive connections are cut, and after the given time the server listens again on the same port.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from urllib.parse import parse_qsl, urlsplit

from .api import ENDPOINT_PATH, Reply, SimApp, json_reply
from .contacts import DEFAULT_CONTACTS, ContactBook
from .faults import FaultInjector, FaultSettings
from .store import CallStore

__all__ = ["ENDPOINT_PATH", "CrmSimServer", "SimOptions"]

MAX_BODY_BYTES = 1 << 20
_REBIND_ATTEMPTS = 50  # x 0.1 s: the port is ours, but the kernel may need a moment to free it


@dataclass(slots=True)
class SimOptions:
    host: str = "127.0.0.1"
    port: int = 8089
    secret: str = "smdr-sim-secret"
    db: str = ":memory:"
    contacts: ContactBook | None = None  # None: the built-in sample contacts
    faults: FaultSettings = field(default_factory=FaultSettings)
    down_for: float = 0.0  # start down for this long (the port is bound and reported first)
    seed: int | None = None


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], sim: CrmSimServer) -> None:
        self.sim = sim
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        TCPServer.server_bind(self)  # HTTPServer's version does a reverse DNS lookup: slow, and not needed
        self.server_name, self.server_port = self.server_address[:2]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1                    # buffered: headers and body leave in one send
    disable_nagle_algorithm = True
    timeout = 120                    # an idle keep-alive connection is closed after this
    server: _HttpServer

    def setup(self) -> None:
        super().setup()
        self.server.sim._track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.sim._untrack(self.connection)

    def version_string(self) -> str:
        return "crm-sim"

    def log_message(self, format: str, *args: object) -> None:
        return None

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        sim = self.server.sim
        if sim.faults.is_down():
            sim.app.stats.count("down")
            self.close_connection = True  # no answer at all: the peer sees the connection drop
            return
        # The request line was read as Latin-1; raw UTF-8 in it (unencoded Persian digits) meant UTF-8.
        url = urlsplit(self.path.encode("iso-8859-1", "replace").decode("utf-8", "replace"))
        query = dict(parse_qsl(url.query, keep_blank_values=True, errors="replace"))
        try:
            body = self._read_body()
            arrived = time.time()  # the whole request is in: its arrival, for latency measurements
        except ValueError as exc:
            sim.app.stats.count("bad_request")
            self._send(json_reply(400, {"error": str(exc)}), close=True)
            return
        form = query
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if method == "POST" and body and content_type in ("", "application/x-www-form-urlencoded"):
            form = {**query, **dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))}
        host = self.headers.get("Host") or f"{sim.host}:{sim.port}"
        try:
            reply = sim.app.handle(method, url.path, query, form, body, host, arrived)
        except Exception as exc:  # noqa: BLE001 - a bug must not kill the connection thread silently
            reply = json_reply(500, {"success": False, "error": {"code": "SERVER", "message": repr(exc)}})
        if reply.down_for is not None:
            sim.take_down(reply.down_for, spare=self.connection)
            self._send(reply, close=True)
        else:
            self._send(reply)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length_text = self.headers.get("Content-Length")
        if not length_text:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            raise ValueError(f"bad Content-Length {length_text!r}") from None
        if not 0 <= length <= MAX_BODY_BYTES:
            raise ValueError(f"body too large ({length} bytes)")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        chunks, total = [], 0
        while True:
            size_line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise ValueError("bad chunked body") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise ValueError("body too large")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(16)

    def _send(self, reply: Reply, *, close: bool = False) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Cache-Control", "no-store")
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(reply.body)
        self.wfile.flush()


class CrmSimServer:
    """The simulator: ``start()``, then ``port``/``root_url``/``endpoint_url``; ``close()`` at the end."""

    def __init__(self, options: SimOptions, log: Callable[[str], None] | None = None) -> None:
        self.options = options
        self.host = options.host
        self.port = options.port
        self.faults = FaultInjector(options.faults, options.seed)
        self.store = CallStore(options.db)
        self.app = SimApp(secret=options.secret, store=self.store, faults=self.faults, log=log,
                          contacts=options.contacts or ContactBook(DEFAULT_CONTACTS))
        self._state_lock = threading.RLock()
        self._httpd: _HttpServer | None = None
        self._reopen_timer: threading.Timer | None = None
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._closed = False

    @property
    def root_url(self) -> str:
        host = self.host if self.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
        return f"http://{host}:{self.port}/"

    @property
    def endpoint_url(self) -> str:
        return self.root_url.rstrip("/") + ENDPOINT_PATH

    def start(self) -> None:
        """Bind and serve (in background threads); with ``options.down_for``, go down right after binding."""
        with self._state_lock:
            self._listen(_HttpServer((self.host, self.port), self))
        if self.options.down_for > 0:
            self.take_down(self.options.down_for)

    def take_down(self, seconds: float, *, spare: socket.socket | None = None) -> None:
        """Stop listening and cut every connection (but ``spare``) for ``seconds``, then listen again."""
        with self._state_lock:
            if self._closed:
                return
            self.faults.mark_down(seconds)
            if self._reopen_timer is not None:
                self._reopen_timer.cancel()
            self._stop_listening()
            self._reopen_timer = threading.Timer(seconds, self._come_up)
            self._reopen_timer.daemon = True
            self._reopen_timer.start()
        self._cut_connections(spare)

    def close(self) -> None:
        with self._state_lock:
            self._closed = True
            if self._reopen_timer is not None:
                self._reopen_timer.cancel()
            self._stop_listening()
        self._cut_connections(None)
        deadline = time.monotonic() + 2.0
        while self._connections and time.monotonic() < deadline:  # let handler threads leave the store
            time.sleep(0.01)
        self.store.close()

    # -- internals ---------------------------------------------------------------------------------------

    def _listen(self, httpd: _HttpServer) -> None:
        self._httpd = httpd
        self.port = httpd.server_address[1]
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                  name=f"crm-sim:{self.port}", daemon=True)
        thread.start()

    def _stop_listening(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()

    def _come_up(self) -> None:
        with self._state_lock:
            if self._closed or self._httpd is not None:
                return
            left = self.faults.down_until() - time.monotonic()
            if left > 0:  # extended meanwhile
                self._reopen_timer = threading.Timer(left, self._come_up)
                self._reopen_timer.daemon = True
                self._reopen_timer.start()
                return
            for _attempt in range(_REBIND_ATTEMPTS):
                try:
                    self._listen(_HttpServer((self.host, self.port), self))
                    return
                except OSError as exc:
                    last_error = exc
                    time.sleep(0.1)
            print(f"crm-sim: cannot listen again on port {self.port}: {last_error}",
                  file=sys.stderr, flush=True)

    def _track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def _untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def _cut_connections(self, spare: socket.socket | None) -> None:
        with self._connections_lock:
            victims = [c for c in self._connections if c is not spare]
        for connection in victims:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already gone
