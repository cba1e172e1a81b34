"""Idle wakeups: how often an idle connector with a CRM configured wakes up.

    .venv/bin/python bench/idle.py [--seconds 60] [--settle 3]

Starts crm-sim and `smdr run` with one tcp-listen source that no PBX connects to (no bytes arriving, no
polling source), waits ``--settle`` seconds for start-up to finish, then sums voluntary_ctxt_switches
of every thread in /proc/PID/task/*/status at the start and the end of ``--seconds``. A thread that
ends in between is not counted after it ends (its switches were made before the first reading, or the
thread count printed shows it). Linux only; prints figures, asserts nothing. Target: at most one
wakeup per 10 s.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENDPOINT_PATH = "/modules/ParsVT/ws/API/V2/PBX/Generic"
SECRET = "bench-idle-secret"


def switches(pid: int) -> tuple[int, int]:
    """(sum of voluntary_ctxt_switches over the process's threads, number of threads)."""
    total, threads = 0, 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "status").read_text()
        except OSError:
            continue  # the thread ended meanwhile
        match = re.search(r"^voluntary_ctxt_switches:\s+(\d+)", text, re.MULTILINE)
        if match:
            total, threads = total + int(match.group(1)), threads + 1
    return total, threads


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env() -> dict[str, str]:
    path = os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))
    return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--settle", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="smdr-idle-bench-") as tmp:
        work = Path(tmp)
        sim_out = work / "crm-sim.out"
        sim = subprocess.Popen([sys.executable, "-m", "smdr", "crm-sim", "--host", "127.0.0.1", "--port", "0",
                                "--quiet", "--secret", SECRET], stdout=open(sim_out, "w"),
                               stderr=subprocess.STDOUT, env=env())
        connector = None
        try:
            deadline = time.monotonic() + 20
            while not (match := re.search(r"listening on http://127\.0\.0\.1:(\d+)/", sim_out.read_text())):
                if time.monotonic() > deadline or sim.poll() is not None:
                    raise SystemExit("crm-sim did not start: " + sim_out.read_text())
                time.sleep(0.05)
            config = work / "smdr.yaml"
            config.write_text(
                "data_dir: data\n"
                "sources:\n"
                "  - name: pbx\n"
                "    device: panasonic-kx-tda\n"
                f"    url: tcp-listen://127.0.0.1:{free_port()}\n"
                "crm:\n"
                f"  url: http://127.0.0.1:{match.group(1)}{ENDPOINT_PATH}\n"
                f"  secretkey: \"{SECRET}\"\n", encoding="utf-8")
            log = work / "connector.log"
            connector = subprocess.Popen([sys.executable, "-m", "smdr", "run", "--config", str(config)], cwd=work,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=open(log, "w"), env=env())
            deadline = time.monotonic() + 20
            while "smdr running" not in log.read_text():
                if time.monotonic() > deadline or connector.poll() is not None:
                    raise SystemExit("the connector did not start:\n" + log.read_text())
                time.sleep(0.05)
            time.sleep(args.settle)
            before, threads_before = switches(connector.pid)
            time.sleep(args.seconds)
            after, threads_after = switches(connector.pid)
        finally:
            for process in (connector, sim):
                if process is not None and process.poll() is None:
                    process.terminate()
                    process.wait(15)
    wakeups = after - before
    print(f"idle connector (CRM configured, tcp-listen source with no PBX, empty outbox) over {args.seconds:g} s: "
          f"{wakeups} voluntary context switches ({wakeups / args.seconds * 10:.2f} per 10 s; "
          f"threads {threads_before} -> {threads_after}); target: at most 1 per 10 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
