"""The event loop never waits for a commit: a popup goes out while its ringing event's commit is still
being written, a source reads on while its last chunk is being committed, a burst read is decoded and
encoded in slices and still committed as one, in order. The writer is held with a job that blocks on
an event, so "before the commit" is a fact of the test, not a race."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_delivery_support import SimCrm, crm_settings, delivering, make_event, states, wait_until

from smdr import slicing
from smdr.journal import Journal
from smdr.outbox import Outbox
from smdr.outbox.early import MAX_EARLY_POPUPS
from smdr.outbox.holdback import PopupHoldBack
from smdr.pipeline import SourceSpec, make_decoder
from smdr.slicing import SLICE_BYTES, bulk_over, feed_in_slices, slice_ends
from smdr.source_journal import SourceJournal

STREAM = Path(__file__).resolve().parent.parent / "fixtures" / "panasonic" / "kx-tda-a.smdr"
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
WAIT = 10.0  # seconds at most for the blocked writer job to be released


def _hold_writer(outbox: Outbox) -> tuple[threading.Event, asyncio.Future]:
    """A job that keeps the writer's transaction open until the returned event is set."""
    release = threading.Event()

    def blocked(conn: sqlite3.Connection) -> None:
        assert release.wait(WAIT), "the test did not release the writer"

    return release, outbox.writer.submit(blocked)


def _decoder():
    return make_decoder(SourceSpec(name="pbx", url="", layout="panasonic-kx-tda"))


def test_slices_end_at_line_ends_and_give_the_same_events_as_one_feed() -> None:
    data = STREAM.read_bytes() * 8
    assert len(data) > 3 * SLICE_BYTES
    ends = slice_ends(data)
    assert ends[-1] == len(data) and len(ends) > 3
    assert all(data[end - 1:end] == b"\n" for end in ends[:-1])
    assert all(0 < b - a <= SLICE_BYTES for a, b in zip([0, *ends], ends))
    assert slice_ends(b"x" * (SLICE_BYTES * 2 + 5)) == [SLICE_BYTES, SLICE_BYTES * 2, SLICE_BYTES * 2 + 5]

    whole = _decoder().feed(data, NOW)
    sliced = asyncio.run(feed_in_slices(_decoder(), data, NOW))
    assert [e.to_dict() for e in sliced] == [e.to_dict() for e in whole]


def test_a_popup_reaches_the_crm_while_its_commit_is_held_then_is_marked_delivered(
        crm: SimCrm, outbox: Outbox) -> None:
    async def go() -> None:
        async with delivering(outbox, crm_settings(crm.url)):
            release, held = _hold_writer(outbox)
            emitted = asyncio.ensure_future(outbox.emit(make_event("ring-1", "ringing")))
            try:
                await wait_until(lambda: crm.events_of("ring-1") == ["ringing"])
                assert not emitted.done()  # its commit waits behind the held job
                assert outbox.store.counts()["queued"] == 0  # not on disk yet
            finally:
                release.set()
            await held
            await emitted
            await wait_until(lambda: states(outbox)["delivered"] == 1)
        row = outbox.store.rows(limit=10)[0]
        assert (row.call_id, row.state) == ("ring-1", "delivered") and row.record_id
    asyncio.run(asyncio.wait_for(go(), 30))
    assert crm.events_of("ring-1") == ["ringing"]  # once: the committed row was settled, not sent again


def test_popups_go_out_at_once_while_more_than_max_early_popups_wait_for_their_commit(
        crm: SimCrm, outbox: Outbox) -> None:
    """An early popup that has its answer and only waits for its commit does not count against
    MAX_EARLY_POPUPS: while commits lag (a burst being written), every ringing event still goes out at once,
    not once its own commit is written."""
    count = MAX_EARLY_POPUPS + 8

    def arrived(call_id: str) -> Callable[[], bool]:
        return lambda: crm.events_of(call_id) == ["ringing"]

    async def go() -> None:
        async with delivering(outbox, crm_settings(crm.url)):
            release, held = _hold_writer(outbox)
            emitted: list[asyncio.Future[None]] = []
            try:
                for index in range(count):  # one ring after another, as a PBX prints them
                    emitted.append(asyncio.ensure_future(outbox.emit(make_event(f"ring-{index}", "ringing"))))
                    await wait_until(arrived(f"ring-{index}"), timeout=3)
                assert not any(future.done() for future in emitted)  # every commit waits behind the held job
            finally:
                release.set()
            await held
            await asyncio.gather(*emitted)
            await wait_until(lambda: states(outbox)["delivered"] == count)
    asyncio.run(asyncio.wait_for(go(), 60))
    assert all(crm.events_of(f"ring-{index}") == ["ringing"] for index in range(count))  # each once


