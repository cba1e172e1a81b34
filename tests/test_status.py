"""A running connector you can see: status page (in a real browser), /status.json, /metrics, `smdr status`,
the INFO line per call delivered, the silence and wrong-PBX-clock warnings, the version at start."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from browser import WIDTH, rendered_dom, screenshot, scroll_width
from cli_support import REPO, run_smdr, write_file
from crmsim_proc import CrmSim
from ports import free_port
from ptys import socat_pty_pair

from smdr import __version__
from smdr.httpd import Request
from smdr.model import CallEvent
from smdr.monitor.routes import _allowed, metrics
from smdr.monitor.state import SourceStatus
from smdr.normalize import zone

FIXTURE = REPO / "fixtures" / "panasonic" / "kx-tda-a.smdr"
WAIT_SECONDS = 90


def start(args: list[str], log: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMDR_")}
    handle = log.open("w", encoding="utf-8")
    return subprocess.Popen([sys.executable, "-m", "smdr", *args], stdout=handle, stderr=subprocess.STDOUT,
                            text=True, env=env)


def wait_for(predicate, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except (httpx.HTTPError, ValueError, KeyError):
            last = None
        if last:
            return last
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture
def live_site(tmp_path: Path):
    """A Panasonic LAN port (smdr play with the login, staying connected), a silent serial PBX, crm-sim,
    and `smdr run` with its HTTP server: what a technician sees at a site."""
    pbx_port, http_port = free_port(), free_port()
    processes = []
    with CrmSim(tmp_path, secret="site-secret") as sim, socat_pty_pair(tmp_path) as ptys:
        pbx = start(["play", str(FIXTURE), f"tcp-listen://127.0.0.1:{pbx_port}", "--login", "panasonic",
                     "--pace", "flat", "--hold"], tmp_path / "pbx.log")
        processes.append(pbx)
        wait_for(lambda: "listening on port" in (tmp_path / "pbx.log").read_text(), "the PBX to listen")
        config = write_file(tmp_path / "smdr.yaml", f"""
            data_dir: data
            sources:
              - {{name: office, device: panasonic-kx-tda, url: "tcp://127.0.0.1:{pbx_port}"}}
              - {{name: quiet, device: panasonic-kx-tda, url: "serial://{ptys.a}", silent_minutes: 0.02}}
            crm: {{url: "{sim.base_url}", secretkey: site-secret}}
            http: {{bind: 127.0.0.1, port: {http_port}}}
            """)
        connector = start(["run", "--config", str(config)], tmp_path / "smdr.log")
        processes.append(connector)
        base = f"http://127.0.0.1:{http_port}"

        def settled():
            data = httpx.get(base + "/status.json", timeout=5).json()
            office, quiet = data["sources"]
            return data if (office["records"] >= 40 and data["outbox"]["counts"]["queued"] == 0
                            and data["outbox"]["counts"]["delivered"] >= 20 and quiet["silent"]) else None

        try:
            yield wait_for(settled, "the site to settle"), base, config, tmp_path / "smdr.log", connector
        finally:
            for process in reversed(processes):
                stop(process)


def test_the_status_of_a_live_site(live_site, tmp_path: Path) -> None:
    data, base, config, log_path, connector = live_site
    office, quiet = data["sources"]
    assert (office["name"], office["link"], office["records"], office["events"]) == ("office", "up", 40, 32)
    assert office["url"].endswith("password=***") and office["last_record_at"] > data["started"]
    assert office["clock_wrong"] and office["clock_offset"] < -86400  # the capture was printed days ago
    assert (quiet["link"], quiet["records"], quiet["silent"]) == ("up", 0, True)
    assert data["version"] == __version__ and data["quarantined"] == {"bad-field": 1, "rejected": 1}
    assert data["outbox"]["paused_by_auth"] is False and data["outbox"]["last_error"] is None
    assert len(data["recent_calls"]) == 20 and data["recent_calls"][0]["source"] == "office"
    assert any(p.startswith("quiet: silent") for p in data["problems"])
    assert any(p.startswith("office: the PBX clock is") and p.endswith("behind") for p in data["problems"])

    text = httpx.get(base + "/metrics", timeout=5).text
    samples = dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert samples['smdr_source_link_up{source="office"}'] == "1"
    assert samples['smdr_source_records_total{source="office"}'] == "40"
    assert samples['smdr_source_silent{source="quiet"}'] == "1"
    assert samples['smdr_source_clock_wrong{source="office"}'] == "1"
    assert int(samples['smdr_outbox_events{state="delivered"}']) >= 20
    assert samples['smdr_outbox_events{state="queued"}'] == "0"
    assert samples[f'smdr_info{{version="{__version__}"}}'] == "1"

    result = run_smdr("status", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr  # something needs a look
    assert "office         link up" in result.stdout and "PBX clock WRONG" in result.stdout
    assert "SILENT" in result.stdout and "0 queued" in result.stdout and "needs a look:" in result.stdout

    dom = rendered_dom(base + "/status", tmp_path / "profile")
    assert scroll_width(dom) <= WIDTH
    assert '<span class="badge up">up</span>' in dom and ">office<" in dom and "Needs a look:" in dom
    assert "days behind" in dom and "(silent)" in dom
    shot = screenshot(base + "/status", tmp_path / "status.png", tmp_path / "profile")
    print(f"status page screenshot: {shot}")

    stop(connector)
    log = log_path.read_text(encoding="utf-8")
    assert f"smdr {__version__} starting" in log
    assert "delivered: inbound answered, agent 102, phone 02188776655, 134 s" in log
    assert "the PBX clock looks wrong" in log and "quiet: no byte from the PBX for" in log
    assert "site-secret" not in log


def test_the_status_needs_the_token_from_another_pc() -> None:
    def request(peer: str, query: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Request:
        return Request("GET", "/status.json", query or {}, headers or {}, peer=peer)

    assert _allowed(request("127.0.0.1:50000"), "") and _allowed(request("::1:50000"), "")
    assert not _allowed(request("192.168.1.20:50000"), "")            # no token configured: loopback only
    assert not _allowed(request("192.168.1.20:50000"), "long-token-1")
    assert _allowed(request("192.168.1.20:50000", {"token": "long-token-1"}), "long-token-1")
    assert _allowed(request("192.168.1.20:50000", headers={"authorization": "Bearer long-token-1"}), "long-token-1")
    assert not _allowed(request("192.168.1.20:50000", {"token": "long-token-2"}), "long-token-1")


def call(at: datetime, duration: int = 60) -> CallEvent:
    return CallEvent(call_id="c", direction="inbound", event="answered", starttime=at - timedelta(seconds=duration),
                     endtime=at, duration=duration)


def test_a_wrong_pbx_clock_needs_three_records_in_a_row_and_clears(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="smdr.status")
    now = datetime.now(zone("Asia/Tehran"))
    source = SourceStatus("pbx", "tcp://pbx:2300", "panasonic-kx-tda", clock_tolerance=600)
    source.check_clock([call(now - timedelta(minutes=1))], now)
    assert not source.clock_wrong and abs(source.clock_offset + 60) < 1
    source.check_clock([call(now - timedelta(hours=3)), call(now - timedelta(hours=3))], now)
    assert not source.clock_wrong                                    # two old records: a buffer flushed
    source.check_clock([call(now + timedelta(minutes=30))], now)     # the third in a row: the clock
    assert source.clock_wrong and "the PBX clock looks wrong" in caplog.text
    source.check_clock([call(now)], now)
    assert not source.clock_wrong and "agrees with this PC again" in caplog.text
    replay = SourceStatus("file", "file://x", "panasonic-kx-tda", live=False)
    replay.check_clock([call(now - timedelta(days=9))] * 5, now)
    assert not replay.clock_wrong and replay.clock_offset is None    # a recorded capture is old on purpose


def test_silence_is_warned_once_and_cleared(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="smdr.status")
    source = SourceStatus("pbx", "tcp://pbx:2300", "panasonic-kx-tda", silent_after=600)
    source.check_silence(now=1000.0 + 599, started=1000.0)
    assert not source.silent
    source.check_silence(now=1000.0 + 601, started=1000.0)
    source.check_silence(now=1000.0 + 900, started=1000.0)
    assert source.silent and caplog.text.count("no byte from the PBX for") == 1
    source.got_bytes(10, now=2000.0)
    assert not source.silent and "sends again" in caplog.text


def test_metrics_text_format() -> None:
    snapshot = {"version": "9.9", "uptime": 5.5, "quarantined": {"rejected": 2},
                "sources": [SourceStatus('a"b', "u", "l").snapshot()], "outbox": None}
    text = metrics(snapshot)
    assert '# TYPE smdr_source_link_up gauge' in text and 'smdr_source_link_up{source="a\\"b"} 0' in text
    assert 'smdr_quarantined_total{kind="rejected"} 2' in text and "smdr_uptime_seconds 5.5" in text
    assert "smdr_source_clock_offset_seconds{" not in text  # no record yet: no sample, not a zero
    json.dumps(snapshot)


def test_the_silence_check_says_when_it_is_next_due_and_never_without_an_alarm() -> None:
    source = SourceStatus("pbx", "tcp://pbx:2300", "panasonic-kx-tda", silent_after=600)
    assert source.check_silence(now=1000.0 + 100, started=1000.0) == pytest.approx(500)
    assert source.check_silence(now=1000.0 + 601, started=1000.0) == 600  # raised: next after bytes and silence
    quiet = SourceStatus("pbx", "tcp://pbx:2300", "panasonic-kx-tda")  # no silent_minutes: no timer at all
    assert quiet.check_silence(now=5000.0, started=1000.0) is None
