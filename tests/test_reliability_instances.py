"""One connector per data_dir, as real processes: a second ``smdr run`` is refused naming the PID that holds
the directory, the outbox verbs that are safe beside a connector keep working, and a kill -9 of the
holder never leaves a lock that blocks the restart."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from crmsim_proc import CrmSim
from reliability_support import (
    SECRET,
    Connector,
    assert_clean_log,
    assert_crm_holds_exactly,
    assert_nothing_queued,
    expected_calls,
    make_stream,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow


def test_a_second_connector_is_refused_the_safe_verbs_work_and_kill_9_frees_the_directory(
        tmp_path: Path, connector: Connector) -> None:
    stream = make_stream(tmp_path, 3000, seed=71)
    with CrmSim(tmp_path, secret=SECRET, latency_ms=20) as sim:
        config = write_config(tmp_path / "smdr.yaml", sim.base_url, stream, concurrency=1)
        expected = expected_calls(connector, config, stream)
        first = connector.start("run", "--config", str(config), "--once")
        wait_until(lambda: sim.stats()["ok"] >= 20, "crm-sim received 20 events", alive=first)
        assert first.process is not None
        pid = first.process.pid

        second = connector.run("run", "--config", str(config), "--once", timeout=30)
        assert second.returncode == 2, second.describe()
        assert f"in use by PID {pid} (smdr run)" in second.stderr, second.describe()
        assert "one connector per data directory" in second.stderr

        status = connector.outbox_status(config)
        assert status["connector"]["pid"] == pid, status
        text = connector.run("outbox", "status", "--config", str(config))
        assert f"running, PID {pid}" in text.stdout, text.describe()
        listing = connector.run("outbox", "list", "--config", str(config), "--limit", "5")
        assert listing.returncode == 0, listing.describe()
        retry = connector.run("outbox", "retry", "--config", str(config))
        assert retry.returncode == 0 and "due now" in retry.stdout, retry.describe()
        purge = connector.run("outbox", "purge", "--config", str(config), "--queued", "--force")
        assert purge.returncode == 2 and f"PID {pid}" in purge.stderr, purge.describe()
        assert connector.outbox_status(config)["counts"]["queued"] > 0  # nothing was deleted

        first.process.send_signal(signal.SIGKILL)
        connector.wait(first, 10)
        assert connector.outbox_status(config)["connector"] is None  # the OS let go of the lock
        sim.set_faults(reset=True)  # the rest at full speed
        restart = connector.run("run", "--config", str(config), "--once")
        assert restart.returncode == 0, restart.describe()
        assert_clean_log(restart)
        assert_crm_holds_exactly(sim, expected)
        assert_nothing_queued(connector, config)
