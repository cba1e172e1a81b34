"""The TAPI path of the popup benchmark: the fake tapi32 queues OFFERING -> its ringing at crm-sim.

Used by ``bench/popup.py --tapi-popups N``: builds the fake library (tests/fake_tapi32.c) with gcc,
writes a script of N incoming calls (OFFERING, a short ring, IDLE) on one line, starts a second
``smdr run`` whose source is ``tapi://?library=<fake>``, and takes, per call, the time from the moment
the fake queued the OFFERING message (its wall clock, logged with FAKE_TAPI_LOG_STATES) to the arrival
of that call's ringing request at crm-sim (same machine, same clock). What is measured: lineGetMessage
in the worker thread, lineGetCallInfoW, the trace line, tapi-trace, the fold, the outbox, delivery.
What is not: a real TSP and the PBX link behind it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_PUSHED = re.compile(r"pushed C(\d+) offering t=(\d+\.\d+)")


def build_fake(workdir: Path) -> Path:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise SystemExit("--tapi-popups needs a C compiler (gcc) to build the fake tapi32")
    library = workdir / "libtapi32.so"
    subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", str(library), str(ROOT / "tests" / "fake_tapi32.c"),
                    "-lpthread"], check=True)
    return library


def write_script(workdir: Path, count: int, pause_ms: tuple[float, float], rng) -> Path:
    lines = ["lines 101", "wait_open 1", "sleep 300"]
    for n in range(count):
        lines += [f"call C{n} 101 callid={1000 + n} origin=external caller={phone(n)}", f"state C{n} offering 1",
                  f"sleep {int(rng.uniform(*pause_ms))}", f"state C{n} idle",
                  f"sleep {int(rng.uniform(*pause_ms))}"]
    script = workdir / "popups.tapi"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return script


def phone(n: int) -> str:
    return f"0911{6_000_000 + n:07d}"


def start_connector(workdir: Path, library: Path, script: Path, crm_url: str, secret: str, env: dict) -> tuple:
    config = workdir / "smdr-tapi.yaml"
    config.write_text(
        "data_dir: data-tapi\n"
        "timezone: Asia/Tehran\n"
        "sources:\n"
        f"  - {{name: tapi, url: 'tapi://?library={library}', layout: tapi-trace}}\n"
        "crm:\n"
        f"  url: {crm_url}\n"
        f"  secretkey: \"{secret}\"\n", encoding="utf-8")
    log = workdir / "fake-tapi.log"
    env = {**env, "FAKE_TAPI_SCRIPT": str(script), "FAKE_TAPI_LOG": str(log), "FAKE_TAPI_LOG_STATES": "1"}
    process = subprocess.Popen([sys.executable, "-m", "smdr", "run", "--config", str(config)], cwd=workdir,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=open(workdir / "connector-tapi.log", "w"), env=env)
    return process, log


def pushed_times(log: Path) -> dict[str, float]:
    """{caller number: wall-clock time the fake queued its OFFERING}."""
    text = log.read_text(encoding="utf-8") if log.exists() else ""
    return {phone(int(n)): float(t) for n, t in _PUSHED.findall(text)}


def wait_done(log: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and "script done" in log.read_text(encoding="utf-8"):
            return True
        time.sleep(0.2)
    return False
