"""Caller-ID end to end: a modem emulator on a socat pty pair (it waits for the init string, then RING,
caller-ID text, the rings stop), and Whozz Calling Ethernet Link packets over UDP on 127.0.0.1 into a
real `smdr run` delivering to crm-sim: popups in the order the calls rang, then their final states."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import serial
from crmsim_proc import ENDPOINT_PATH, CrmSim
from ptys import PtyPair

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures" / "callerid"))
import make_fixtures as mk
from ports import free_udp_port

from smdr.normalize import PhoneRules
from smdr.pipeline import SourceSpec, run_source
from smdr.sinks import ListSink

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def modem(path: Path, ready: list[bytes]) -> None:
    """The modem side: answers the init string with OK, then one call rings twice and stops."""
    with serial.Serial(str(path), 9600, timeout=0.2) as port:
        heard = b""
        deadline = time.monotonic() + 10
        while b"AT+VCID=1\r" not in heard and time.monotonic() < deadline:
            heard += port.read(64)
        ready.append(heard)
        port.write(b"OK\r\n")
        port.write(b"RING\r\n")
        time.sleep(0.3)
        port.write(b"DATE = 0114\r\nTIME = 0930\r\nNMBR = 09121234567\r\nNAME = ALI REZAEI\r\n")
        time.sleep(0.5)
        port.write(b"RING\r\n")
        port.flush()


def test_modem_emulator_on_a_pty_pops_up_and_the_rings_stopping_end_the_call(
        ptys: PtyPair, arun: Callable[..., Any]) -> None:
    async def scenario() -> tuple[ListSink, list[bytes]]:
        sink, stop, heard = ListSink(), asyncio.Event(), []
        spec = SourceSpec(name="modem", url=f"serial://{ptys.a}?baudrate=9600&init=AT%2BVCID%3D1",
                          layout="callerid-modem", phone=PhoneRules(),
                          parser_options={"ring_end": "no_answer", "ring_timeout": 1.5, "lines": {1: "101"}})
        running = asyncio.create_task(run_source(spec, sink, stop=stop))
        try:
            await asyncio.get_running_loop().run_in_executor(None, modem, ptys.b, heard)
            async with asyncio.timeout(10):
                while not any(e.event == "no_answer" for e in sink.events):
                    await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.wait_for(running, 5)
        return sink, heard

    sink, heard = arun(scenario(), timeout=30)
    assert b"AT+VCID=1\r" in heard[0]
    assert [(e.event, e.phone, e.agent) for e in sink.events] == [
        ("ringing", "09121234567", "101"), ("no_answer", "09121234567", "101")]
    assert sink.events[0].call_id == sink.events[1].call_id
    assert sink.events[1].endtime >= sink.events[1].starttime


def wait_until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "crm-sim did not get the requests in time"
        time.sleep(0.05)


def test_whozz_calling_udp_packets_into_crm_sim_in_ringing_order(tmp_path: Path) -> None:
    port = free_udp_port()
    with CrmSim(tmp_path) as sim:
        config = tmp_path / "smdr.yaml"
        config.write_text(
            "data_dir: data\ntimezone: Asia/Tehran\nsources:\n  - name: wc\n"
            f"    url: udp://127.0.0.1:{port}\n    layout: whozz-calling-el\n"
            "    parser_options: {lines: {1: '101', 2: '102'}}\n"
            f"crm:\n  url: {sim.root_url}{ENDPOINT_PATH}\n  secretkey: \"{sim.secret}\"\n", encoding="utf-8")
        log = open(tmp_path / "run.log", "w")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        run = subprocess.Popen([sys.executable, "-m", "smdr", "run", "--config", str(config)], cwd=tmp_path,
                               stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + 20
            while "listening on UDP port" not in (tmp_path / "run.log").read_text() and time.monotonic() < deadline:
                assert run.poll() is None, (tmp_path / "run.log").read_text()
                time.sleep(0.05)
            calls = mk.whozz_calls()
            answered = [text for _, text in calls[:6]]        # line 1: S R R F N E
            missed = [text for _, text in calls[6:11]]        # line 2: S R R R E
            # the second call rings once the first one's popup is at the CRM: the popups come in ringing
            # order (calls are delivered in parallel, so only calls apart in time have an order)
            rest = [answered[1], missed[1], answered[2], answered[3], missed[2], missed[3], answered[4],
                    answered[5], missed[4]]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
                for text, popups_after in ((answered[0], 1), (missed[0], 2)):
                    sender.sendto(mk.el_packet(1, 2, text), ("127.0.0.1", port))
                    wait_until(lambda n=popups_after: len(sim.calls()["popups"]) >= n)
                for text in rest:
                    sender.sendto(mk.el_packet(1, 2, text), ("127.0.0.1", port))
                    time.sleep(0.05)
            wait_until(lambda: len(sim.events()) >= 5)
            events = sim.events()
            popups = sim.calls()["popups"]
        finally:
            run.terminate()
            run.wait(15)
            log.close()
    assert [(p["phone"], p["agent"]) for p in popups] == [("09121234567", "101"), ("02188776655", "102")]
    seen = [(e["fields"]["phone"], e["event"]) for e in events]
    assert sorted(seen) == sorted([("09121234567", "ringing"), ("02188776655", "ringing"),
                                   ("09121234567", "in-progress"), ("09121234567", "answered"),
                                   ("02188776655", "no_answer")])
    for phone, states in (("09121234567", ["ringing", "in-progress", "answered"]),
                          ("02188776655", ["ringing", "no_answer"])):
        assert [event for number, event in seen if number == phone] == states
