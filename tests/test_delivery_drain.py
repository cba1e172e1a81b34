"""The drain's own machinery: delivery marks in batches, ready calls read with their head event, the
form POST straight to the client's pool."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from test_delivery_support import CrmDouble, SimCrm, crm_settings, delivering, make_event, states, wait_until

from smdr.crm import GenericClient
from smdr.outbox import Outbox
from smdr.outbox.marks import DeliveryMarks
from smdr.outbox.ready import ReadyCalls


def delivered_ids(outbox: Outbox) -> set[int]:
    return {row[0] for row in outbox.store.conn.execute("SELECT id FROM events WHERE state = 'delivered'")}


def test_marks_of_one_turn_go_in_one_batch_and_the_next_waits_for_the_interval(outbox: Outbox) -> None:
    failures: list[Exception] = []

    async def go() -> None:
        for index in range(30):
            await outbox.emit(make_event(f"c{index}"))
        marks = DeliveryMarks(outbox, failures.append, interval=0.3)
        first = [marks.add((event_id, str(event_id), None, time.time())) for event_id in range(1, 21)]
        assert len(set(first)) == 1  # one future for the batch
        await first[0]
        assert marks.batches == 1 and delivered_ids(outbox) == set(range(1, 21))
        second = marks.add((21, "21", None, time.time()))
        await asyncio.sleep(0.01)
        # not before the interval since the last hand-over (the loop's clock never fires a timer early)
        assert not second.done() and marks.batches == 1
        third = marks.add((22, "22", None, time.time()))
        assert third is second
        await second
        assert marks.batches == 2 and delivered_ids(outbox) == set(range(1, 23))
        later = marks.add((23, "23", None, time.time()))
        await marks.settle()  # at the stop: handed over at once, not after the interval
        assert later.done() and 23 in delivered_ids(outbox)
    asyncio.run(go())
    assert not failures and not states(outbox)["dead"]


def test_a_backlog_drains_with_at_most_one_batch_of_marks_per_interval(crm: SimCrm, outbox: Outbox) -> None:
    async def go() -> None:
        for index in range(300):
            await outbox.emit(make_event(f"cdr-{index}"))
        started = time.monotonic()
        async with delivering(outbox, crm_settings(crm.url, concurrency=8)) as deliverer:
            await wait_until(lambda: states(outbox)["delivered"] == 300, timeout=60)
            elapsed = time.monotonic() - started
            batches = deliverer._marks.batches
        assert 1 <= batches <= elapsed / deliverer._marks._interval + 1
    asyncio.run(go())
    assert sorted(event["call_id"] for event in crm.events()) == sorted(f"cdr-{index}" for index in range(300))


def test_a_ready_call_claimed_elsewhere_since_the_read_is_looked_up_again(outbox: Outbox) -> None:
    async def go() -> None:
        for call_id, event in (("a", "ringing"), ("b", "ringing"), ("b", "answered"), ("c", "answered")):
            await outbox.emit(make_event(call_id, event))
    asyncio.run(go())
    ready = ReadyCalls(outbox.store)
    ready.refill(time.time(), 10, claimed={"c"}, horizon=10.0)
    ready.claimed_elsewhere("a")  # a popup task took it (and may have sent its ringing) meanwhile
    first = ready.take(claimed=set())
    assert first is not None and first.call_id == "a" and first.head is None
    second = ready.take(claimed=set())
    assert second is not None and second.call_id == "b" and second.more
    assert second.head is not None and second.head.event == "ringing"
    assert ready.take(claimed=set()) is None  # c was claimed at the read: left out


def test_the_form_post_sends_the_same_form_as_a_client_post(double: CrmDouble) -> None:
    async def go() -> None:
        async with GenericClient(crm_settings(double.url)) as client:
            await client.process_cdr(make_event("c1", phone="+98 912 & =x"))
    asyncio.run(go())
    [request] = double.cdrs()
    assert request.fields == {"secretkey": crm_settings(double.url).secretkey,
                              **make_event("c1", phone="+98 912 & =x").cdr_fields()}


def test_without_the_private_httpx_method_the_form_goes_through_the_client(
        double: CrmDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    def poster_of_a_later_httpx(client: httpx.AsyncClient, *_args: object) -> None:
        raise AttributeError(f"{type(client).__name__!r} object has no attribute '_transport_for_url'")

    monkeypatch.setattr("smdr.crm.client.FormPoster", poster_of_a_later_httpx)

    async def go() -> None:
        async with GenericClient(crm_settings(double.url)) as client:
            assert not client._posters
            await client.process_cdr(make_event("c1", phone="+98 912 & =x"))
    asyncio.run(go())
    [request] = double.cdrs()
    assert request.fields == {"secretkey": crm_settings(double.url).secretkey,
                              **make_event("c1", phone="+98 912 & =x").cdr_fields()}
