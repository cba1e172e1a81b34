"""A recording folder filled while calls run: smdr run (PBX over tcp-listen) -> crm-sim (a subprocess),
each file reaching the CRM as recordingurl on its call; a file before its call is listed, then linked."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import httpx
import pytest
from cli_support import run_smdr, write_file
from crmsim_proc import CrmSim
from test_tracker import tda

from smdr import config, daemon

TOKEN = "http-token-e2e"


async def port_from_log(caplog, pattern: str) -> int:
    for _ in range(200):  # bounded: 10 s
        for record in caplog.records:
            found = re.search(pattern, record.getMessage())
            if found:
                return int(found.group(1))
        await asyncio.sleep(0.05)
    raise AssertionError(f"no log line like {pattern!r}")


async def wait_for(check, what: str):
    for _ in range(300):  # bounded: 15 s
        value = await asyncio.to_thread(check)
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_recordings_reach_the_crm_on_the_right_call(arun, tmp_path: Path, caplog) -> None:
    folder = tmp_path / "recorder"
    folder.mkdir()
    with CrmSim(tmp_path, secret="crm-secret") as sim:
        path = write_file(tmp_path / "smdr.yaml", f"""
            data_dir: data
            crm: {{url: "{sim.base_url}", secretkey: crm-secret, retry_initial: 0.1, retry_max: 1}}
            http: {{port: 0, token: {TOKEN}}}
            recordings:
              folder: recorder
              pattern: "{{time:%Y%m%d-%H%M%S}}_CH{{line}}_{{number}}.wav"
              poll: 0.1
              settle: 0.3
            sources:
              - {{name: pbx, url: "tcp-listen://127.0.0.1:0", layout: panasonic-kx-tda}}
            """)
        settings = config.load(path)

        async def scenario() -> None:
            stop = asyncio.Event()
            with caplog.at_level(logging.INFO):
                running = asyncio.create_task(daemon.run(settings, stop=stop))
                http_port = await port_from_log(caplog, r"http: listening on 127\.0\.0\.1:(\d+)")
                pbx_port = await port_from_log(caplog, r"listening on port (\d+)")
            _, pbx = await asyncio.open_connection("127.0.0.1", pbx_port)

            # call 1 ends, then the recorder's file appears (written in two steps: still growing)
            pbx.write(tda("10:03AM", "101", "01", "<I>09121234567", "0'06", "00:01'25"))
            await pbx.drain()
            first = await wait_for(lambda: sim.calls()["calls"], "call 1 at the CRM")
            audio = bytes(range(256)) * 40
            file1 = folder / "20261121-100133_CH1_09121234567.wav"
            with file1.open("wb") as out:
                out.write(audio[:1000])
                out.flush()
                await asyncio.sleep(0.15)
                out.write(audio[1000:])
            call1 = await wait_for(lambda: (c := sim.call(first[0]["call_id"])) and c.get("recordingurl") and c,
                                   "call 1's recordingurl")

            # call 2's file comes before its record: listed as unmatched, linked once the record arrives
            (folder / "20261121-101002_CH2_02188776655.wav").write_bytes(b"RIFF" + bytes(500))
            listed = await wait_for(lambda: "unmatched" in (out := run_smdr(
                "recordings", "--data-dir", str(tmp_path / "data"), cwd=tmp_path).stdout) and "CH2" in out and out,
                "the unmatched file in smdr recordings")
            assert "1 matched, 1 unmatched" in listed
            pbx.write(tda("10:12AM", "102", "02", "<I>02188776655", "0'04", "00:01'50"))
            await pbx.drain()
            call2 = await wait_for(lambda: next((c for c in sim.calls()["calls"] if c.get("recordingurl")
                                                 and c["call_id"] != call1["call_id"]), None), "call 2's link")
            pbx.close()

            assert "CH1" in call1["recordingurl"] and "CH2" in call2["recordingurl"]
            assert (call1["duration"], call2["duration"]) == (85, 110)  # the update kept the call's fields
            assert call1["starttime"].startswith("2026-11-21T10:01:29") and call1["event"] == "answered"
            link = call1["recordingurl"]
            assert link.startswith(f"http://127.0.0.1:{http_port}/recordings/") and "crm-secret" not in link
            async with httpx.AsyncClient(timeout=5) as client:
                part = await client.get(link, headers={"Range": "bytes=100-199"})
                assert (part.status_code, part.content) == (206, audio[100:200])
                assert (await client.get(link.split("?")[0])).status_code == 403
                whole = await client.get(link)
                assert whole.content == audio
            stop.set()
            assert await running == 0

        arun(scenario(), timeout=60)
    listing = run_smdr("recordings", "--data-dir", str(tmp_path / "data"), cwd=tmp_path)
    assert "2 matched, 0 unmatched" in listing.stdout
    assert "crm-secret" not in caplog.text and TOKEN not in caplog.text
