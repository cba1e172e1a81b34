"""Quarantined records, re-parsed after a layout fix, reach the CRM: smdr outbox import."""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import REPO, run_smdr, write_file
from crmsim_proc import CrmSim

PATTERN_B = REPO / "fixtures" / "panasonic" / "kx-tda-b.smdr"


def test_reparsed_quarantine_is_delivered(tmp_path: Path) -> None:
    with CrmSim(tmp_path, secret="site-secret") as sim:
        config = write_file(tmp_path / "smdr.yaml", f"""
            data_dir: data
            sources:
              - {{name: pbx, layout: panasonic-kx-tda, url: "file://{PATTERN_B}"}}
            crm: {{url: "{sim.base_url}", secretkey: site-secret}}
            """)
        first = run_smdr("run", "--config", str(config), "--once", cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        assert sim.calls()["calls"] == []  # Pattern B read as Pattern A: every record quarantined

        quarantine = tmp_path / "data" / "quarantine.jsonl"
        refused = run_smdr("outbox", "import", str(quarantine), "--config", str(config), cwd=tmp_path)
        assert refused.returncode == 2 and "re-parse it first" in refused.stderr

        fixed = tmp_path / "fixed.jsonl"
        parsed = run_smdr("parse", str(quarantine), "--layout", "panasonic-kx-tda-b", "--source", "pbx",
                          "-o", str(fixed), cwd=tmp_path)
        assert parsed.returncode == 0, parsed.stderr
        events = [json.loads(line) for line in fixed.read_text(encoding="utf-8").splitlines()]
        assert events
        imported = run_smdr("outbox", "import", str(fixed), "--config", str(config), cwd=tmp_path)
        assert imported.returncode == 0, imported.stderr
        calls = len({e["call_id"] for e in events})
        assert f"{len(events)} event(s) of {calls} call(s) queued for the CRM" in imported.stdout

        second = run_smdr("run", "--config", str(config), "--once", cwd=tmp_path)
        assert second.returncode == 0, second.stderr
        assert {c["call_id"] for c in sim.calls()["calls"]} == {e["call_id"] for e in events}


def test_a_file_that_is_not_call_events(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    from smdr.outbox import OutboxStore, outbox_path

    OutboxStore.open(outbox_path(tmp_path / "data")).close()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"call_id": "x", "direction": "inbound", "event": "answered"}\n{"nope": 1}\n')
    result = run_smdr("outbox", "import", str(bad), "--data-dir", str(tmp_path / "data"), cwd=tmp_path)
    assert result.returncode == 2 and "bad.jsonl:2: not a call event" in result.stderr
    assert "Traceback" not in result.stderr
