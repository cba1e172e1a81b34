"""End to end over TCP: Avaya CM connects OUT to smdr's tcp-listen source (CDR1 in change ip-services),
sends its date record and unformatted records, drops the link in the middle of a record and connects
again (with a new date record, as CM does on every link-up). Every call arrives once, with the right date
across midnight; the half record is set aside, never parsed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
from ports import free_port

from smdr.layouts.record import ParserContext
from smdr.normalize import zone
from smdr.pipeline import SourceSpec, run_source
from smdr.quarantine import Quarantine
from smdr.sinks import ListSink
from smdr.transports import Backoff

TAIL = b"\r\n\x00\x00\x00"
FAST_BACKOFF = {"initial": 0.02, "cap": 0.1, "jitter": 0.0}
TEHRAN = zone("Asia/Tehran")

pytestmark = pytest.mark.slow


def incoming(hhmm: str, hmmt: str, ext: str, caller: str, circuit: str) -> bytes:
    """An unformatted cond-9 record (columns of avaya-cm-unformatted), 100 characters."""
    line = f"{hhmm}{hmmt}9{'':8}{ext:>15}{caller:>10}{'':24}4{circuit}   0  {'707':>4} 1{'':6}000"
    return line.ljust(100).encode()


# (record, expected end as month/day hh:mm); the year is resolved from "now" by the engine's own rule
CALLS_BEFORE_CUT = [
    (incoming("2301", "0017", "5972", "2188776655", "001"), (1, 13, 23, 1)),
    (incoming("2344", "0023", "5190", "9127654321", "002"), (1, 13, 23, 44)),
]
CUT_CALL = (incoming("2358", "0005", "5974", "3132221100", "003"), (1, 13, 23, 58))
CALLS_AFTER = [
    (incoming("0003", "0011", "5971", "2144556677", "001"), (1, 14, 0, 3)),  # no midnight record yet
    (b"00:00 01/14", None),                                                   # the late midnight record
    (incoming("0010", "0040", "5972", "9121112233", "002"), (1, 14, 0, 10)),
]


async def connect(port: int) -> asyncio.StreamWriter:
    """CM's side: connect to the collector, retrying while smdr is not listening yet (bounded)."""
    for _ in range(400):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            return writer
        except OSError:
            await asyncio.sleep(0.025)
    raise AssertionError(f"smdr never listened on port {port}")


async def cm_session(port: int, chunks: list[bytes]) -> None:
    writer = await connect(port)
    for chunk in chunks:
        writer.write(chunk)
        await writer.drain()
        await asyncio.sleep(0.01)  # separate TCP segments, as CM sends one record at a time
    writer.close()
    await writer.wait_closed()


def test_cm_connects_out_drops_mid_record_and_reconnects(arun: Callable[..., Any]) -> None:
    async def scenario() -> None:
        port = free_port()
        sink, quarantine, stop = ListSink(), Quarantine(None), asyncio.Event()
        spec = SourceSpec(name="cm", url=f"tcp-listen://127.0.0.1:{port}", layout="avaya-cm-unformatted")
        running = asyncio.create_task(run_source(spec, sink, quarantine=quarantine, stop=stop,
                                                 backoff=Backoff(**FAST_BACKOFF)))
        try:
            cut = CUT_CALL[0]
            first = [b"23:00 01/13" + TAIL] + [rec + TAIL for rec, _ in CALLS_BEFORE_CUT] + [cut[:57]]
            await cm_session(port, first)
            async with asyncio.timeout(10):  # the half record is set aside when the link drops
                while quarantine.counts.get("incomplete", 0) < 1:
                    await asyncio.sleep(0.01)
            second = [b"23:59 01/13" + TAIL, cut[:30], cut[30:] + TAIL]
            second += [rec + TAIL for rec, _ in CALLS_AFTER]
            await cm_session(port, second)
            last = CALLS_AFTER[-1][0].decode().rstrip()
            async with asyncio.timeout(10):
                while not any(e.provenance.raw == last for e in sink.events):
                    await asyncio.sleep(0.01)
        finally:
            stop.set()
            await asyncio.wait_for(running, 5)

        calls = [c for c in CALLS_BEFORE_CUT + [CUT_CALL] + CALLS_AFTER if c[1] is not None]
        raws = [e.provenance.raw for e in sink.events]
        assert raws == [rec.decode().rstrip() for rec, _ in calls]  # each call once, in order
        assert len({e.call_id for e in sink.events}) == len(calls)
        now = datetime.now(TEHRAN)
        for event, (_, (month, day, hour, minute)) in zip(sink.events, calls):
            year = ParserContext(received_at=now).resolve_year(month, day).year
            assert event.endtime.replace(tzinfo=None) == datetime(year, month, day, hour, minute), event
        assert event.endtime.date() > date(year, 1, 13)
        assert quarantine.counts == {"incomplete": 1}

    arun(scenario(), timeout=40)
