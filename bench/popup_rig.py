"""The rig of bench/popup.py: the records it writes and the processes it runs (crm-sim, socat, smdr run).

``Bench(workdir, tree)`` runs the smdr of ``tree`` (this checkout by default; bench/compare.py popups
gives an exported baseline), so one bench can measure two trees the same way.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import termios
import time
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from popup_figures import LineCount, OutboxCount

ROOT = Path(__file__).resolve().parent.parent
ENDPOINT_PATH = "/modules/ParsVT/ws/API/V2/PBX/Generic"
SECRET = "bench-popup-secret"
RECORD_BYTES = 82            # a KX-TDA Pattern A record: 80 columns + CR LF
BITS_PER_BYTE = 10           # 8N1
BAUD = 9600
START_TIMEOUT = 20.0         # seconds for each process to come up
SETTLE_TIMEOUT = 60.0        # seconds for the last requests to reach crm-sim after the last write
POLL = 0.05
POPUP_LINES = range(1, 50)   # CO lines of the ringing calls; the backlog uses 50..98
BACKLOG_LINES = range(50, 99)
ARRANGEMENTS = ("together", "apart", "floor")  # where the burst's source runs (Bench.start_connector)
BURST_SINKS = ("crm", "jsonl")  # where the burst's events go
BURST_JSONL = "burst.jsonl"  # the burst's events, with the jsonl sink (in its smdr run's folder)


# --- the records -----------------------------------------------------------------------------------

def _body(ext: str, co: str = "", dial: str = "", ring: str = "", dur: str = "", cd: str = "") -> bytes:
    """Columns 16..79 of a Pattern A record plus CR LF (see bench/panasonic_stream.py)."""
    text = f" {ext:>5} {co:2} {dial:25} {ring:>4} {dur:8} {'':10} {cd:2} \r\n"
    assert len(text) == RECORD_BYTES - 16, text
    return text.encode("ascii")


def _stamp(when: datetime) -> bytes:
    hour = when.hour
    return f"{when:%d/%m/%y} {hour % 12 or 12:02d}:{when:%M}{'AM' if hour < 12 else 'PM'}".encode("ascii")


def ringing_record(index: int, when: datetime) -> tuple[bytes, str]:
    """An incoming call ringing at extension 1xx on a CO line (``RC``), caller 0912 + 7 digits."""
    phone = f"0912{5_000_000 + index:07d}"
    co = POPUP_LINES[index % len(POPUP_LINES)]
    ext = str(101 + index % 48)
    return _stamp(when) + _body(ext, f"{co:02d}", "<I>" + phone, cd="RC"), phone


def backlog_records(count: int, day: datetime) -> bytes:
    """``count`` answered outgoing calls of an earlier day, two per minute from 00:00 on."""
    out = []
    for index in range(count):
        when = day.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(minutes=index // 2)
        co = BACKLOG_LINES[index % len(BACKLOG_LINES)]
        talk = 20 + index % 97
        out.append(_stamp(when) + _body(str(101 + index % 48), f"{co:02d}", f"0935{index:07d}", "",
                                        f"00:{talk // 60:02d}'{talk % 60:02d}"))
    return b"".join(out)


# --- the processes ---------------------------------------------------------------------------------

class Bench:
    def __init__(self, workdir: Path, tree: Path = ROOT) -> None:
        self.workdir = workdir
        self.env = smdr_env(tree)
        self.processes: list[subprocess.Popen] = []
        self.port = 0
        self.pty_fd: int | None = None
        self.connector: subprocess.Popen | None = None
        self.connector_log = workdir / "connector.log"
        self.burst_port = _free_port()
        self.burst_dir = workdir  # the work folder of the smdr run that takes the burst (its data/outbox)
        self.popups_have_outbox = True  # False when the popups go through the floor forwarder
        self.burst_sink = "crm"

    def start_crmsim(self) -> None:
        out = open(self.workdir / "crm-sim.out", "w+", encoding="utf-8")
        process = subprocess.Popen(
            [sys.executable, "-m", "smdr", "crm-sim", "--host", "127.0.0.1", "--port", "0", "--quiet",
             "--secret", SECRET, "--db", str(self.workdir / "crm.sqlite")],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=self.env)
        self.processes.append(process)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            match = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", (self.workdir / "crm-sim.out").read_text())
            if match:
                self.port = int(match.group(1))
                return
            if process.poll() is not None:
                break
            time.sleep(POLL)
        raise SystemExit("crm-sim did not start:\n" + (self.workdir / "crm-sim.out").read_text())

    def start_socat(self) -> tuple[Path, Path]:
        socat = shutil.which("socat")
        if socat is None:
            raise SystemExit("socat is needed (scripts/install-test-deps.sh installs it)")
        near, far = self.workdir / "pbx-end", self.workdir / "connector-end"
        process = subprocess.Popen([socat, f"pty,raw,echo=0,link={near}", f"pty,raw,echo=0,link={far}"],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=open(self.workdir / "socat.log", "w"))
        self.processes.append(process)
        deadline = time.monotonic() + START_TIMEOUT
        while not (near.exists() and far.exists()):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("socat did not create the pty pair:\n" + (self.workdir / "socat.log").read_text())
            time.sleep(0.01)
        return near, far

    def start_connector(self, far: Path, arrangement: str = "together", burst_sink: str = "crm") -> None:
        """The connector reading ``far`` (the popups' serial source) and the burst's tcp-listen source.

        ``arrangement`` (see ARRANGEMENTS): "together", both sources in one ``smdr run``; "apart", the
        burst's source in a second ``smdr run`` of its own (its own config and data folder, the same
        crm-sim); "floor", the popups through bench/popup_floor.py (the least a connector can do) and the
        burst in ``smdr run``. ``burst_sink`` "jsonl" (apart and floor only): the burst's ``smdr run``
        writes its events to a file instead of delivering them to crm-sim.
        """
        if arrangement not in ARRANGEMENTS:
            raise ValueError(f"arrangement: one of {', '.join(ARRANGEMENTS)}, not {arrangement!r}")
        if burst_sink not in BURST_SINKS or (burst_sink != "crm" and arrangement == "together"):
            raise ValueError(f"burst sink {burst_sink!r}: crm, or jsonl when the burst has an smdr run of its own")
        self.burst_sink = burst_sink
        serial = f"serial://{far}?baudrate={BAUD}"
        sources = [("pbx", serial)]
        if arrangement == "together":
            sources.append(("burst", f"tcp-listen://127.0.0.1:{self.burst_port}"))
        else:
            self.burst_dir = self.workdir / "burst"
            self.burst_dir.mkdir()
            self._start_smdr(self.burst_dir, [("burst", f"tcp-listen://127.0.0.1:{self.burst_port}")],
                             self.burst_dir / "connector.log", r"tcp-listen://\S*: listening",
                             to_crm=burst_sink == "crm")
        if arrangement == "floor":
            self.popups_have_outbox = False
            command = [sys.executable, str(Path(__file__).with_name("popup_floor.py")), str(far),
                       f"http://127.0.0.1:{self.port}{ENDPOINT_PATH}/ProcessCDR"]
            self.connector = self._start(command, self.workdir, self.connector_log, r"serial://\S*: connected",
                                         "the floor forwarder did not open the serial port")
            return
        # pyserial empties the port's input buffer when it opens it: write only once it is open
        self.connector = self._start_smdr(self.workdir, sources, self.connector_log, r"serial://\S*: connected")

    def _start_smdr(self, workdir: Path, sources: list[tuple[str, str]], log: Path, ready: str,
                    to_crm: bool = True) -> subprocess.Popen:
        config = workdir / "smdr.yaml"
        sink = (f"crm:\n  url: http://127.0.0.1:{self.port}{ENDPOINT_PATH}\n  secretkey: \"{SECRET}\"\n" if to_crm
                else f"output: {BURST_JSONL}\n")
        config.write_text(
            "data_dir: data\n"
            "timezone: Asia/Tehran\n"
            "phone: {area_code: \"21\", local_lengths: [8]}\n"
            "sources:\n"
            + "".join(f"  - name: {name}\n    device: panasonic-kx-tda\n    url: {url}\n" for name, url in sources)
            + sink, encoding="utf-8")
        return self._start([sys.executable, "-m", "smdr", "run", "--config", str(config)], workdir, log, ready,
                           "the connector did not start")

    def _start(self, command: list[str], cwd: Path, log: Path, ready: str, failure: str) -> subprocess.Popen:
        """``command`` running once its log says ``ready`` (a regex)."""
        process = subprocess.Popen(command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=open(log, "w"), env=self.env)
        self.processes.append(process)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if re.search(ready, log.read_text()):
                return process
            if process.poll() is not None:
                break
            time.sleep(POLL)
        raise SystemExit(f"{failure}:\n" + log.read_text())

    def burst_counter(self) -> Callable[[], int]:
        """How many of the burst's events its smdr run has accepted so far (its outbox, or its JSONL file)."""
        if self.burst_sink == "jsonl":
            return LineCount(self.burst_dir / BURST_JSONL)
        return OutboxCount(self.burst_dir, "burst")

    def open_pbx_end(self, near: Path) -> None:
        self.pty_fd = os.open(near, os.O_RDWR | os.O_NOCTTY)

    def write(self, data: bytes) -> float:
        """Write all of ``data``; the time.time() just before the first write() (then tcdrain).

        Taken before, not after: on a saturated machine this process can lose its core for milliseconds
        right after write() returns (the reader it woke runs first), and a clock read then made popups
        look faster than they were, some of them by up to 5 ms (negative latencies during bursts). Before
        the write, any such wait counts against the connector: the figures are upper bounds.
        """
        assert self.pty_fd is not None
        view = memoryview(data)
        start = time.time()
        while view:
            view = view[os.write(self.pty_fd, view):]
        termios.tcdrain(self.pty_fd)
        return start

    # --- crm-sim -------------------------------------------------------------------------------

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30) as response:
            return json.load(response)

    def set_latency(self, milliseconds: float) -> None:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/_sim/faults", method="POST",
                                         data=json.dumps({"latency_ms": milliseconds}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stored(self) -> dict[str, int]:
        """{"calls": n, "events": n, "popups": n}: what crm-sim holds (popups: ringing requests)."""
        return self.get("/stats")["stored"]

    def wait_for(self, popups: int, events: int = 0) -> bool:
        """Until crm-sim holds at least this many popups and events (bounded by SETTLE_TIMEOUT)."""
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while time.monotonic() < deadline:
            stored = self.stored()
            if stored["popups"] >= popups and stored["events"] >= events:
                return True
            time.sleep(0.2)
        return False

    def close(self) -> None:
        if self.pty_fd is not None:
            os.close(self.pty_fd)
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def smdr_env(tree: Path = ROOT) -> dict[str, str]:
    """The environment of the processes the bench starts: ``tree``'s smdr first on the path."""
    path = os.pathsep.join(filter(None, (str(tree), os.environ.get("PYTHONPATH"))))
    return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path}
