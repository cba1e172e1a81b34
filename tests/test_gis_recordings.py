"""GIS recordings end to end: smdr run (gis:// against the fake GIS API) -> crm-sim with a recordingurl on
the connector's HTTP server; its GET fetches the audio from GIS server-side (ranges, cache, 403, 502);
the GIS key and tenant in no log line, no URL and no stored file."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from cli_support import write_file
from crmsim_proc import CrmSim
from gis_server import FakeGis, cdr
from test_recordings_e2e import port_from_log, wait_for

from smdr import config, daemon

ZONE = ZoneInfo("Asia/Jerusalem")


def minutes_ago(n: int) -> str:
    return (datetime.now(ZONE) - timedelta(minutes=n)).strftime("%Y-%m-%d %H:%M:%S")


def files_containing(root: Path, secrets: tuple[str, ...]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {s}" for s in secrets if s.encode() in data]
    return found


def test_a_gis_recording_reaches_the_crm_as_a_link_that_serves_the_audio(arun, tmp_path: Path, caplog) -> None:
    audio = bytes(range(256)) * 300   # 76,800 bytes: more than one 64 KB chunk
    with FakeGis() as gis, CrmSim(tmp_path, secret="crm-secret") as sim:
        gis.records = [cdr(1, minutes_ago(10), recordingfile="in-201-0912-20260114.wav"),
                       cdr(2, minutes_ago(8), src="0935", disposition="NO ANSWER", billsec=0),
                       cdr(3, minutes_ago(6), src="0936", recordingfile="gone.wav")]
        gis.audio = {"1768383605.1": audio}
        path = write_file(tmp_path / "smdr.yaml", f"""
            data_dir: data
            crm: {{url: "{sim.base_url}", secretkey: crm-secret, retry_initial: 0.1, retry_max: 1}}
            http: {{port: 0}}
            sources:
              - {{name: cloud, url: "{gis.url}&interval=0.05", layout: gis-cdr, api_key: {gis.key},
                  tenant: {gis.tenant}}}
            """)
        settings = config.load(path)

        async def scenario() -> dict:
            stop = asyncio.Event()
            with caplog.at_level(logging.DEBUG):
                running = asyncio.create_task(daemon.run(settings, stop=stop))
                http_port = await port_from_log(caplog, r"http: listening on 127\.0\.0\.1:(\d+)")
                calls = await wait_for(lambda: len(c := sim.calls()["calls"]) == 3 and c, "3 calls at the CRM")
                by_ref = {c["call_id"]: c for c in calls}
                linked = [c for c in calls if c.get("recordingurl")]
                assert len(linked) == 2  # call 2 names no recording
                first = next(c for c in linked if "1768383605.1" in c["recordingurl"])
                missing = next(c for c in linked if "1768383605.3" in c["recordingurl"])
                link = first["recordingurl"]
                assert link.startswith(f"http://127.0.0.1:{http_port}/gis-recordings/1768383605.1?t=")
                async with httpx.AsyncClient(timeout=10) as client:
                    part = await client.get(link, headers={"Range": "bytes=70000-70099"})
                    assert (part.status_code, part.content) == (206, audio[70000:70100])
                    assert part.headers["content-range"] == f"bytes 70000-70099/{len(audio)}"
                    assert part.headers["content-type"] == "audio/wav"
                    whole = await client.get(link)
                    assert (whole.status_code, whole.content) == (200, audio)
                    tail = await client.get(link, headers={"Range": "bytes=-10"})
                    assert (tail.status_code, tail.content) == (206, audio[-10:])
                    assert (await client.get(link.split("?")[0])).status_code == 403
                    wrong = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
                    assert (await client.get(wrong)).status_code == 403
                    # a token for recording 1 does not open recording 3
                    other = missing["recordingurl"].split("?")[0] + "?" + link.split("?")[1]
                    assert (await client.get(other)).status_code == 403
                    failed = await client.get(missing["recordingurl"])
                    assert failed.status_code == 502
                    assert "1768383605.3" in failed.json()["error"]["message"]
                    assert gis.key not in failed.text and gis.tenant not in failed.text
                stop.set()
                assert await running == 0
            return {"by_ref": by_ref, "first": first, "events": sim.events()}

        seen = arun(scenario(), timeout=60)
        fetches = [q for q in gis.requests if q.get("info") == "recording"]
        # the whole file came from GIS once (cache); the failed one was asked for once
        assert [q["id"] for q in fetches] == ["1768383605.1", "1768383605.3"]
        assert "format" not in fetches[0]
        first = seen["first"]
        assert (first["event"], first["duration"], first["direction"]) == ("answered", 30, "inbound")
        sent = [e["fields"] for e in seen["events"] if e["fields"].get("recordingurl")]
        # one request per call: the final event itself carries the link, with all its fields
        assert len(sent) == 2 and len(seen["events"]) == 3
        assert all(e["starttime"] and e["duration"] and e["event"] and e["phone"] for e in sent), sent
    secrets = (gis.key, gis.tenant)
    ours = [r.getMessage() for r in caplog.records if r.name != "httpx" or "gisapi.php" in r.getMessage()]
    assert not [line for line in ours if any(s in line for s in secrets)]
    assert not [c["recordingurl"] for c in seen["by_ref"].values()
                if c.get("recordingurl") and any(s in c["recordingurl"] for s in secrets)]
    stored = [p for p in files_containing(tmp_path, secrets) if not p.startswith(str(tmp_path / "smdr.yaml"))]
    assert not stored, f"only the config may hold the GIS key: {stored}"
    assert any((tmp_path / "data" / "gis-recordings").iterdir())  # the cache was in the data directory
