"""Recovery after a CRM outage, as real processes: however long the backoff has grown, the queued events
start going out within 5 s of the CRM's return, with one warning and one "back" line for the outage."""

from __future__ import annotations

import time
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
    log_lines,
    make_stream,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow

OUTAGE = 20.0  # seconds: the connector's backoff (1, 2, 4, 8, 16 s ...) has grown past the outage's end
DRAIN_STARTS_WITHIN = 5.0


def test_after_a_long_outage_the_drain_starts_within_5_s_of_the_crm_coming_back(
        tmp_path: Path, connector: Connector) -> None:
    stream = make_stream(tmp_path, 400, seed=81)
    with CrmSim(tmp_path, secret=SECRET) as sim:
        config = write_config(tmp_path / "smdr.yaml", sim.base_url, stream, retry_initial=1.0,
                              retry_max=300.0, concurrency=2)
        expected = expected_calls(connector, config, stream)
        sim.stop()
        run = connector.start("run", "--config", str(config), "--once")
        wait_until(lambda: "CRM unavailable" in run.stderr, "the connector logged the outage", alive=run)
        time.sleep(OUTAGE)
        sim.start()
        back = time.monotonic()
        wait_until(lambda: sim.stats()["ok"] >= 1, "the first event after the outage", alive=run, timeout=60)
        drain_started = time.monotonic() - back
        print(f"drain started {drain_started:.2f} s after the CRM came back")
        connector.wait(run)
        assert run.returncode == 0, run.describe()
        assert drain_started < DRAIN_STARTS_WITHIN, f"the first event went out {drain_started:.1f} s after " \
                                                    f"the CRM came back\n{run.describe()}"
        assert_clean_log(run)
        assert len(log_lines(run.stderr, "WARNING", "CRM unavailable")) == 1, run.stderr
        assert len(log_lines(run.stderr, "CRM reachable again")) == 1, run.stderr
        assert_crm_holds_exactly(sim, expected)
        assert_nothing_queued(connector, config)
