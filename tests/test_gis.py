"""The gis:// source against a fake GIS API on 127.0.0.1: overlapping windows, once-only delivery across
restarts, slow answers, errors, HTML pages, a window with 1,000 records; the key never in a log line."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from gis_server import FakeGis, cdr

from smdr.cti.dialing import DialError
from smdr.pipeline import SourceSpec, run_source
from smdr.sinks import ListSink
from smdr.transports import open_url

ZONE = ZoneInfo("Asia/Jerusalem")


def minutes_ago(n: int) -> str:
    return (datetime.now(ZONE) - timedelta(minutes=n)).strftime("%Y-%m-%d %H:%M:%S")


def transport(gis: FakeGis, tmp_path, **options):
    return open_url(gis.url, key=gis.key, tenant=gis.tenant, interval="0.05", timeout="0.5",
                    state_path=str(tmp_path / "seen.db"), **options)


def lines(chunk: bytes) -> list[dict]:
    return [json.loads(line) for line in chunk.decode().splitlines()]


def test_overlapping_windows_deliver_each_record_once_across_restarts(tmp_path, arun) -> None:
    with FakeGis() as gis:
        gis.records = [cdr(1, minutes_ago(30)), cdr(2, minutes_ago(20))]

        async def run() -> None:
            first = transport(gis, tmp_path)
            await first.open()
            assert [r["uniqueid"] for r in lines(await first.read())] == ["1768383605.1", "1768383605.2"]
            gis.records.append(cdr(3, minutes_ago(5)))
            assert [r["uniqueid"] for r in lines(await first.read())] == ["1768383605.3"]
            waiting = asyncio.create_task(first.read())  # asking again = the chunk before was stored
            await asyncio.sleep(0.2)
            waiting.cancel()
            await first.shutdown()
            gis.records.append(cdr(4, minutes_ago(1)))
            again = transport(gis, tmp_path)
            await again.open()
            assert [r["uniqueid"] for r in lines(await again.read())] == ["1768383605.4"]
            assert again.duplicates == 3
            await again.shutdown()

        arun(run())
        windows = [(q["start"], q["end"]) for q in gis.requests]
        assert len(windows) >= 3
        for (_, end_a), (start_b, _) in itertools.pairwise(windows):
            assert start_b < end_a  # every window overlaps the one before it


def test_a_record_handed_on_but_not_stored_comes_again_after_a_restart(tmp_path, arun) -> None:
    with FakeGis() as gis:
        gis.records = [cdr(1, minutes_ago(10))]

        async def run() -> None:
            crashed = transport(gis, tmp_path)
            await crashed.open()
            assert len(lines(await crashed.read())) == 1
            await crashed.shutdown()   # no second read: the pipeline never confirmed record 1
            again = transport(gis, tmp_path)
            await again.open()
            assert [r["uniqueid"] for r in lines(await again.read())] == ["1768383605.1"]
            await again.shutdown()

        arun(run())


def test_errors_html_and_slow_answers_are_retried_and_the_key_is_never_logged(tmp_path, arun, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with FakeGis(slow_seconds=1.5) as gis:
        gis.records = [cdr(1, minutes_ago(3), disposition="NO ANSWER", billsec=0)]
        gis.faults = ["error", "html", "slow"]

        async def run() -> list[dict]:
            source = transport(gis, tmp_path)
            await source.open()
            try:
                return lines(await source.read())
            finally:
                await source.shutdown()

        assert [r["uniqueid"] for r in arun(run())] == ["1768383605.1"]
        assert len(gis.requests) == 4
    text = caplog.text
    assert "HTTP 500" in text and "HTML page" in text and "Timeout" in text
    assert gis.key not in text and gis.tenant not in text


def test_a_window_of_1000_records_through_the_gis_cdr_layout(tmp_path, arun) -> None:
    with FakeGis(shape="list") as gis:
        gis.records = [cdr(n, minutes_ago(50 - n // 25), src=f"0912{n:07d}", dst=str(200 + n % 10),
                           disposition="ANSWERED" if n % 3 else "NO ANSWER") for n in range(1000)]
        sink = ListSink()
        spec = SourceSpec(name="gis", url=gis.url, layout="gis-cdr", timezone="Asia/Jerusalem",
                          transport_options={"key": gis.key, "tenant": gis.tenant, "interval": "0.05",
                                             "state_path": str(tmp_path / "seen.db")})

        async def run(until: int) -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(run_source(spec, sink, stop=stop))
            while len(sink.events) < until:
                assert not task.done(), task
                await asyncio.sleep(0.05)
            polls = len(gis.requests)
            while len(gis.requests) < polls + 3:  # a few more overlapping windows: nothing again
                await asyncio.sleep(0.05)
            stop.set()
            await task

        arun(run(1000), timeout=60)
        assert len(sink.events) == 1000 and len({e.call_id for e in sink.events}) == 1000
        first = sink.events[1]
        assert (first.event, first.agent, first.phone, first.direction, first.duration) == (
            "answered", "201", "09120000001", "inbound", 30)
        assert json.loads(first.provenance.raw)["channel"] == "SIP/trunk-00000001"  # the record as answered
        assert sum(e.event == "no_answer" for e in sink.events) == 334
        gis.records.append(cdr(5000, minutes_ago(0), src="203", dst="09351112233"))
        arun(run(1001), timeout=60)   # a restart: only the new record
        assert len(sink.events) == 1001
        assert (sink.events[-1].direction, sink.events[-1].agent) == ("outbound", "203")


def test_dial_goes_to_the_api_and_a_refusal_is_an_error(tmp_path, arun) -> None:
    with FakeGis() as gis:
        async def run() -> None:
            source = transport(gis, tmp_path, autoanswer="1")
            await source.open()
            result = await source.dial("201", "09121234567")
            assert (result.via, result.reference) == ("gis", "1768383605.77")
            gis.dial_answer = {"status": "error", "error": "extension busy"}
            with pytest.raises(DialError) as refused:
                await source.dial("201", "09121234567")
            assert refused.value.kind == "failed" and gis.key not in refused.value.message
            await source.shutdown()

        arun(run())
        dial = gis.requests[0]
        assert (dial["reqtype"], dial["source"], dial["dest"], dial["account"], dial["autoanswer"]) == (
            "DIAL", "201", "09121234567", "SOURCE", "yes")


def test_the_key_and_tenant_stay_out_of_the_shown_url(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SMDR_GIS_KEY", "env-key-123")
    monkeypatch.setenv("SMDR_GIS_TENANT", "env-tenant-9")
    source = open_url("gis://api.phoncall.co/pbx/gisapi.php?interval=30")
    assert source.credentials.key == "env-key-123"
    with_secrets = open_url("gis://api.phoncall.co/pbx/gisapi.php?key=url-key-1&tenant=url-tenant-2")
    assert "url-key-1" not in with_secrets.display_url and "url-tenant-2" not in with_secrets.display_url
    assert "env-key-123" not in repr(source)
