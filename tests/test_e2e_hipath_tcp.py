"""End to end over TCP the HiPath way round: the PBX connects OUT to smdr's tcp-listen source, sends its
records, breaks the connection in the middle of a record and connects again; every call arrives once,
with the call ids of a file replay of the same stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hipath_pbx import HiPathTcpClient

from smdr.normalize import PhoneRules
from smdr.pipeline import SourceSpec, run_source
from smdr.quarantine import Quarantine
from smdr.sinks import ListSink
from smdr.transports import Backoff
from smdr.transports.tcp import TcpListenTransport

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "siemens"
FAST_BACKOFF = {"initial": 0.02, "cap": 0.1, "jitter": 0.0}
STREAMS = {  # stream -> (layout, line end, phone rules), as fixtures/siemens/fixtures.yaml parses them
    "hipath-3000.smdr": ("siemens-hipath-3000", b"\r\n", PhoneRules(area_code="21", local_lengths=(8,))),
    "hipath-lan.smdr": ("siemens-hipath-lan", b"\n", PhoneRules()),
}

pytestmark = pytest.mark.slow


def source_spec(stream: str, url: str) -> SourceSpec:
    layout, _, phone = STREAMS[stream]
    return SourceSpec(name=stream, url=url, layout=layout, phone=phone)


def comparable(event: dict[str, Any]) -> dict[str, Any]:
    """An event's fields and raw record, without where and when it was received (position, received_at)."""
    return {**event, "provenance": event["provenance"]["raw"]}


async def reference_events(stream: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The pipeline's output for the file:// transport, checked against the golden `smdr parse` output."""
    sink, quarantine = ListSink(), Quarantine(None)
    await run_source(source_spec(stream, f"file://{FIXTURES / stream}"), sink, quarantine=quarantine)
    events = [comparable(e.to_dict()) for e in sink.events]
    golden = (FIXTURES / stream).with_suffix(".golden.jsonl").read_text(encoding="utf-8").splitlines()
    assert events == [comparable(json.loads(line)) for line in golden]
    return events, dict(quarantine.counts)


async def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("stream", sorted(STREAMS))
@pytest.mark.parametrize("cut_every", [None, 4, 1])
def test_hipath_connects_out_and_every_call_arrives_once(stream: str, cut_every: int | None,
                                                         arun: Callable[..., Any]) -> None:
    _, line_end, _ = STREAMS[stream]
    data = (FIXTURES / stream).read_bytes()
    records = data.split(line_end)
    assert records[-1] == b"" and all(b"\r" not in r and b"\n" not in r for r in records[:-1])

    async def scenario() -> HiPathTcpClient:
        expected, expected_quarantine = await reference_events(stream)
        transport = TcpListenTransport("tcp-listen://127.0.0.1:0")
        await transport.start()  # bound before the PBX is told the port, as a technician programs it
        pbx = HiPathTcpClient(transport.port, records[:-1], line_end=line_end, cut_every=cut_every, max_cuts=5)
        sink, quarantine, stop = ListSink(), Quarantine(None), asyncio.Event()
        running = asyncio.create_task(run_source(
            source_spec(stream, "tcp-listen://127.0.0.1:0"), sink, quarantine=quarantine, stop=stop,
            backoff=Backoff(**FAST_BACKOFF), transport=transport))
        try:
            await asyncio.wait_for(pbx.run(), 10)
            last = expected[-1]["provenance"]
            await wait_for(lambda: any(e.provenance and e.provenance.raw == last for e in sink.events))
            await wait_for(lambda: sum(quarantine.counts.values()) >= sum(expected_quarantine.values()) + pbx.cuts)
        finally:
            await pbx.hang_up()
            stop.set()
            await asyncio.wait_for(running, 5)
        assert transport.port is None  # the source released the listening socket

        # none lost or doubled, and the call ids of the file replay
        assert [comparable(e.to_dict()) for e in sink.events] == expected
        incomplete = quarantine.counts.pop("incomplete", 0)
        assert incomplete == pbx.cuts  # each half record is set aside, never parsed
        assert quarantine.counts == expected_quarantine
        return pbx

    pbx = arun(scenario(), timeout=30)
    if cut_every:
        assert pbx.cuts >= 2 and pbx.connections == pbx.cuts + 1
    else:
        assert pbx.cuts == 0 and pbx.connections == 1
