"""End to end over TCP on 127.0.0.1, both IP Office modes, through the pipeline into a ListSink:

* send mode: the IP Office connects to smdr's ``tcp-listen://`` port, sends, drops the link in the middle
  of a record, connects again and sends that record whole and the rest;
* listen mode: smdr's ``tcp://`` source connects to the IP Office, which drops the link in the middle of
  a record and sends it again, whole, on the next connection (its buffered records).

Every call arrives once, with the call_id of the golden `smdr parse` output."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ports import free_port

from smdr.normalize import PhoneRules
from smdr.pipeline import SourceSpec, run_source
from smdr.quarantine import Quarantine
from smdr.sinks import ListSink
from smdr.transports import Backoff

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "avaya-ipoffice" / "r9-30-fields.smdr"
GOLDEN = FIXTURE.with_name("r9-30-fields.golden.jsonl")
RECORDS = FIXTURE.read_bytes().split(b"\r\n")[:-1]
FAST_BACKOFF = {"initial": 0.02, "cap": 0.1, "jitter": 0.0}
CUT_EVERY = 5   # the link drops in the middle of every 6th record on a connection

pytestmark = pytest.mark.slow


def comparable(event: dict[str, Any]) -> dict[str, Any]:
    return {**event, "provenance": event["provenance"]["raw"]}


EXPECTED = [comparable(json.loads(line)) for line in GOLDEN.read_text(encoding="utf-8").splitlines()]


def spec(url: str) -> SourceSpec:
    return SourceSpec(name=FIXTURE.name, url=url, layout="avaya-ipoffice", phone=PhoneRules())


def connections() -> list[list[bytes]]:
    """What the IP Office sends on each connection: CUT_EVERY whole records, then half of the next one
    before the link drops; the next connection starts with that record again, whole."""
    sends, i = [], 0
    while i < len(RECORDS):
        batch = [r + b"\r\n" for r in RECORDS[i:i + CUT_EVERY]]
        i += CUT_EVERY
        if i < len(RECORDS):
            batch.append(RECORDS[i][:len(RECORDS[i]) // 2])
        sends.append(batch)
    return sends


async def wait_for_all(sink: ListSink, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while len(sink.events) < len(EXPECTED):
            await asyncio.sleep(0.01)


def check(sink: ListSink, quarantine: Quarantine, cuts: int) -> None:
    assert [comparable(e.to_dict()) for e in sink.events] == EXPECTED  # none lost or doubled, same call ids
    assert quarantine.counts == {"incomplete": cuts}  # each half record set aside, never parsed


async def push(port: int, batch: list[bytes]) -> None:
    """One connection of an IP Office in send mode: connect (smdr may still be starting), send, hang up."""
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            break
        except OSError:
            await asyncio.sleep(0.02)
    else:
        raise AssertionError(f"smdr never listened on port {port}")
    for chunk in batch:
        writer.write(chunk)
        await writer.drain()
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


def test_ip_office_in_send_mode_pushes_to_the_tcp_listen_port(arun: Callable[..., Any]) -> None:
    sends = connections()
    assert len(sends) >= 4

    async def scenario() -> None:
        port = free_port()
        sink, quarantine, stop = ListSink(), Quarantine(None), asyncio.Event()
        running = asyncio.create_task(run_source(spec(f"tcp-listen://127.0.0.1:{port}"), sink,
                                                 quarantine=quarantine, stop=stop))
        try:
            for index, batch in enumerate(sends):
                await push(port, batch)
                # the next connection comes once smdr has read this one to its end (as after a real drop)
                async with asyncio.timeout(10):
                    while quarantine.counts.get("incomplete", 0) < min(index + 1, len(sends) - 1):
                        await asyncio.sleep(0.01)
            await wait_for_all(sink)
        finally:
            stop.set()
            await asyncio.wait_for(running, 5)
        check(sink, quarantine, len(sends) - 1)

    arun(scenario(), timeout=30)


class ListeningIpOffice:
    """An IP Office in listen mode on 127.0.0.1: each connection gets the records not yet delivered whole."""

    def __init__(self) -> None:
        self.sends = connections()
        self.connections = 0
        self.done = asyncio.Event()
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> ListeningIpOffice:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"tcp://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _serve(self, _reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index, self.connections = self.connections, self.connections + 1
        batch = self.sends[index] if index < len(self.sends) else []
        for chunk in batch:
            writer.write(chunk)
            await writer.drain()
        if index >= len(self.sends) - 1:
            self.done.set()
            await asyncio.sleep(30)  # the last connection stays up, as a live IP Office does
        writer.close()


def test_smdr_connects_in_to_an_ip_office_in_listen_mode(arun: Callable[..., Any]) -> None:
    async def scenario() -> None:
        async with ListeningIpOffice() as pbx:
            sink, quarantine, stop = ListSink(), Quarantine(None), asyncio.Event()
            running = asyncio.create_task(run_source(spec(pbx.url), sink, quarantine=quarantine, stop=stop,
                                                     backoff=Backoff(**FAST_BACKOFF)))
            try:
                await asyncio.wait_for(pbx.done.wait(), 10)
                await wait_for_all(sink)
            finally:
                stop.set()
                await asyncio.wait_for(running, 5)
        check(sink, quarantine, len(pbx.sends) - 1)
        assert pbx.connections == len(pbx.sends)

    arun(scenario(), timeout=30)
