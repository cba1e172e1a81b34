"""End to end over a serial line: a Panasonic KX-TDA stream written into one end of a socat pty pair at
9600 baud, read by the pipeline from the other end (serial://) into a ListSink: the same events as
`smdr parse` (the pipeline over file://) of the same stream -- none lost, none doubled."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import serial
from ptys import PtyPair

from smdr import pipeline
from smdr.normalize import PhoneRules
from smdr.pipeline import SourceSpec, run_source
from smdr.quarantine import Quarantine
from smdr.sinks import ListSink
from smdr.transports import Transport

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "panasonic" / "kx-tda-a.smdr"
GOLDEN = FIXTURE.with_name("kx-tda-a.golden.jsonl")

pytestmark = pytest.mark.slow


def source_spec(url: str) -> SourceSpec:
    return SourceSpec(name=FIXTURE.name, url=url, layout="panasonic-kx-tda",
                      phone=PhoneRules(area_code="21", local_lengths=(8,)))


def comparable(event: dict[str, Any]) -> dict[str, Any]:
    return {**event, "provenance": event["provenance"]["raw"]}


async def reference_events() -> tuple[list[dict[str, Any]], dict[str, int]]:
    sink, quarantine = ListSink(), Quarantine(None)
    await run_source(source_spec(f"file://{FIXTURE}"), sink, quarantine=quarantine)
    events = [comparable(e.to_dict()) for e in sink.events]
    golden = GOLDEN.read_text(encoding="utf-8").splitlines()
    assert events == [comparable(json.loads(line)) for line in golden]
    return events, dict(quarantine.counts)


def write_like_a_pbx(path: Path, data: bytes) -> None:
    """The PBX side: 9600 8N1, the stream in uneven pieces (runs in a worker thread)."""
    pieces = random.Random(9600)
    with serial.Serial(str(path), 9600, bytesize=8, parity="N", stopbits=1) as port:
        position = 0
        while position < len(data):
            size = pieces.randint(1, 97)
            port.write(data[position:position + size])
            position += size
        port.flush()


def test_kx_tda_stream_through_a_pty_at_9600_baud(ptys: PtyPair, arun: Callable[..., Any],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    assert FIXTURE.exists(), f"missing fixture {FIXTURE} (fixtures/panasonic/make_fixtures.py writes it)"
    opened = asyncio.Event()
    real_open_url = pipeline.open_url

    def open_url_telling_when_open(url: str, **options: Any) -> Transport:
        # pyserial empties the input buffer when it opens a port: the PBX side must start writing after that
        transport = real_open_url(url, **options)
        open_port = transport.open

        async def open_and_tell() -> None:
            await open_port()
            opened.set()

        transport.open = open_and_tell  # type: ignore[method-assign]
        return transport

    monkeypatch.setattr(pipeline, "open_url", open_url_telling_when_open)

    async def scenario() -> None:
        expected, expected_quarantine = await reference_events()
        sink, quarantine, stop = ListSink(), Quarantine(None), asyncio.Event()
        url = f"serial://{ptys.a}?baudrate=9600&bytesize=8&parity=N&stopbits=1"
        running = asyncio.create_task(run_source(source_spec(url), sink, quarantine=quarantine, stop=stop))
        try:
            await asyncio.wait_for(opened.wait(), 5)
            stream = FIXTURE.read_bytes()
            await asyncio.get_running_loop().run_in_executor(None, write_like_a_pbx, ptys.b, stream)
            async with asyncio.timeout(10):
                while not any(e.provenance.raw == expected[-1]["provenance"] for e in sink.events):
                    await asyncio.sleep(0.01)
        finally:
            stop.set()
            await asyncio.wait_for(running, 5)
        assert [comparable(e.to_dict()) for e in sink.events] == expected
        assert quarantine.counts == expected_quarantine

    arun(scenario(), timeout=30)
