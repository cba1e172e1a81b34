"""A full disk, as real processes: the data directory on a 2 MB tmpfs (the tests run as root), a replay
bigger than the disk into crm-sim. The disk full is one clear error and a status flag, nothing is sent
twice (no resend storm), no traceback; once the disk has room again, everything arrives by itself."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from crmsim_proc import CrmSim
from reliability_support import (
    SECRET,
    Connector,
    assert_clean_log,
    assert_crm_holds_exactly,
    expected_calls,
    log_lines,
    make_stream,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow

SLACK = 16  # requests that may go out again: those in flight when the disk filled (concurrency + popup lane)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)], check=True, timeout=10)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False, timeout=10)


def _resent(sim: CrmSim) -> int:
    """Requests the CRM accepted that repeat an earlier one: the same event with the same fields."""
    seen: set[str] = set()
    again = 0
    for event in sim.events():
        key = json.dumps([event["call_id"], event["event"], event["fields"]], sort_keys=True)
        again += key in seen
        seen.add(key)
    return again


def _grow(mount_point: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mount_point)], check=True, timeout=10)


def test_a_full_disk_costs_no_data_no_resend_storm_and_delivery_resumes_when_there_is_room(
        tmp_path: Path, connector: Connector, small_disk: Path) -> None:
    stream = make_stream(tmp_path, 6000, seed=101)
    with CrmSim(tmp_path, secret=SECRET, latency_ms=5) as sim:
        config = write_config(tmp_path / "smdr.yaml", sim.base_url, stream, concurrency=4)
        config.write_text(config.read_text().replace("data_dir: data", f"data_dir: {small_disk}/data"))
        expected = expected_calls(connector, config, stream)
        events_in_stream = len(connector.run("parse", str(stream), "--device", "panasonic-kx-tda").stdout
                               .splitlines())
        run = connector.start("run", "--config", str(config))
        wait_until(lambda: "cannot write the outbox" in run.stderr, "the connector noticed the full disk",
                   alive=run)
        status = connector.run("outbox", "status", "--config", str(config))
        assert "DISK FULL" in status.stdout, status.describe()
        time.sleep(1.5)  # requests already under way when the disk filled (and their marks) settle
        resent_when_full = _resent(sim)
        time.sleep(3.0)  # the disk stays full: nothing may be sent again and again meanwhile
        # (first deliveries may go on now and then: a mark that finds room in the WAL is written)
        assert _resent(sim) - resent_when_full <= SLACK, sim.stats()

        _grow(small_disk, "64m")
        wait_until(lambda: "the outbox can be written again" in run.stderr, "the connector recovered", alive=run,
                   timeout=20)
        # 6,000 records through a 5 ms CRM: ~30 s idle, past 60 s on a loaded 2-core box (seen with 4 workers)
        wait_until(lambda: len(sim.calls()["calls"]) >= len(expected), "every call in the CRM", alive=run,
                   timeout=180)
        wait_until(lambda: connector.outbox_status(config)["counts"]["queued"] == 0, "an empty queue", alive=run)
        connector.stop(run)
        assert_clean_log(run)
        assert "never retrieved" not in run.stderr, run.describe()
        assert len(log_lines(run.stderr, " ERROR ")) == 1, run.describe()  # one clear error for the episode
        assert_crm_holds_exactly(sim, expected)
        assert sim.stats()["ok"] <= events_in_stream + SLACK, (sim.stats(), events_in_stream)
        assert "DISK FULL" not in connector.run("outbox", "status", "--config", str(config)).stdout
