"""The popup fast lane: ringing ahead of a backlog, stale popups, the local popup, the secret."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
from test_delivery_support import CrmDouble, SimCrm, crm_settings, delivering, make_event, states, wait_until

from smdr.crm import PopupSettings
from smdr.outbox import Outbox


class ShiftedClock:
    """time.time() plus an offset the test moves: "a minute later" without waiting a minute."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def test_ringing_goes_ahead_of_a_cdr_backlog(crm: SimCrm, outbox: Outbox) -> None:
    crm.set_faults(latency_ms=5)  # a CRM slow enough for a real backlog: 2,000 CDRs take ~1.3 s

    async def go() -> None:
        for index in range(2000):
            await outbox.emit(make_event(f"cdr-{index}"))
        async with delivering(outbox, crm_settings(crm.url, concurrency=8)):
            await wait_until(lambda: len(crm.events()) >= 100)
            stored_before = len(crm.events())
            await outbox.emit(make_event("popup", "ringing"))
            await wait_until(lambda: crm.events_of("popup") == ["ringing"])
            await wait_until(lambda: states(outbox)["delivered"] == 2001, timeout=60)
        arrivals = sorted(crm.events(), key=lambda event: event["arrived"])
        rank = next(index for index, event in enumerate(arrivals) if event["call_id"] == "popup")
        # before it: what the CRM already had, the 8 requests then in flight, and what the 8 connections
        # carry while its request is held back for at most POPUP_HOLD_BACK (10 ms) twice over on a loaded
        # machine (up to ~1,600 CDRs/s here: 16 per 10 ms); behind the backlog it would be ~1,900th
        assert rank <= stored_before + 8 + 32
        assert len(arrivals) - rank > 1000  # most of the backlog was still to go
    asyncio.run(go())


def test_queued_ringing_goes_first_at_startup(double: CrmDouble, outbox: Outbox) -> None:
    double.release_cdrs.clear()  # the CRM holds every CDR request: their connections stay busy

    async def go() -> None:
        for index in range(2000):
            await outbox.emit(make_event(f"cdr-{index}"))
        await outbox.emit(make_event("popup", "ringing"))
        async with delivering(outbox, crm_settings(double.url, concurrency=8)):
            await wait_until(lambda: double.events_of("popup") == ["ringing"])
            assert len(double.cdrs()) <= 9
            await outbox.emit(make_event("popup-2", "ringing"))  # and live, with the pool full of CDRs
            await wait_until(lambda: double.events_of("popup-2") == ["ringing"])
            assert len(double.cdrs()) <= 10
            double.release_cdrs.set()
            await wait_until(lambda: states(outbox)["delivered"] == 2002, timeout=60)
    asyncio.run(go())


def test_fresh_ringing_is_sent_as_ringing_before_the_later_states(crm: SimCrm, outbox: Outbox) -> None:
    async def go() -> None:
        async with delivering(outbox, crm_settings(crm.url)):
            await outbox.emit(make_event("c1", "ringing"))
            await outbox.emit(make_event("c1", "answered"))
            await wait_until(lambda: states(outbox)["delivered"] == 2)
    asyncio.run(go())
    assert crm.events_of("c1") == ["ringing", "answered"]


def test_stale_ringing_is_superseded_by_a_later_state(crm: SimCrm, outbox: Outbox) -> None:
    clock = ShiftedClock()
    crm.set_faults(error_rate=1.0)

    async def go() -> None:
        async with delivering(outbox, crm_settings(crm.url), PopupSettings(max_age=60), clock=clock):
            await outbox.emit(make_event("c1", "ringing"))
            await wait_until(lambda: crm.requests() >= 1)  # the popup failed: CRM down
            await outbox.emit(make_event("c1", "in-progress"))
            await outbox.emit(make_event("c1", "answered"))
            clock.offset = 61.0  # the CRM comes back a minute later
            # A ringing attempt made before the minute may still be on its way: if the CRM were back
            # when it arrives, it would be accepted (rightly: it was sent while fresh). One call sends
            # one request at a time, so the second attempt from now was made after the minute.
            seen = crm.requests()
            await wait_until(lambda: crm.requests() >= seen + 2)
            crm.set_faults(error_rate=0.0)
            await wait_until(lambda: states(outbox)["delivered"] == 2)
    asyncio.run(go())
    assert crm.events_of("c1") == ["in-progress", "answered"]
    assert states(outbox)["superseded"] == 1
    [ringing] = outbox.store.rows("superseded")
    in_progress_id = outbox.store.rows("delivered")[0].id  # oldest first: [in-progress, answered]
    assert ringing.event == "ringing"
    assert ringing.last_error == f"stale popup; superseded by event {in_progress_id}"


