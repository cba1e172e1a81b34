"""Upgrade in place: a data directory and config written by smdr at bd88d7c (tests/upgrade_bd88d7c, see its
README) keep working with today's code: the queued events are delivered, the call left open continues
under its call_id, and the config loads unchanged (but for the CRM address and key of this test)."""

from __future__ import annotations

import shutil
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
)

pytestmark = pytest.mark.slow

OLD_SITE = Path(__file__).resolve().parent / "upgrade_bd88d7c"
STREAM = Path(__file__).resolve().parent.parent / "fixtures" / "panasonic" / "kx-tda-a.smdr"
OLD_CRM_URL = "http://127.0.0.1:9/modules/ParsVT/ws/API/V2/PBX/Generic"


def test_an_outbox_state_and_config_written_by_the_previous_release_keep_working(tmp_path: Path,
                                                                                  connector: Connector) -> None:
    site = tmp_path / "site"
    shutil.copytree(OLD_SITE, site, copy_function=shutil.copy)  # copied now: the saved calls are fresh
    lines = STREAM.read_bytes().split(b"\r\n")
    (site / "capture.smdr").write_bytes(b"\r\n".join(lines[17:]))  # what the PBX printed after the upgrade
    config = site / "smdr.yaml"
    before = connector.outbox_status(config)
    assert before["counts"]["queued"] == 14, before
    with CrmSim(tmp_path, secret=SECRET) as sim:
        text = config.read_text(encoding="utf-8")
        assert OLD_CRM_URL in text
        config.write_text(text.replace(OLD_CRM_URL, sim.base_url)
                          .replace("test-only-not-a-secret", SECRET), encoding="utf-8")
        expected = expected_calls(connector, config, STREAM)
        run = connector.run("run", "--config", str(config), "--once")
        assert run.returncode == 0, run.describe()
        assert_clean_log(run)
        assert "still open from before the restart" in run.stderr, run.describe()
        assert_crm_holds_exactly(sim, expected)  # the open call kept its call_id: no second record
        assert_nothing_queued(connector, config)
