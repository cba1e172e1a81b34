"""A replayed ``file://`` capture remembers where it stopped, as real processes: a second ``--once`` run says
the capture was already replayed and exits 1 without sending anything, ``--from-start`` replays it on
purpose, and a replay killed with -9 goes on where it stopped instead of sending everything again."""

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


def _events_in(connector: Connector, config: Path, stream: Path) -> int:
    status = connector.outbox_status(config)
    return sum(status["counts"].values())


def test_a_finished_replay_is_not_replayed_again_unless_from_start(tmp_path: Path, connector: Connector) -> None:
    stream = make_stream(tmp_path, 300, seed=91)
    with CrmSim(tmp_path, secret=SECRET) as sim:
        config = write_config(tmp_path / "smdr.yaml", sim.base_url, stream)
        expected = expected_calls(connector, config, stream)
        first = connector.run("run", "--config", str(config), "--once")
        assert first.returncode == 0, first.describe()
        sent = sim.stats()["ok"]
        again = connector.run("run", "--config", str(config), "--once")
        assert again.returncode == 1, again.describe()
        assert "already replayed to its end" in again.stderr and "--from-start" in again.stderr
        assert sim.stats()["ok"] == sent  # no popup shown twice, no request at all
        replay = connector.run("run", "--config", str(config), "--once", "--from-start")
        assert replay.returncode == 0, replay.describe()
        assert sim.stats()["ok"] == 2 * sent
        assert_clean_log(replay)
        assert_crm_holds_exactly(sim, expected)
        assert_nothing_queued(connector, config)


def test_a_replay_killed_with_9_goes_on_where_it_stopped(tmp_path: Path, connector: Connector) -> None:
    stream = make_stream(tmp_path, 800, seed=92)
    with CrmSim(tmp_path, secret=SECRET) as sim:
        slow = write_config(tmp_path / "slow.yaml", sim.base_url, stream)
        slow.write_text(slow.read_text().replace("?pace=flat", "?pace=baud&baudrate=38400"))
        expected = expected_calls(connector, slow, stream)
        first = connector.start("run", "--config", str(slow))
        wait_until(lambda: sim.stats()["ok"] >= 300, "crm-sim received 300 events", alive=first)
        assert first.process is not None
        first.process.send_signal(signal.SIGKILL)
        connector.wait(first, 10)
        before = sim.stats()["ok"]
        assert before < len(expected)
        second = connector.run("run", "--config", str(slow), "--once", timeout=90)
        assert second.returncode == 0, second.describe()
        assert "resuming the replay" in second.stderr, second.describe()
        assert_clean_log(second)
        assert_crm_holds_exactly(sim, expected)
        assert_nothing_queued(connector, slow)
        # read again after the kill: at most what came in during the last half second of saves
        stored = _events_in(connector, slow, stream)
        events_in_stream = len(connector.run("parse", str(stream), "--device", "panasonic-kx-tda").stdout
                               .splitlines())
        print(f"events stored {stored} for {events_in_stream} in the stream: {stored - events_in_stream} read twice")
        assert stored - events_in_stream <= 40, (stored, events_in_stream)