def test_a_ringing_event_behind_an_uncommitted_event_of_its_call_waits_for_its_turn(
        crm: SimCrm, outbox: Outbox) -> None:
    async def go() -> None:
        async with delivering(outbox, crm_settings(crm.url)):
            release, held = _hold_writer(outbox)
            first = asyncio.ensure_future(outbox.emit(make_event("c1", "answered")))
            second = asyncio.ensure_future(outbox.emit(make_event("c1", "ringing")))
            try:
                await asyncio.sleep(0.3)  # time enough for an early popup, which must not go out
                assert crm.events_of("c1") == []
            finally:
                release.set()
            await asyncio.gather(held, first, second)
            await wait_until(lambda: states(outbox)["delivered"] == 2)
    asyncio.run(asyncio.wait_for(go(), 30))
    assert crm.events_of("c1") == ["answered", "ringing"]


def test_batches_reach_the_writer_in_call_order_while_a_big_one_is_encoded(outbox: Outbox) -> None:
    async def go() -> None:
        big = [make_event(f"big-{index}") for index in range(1000)]  # encoded over several loop turns
        await asyncio.gather(outbox.emit_many(big), outbox.emit(make_event("small")))
    asyncio.run(go())
    rows = outbox.store.rows(limit=2000)
    assert [row.call_id for row in sorted(rows, key=lambda row: row.id)][-1] == "small"
    assert len(rows) == 1001


def test_a_source_reads_on_while_its_chunk_is_committed_and_the_state_follows_its_events(
        tmp_path: Path, outbox: Outbox) -> None:
    lines = STREAM.read_bytes().split(b"\r\n")
    first = b"\r\n".join(lines[:10]) + b"\r\n"
    second = b"\r\n".join(lines[10:]) + b"\r\n"

    async def deliver(call) -> None:
        await call()

    async def go() -> tuple[list[str], str]:
        source = SourceJournal("pbx", Journal(tmp_path / "journal"), outbox, _decoder(), deliver)
        release, held = _hold_writer(outbox)
        try:
            await asyncio.wait_for(source.process(first, NOW), WAIT)  # returns before its commit
            await asyncio.wait_for(source.process(second, NOW), WAIT)
            assert outbox.store.counts()["queued"] == 0
        finally:
            release.set()
        await held
        await asyncio.wait_for(source.flush(), WAIT)
        source.close()
        rows = sorted(outbox.store.rows(limit=1000), key=lambda row: row.id)
        return [json.loads(row.payload)["provenance"]["position"] for row in rows], outbox.source_state("pbx")

    positions, state = asyncio.run(go())
    expected = _decoder().feed(STREAM.read_bytes() + b"\r\n", NOW)
    assert positions == [event.provenance.position for event in expected]
    assert json.loads(state)["offset"] == len(first) + len(second)


def test_the_daemon_takes_start_up_out_of_the_collector_and_makes_middle_collections_smaller_full_ones_rarer(
) -> None:
    import gc

    from smdr.daemon import FULL_COLLECTION_EVERY, MIDDLE_COLLECTION_EVERY, _settle_collector

    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)  # Python's defaults
        _settle_collector()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (700, MIDDLE_COLLECTION_EVERY, FULL_COLLECTION_EVERY)
        assert MIDDLE_COLLECTION_EVERY * FULL_COLLECTION_EVERY >= 10 * 100  # full collections no more often
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def _returns_at_once(coroutine) -> bool:
    """True when the coroutine ends without giving the loop a turn (no await that suspends)."""
    try:
        coroutine.send(None)
    except StopIteration:
        return True
    coroutine.close()
    return False


