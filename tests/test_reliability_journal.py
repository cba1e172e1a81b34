"""kill -9 while a PBX pushes over TCP, as real processes: every byte the connector read is in its raw
journal, and after the restart the CRM holds exactly the calls that journal gives (``smdr parse`` of it):
nothing read is lost, nothing doubled, no call split, and a call open at the kill keeps its call_id."""

from __future__ import annotations

import signal
import socket
import threading
import time
from pathlib import Path

import pytest
from crmsim_proc import CrmSim
from ports import free_port
from reliability_support import (
    SECRET,
    SOURCE,
    Connector,
    assert_clean_log,
    assert_crm_holds_exactly,
    expected_calls,
    make_stream,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow

RECORDS_PER_SECOND = 150


class PushingPbx(threading.Thread):
    """Connects to the connector and pushes records; when the connection breaks, it connects again and
    goes on with the record it could not send (what it wrote into a socket that then died is gone)."""

    def __init__(self, port: int, records: list[bytes]) -> None:
        super().__init__(daemon=True)
        self.port, self.records = port, records
        self.sent = 0
        self.reconnects = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + 120
        sock = None
        while self.sent < len(self.records) and not self.stopped.is_set() and time.monotonic() < deadline:
            try:
                if sock is None:
                    sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
                sock.sendall(self.records[self.sent] + b"\r\n")
                self.sent += 1
                time.sleep(1 / RECORDS_PER_SECOND)
            except OSError:
                if sock is not None:
                    sock.close()
                    sock = None
                    self.reconnects += 1
                time.sleep(0.05)
        if sock is not None:
            sock.close()


def test_kill_9_during_a_tcp_push_loses_no_call_that_was_read_and_splits_none(tmp_path: Path,
                                                                            connector: Connector) -> None:
    stream = make_stream(tmp_path, 1500, seed=111)
    records = [line for line in stream.read_bytes().split(b"\r\n") if line[:1].isdigit()]
    port = free_port()
    with CrmSim(tmp_path, secret=SECRET) as sim:
        config = write_config(tmp_path / "smdr.yaml", sim.base_url, stream)
        config.write_text(config.read_text().replace(f"file://{stream}?pace=flat", f"tcp-listen://127.0.0.1:{port}"))
        first = connector.start("run", "--config", str(config))
        wait_until(lambda: "listening" in first.stderr or "connected" in first.stderr, "the port is open",
                   alive=first)
        pbx = PushingPbx(port, records)
        pbx.start()
        wait_until(lambda: pbx.sent >= 500, "the PBX pushed 500 records", alive=first)
        assert first.process is not None
        first.process.send_signal(signal.SIGKILL)
        connector.wait(first, 10)
        second = connector.start("run", "--config", str(config))
        pbx.join(150)
        assert not pbx.is_alive() and pbx.sent == len(records), pbx.sent

        def journaled() -> bytes:
            return b"".join(path.read_bytes() for path in sorted((tmp_path / "data" / "journal" / SOURCE)
                                                                 .glob("*.cap")))

        # the PBX's last record went into a live connection: the connector reads it, but maybe only after
        # sendall returned; the journal is complete once it holds that record
        wait_until(lambda: records[-1] + b"\r\n" in journaled(), "the journal holds the last record sent",
                   alive=second)
        everything_read = tmp_path / "read.smdr"
        everything_read.write_bytes(journaled())
        expected = expected_calls(connector, config, everything_read)
        wait_until(lambda: len(sim.calls()["calls"]) >= len(expected), "the CRM has every call read",
                   alive=second, timeout=60)
        wait_until(lambda: connector.outbox_status(config)["counts"]["queued"] == 0, "an empty queue",
                   alive=second)
        connector.stop(second)
        assert_clean_log(second)
        assert_crm_holds_exactly(sim, expected)
        read_records = sum(1 for line in everything_read.read_bytes().split(b"\r\n") if line[:1].isdigit())
        print(f"PBX sent {len(records)} records ({pbx.reconnects} reconnects); the connector read "
              f"{read_records}; {len(records) - read_records} were in the killed process's socket buffer")
