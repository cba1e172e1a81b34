"""The tapi:// source through the real ctypes binding, against a fake tapi32 built from C for each test
(tests/fake_tapi32.c) and driven by tests/tapi/scenarios.tapi: answered, missed (caller ID after
OFFERING), consultation transfer, outgoing busy, outgoing answered, provider restart."""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fake_tapi import build, fake_env
from golden import ROOT

from smdr.cti import tapi_abi as abi
from smdr.cti.dialing import DialError
from smdr.cti.tapi_binding import TapiLibrary, TapiSession, TapiShutDown
from smdr.pipeline import SourceSpec, run_source
from smdr.sinks import ListSink
from smdr.transports import open_url

# (call, event, agent, phone, direction): calls numbered in order of their first event
GOLDEN = [
    (0, "ringing", "101", "09121234567", "inbound"),
    (0, "in-progress", "101", "09121234567", "inbound"),
    (0, "answered", "101", "09121234567", "inbound"),
    (1, "ringing", "102", None, "inbound"),
    (1, "ringing", "102", "02188776655", "inbound"),      # the number came by LINE_CALLINFO
    (1, "no_answer", "102", "02188776655", "inbound"),
    (2, "ringing", "101", "09351112233", "inbound"),      # +98 -> 0 by the phone rules
    (2, "in-progress", "101", "09351112233", "inbound"),
    (2, "ringing", "103", "09351112233", "inbound"),      # the transfer rings at 103, same call
    (2, "transferred", "101", "09351112233", "inbound"),
    (2, "in-progress", "103", "09351112233", "inbound"),
    (2, "answered", "103", "09351112233", "inbound"),
    (3, "busy", "102", "0412345678", "outbound"),
    (4, "in-progress", "103", "09129998877", "outbound"),
    (4, "answered", "103", "09129998877", "outbound"),
    (5, "ringing", "101", "09120000001", "inbound"),
    (5, "no_answer", "101", "09120000001", "inbound"),    # void after the provider's restart
    (6, "ringing", "101", "09120000002", "inbound"),      # seen on the reopened lines
    (6, "in-progress", "101", "09120000002", "inbound"),
    (6, "answered", "101", "09120000002", "inbound"),
]
LAST_CALL = 7  # IDLE states in the whole trace: calls A-F and H (G was ringing at the restart)


def shape(events: list[dict]) -> list[tuple]:
    ids: dict[str, int] = {}
    return [(ids.setdefault(e["call_id"], len(ids)), e["event"], e["agent"], e["phone"], e["direction"])
            for e in events]


