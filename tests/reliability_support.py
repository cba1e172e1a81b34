"""The connector as a process, streams, configs and expectations for the reliability tests."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from crmsim_proc import CrmSim

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "office-pbx"
DEVICE = "panasonic-kx-tda"
SECRET = "reliability-secret"
RUN_TIMEOUT = 60.0      # seconds: the longest any one connector run may take
WAIT_TIMEOUT = 40.0     # seconds: the longest any one wait for a condition may take
POLL = 0.05


def _load_stream_generator() -> Any:
    spec = importlib.util.spec_from_file_location("panasonic_stream", ROOT / "bench" / "panasonic_stream.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


panasonic_stream = _load_stream_generator()


# --- the connector as a process ---------------------------------------------------------------------

@dataclass
class Run:
    """One ``smdr`` process: its command line and, once it has ended, its exit code and output."""

    args: list[str]
    stdout_path: Path
    stderr_path: Path
    process: subprocess.Popen[bytes] | None = None
    returncode: int | None = None

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def describe(self) -> str:
        return (f"`smdr {' '.join(self.args)}` exit {self.returncode}\n--- stderr (last 4000 chars):\n"
                f"{self.stderr[-4000:]}\n--- stdout (last 2000 chars):\n{self.stdout[-2000:]}")


@dataclass
class Connector:
    """Starts ``python -m smdr ...`` processes in ``workdir`` and keeps every run's output for later greps."""

    workdir: Path
    runs: list[Run] = field(default_factory=list)

    def start(self, *args: str) -> Run:
        logs = self.workdir / "logs"
        logs.mkdir(exist_ok=True)
        number = len(self.runs) + 1
        run = Run(list(args), logs / f"run{number}.out", logs / f"run{number}.err")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}
        with open(run.stdout_path, "wb") as out, open(run.stderr_path, "wb") as err:
            run.process = subprocess.Popen([sys.executable, "-m", "smdr", *args], cwd=self.workdir,
                                           stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
        self.runs.append(run)
        return run

    def wait(self, run: Run, timeout: float = RUN_TIMEOUT) -> Run:
        assert run.process is not None
        try:
            run.returncode = run.process.wait(timeout)
        except subprocess.TimeoutExpired:
            run.process.kill()
            run.returncode = run.process.wait(10)
            pytest.fail(f"smdr did not finish within {timeout:g} s:\n{run.describe()}")
        return run

    def run(self, *args: str, timeout: float = RUN_TIMEOUT) -> Run:
        return self.wait(self.start(*args), timeout)

    def stop(self, run: Run, sig: int = signal.SIGTERM) -> Run:
        assert run.process is not None
        if run.process.poll() is None:
            run.process.send_signal(sig)
        return self.wait(run, 20.0)

    def kill_all(self) -> None:
        for run in self.runs:
            if run.process is not None and run.process.poll() is None:
                run.process.kill()
                run.process.wait(10)

    def outbox_status(self, config: Path) -> dict[str, Any]:
        run = self.run("outbox", "status", "--config", str(config), "--json", timeout=20)
        assert run.returncode == 0, run.describe()
        return json.loads(run.stdout)


# --- streams, configs, expectations -----------------------------------------------------------------

def make_stream(tmp_path: Path, records: int, seed: int) -> Path:
    path = tmp_path / f"kx-tda-{records}-{seed}.smdr"
    panasonic_stream.write(path, records, seed)
    return path


def write_config(path: Path, crm_url: str, stream: Path, *, secret: str = SECRET, method: str = "POST",
                 **crm_options: Any) -> Path:
    """An smdr.yaml replaying ``stream`` at full speed into the CRM at ``crm_url``; data in ./data."""
    crm = {"url": crm_url, "secretkey": secret, "method": method, "retry_initial": 0.1, "retry_max": 1.0,
           "timeout": 5, **crm_options}
    lines = [
        "data_dir: data",
        "timezone: Asia/Tehran",
        'phone: {area_code: "21", local_lengths: [8]}',
        "sources:",
        f"  - name: {SOURCE}",
        f"    device: {DEVICE}",
        f"    url: file://{stream}?pace=flat",
        "crm:",
        *(f"  {key}: {json.dumps(value)}" for key, value in crm.items()),  # JSON scalars are YAML scalars
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def expected_calls(connector: Connector, config: Path, stream: Path) -> dict[str, dict[str, Any]]:
    """{call_id: its last event} as ``smdr parse`` gives them for the stream, with the config's source
    name, device, time zone and phone rules."""
    run = connector.run("parse", str(stream), "--device", DEVICE, "--source", SOURCE, "--config", str(config),
                        timeout=60)
    assert run.returncode == 0, run.describe()
    last: dict[str, dict[str, Any]] = {}
    for line in run.stdout.splitlines():
        event = json.loads(line)
        last[event["call_id"]] = event
    assert last, "smdr parse found no calls in the generated stream"
    return last


def assert_crm_holds_exactly(sim: CrmSim, expected: dict[str, dict[str, Any]]) -> None:
    """One CRM record per expected call_id, nothing else, each with the final state ``smdr parse`` gives."""
    calls = sim.calls()["calls"]
    ids = [call["call_id"] for call in calls]
    assert len(ids) == len(set(ids)), "the CRM holds two records for one call_id"
    missing, extra = set(expected) - set(ids), set(ids) - set(expected)
    assert not missing and not extra, (f"{len(missing)} expected call(s) missing (e.g. {sorted(missing)[:3]}), "
                                       f"{len(extra)} unexpected (e.g. {sorted(extra)[:3]})")
    wrong = []
    for call in calls:
        want = expected[call["call_id"]]
        got = {"event": call["event"], "direction": call["direction"], "agent": call["agent"],
               "phone": call["phone"], "duration": call["duration"], "starttime": _when(call["starttime"])}
        should = {"event": want["event"], "direction": want["direction"], "agent": want["agent"] or "unknown",
                  "phone": want["phone"] or "unknown", "duration": want["duration"],
                  "starttime": _when(want["starttime"])}
        if got != should:
            wrong.append((call["call_id"], got, should, call["events"]))
    assert not wrong, f"{len(wrong)} call(s) not in their final state, e.g. (call_id, CRM, expected, " \
                      f"events received): {wrong[:3]}"


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def assert_nothing_queued(connector: Connector, config: Path) -> dict[str, Any]:
    status = connector.outbox_status(config)
    assert status["counts"]["queued"] == 0, status
    assert status["counts"]["dead"] == 0, status
    return status


def wait_until(condition: Callable[[], bool], what: str, *, timeout: float = WAIT_TIMEOUT,
               alive: Run | None = None) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` or when ``alive`` has exited."""
    deadline = time.monotonic() + timeout
    while not condition():
        if alive is not None and alive.process is not None and alive.process.poll() is not None:
            alive.returncode = alive.process.returncode
            pytest.fail(f"the connector exited before {what}:\n{alive.describe()}")
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout:g} s: {what}"
                        + (f"\n{alive.describe()}" if alive is not None else ""))
        time.sleep(POLL)


def log_lines(text: str, *needles: str) -> list[str]:
    return [line for line in text.splitlines() if all(needle in line for needle in needles)]


def assert_clean_log(run: Run) -> None:
    assert "Traceback" not in run.stderr, run.describe()
    assert "unexpectedly" not in run.stderr, run.describe()
