"""Run ``smdr crm-sim`` as a subprocess for a test: the CRM as a real HTTP peer on 127.0.0.1.

    from crmsim_proc import CrmSim

    with CrmSim(tmp_path, secret="s3cret", latency_ms=5) as sim:
        post(sim.base_url + "/ProcessCDR", data={"secretkey": sim.secret, ...})
        assert sim.calls()["calls"][0]["events"] == ["ringing", "answered"]
        sim.set_faults(error_rate=1.0)      # live change; GET sim.faults() to read them
        sim.stop(); ...; sim.start()        # down and up again: same port, same SQLite file

Fault options given to the constructor become command-line flags (``latency_ms``, ``error_rate``,
``down_for``, ``reject_secret``, ``html_errors``, ``auth_failure_status``, ``seed``) and apply at each
``start()``; changes made with ``set_faults`` live in the running process only.
"""

from __future__ import annotations

import collections
import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Self

import httpx
from ports import free_port

ENDPOINT_PATH = "/modules/ParsVT/ws/API/V2/PBX/Generic"
_FIRST_LINE = re.compile(r"^crm-sim listening on http://[^:/]+:(\d+)/ ")
_FLAG_OPTIONS = {"latency_ms": "--latency-ms", "error_rate": "--error-rate", "down_for": "--down-for",
                 "auth_failure_status": "--auth-failure-status", "seed": "--seed"}
_SWITCH_OPTIONS = {"reject_secret": "--reject-secret", "html_errors": "--html-errors"}


class CrmSimError(RuntimeError):
    """The simulator did not start (the message carries its output) or did not answer."""


class CrmSim:
    """A crm-sim process bound to 127.0.0.1, its SQLite file in ``tmp_path``."""

    def __init__(self, tmp_path: str | Path, secret: str = "smdr-sim-secret", *, port: int = 0,
                 contacts: str | Path | None = None, quiet: bool = True, start_timeout: float = 15.0,
                 **fault_options: Any) -> None:
        unknown = set(fault_options) - set(_FLAG_OPTIONS) - set(_SWITCH_OPTIONS)
        if unknown:
            raise TypeError(f"unknown crm-sim option(s): {', '.join(sorted(unknown))}")
        self.secret = secret
        # fixed before the first start, so a restart reuses it; from this worker's block (tests/ports.py), not
        # bind(0): an ephemeral port, left free while crm-sim is down, can be another worker's next crm-sim,
        # which then takes this test's connector's deliveries
        self.port = port or free_port()
        self.db_path = Path(tmp_path) / "crmsim.db"
        self.contacts = contacts
        self.quiet = quiet
        self.start_timeout = start_timeout
        self.fault_options = fault_options
        self.output: collections.deque[str] = collections.deque(maxlen=500)  # the process's last stdout lines
        self._process: subprocess.Popen[str] | None = None
        self._client: httpx.Client | None = None
        self._reader: threading.Thread | None = None

    # -- addresses ----------------------------------------------------------------------------------------

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The Generic endpoint; append ``/ProcessCDR``, ``/SearchPBX`` or ``/Lookup``."""
        return self.root_url + ENDPOINT_PATH

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # -- lifecycle ----------------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start the process and wait (bounded) until it listens; raises CrmSimError if it does not."""
        if self.running:
            raise CrmSimError("crm-sim is already running")
        command = [sys.executable, "-m", "smdr", "crm-sim", "--host", "127.0.0.1", "--port", str(self.port),
                   "--secret", self.secret, "--db", str(self.db_path)]
        if self.contacts is not None:
            command += ["--contacts", str(self.contacts)]
        if self.quiet:
            command.append("--quiet")
        for name, value in self.fault_options.items():
            if name in _SWITCH_OPTIONS:
                if value:
                    command.append(_SWITCH_OPTIONS[name])
            elif value is not None:
                command += [_FLAG_OPTIONS[name], str(value)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}
        self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, text=True, encoding="utf-8",
                                         errors="replace", env=env)
        first_line: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read_output, args=(self._process, first_line),
                                        daemon=True)
        self._reader.start()
        try:
            line = first_line.get(timeout=self.start_timeout)
        except queue.Empty:
            line = None
        match = _FIRST_LINE.match(line or "")
        if match is None:
            self._kill()
            raise CrmSimError(f"crm-sim did not start within {self.start_timeout:g} s; output:\n"
                              + "\n".join(self.output))
        self.port = int(match.group(1))
        if not self.fault_options.get("down_for"):
            self._wait_until_answering()

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, wait (bounded), SIGKILL if needed; returns the exit code (None if it was not running)."""
        if self._client is not None:
            self._client.close()
            self._client = None
        process, self._process = self._process, None
        if process is None:
            return None
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        if self._reader is not None:
            self._reader.join(timeout)  # the pipe reaches its end once the process is gone
            self._reader = None
        if process.stdout is not None:
            process.stdout.close()
        return process.returncode

    # -- inspection and control ---------------------------------------------------------------------------

    def calls(self, call_id: str | None = None) -> dict[str, Any]:
        """``GET /calls``: ``{"calls": [...], "popups": [...]}`` (with ``call_id``: that call only)."""
        return self._get("/calls", {"call_id": call_id} if call_id is not None else None)

    def call(self, call_id: str) -> dict[str, Any] | None:
        """The stored record of one call_id, or None."""
        calls = self.calls(call_id)["calls"]
        return calls[0] if calls else None

    def events(self) -> list[dict[str, Any]]:
        """``GET /events``: every accepted ProcessCDR request in arrival order."""
        return self._get("/events")["events"]

    def stats(self) -> dict[str, Any]:
        """``GET /stats``: counts by outcome (ok, auth, invalid, injected_error, down, ...)."""
        return self._get("/stats")

    def faults(self) -> dict[str, Any]:
        return self._get("/_sim/faults")

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        """``POST /_sim/faults``: e.g. ``error_rate=0.3``, ``down_for=2``, ``reset=True``; returns them all.

        With ``down_for`` the listening socket is already closed when this returns.
        """
        response = self.client.post("/_sim/faults", json=changes)
        response.raise_for_status()
        return response.json()

    @property
    def client(self) -> httpx.Client:
        """A keep-alive client on the simulator's root URL (closed by ``stop``)."""
        if self._client is None:
            self._client = httpx.Client(base_url=self.root_url, timeout=10.0)
        return self._client

    # -- internals ----------------------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        response = self.client.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def _read_output(self, process: subprocess.Popen[str], first_line: queue.Queue[str | None]) -> None:
        assert process.stdout is not None
        try:
            for number, line in enumerate(process.stdout):
                self.output.append(line.rstrip("\n"))
                if number == 0:
                    first_line.put(line)
        except (OSError, ValueError):
            pass  # the pipe was closed by stop()
        first_line.put(None)

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                self._get("/stats")
                return
            except httpx.HTTPError as exc:
                last_error = exc
                time.sleep(0.05)
        self._kill()
        raise CrmSimError(f"crm-sim listened but did not answer within {self.start_timeout:g} s: "
                          f"{last_error}")

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(5)
