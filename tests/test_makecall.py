"""Click-to-call: the CRM's /makecall on the connector's HTTP server, end to end through `daemon.run` to the
fake tapi32 (lineMakeCallW) and to the fake GIS API (reqtype=DIAL)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
from cli_support import write_file
from fake_tapi import build, fake_env
from gis_server import FakeGis
from test_recordings_e2e import port_from_log

from smdr import config, daemon
from smdr.cti.makecall import MakeCallSettings, RateLimit, dialable

SECRET = "crm-secret-for-makecall"


def settings(**changes) -> MakeCallSettings:
    return MakeCallSettings(secret=SECRET, extensions=frozenset({"101"}), **changes)


def test_numbers_are_made_dialable() -> None:
    plain, with_prefix = settings(), settings(outside_prefix="9")
    assert dialable("+98 912 123-4567", plain) == "09121234567"
    assert dialable("0098 (21) 8877 6655", plain) == "02188776655"
    assert dialable("۰۹۱۲۱۲۳۴۵۶۷", with_prefix) == "909121234567"
    assert dialable("+44 20 7946 0000", plain) == "00442079460000"
    assert dialable("102", with_prefix) == "102"  # an extension: no outside line
    assert dialable("call me", plain) is None and dialable("", plain) is None


def test_the_rate_limit_spaces_calls_per_extension_and_caps_the_minute() -> None:
    now = [0.0]
    limit = RateLimit(5.0, 3, clock=lambda: now[0])
    assert limit.wait_for("101") == 0 and limit.wait_for("101") == 5.0
    now[0] = 5.0
    assert limit.wait_for("101") == 0 and limit.wait_for("102") == 0
    assert limit.wait_for("103") == 55.0  # 3 calls this minute
    now[0] = 60.0
    assert limit.wait_for("103") == 0


async def _start(path: Path, caplog) -> tuple[asyncio.Task, asyncio.Event, str]:
    stop = asyncio.Event()
    with caplog.at_level(logging.INFO):
        running = asyncio.create_task(daemon.run(config.load(path), stop=stop))
        port = await port_from_log(caplog, r"http: listening on 127\.0\.0\.1:(\d+)")
    return running, stop, f"http://127.0.0.1:{port}/makecall"


def _query(**changes: str) -> dict[str, str]:
    return {"event": "OutgoingCall", "secret": SECRET, "from": "102", "to": "+98 912 123 4567",
            "context": "from-internal", **changes}


def test_makecall_dials_through_tapi_and_refuses_what_it_must(arun, tmp_path, monkeypatch, caplog) -> None:
    library = build(tmp_path)
    script = tmp_path / "idle.tapi"
    script.write_text("lines 101 102 103\n", encoding="utf-8")
    log = fake_env(monkeypatch, tmp_path, script)
    path = write_file(tmp_path / "smdr.yaml", f"""
        data_dir: data
        output: {tmp_path / 'events.jsonl'}
        http: {{port: 0}}
        click_to_call: {{secret: {SECRET}, extensions: ['101', '102'], outside_prefix: '9'}}
        sources:
          - {{name: pbx, url: "tapi://?library={library}&dial=1", layout: tapi-trace}}
        """)

    async def scenario() -> list[httpx.Response]:
        running, stop, url = await _start(path, caplog)
        answers = []
        async with httpx.AsyncClient(timeout=10) as client:
            for _ in range(100):  # bounded: until the TAPI lines are open (5 s)
                if log.exists() and log.read_text().count("open line=") == 3:
                    break
                await asyncio.sleep(0.05)
            for query in (_query(secret="wrong"), _query(secret=""), _query(**{"from": "103"}), _query(to="abc"),
                          _query(), _query(), _query(**{"from": "101"}, to="102")):
                answers.append(await client.get(url, params=query))
        stop.set()
        await running
        return answers

    with caplog.at_level(logging.INFO):
        wrong, empty, other, junk, placed, again, internal = arun(scenario(), timeout=40)
    assert (wrong.status_code, wrong.json()["success"]) == (401, False)
    assert empty.status_code == 401
    assert other.status_code == 403 and "103" in other.json()["error"]["message"]
    assert junk.status_code == 400
    assert placed.status_code == 200 and placed.json()["success"] is True
    assert placed.json()["result"] | {"reference": ""} == {"from": "102", "to": "909121234567", "via": "tapi",
                                                            "reference": ""}
    assert again.status_code == 429 and again.headers["Retry-After"] == "5"
    assert internal.status_code == 200 and internal.json()["result"]["to"] == "102"
    text = log.read_text(encoding="utf-8")
    assert "makecall line=102 dest=909121234567 priv=6" in text and "makecall line=101 dest=102" in text
    lines = [r.getMessage() for r in caplog.records if r.name == "smdr.makecall"]
    assert len(lines) == 7 and sum("wrong-secret" in line for line in lines) == 2
    assert all(SECRET not in line and "wrong'" not in line for line in lines)
    # (the test's own HTTP client, httpx, logs the URLs it requests: that is the CRM's side, not ours)
    assert not any(SECRET in r.getMessage() for r in caplog.records if r.name != "httpx")


def test_makecall_dials_through_gis(arun, tmp_path, caplog) -> None:
    with FakeGis() as gis:
        path = write_file(tmp_path / "smdr.yaml", f"""
            data_dir: data
            output: {tmp_path / 'events.jsonl'}
            http: {{port: 0}}
            click_to_call: {{secret: {SECRET}, extensions: ['201']}}
            sources:
              - {{name: cloud, url: "{gis.url}&interval=30", layout: gis-cdr, api_key: {gis.key},
                  tenant: {gis.tenant}}}
            """)

        async def scenario() -> httpx.Response:
            running, stop, url = await _start(path, caplog)
            async with httpx.AsyncClient(timeout=10) as client:
                answer = await client.get(url, params=_query(**{"from": "201"}, to="09351112233"))
            stop.set()
            await running
            return answer

        answer = arun(scenario(), timeout=40)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"success": True, "result": {"from": "201", "to": "09351112233", "via": "gis",
                                                             "reference": "1768383605.77"}}
        dial = [q for q in gis.requests if q.get("reqtype") == "DIAL"]
        assert [(q["source"], q["dest"]) for q in dial] == [("201", "09351112233")]
    ours = [r.getMessage() for r in caplog.records if r.name != "httpx" or "gisapi.php" in r.getMessage()]
    assert not any(gis.key in line or gis.tenant in line for line in ours)


def test_a_pbx_that_cannot_dial_says_so(arun, tmp_path, caplog) -> None:
    path = write_file(tmp_path / "smdr.yaml", f"""
        data_dir: data
        output: {tmp_path / 'events.jsonl'}
        http: {{port: 0}}
        click_to_call: {{secret: {SECRET}, extensions: ['102']}}
        sources:
          - {{name: pbx, url: "tcp-listen://127.0.0.1:0", layout: panasonic-kx-tda}}
        """)

    async def scenario() -> httpx.Response:
        running, stop, url = await _start(path, caplog)
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.get(url, params=_query())
        stop.set()
        await running
        return answer

    answer = arun(scenario())
    assert answer.status_code == 501
    body = answer.json()
    assert body["success"] is False and "click-to-call is not available" in body["error"]["message"]
