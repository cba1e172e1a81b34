"""Popup latency on the caller-ID path: a caller-ID frame written -> its ringing request at crm-sim.

    python bench/popup_callerid.py [--path udp|modem] [-n 500] [--pause-ms 20-50]

``udp``: Whozz Calling Ethernet Link packets (an ``I S`` record, one caller each) sent by UDP to
``smdr run`` listening on ``udp://127.0.0.1:PORT`` (layout whozz-calling-el). ``modem``: caller-ID modem
text (``RING`` then ``NMBR = ...``) written into a socat pty read as ``serial://`` (layout
callerid-modem); the popup comes with the NMBR line, so the clock starts just before it is written. Each
UDP call is on a line of its own; on the modem's one line a new number ends the ringing call before it.
The machinery (crm-sim,
socat, the connector, percentiles) is bench/popup.py's; the clock is time.time() on this machine at
both ends. Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import random
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures" / "callerid"))
import make_fixtures as mk
from popup_figures import latencies, report
from popup_rig import ENDPOINT_PATH, SECRET, Bench

LINES = 99


class CallerIdBench(Bench):
    def start_connector_on(self, url: str, layout: str, ready: str) -> None:
        config = self.workdir / "smdr.yaml"
        config.write_text(
            "data_dir: data\ntimezone: Asia/Tehran\nsources:\n  - name: cid\n"
            f"    url: {url}\n    layout: {layout}\n    parser_options: {{ring_timeout: 8}}\n"
            f"crm:\n  url: http://127.0.0.1:{self.port}{ENDPOINT_PATH}\n  secretkey: \"{SECRET}\"\n",
            encoding="utf-8")
        self.connector = self._start([sys.executable, "-m", "smdr", "run", "--config", str(config)], self.workdir,
                                     self.connector_log, ready, "the connector did not start its source")


def phone_of(index: int) -> str:
    return f"0912{6_000_000 + index:07d}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--path", choices=("udp", "modem"), default="udp")
    parser.add_argument("-n", "--popups", type=int, default=500)
    parser.add_argument("--pause-ms", default="20-50")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    low, _, high = args.pause_ms.partition("-")
    pause = (float(low) / 1000, float(high or low) / 1000)
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="smdr-popup-cid-"))
    bench = CallerIdBench(workdir)
    written: dict[str, float] = {}
    try:
        bench.start_crmsim()
        if args.path == "udp":
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            bench.start_connector_on(f"udp://127.0.0.1:{port}", "whozz-calling-el", r"listening on UDP port")
            sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            print(f"caller-ID popup benchmark: Whozz Calling Ethernet Link packets over UDP -> smdr run -> "
                  f"crm-sim on 127.0.0.1:{bench.port}; {args.popups} calls, pause {args.pause_ms} ms")
            for index in range(args.popups):
                text = mk.whozz_record(1 + index % LINES, "I", "S", 0, "G", "A1", "01/14 09:30 AM",
                                       phone_of(index), "")
                packet = mk.el_packet(1, 2, text)
                written[phone_of(index)] = time.time()  # before sendto: a preemption after it cannot hide time
                sender.sendto(packet, ("127.0.0.1", port))
                time.sleep(rng.uniform(*pause))
            sender.close()
        else:
            near, far = bench.start_socat()
            bench.start_connector_on(f"serial://{far}?baudrate=9600", "callerid-modem", r"serial://\S*: connected")
            bench.open_pbx_end(near)
            print(f"caller-ID popup benchmark: modem text over a socat pty -> smdr run -> crm-sim on "
                  f"127.0.0.1:{bench.port}; {args.popups} calls, pause {args.pause_ms} ms")
            for index in range(args.popups):
                # one line: a new number while the last still rings ends that one (a frame was lost)
                bench.write(b"RING\r\n")
                written[phone_of(index)] = bench.write(f"NMBR = {phone_of(index)}\r\n".encode())
                time.sleep(rng.uniform(*pause))
        bench.wait_for(args.popups)
        values = latencies(bench.get("/events")["events"], written)
        report(f"{args.path}: frame written -> ringing request at crm-sim", list(values.values()), args.popups)
    finally:
        bench.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
