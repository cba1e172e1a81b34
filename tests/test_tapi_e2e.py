"""The fake-tapi scenarios through `daemon.run` into crm-sim (a real HTTP peer): every call's events
arrive in order under one call_id, the popup (ringing) first; each popup's latency from the moment the
fake queued OFFERING is measured and printed (bench/popup.py gives the figures; nothing timed is asserted)."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest
from cli_support import write_file
from crmsim_proc import CrmSim
from fake_tapi import build, fake_env

from smdr import config, daemon

SECRET = "crm-secret-tapi-e2e"


@pytest.mark.slow
def test_fake_tapi_calls_reach_crm_sim_popup_first(arun, tmp_path, monkeypatch, caplog) -> None:
    library = build(tmp_path)
    log = fake_env(monkeypatch, tmp_path, FAKE_TAPI_LOG_STATES="1")
    with CrmSim(tmp_path, secret=SECRET) as sim:
        path = write_file(tmp_path / "smdr.yaml", f"""
            data_dir: data
            crm: {{url: "{sim.base_url}", secretkey: {SECRET}, retry_initial: 0.1, retry_max: 1}}
            sources:
              - {{name: pbx, url: "tapi://?library={library}", layout: tapi-trace}}
            """)

        async def scenario() -> None:
            stop = asyncio.Event()
            running = asyncio.create_task(daemon.run(config.load(path), stop=stop))
            for _ in range(600):  # bounded: 30 s
                if log.exists() and "script done" in log.read_text() and len(sim.calls()["calls"]) >= 7 and (
                        sum(e["event"] in ("answered", "busy", "no_answer") for e in sim.events()) >= 7):
                    break
                assert not running.done()
                await asyncio.sleep(0.05)
            stop.set()
            await running

        with caplog.at_level(logging.INFO):
            arun(scenario(), timeout=60)
        calls = sim.calls()["calls"]
        sequences = sorted(tuple(call["events"]) for call in calls)
        assert sequences == sorted([
            ("ringing", "in-progress", "answered"),
            ("ringing", "ringing", "no_answer"),
            ("ringing", "in-progress", "ringing", "transferred", "in-progress", "answered"),
            ("busy",), ("in-progress", "answered"),
            ("ringing", "no_answer"),
            ("ringing", "in-progress", "answered"),
        ]), calls
        pushed = {name: float(t) for name, t in re.findall(r"pushed (\w) offering t=(\d+\.\d+)", log.read_text())}
        arrivals = [e for e in sim.events() if e["event"] == "ringing"]
        assert len(pushed) == 6 and len(arrivals) == 7
        first_arrival: dict[str, float] = {}
        for event in arrivals:
            first_arrival.setdefault(event["fields"]["phone"], event["arrived"])
        callers = {"A": "09121234567", "C": "09351112233", "G": "09120000001", "H": "09120000002"}
        popup_ms = {name: (first_arrival[phone] - pushed[name]) * 1000 for name, phone in callers.items()}
        print("popup latency, OFFERING queued -> ringing at crm-sim, ms:",
              ", ".join(f"{name} {ms:.1f}" for name, ms in popup_ms.items()))
        assert all(ms > 0 for ms in popup_ms.values())  # the same clock: arrival after the message
