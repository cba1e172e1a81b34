"""End to end over TCP: a Panasonic KX-TDA stream from the Panasonic-style server, with the login and with
disconnects in the middle of lines, through the pipeline into a ListSink: no record lost or doubled."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from panasonic_server import PanasonicSmdrServer

from smdr.normalize import PhoneRules
from smdr.pipeline import SourceSpec, run_source
from smdr.quarantine import Quarantine
from smdr.sinks import ListSink
from smdr.transports import Backoff

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "panasonic" / "kx-tda-a.smdr"  # Pattern A, CR LF, page breaks, **/** lines
GOLDEN = FIXTURE.with_name("kx-tda-a.golden.jsonl")            # `smdr parse` of the same stream
FAST_BACKOFF = {"initial": 0.02, "cap": 0.1, "jitter": 0.0}

pytestmark = pytest.mark.slow


def source_spec(url: str) -> SourceSpec:
    # the same name, layout and phone rules as the golden output (fixtures/panasonic/fixtures.yaml)
    return SourceSpec(name=FIXTURE.name, url=url, layout="panasonic-kx-tda",
                      phone=PhoneRules(area_code="21", local_lengths=(8,)))


def comparable(event: dict[str, Any]) -> dict[str, Any]:
    """An event's fields and raw record, without where and when it was received (position, received_at)."""
    return {**event, "provenance": event["provenance"]["raw"]}


async def reference_events() -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The pipeline's output for the file:// transport, checked against the golden `smdr parse` output."""
    sink, quarantine = ListSink(), Quarantine(None)
    await run_source(source_spec(f"file://{FIXTURE}"), sink, quarantine=quarantine)
    events = [comparable(e.to_dict()) for e in sink.events]
    golden = [comparable(json.loads(line)) for line in GOLDEN.read_text(encoding="utf-8").splitlines()]
    assert events == golden
    return events, dict(quarantine.counts)


async def wait_for_event(sink: ListSink, raw: str, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not any(e.provenance and e.provenance.raw == raw for e in sink.events):
            await asyncio.sleep(0.01)


@pytest.mark.parametrize(("cut_every", "page_every"), [(None, None), (5, None), (3, 7)])
def test_panasonic_tcp_with_mid_line_disconnects(cut_every: int | None, page_every: int | None,
                                                 arun: Callable[..., Any]) -> None:
    assert FIXTURE.exists(), f"missing fixture {FIXTURE} (fixtures/panasonic/make_fixtures.py writes it)"
    stream = FIXTURE.read_bytes()
    lines = stream.split(b"\r\n")
    assert lines[-1] == b"" and all(b"\r" not in line and b"\n" not in line for line in lines)

    async def scenario() -> None:
        expected, expected_quarantine = await reference_events()
        async with PanasonicSmdrServer(lines[:-1], cut_every=cut_every, page_every=page_every) as server:
            sink, quarantine, stop = ListSink(), Quarantine(None), asyncio.Event()
            running = asyncio.create_task(run_source(
                source_spec(f"{server.url}?login=panasonic&password=PCCSMDR"), sink,
                quarantine=quarantine, stop=stop, backoff=Backoff(**FAST_BACKOFF)))
            try:
                await asyncio.wait_for(server.all_sent.wait(), 10)
                await wait_for_event(sink, expected[-1]["provenance"])
            finally:
                stop.set()
                await asyncio.wait_for(running, 5)

        # none lost or doubled, and the same call ids
        assert [comparable(e.to_dict()) for e in sink.events] == expected
        incomplete = quarantine.counts.pop("incomplete", 0)
        assert incomplete == server.cuts  # each cut-off half line is set aside, never parsed
        assert quarantine.counts == expected_quarantine
        if cut_every:
            assert server.cuts >= 3 and server.logins == server.cuts + 1

    arun(scenario(), timeout=30)