def wait_for(predicate, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def log_says(log: Path, text: str) -> bool:
    return log.exists() and text in log.read_text(encoding="utf-8")


def test_structures_have_the_documented_sizes_and_offsets() -> None:
    pointer = ctypes.sizeof(ctypes.c_void_p)
    assert ctypes.sizeof(abi.DWORD) == 4 and ctypes.sizeof(abi.LONG) == 4
    assert ctypes.sizeof(abi.LINEMESSAGE) == (24 if pointer == 4 else 40)
    assert [getattr(abi.LINEMESSAGE, f).offset for f in ("hDevice", "dwMessageID", "dwCallbackInstance",
                                                         "dwParam1", "dwParam2", "dwParam3")] == (
        [0, 4, 8, 12, 16, 20] if pointer == 4 else [0, 4, 8, 16, 24, 32])
    assert ctypes.sizeof(abi.LINEINITIALIZEEXPARAMS) == (24 if pointer == 4 else 28)  # pack(1)
    assert abi.LINEINITIALIZEEXPARAMS.dwCompletionKey.offset == (20 if pointer == 4 else 24)
    info = abi.LINECALLINFO
    assert ctypes.sizeof(info) == 324  # TAPI 2.x fixed part, x86 and x64 alike
    documented = {"hLine": 12, "dwLineDeviceID": 16, "dwCallID": 40, "dwRelatedCallID": 44, "dwDialPause": 64,
                  "dwOrigin": 80, "dwReason": 84, "dwTrunk": 104, "dwCallerIDFlags": 108, "dwCallerIDSize": 112,
                  "dwCallerIDOffset": 116, "dwCallerIDNameSize": 120, "dwCallerIDNameOffset": 124,
                  "dwCalledIDFlags": 128, "dwConnectedIDFlags": 148, "dwRedirectionIDFlags": 168,
                  "dwRedirectingIDFlags": 188, "dwAppNameSize": 208, "dwDisplayableAddressSize": 216,
                  "dwCalledPartySize": 224, "dwCommentSize": 232, "dwDisplaySize": 240, "dwUserUserInfoSize": 248,
                  "dwTerminalModesSize": 280, "dwDevSpecificSize": 288, "dwCallTreatment": 296,
                  "dwCallDataSize": 300, "dwReceivingFlowspecOffset": 320}
    assert {name: getattr(info, name).offset for name in documented} == documented
    assert ctypes.sizeof(abi.LINEDEVCAPS) == 268 and ctypes.sizeof(abi.LINEADDRESSCAPS) == 228
    caps = {"dwProviderInfoSize": 12, "dwPermanentLineID": 28, "dwLineNameSize": 32, "dwLineNameOffset": 36,
            "dwStringFormat": 40, "dwNumAddresses": 48, "dwMediaModes": 60}
    assert {name: getattr(abi.LINEDEVCAPS, name).offset for name in caps} == caps
    assert (abi.LINEADDRESSCAPS.dwAddressSize.offset, abi.LINEADDRESSCAPS.dwAddressOffset.offset) == (16, 20)
    assert abi.error_name(-2147483576) == "LINEERR_OPERATIONFAILED"  # 0x80000048 as a signed LONG


def test_the_scenarios_give_the_golden_events_through_the_binding(tmp_path, monkeypatch, arun) -> None:
    library = build(tmp_path)
    # a buffer of only the fixed part and a Display blob that grows on every read: the grow-and-retry loop
    log = fake_env(monkeypatch, tmp_path, FAKE_TAPI_GROW="8")
    sink, stop = ListSink(), asyncio.Event()
    spec = SourceSpec(name="pbx", url=f"tapi://?library={library}&buffer=324", layout="tapi-trace")

    async def run() -> None:
        task = asyncio.create_task(run_source(spec, sink, stop=stop))
        while not (log_says(log, "script done") and sum(e.event == "answered" for e in sink.events) >= 4):
            assert not task.done(), task
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        stop.set()
        await task

    arun(run(), timeout=40)
    events = [e.to_dict() for e in sink.events]
    assert shape(events) == GOLDEN
    talks = {(e["agent"], e["phone"]): e["duration"] for e in events if e["event"] in ("answered", "busy")}
    # talk = CONNECTED -> DISCONNECTED per leg (the script waits 1 s in each); the transfer adds both legs
    assert 1 <= talks[("101", "09121234567")] <= 3
    assert 2 <= talks[("103", "09351112233")] <= 5
    assert talks[("102", "0412345678")] == 0
    for event in events:
        assert event["starttime"] <= (event["endtime"] or event["starttime"])
        assert json.loads(event["provenance"]["raw"])["msg"] in ("CALLSTATE", "CALLINFO", "REINIT")
    text = log.read_text(encoding="utf-8")
    assert text.count("open line=") == 6 and "priv=2 version=0x00020002" in text  # monitor, TAPI 2.2
    assert text.count("shutdown app=") == 2 and text.count("initialize app=") == 2  # REINIT: rebuilt once


def test_smdr_record_writes_a_trace_that_replays_to_the_same_events(tmp_path, monkeypatch) -> None:
    library = build(tmp_path)
    log = fake_env(monkeypatch, tmp_path)
    capture = tmp_path / "pbx.tapi"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    recorder = subprocess.Popen([sys.executable, "-m", "smdr", "record", f"tapi://?library={library}", "-o",
                                 str(capture)], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: log_says(log, "script done") and capture.exists()
                 and capture.read_text(encoding="utf-8").count('"state":"IDLE"') >= LAST_CALL)
    finally:
        recorder.send_signal(signal.SIGTERM)
        out, err = recorder.communicate(timeout=30)
    assert recorder.returncode == 0, err
    assert b"recorded" in out and b"terminated" in out
    timing = Path(f"{capture}.timing").read_text().splitlines()
    assert len(timing) >= 20 and all(len(line.split()) == 2 for line in timing)
    parsed = subprocess.run([sys.executable, "-m", "smdr", "parse", str(capture), "--layout", "tapi-trace",
                             "--source", "pbx"], env=env, cwd=ROOT, capture_output=True, timeout=60)
    assert parsed.returncode == 0, parsed.stderr
    events = [json.loads(line) for line in parsed.stdout.decode().splitlines()]
    assert shape(events) == GOLDEN
    again = subprocess.run([sys.executable, "-m", "smdr", "parse", str(capture), "--layout", "tapi-trace",
                            "--source", "pbx"], env=env, cwd=ROOT, capture_output=True, timeout=60)
    assert again.stdout == parsed.stdout  # same trace, same call ids, same talk seconds


def test_dialing_places_a_call_on_the_extensions_line(tmp_path, monkeypatch, arun) -> None:
    library = build(tmp_path)
    script = tmp_path / "idle.tapi"
    script.write_text("lines 101 102\nwait_open 2\n", encoding="utf-8")
    log = fake_env(monkeypatch, tmp_path, script)

    async def run() -> list[str]:
        monitor_only = open_url(f"tapi://?library={library}")
        transport = open_url(f"tapi://?library={library}&dial=1")
        await transport.open()
        lines = []
        try:
            assert transport.lines == ["101", "102"]
            result = await transport.dial("102", "09121234567")
            assert result.via == "tapi" and int(result.reference) > 0
            with pytest.raises(DialError) as unknown:
                await transport.dial("555", "09121234567")
            assert unknown.value.kind == "unknown-extension"
            with pytest.raises(DialError) as monitoring:
                await monitor_only.dial("101", "1")
            assert monitoring.value.kind == "unavailable"
            for _ in range(5):  # OPEN, REPLY, then the dialled call's states
                lines.append((await asyncio.wait_for(transport.read(), 5)).decode())
        finally:
            await transport.shutdown()
        return lines

    lines = arun(run())
    text = log.read_text(encoding="utf-8")
    assert "open line=102 priv=6" in text  # monitor | owner
    assert "makecall line=102 dest=09121234567 priv=6 request=1" in text
    entries = [json.loads(line) for line in lines]
    assert entries[0]["msg"] == "OPEN" and entries[1] == {**entries[1], "msg": "REPLY", "request": 1, "result": 0}
    states = [(e.get("line"), e.get("state"), e.get("info", {}).get("called")) for e in entries[2:]]
    assert states[0] == ("102", "PROCEEDING", "09121234567") and states[-1][1] == "CONNECTED"


def test_shutdown_releases_a_blocked_lineGetMessage(tmp_path, monkeypatch) -> None:
    library = build(tmp_path)
    script = tmp_path / "quiet.tapi"
    script.write_text("lines 101\n", encoding="utf-8")
    fake_env(monkeypatch, tmp_path, script)
    session = TapiSession(TapiLibrary(str(library)))
    assert session.initialize() == 1
    assert session.get_message(0) is None  # poll: LINEERR_OPERATIONFAILED is "no message"
    outcome: list[object] = []

    def block() -> None:
        try:
            outcome.append(session.get_message(20000))
        except TapiShutDown as exc:
            outcome.append(exc)

    thread = threading.Thread(target=block)
    thread.start()
    time.sleep(0.2)
    session.shutdown()
    thread.join(10)
    assert not thread.is_alive() and isinstance(outcome[0], TapiShutDown)


def test_version_negotiation_and_open_errors_are_named(tmp_path, monkeypatch) -> None:
    library = build(tmp_path)
    script = tmp_path / "one.tapi"
    script.write_text("lines 101\n", encoding="utf-8")
    fake_env(monkeypatch, tmp_path, script)
    session = TapiSession(TapiLibrary(str(library)))
    session.initialize()
    assert session.negotiate(0) == abi.TAPI_VERSION_2_2
    with pytest.raises(Exception, match="LINEERR_INCOMPATIBLEAPIVERSION"):
        session.negotiate(0, 0x00030000, 0x00030001)  # the fake TSP stops at 2.2
    with pytest.raises(Exception, match="LINEERR_BADDEVICEID"):
        session.negotiate(5)
    with pytest.raises(Exception, match="LINEERR_INVALPRIVSELECT"):
        session.open(0, abi.TAPI_VERSION_2_2, abi.LINECALLPRIVILEGE_NONE | abi.LINECALLPRIVILEGE_MONITOR, 1)
    assert session.address(0, abi.TAPI_VERSION_2_2) == "101"
    assert session.dev_caps(0, abi.TAPI_VERSION_2_2).name == "Ext 101"
    session.shutdown()