def test_call_records_step_aside_while_a_burst_is_read_and_at_most_for_their_bound(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slicing, "_BULK", slicing._Bulk())
    monkeypatch.setattr(slicing, "BULK_QUIET", 30.0)  # the burst counts as being read for the whole test
    monkeypatch.setattr(slicing, "BULK_STEP_ASIDE", 0.3)
    live = STREAM.read_bytes()[:SLICE_BYTES]
    assert _returns_at_once(bulk_over())
    asyncio.run(feed_in_slices(_decoder(), live, NOW))  # a read of live size: not a burst
    assert _returns_at_once(bulk_over())

    async def burst_then_a_call_record() -> float:
        await feed_in_slices(_decoder(), STREAM.read_bytes() * 8, NOW)
        assert not _returns_at_once(bulk_over())
        started = time.monotonic()
        await asyncio.wait_for(PopupHoldBack().wait(), 10)  # what a call record awaits before its request
        return time.monotonic() - started

    waited = asyncio.run(burst_then_a_call_record())
    assert 0.29 <= waited < 10  # it stepped aside, and for its bound only: the burst was still "being read"


def test_urgent_over_returns_at_once_without_urgent_work_and_waits_for_it_within_its_bound(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slicing, "_URGENT", slicing._Urgent())
    assert _returns_at_once(slicing.urgent_over())

    async def go() -> tuple[bool, float]:
        slicing.urgent_started()
        waiting = asyncio.ensure_future(slicing.urgent_over())
        await asyncio.sleep(0.05)
        still_waiting = not waiting.done()
        slicing.urgent_done()
        await asyncio.wait_for(waiting, WAIT)
        slicing.urgent_started()  # never done: the bound ends the wait
        started = time.monotonic()
        await asyncio.wait_for(slicing.urgent_over(), WAIT)
        return still_waiting, time.monotonic() - started

    monkeypatch.setattr(slicing, "URGENT_WAIT", 0.3)
    still_waiting, bounded = asyncio.run(go())
    assert still_waiting and 0.29 <= bounded < WAIT


def test_a_batch_reaches_the_writer_once_the_popup_under_way_is_on_the_wire(
        monkeypatch: pytest.MonkeyPatch, outbox: Outbox) -> None:
    """While the popup's request is being written, the writer thread would take the GIL from each of its
    steps: the ringing event's commit starts after it (the raw journal holds the record meanwhile)."""
    monkeypatch.setattr(slicing, "_URGENT", slicing._Urgent())
    monkeypatch.setattr(slicing, "URGENT_WAIT", WAIT)
    outbox.add_ringing_hook(lambda event, row_id: slicing.urgent_started())  # a popup starts, is not sent yet

    async def go() -> tuple[int, int]:
        emitted = asyncio.ensure_future(outbox.emit(make_event("ring-1", "ringing")))
        await asyncio.sleep(0.3)
        before = outbox.writer.transactions
        slicing.urgent_done()  # the popup's request is on the wire
        await asyncio.wait_for(emitted, WAIT)
        return before, outbox.writer.transactions

    before, after = asyncio.run(go())
    assert before == 0 and after >= 1
    assert outbox.store.counts()["queued"] == 1


def test_a_live_ringing_record_reaches_the_sink_before_another_sources_next_slice(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, outbox: Outbox) -> None:
    """A burst's slices give the loop a turn between them; a live ringing record read meanwhile must not
    wait a slice at each step between its read and its popup."""
    monkeypatch.setattr(slicing, "_URGENT", slicing._Urgent())
    ringing = STREAM.read_bytes().split(b"\r\n")[16] + b"\r\n"
    assert [event.event for event in _decoder().feed(ringing, NOW)] == ["ringing"]
    order: list[str] = []
    outbox.add_ringing_hook(lambda event, row_id: order.append("popup"))

    async def deliver(call) -> None:
        await call()

    async def burst() -> None:
        for _ in range(20):
            order.append("slice")
            await slicing.make_way()

    async def go() -> None:
        source = SourceJournal("pbx", Journal(tmp_path / "journal"), outbox, _decoder(), deliver)
        other = asyncio.ensure_future(burst())
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        await source.process(ringing, NOW)
        order.append("read")
        await asyncio.wait_for(other, WAIT)
        await asyncio.wait_for(source.flush(), WAIT)
        source.close()

    asyncio.run(go())
    read = order.index("read")
    assert order[read + 1] == "popup", order