@pytest.mark.parametrize("stale_event", ["in-progress", "no_answer"])
def test_stale_ringing_alone_goes_out_as_the_stale_event(crm: SimCrm, outbox: Outbox,
                                                         stale_event: str) -> None:
    async def go() -> None:
        await outbox.emit(make_event("c1", "ringing"))  # queued while the connector was not delivering
        await outbox.emit(make_event("c2", "ringing"))
        popup = PopupSettings(max_age=60, stale_event=stale_event)
        clock = ShiftedClock()
        clock.offset = 90.0
        async with delivering(outbox, crm_settings(crm.url), popup, clock=clock):
            await wait_until(lambda: states(outbox)["delivered"] == 2)
    asyncio.run(go())
    assert crm.events_of("c1") == [stale_event] and crm.events_of("c2") == [stale_event]
    assert {row.sent_event for row in outbox.store.rows("delivered")} == {stale_event}
    assert {row.event for row in outbox.store.rows("delivered")} == {"ringing"}  # as received, for the record


def test_local_popup_searches_once_and_opens_the_lookup_page(crm: SimCrm, outbox: Outbox,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="smdr")
    opened: list[str] = []  # 09121234567 is one of crm-sim's sample contacts
    popup = PopupSettings(lookup=True, finglish=1, open_browser_for=frozenset({"101"}))

    async def go() -> None:
        async with delivering(outbox, crm_settings(crm.url), popup, browser_opener=opened.append):
            await outbox.emit(make_event("c1", "ringing", agent="101"))
            await outbox.emit(make_event("c2", "ringing", agent="101"))
            await outbox.emit(make_event("c3", "ringing", agent="102"))
            await outbox.emit(make_event("c1", "answered", agent="101"))  # not a ringing: no popup
            await wait_until(lambda: states(outbox)["delivered"] == 4 and len(opened) == 2)
    asyncio.run(go())
    assert crm.requests("SearchPBX") == 1  # the cache answered the other two
    assert opened == [f"{crm.url}/Lookup?phone=09121234567"] * 2
    assert "is Mohammad Reza Taghi Pour (Contacts)" in caplog.text  # finglish 1: the name dictionary


def test_the_secret_is_in_no_log_record_and_no_stored_file(crm: SimCrm, tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    secret = crm.secret
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")
    outbox = Outbox.open(tmp_path / "data" / "outbox.sqlite3")

    async def go() -> None:
        for index in range(10):
            await outbox.emit(make_event(f"c{index}", "ringing" if index % 2 else "answered"))
        await outbox.emit(make_event("bad", direction="sideways"))
        wrong = crm_settings(crm.url, secret="not-" + secret, method="GET")
        async with delivering(outbox, wrong) as deliverer:
            await wait_until(lambda: deliverer.paused)
        crm.set_faults(error_rate=1.0, html_errors=True)
        async with delivering(outbox, crm_settings(crm.url, method="GET")) as deliverer:
            await wait_until(lambda: deliverer.stats.failures >= 15)
            crm.set_faults(error_rate=0.0)
            await wait_until(lambda: states(outbox)["queued"] == 0)
    asyncio.run(go())
    outbox.close()
    assert states_of(tmp_path) == {"queued": 0, "delivered": 10, "dead": 1, "superseded": 0}
    assert len(crm.events()) == 10  # the secret did travel (in the query string) and was accepted
    assert any("HTTP Request" in record.getMessage() for record in caplog.records)
    for record in caplog.records:
        assert secret not in record.getMessage()
    for path in (tmp_path / "data").iterdir():
        assert secret.encode() not in path.read_bytes(), path


def states_of(tmp_path: Path) -> dict[str, int]:
    box = Outbox.open(tmp_path / "data" / "outbox.sqlite3")
    try:
        return states(box)
    finally:
        box.close()
