"""``smdr crm-sim`` as a process, through the tests' CrmSim helper (start, stop, restart, live faults)."""

from __future__ import annotations

import re
import select
import signal
import subprocess
import sys

import httpx
import pytest
from crmsim_proc import CrmSim, CrmSimError

pytestmark = pytest.mark.slow

FORM = {"agent": "105", "phone": "02144556677", "call_id": "p-1", "direction": "outgoing", "event": "ring"}


def test_helper_starts_serves_and_stops_cleanly(tmp_path):
    sim = CrmSim(tmp_path, secret="proc-secret")
    with sim:
        assert sim.running and sim.port > 0
        assert sim.base_url == f"http://127.0.0.1:{sim.port}/modules/ParsVT/ws/API/V2/PBX/Generic"
        answer = httpx.post(sim.base_url + "/ProcessCDR", data={**FORM, "secretkey": "proc-secret"},
                            timeout=5)
        assert answer.json()["success"] is True
        assert sim.call("p-1")["direction"] == "outbound"
        assert sim.calls()["popups"][0]["contact"] == "زهرا احمدی"
        assert sim.stats()["ok"] == 1
    assert not sim.running
    assert sim.stop() is None  # stopping twice is harmless


def test_restart_keeps_port_and_calls(tmp_path):
    with CrmSim(tmp_path, secret="s") as sim:
        def post(**fields: str) -> httpx.Response:
            return httpx.post(sim.base_url + "/ProcessCDR", data={**FORM, "secretkey": "s", **fields},
                              timeout=5)

        record_id = post().json()["result"]
        port = sim.port
        assert sim.stop() == 0                                      # SIGTERM: a clean exit
        with pytest.raises(httpx.ConnectError):
            httpx.get(sim.root_url + "/stats", timeout=2)
        sim.start()
        assert sim.port == port
        assert post(event="hangup", duration="12").json()["result"] == record_id
        assert sim.call("p-1")["events"] == ["ringing", "answered"]


def test_fault_options_and_live_changes(tmp_path):
    with CrmSim(tmp_path, secret="s", error_rate=1.0, html_errors=True, seed=5) as sim:
        response = httpx.get(sim.base_url + "/SearchPBX", params={"secretkey": "s", "phone": "1"}, timeout=5)
        assert response.status_code == 500 and "<html" in response.text
        assert sim.faults()["seed"] == 5
        faults = sim.set_faults(error_rate=0, reject_secret=True)
        assert faults["error_rate"] == 0 and faults["reject_secret"] is True
        response = httpx.get(sim.base_url + "/SearchPBX", params={"secretkey": "s", "phone": "1"}, timeout=5)
        assert response.status_code == 401
        sim.set_faults(reset=True, down_for=0.5)
        with pytest.raises(httpx.ConnectError):
            httpx.get(sim.root_url + "/stats", timeout=2)


def test_cli_prints_the_listening_line_and_the_secret_once_and_logs_calls_without_it(tmp_path):
    with CrmSim(tmp_path, secret="very-secret-key", quiet=False) as sim:
        httpx.post(sim.base_url + "/ProcessCDR", data={**FORM, "secretkey": "very-secret-key"}, timeout=5)
        httpx.post(sim.base_url + "/ProcessCDR", data={**FORM, "secretkey": "wrong-key"}, timeout=5)
    lines = list(sim.output)
    assert re.fullmatch(r"crm-sim listening on http://127\.0\.0\.1:(\d+)/ \(endpoint http://127\.0\.0\.1:\1"
                        r"/modules/ParsVT/ws/API/V2/PBX/Generic\)", lines[0])
    assert any("ringing" in line and "call_id=p-1" in line and "زهرا احمدی" in line for line in lines)
    # a test tool: the key it expects is announced once, for the technician's smdr.yaml; never in call lines
    assert lines[1] == "secret key it expects: very-secret-key  (crm.secretkey in smdr.yaml; --secret changes it)"
    assert not any("very-secret-key" in line or "wrong-key" in line for line in lines[2:])


def test_unusable_start_is_reported(tmp_path):
    with CrmSim(tmp_path, secret="s") as sim:
        clash = CrmSim(tmp_path / "other", port=sim.port, start_timeout=10)
        (tmp_path / "other").mkdir()
        with pytest.raises(CrmSimError, match="did not start"):
            clash.start()
        assert not clash.running


def test_sigint_stops_the_process(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "smdr", "crm-sim", "--port", "0", "--quiet"],
                               stdout=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([process.stdout], [], [], 15)  # bounded wait for the first line
        assert ready and process.stdout.readline().startswith("crm-sim listening on http://127.0.0.1:")
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
        process.stdout.close()
