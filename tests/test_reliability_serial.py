"""Serial replug, as real processes: ``smdr run`` reading a socat pty while the pty is unplugged and plugged
back five times in a row, with a PBX (this test) printing 20 records a second on the other end.

What must hold: every record written more than 1 s after the pty reappeared reaches the connector's
output. Records printed while the cable is out are lost at the PBX, as on a real site without a buffer.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from ptys import PtyPair
from reliability_support import DEVICE, SOURCE, Connector, assert_clean_log, make_stream, wait_until

pytestmark = pytest.mark.slow

RECORDS_PER_SECOND = 20
CYCLES = 5
GRACE = 1.0  # seconds after the pty reappears within which a record may still be lost
UNPLUGGED = 1.5  # seconds: the backoff (0.5 s, 1 s, ...) passes the 0.25 s device poll cap within this
PLUGGED = 3.0  # seconds the PBX writes after each replug: 2 s of records that must all arrive


def _records(stream: Path) -> list[bytes]:
    return [line for line in stream.read_bytes().split(b"\r\n") if line[:1].isdigit()]


def _write_config(path: Path, device: Path, output: Path) -> Path:
    path.write_text("\n".join([
        "data_dir: data", "timezone: Asia/Tehran", 'phone: {area_code: "21", local_lengths: [8]}',
        f"output: {output}", "sources:", f"  - name: {SOURCE}", f"    device: {DEVICE}",
        f"    url: serial://{device}?baudrate=9600",
    ]) + "\n", encoding="utf-8")
    return path


class Pbx:
    """Writes records to the pty at a steady rate; notes when each one was written (or that it could not)."""

    def __init__(self, device: Path, records: list[bytes]) -> None:
        self.device, self.records = device, records
        self.fd: int | None = None
        self.next = 0
        self.written: list[tuple[float, bytes]] = []

    def write_one(self) -> None:
        record = self.records[self.next % len(self.records)]
        self.next += 1
        try:
            if self.fd is None:
                self.fd = os.open(self.device, os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
            os.write(self.fd, record + b"\r\n")
            self.written.append((time.monotonic(), record))
        except OSError:
            self.unplugged()

    def unplugged(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def run_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.write_one()
            time.sleep(1 / RECORDS_PER_SECOND)


def test_five_replug_cycles_lose_no_record_written_a_second_after_the_port_is_back(
        tmp_path: Path, ptys: PtyPair) -> None:
    records = _records(make_stream(tmp_path, 2000, seed=61))
    assert len(set(records)) == len(records)
    output = tmp_path / "out.jsonl"
    config = _write_config(tmp_path / "smdr.yaml", ptys.a, output)
    connector = Connector(tmp_path)
    try:
        run = connector.start("run", "--config", str(config))
        wait_until(lambda: "connected" in run.stderr, "the connector opened the pty", alive=run)
        pbx = Pbx(ptys.b, records)
        pbx.run_for(2.0)
        back_at: list[float] = []
        for _ in range(CYCLES):
            pbx.unplugged()
            ptys.stop()
            # out long enough for the backoff to grow past the device poll cap (DEVICE_POLL_SECONDS)
            time.sleep(UNPLUGGED)
            ptys.start()
            back_at.append(time.monotonic())
            pbx.run_for(PLUGGED)
        last = pbx.written[-1][1].rstrip()
        wait_until(lambda: output.exists() and last in _received(output), "the last record written arrived",
                   alive=run, timeout=10)
        connector.stop(run)
        assert_clean_log(run)
    finally:
        connector.kill_all()
    received = _received(output)
    must_arrive = [(at, record) for at, record in pbx.written if _after_a_replug(at, back_at)]
    lost = [record for _, record in must_arrive if record.rstrip() not in received]
    assert must_arrive, "the PBX wrote nothing after a replug"
    assert not lost, (f"{len(lost)} of {len(must_arrive)} records written more than {GRACE} s after a replug "
                      f"were lost; e.g. {lost[:2]}\n{run.describe()}")


def _received(output: Path) -> set[bytes]:
    return {json.loads(line)["provenance"]["raw"].encode("latin-1").rstrip()
            for line in output.read_text(encoding="utf-8").splitlines()}


def _after_a_replug(at: float, back_at: list[float]) -> bool:
    """Written more than GRACE after the latest replug before it."""
    before = [back for back in back_at if back <= at]
    return bool(before) and at >= before[-1] + GRACE
