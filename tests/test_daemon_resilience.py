"""An unattended daemon: failing sources restart, a full outbox holds the source back, the quarantine
never raises and stays bounded, a flapping peer does not make the connector spin."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from smdr.daemon import _supervise
from smdr.pipeline import SourceSpec, run_source
from smdr.quarantine import Quarantine, read_quarantined, rotated_files
from smdr.sinks import ListSink
from smdr.transports.base import Backoff, read_stream
from smdr.transports.tcp import TcpClientTransport

ROOT = Path(__file__).resolve().parent.parent
STREAM = ROOT / "fixtures" / "panasonic" / "kx-tda-a.smdr"


class FlakySink(ListSink):
    """Fails the first ``failures`` emits with ``error``, then takes everything."""

    def __init__(self, error: Exception, failures: int) -> None:
        super().__init__()
        self.error, self.failures = error, failures

    async def emit(self, event) -> None:
        if self.failures:
            self.failures -= 1
            raise self.error
        await super().emit(event)


def spec() -> SourceSpec:
    return SourceSpec(name="pbx", url=f"file://{STREAM}", layout="panasonic-kx-tda")


def test_a_source_that_fails_is_logged_and_started_again(caplog: pytest.LogCaptureFixture) -> None:
    sink = FlakySink(RuntimeError("a bug somewhere"), failures=1)

    async def go():
        return await asyncio.wait_for(_supervise(spec(), sink, Quarantine(None), asyncio.Event(), restart=True), 30)

    stats = asyncio.run(go())
    assert stats is not None and stats.events == len(sink.events) == 32
    assert any("the source stopped (RuntimeError: a bug somewhere)" in r.getMessage() for r in caplog.records)


def test_without_restart_the_failure_reaches_the_caller() -> None:
    sink = FlakySink(RuntimeError("boom"), failures=1)
    with pytest.raises(RuntimeError, match="boom"):
        asyncio.run(_supervise(spec(), sink, Quarantine(None), asyncio.Event(), restart=False))


def test_an_outbox_that_cannot_store_holds_the_source_back_and_loses_nothing(
        caplog: pytest.LogCaptureFixture) -> None:
    sink = FlakySink(sqlite3.OperationalError("database is locked"), failures=2)

    async def go():
        return await asyncio.wait_for(_supervise(spec(), sink, Quarantine(None), asyncio.Event(), restart=True), 30)

    asyncio.run(go())
    assert len(sink.events) == 32  # the refused event was retried, nothing dropped, nothing doubled
    messages = [r.getMessage() for r in caplog.records]
    assert sum("cannot store a call event" in m for m in messages) == 1
    assert any("call events are stored again" in m for m in messages)
    assert not any("the source stopped" in m for m in messages)


def test_a_quarantine_on_a_full_disk_counts_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    quarantine = Quarantine("/dev/full")
    for n in range(5):
        quarantine.add(b"garbage %d" % n, source="pbx", layout="x", kind="bad-field", reason="test", position=n)
    quarantine.close()
    assert quarantine.counts == {"bad-field": 5} and quarantine.unwritten == 5
    assert sum("cannot write the quarantine file" in r.getMessage() for r in caplog.records) == 1


def test_a_full_quarantine_file_is_rotated_compressed_and_kept_and_only_a_purge_deletes(tmp_path: Path) -> None:
    path = tmp_path / "quarantine.jsonl"
    quarantine = Quarantine(path, max_bytes=2000, log_first=False)
    for n in range(200):
        quarantine.add(b"x%d" % n + b"x" * 100, source="pbx", layout="x", kind="bad-field", reason="test",
                       position=n)
    quarantine.close()
    rotated = rotated_files(path)
    assert len(rotated) >= 10 and all(p.name.endswith(".jsonl.gz") for p in rotated), rotated
    kept = [raw for p in [*rotated, path] for _, raw in read_quarantined(p)]
    assert kept == [b"x%d" % n + b"x" * 100 for n in range(200)]  # every record, in order

    parsed = subprocess.run([sys.executable, "-m", "smdr", "parse", str(rotated[0]), "--layout",
                             "panasonic-kx-tda"], capture_output=True, text=True, timeout=60)
    assert parsed.returncode == 0 and "record(s) not parsed" in parsed.stderr, parsed.stderr
    purge = subprocess.run([sys.executable, "-m", "smdr", "quarantine", "purge", "--data-dir", str(tmp_path),
                            "--older-than", "0"], capture_output=True, text=True, timeout=60)
    assert purge.returncode == 0, purge.stderr
    assert rotated_files(path) == [] and path.is_file()  # the current file is never purged


def test_a_peer_that_sends_a_line_and_hangs_up_does_not_make_us_spin() -> None:
    connections = 0

    async def go() -> None:
        async def handle(reader, writer):
            nonlocal connections
            connections += 1
            writer.write(b"port busy\r\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        transport = TcpClientTransport(f"tcp://127.0.0.1:{port}")
        stream = read_stream(transport, Backoff(initial=0.05, cap=1.0, jitter=0.0))

        async def drain():
            async for _ in stream:
                pass

        with pytest.raises(TimeoutError):
            await asyncio.wait_for(drain(), 2.0)
        server.close()
        await server.wait_closed()

    asyncio.run(go())
    # backoff 0.05, 0.1, 0.2, 0.4, 0.8, 1, ...: a handful of connections, not one every 50 ms (about 40)
    assert 2 <= connections <= 10, connections



def test_a_call_open_at_a_restart_keeps_its_call_id(tmp_path: Path) -> None:
    # kx-tda-a.smdr: line 17 is an RC (ringing) line, 18 its AN, 20 its final record. Cut after 17.
    lines = STREAM.read_bytes().split(b"\r\n")
    part_a, part_b = tmp_path / "a.smdr", tmp_path / "b.smdr"
    part_a.write_bytes(b"\r\n".join(lines[:17]) + b"\r\n")
    part_b.write_bytes(b"\r\n".join(lines[17:]))
    state = tmp_path / "data" / "state" / "pbx.json"

    def run(path: Path) -> list:
        sink = ListSink()
        source = SourceSpec(name="pbx", url=f"file://{path}", layout="panasonic-kx-tda", state_path=state)
        asyncio.run(asyncio.wait_for(run_source(source, sink), 30))
        return sink.events

    before = run(part_a)
    assert state.exists()  # the ringing call was saved at the stop
    after = run(part_b)
    ringing = [e for e in before if e.event == "ringing"][-1]  # line 17: still open at the cut
    same_call = [e.event for e in after if e.call_id == ringing.call_id]
    assert same_call == ["in-progress", "answered"]
    assert not state.exists()  # nothing open any more


def test_saved_open_calls_that_are_too_old_are_not_restored(tmp_path: Path) -> None:
    import os
    import time

    from smdr import tracker_state
    from smdr.pipeline import make_decoder

    state = tmp_path / "pbx.json"
    decoder = make_decoder(SourceSpec(name="pbx", url="", layout="panasonic-kx-tda"))
    decoder.feed(STREAM.read_bytes().split(b"\r\n")[16] + b"\r\n")  # an RC line: one open call
    tracker_state.save(decoder.tracker, state)
    old = time.time() - tracker_state.MAX_AGE - 60
    os.utime(state, (old, old))
    fresh = make_decoder(SourceSpec(name="pbx", url="", layout="panasonic-kx-tda"))
    assert tracker_state.load(fresh.tracker, state) == 0 and not state.exists()
