"""The delivery worker against crm-sim on 127.0.0.1: order, retries, auth pause, dead letters, crashes."""

from __future__ import annotations

import asyncio
import logging
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_delivery_support import CrmDouble, SimCrm, crm_settings, delivering, make_event, states, wait_until

from smdr.backoff import backoff_delay
from smdr.outbox import Outbox, OutboxStore

CALL_STATES = ["ringing", "in-progress", "transferred", "answered"]


def interleaved_calls(count: int, seed: int = 1) -> list:
    """Events of ``count`` calls, each call's states in order, the calls shuffled together."""
    rng = random.Random(seed)
    pending = {f"call-{index}": list(CALL_STATES) for index in range(count)}
    events = []
    while pending:
        call_id = rng.choice(sorted(pending))
        events.append(make_event(call_id, pending[call_id].pop(0)))
        if not pending[call_id]:
            del pending[call_id]
    return events


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_events_of_one_call_keep_their_order_under_concurrency_and_faults(
        crm: SimCrm, outbox: Outbox, method: str) -> None:
    crm.set_faults(error_rate=0.2, latency_ms=1)
    events = interleaved_calls(60)

    async def go() -> None:
        for event in events[:120]:  # some queued before delivery starts, the rest while it runs
            await outbox.emit(event)
        async with delivering(outbox, crm_settings(crm.url, method=method, concurrency=8)) as deliverer:
            for event in events[120:]:
                await outbox.emit(event)
                await asyncio.sleep(0)
            await wait_until(lambda: states(outbox)["delivered"] == len(events))
        assert deliverer.stats.failures > 0  # the injected 500s happened and were retried
    asyncio.run(go())
    assert states(outbox) == {"queued": 0, "delivered": 240, "dead": 0, "superseded": 0}
    for index in range(60):
        assert crm.events_of(f"call-{index}") == CALL_STATES


@pytest.mark.parametrize("outage", ["refused", "html 500"])
def test_crm_down_then_back_delivers_everything_with_one_warning(
        crm: SimCrm, outbox: Outbox, caplog: pytest.LogCaptureFixture, outage: str) -> None:
    caplog.set_level(logging.INFO, logger="smdr")

    async def go() -> None:
        for index in range(20):
            await outbox.emit(make_event(f"c{index}"))
        if outage == "refused":
            crm.server.take_down(3600)  # really stops listening
        else:
            crm.set_faults(error_rate=1.0, html_errors=True)
        async with delivering(outbox, crm_settings(crm.url, retry_initial=0.01, retry_max=0.05)) as deliverer:
            await wait_until(lambda: deliverer.stats.failures >= 5)  # several rounds of failures
            assert states(outbox)["queued"] == 20
            if outage == "refused":
                crm.server.take_down(0.01)  # back in 10 ms
            else:
                crm.set_faults(error_rate=0.0)
            await wait_until(lambda: states(outbox)["delivered"] == 20)
    asyncio.run(go())
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "unavailable" in r.getMessage()]
    assert len(warnings) == 1
    assert ("ConnectError" if outage == "refused" else "HTTP 500") in warnings[0].getMessage()
    assert any("reachable again" in r.getMessage() for r in caplog.records)
    stored = sorted(call["call_id"] for call in crm.server.store.calls())
    assert stored == sorted(f"c{index}" for index in range(20))


@pytest.mark.parametrize("auth_status", [401, 200])
def test_auth_failure_pauses_keeps_the_queue_and_resumes_with_the_right_secret(
        crm: SimCrm, outbox: Outbox, caplog: pytest.LogCaptureFixture, auth_status: int) -> None:
    caplog.set_level(logging.INFO)
    crm.set_faults(auth_failure_status=auth_status)

    async def go() -> None:
        for index in range(30):
            await outbox.emit(make_event(f"c{index}", "ringing" if index % 3 == 0 else "answered"))
        wrong = crm_settings(crm.url, secret="wrong-secret", retry_max=60)
        async with delivering(outbox, wrong) as deliverer:
            await wait_until(lambda: deliverer.paused)
            await outbox.emit(make_event("late", "ringing"))  # still accepted and kept while paused
            await asyncio.sleep(0.1)
        assert states(outbox)["queued"] == 31 and outbox.store.paused_by_auth
        assert crm.requests() <= 8 + 4  # the first round only, then nothing
        assert crm.events() == []
        async with delivering(outbox, crm_settings(crm.url)) as deliverer:
            await wait_until(lambda: states(outbox)["delivered"] == 31)
            assert not deliverer.paused
        assert not outbox.store.paused_by_auth
    asyncio.run(go())
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "secret key" in errors[0].getMessage() and "paused" in errors[0].getMessage()
    assert "wrong-secret" not in caplog.text


def test_auth_pause_is_lifted_by_outbox_retry_while_running(crm: SimCrm, outbox: Outbox) -> None:
    async def go() -> None:
        await outbox.emit(make_event("c1"))
        async with delivering(outbox, crm_settings(crm.url, retry_max=3600)) as deliverer:
            await wait_until(lambda: states(outbox)["delivered"] == 1)
            crm.set_faults(reject_secret=True)  # the key was changed in the CRM
            await outbox.emit(make_event("c2"))
            await wait_until(lambda: deliverer.paused)
            crm.set_faults(reject_secret=False)  # the CRM admin puts the old key back ...
            other = OutboxStore.open(outbox.path)  # ... and the technician runs `smdr outbox retry`
            other.due_now()
            other.close()
            await wait_until(lambda: states(outbox)["delivered"] == 2)
            assert not deliverer.paused
    asyncio.run(go())


def test_invalid_record_becomes_a_dead_letter_and_the_call_goes_on(crm: SimCrm, outbox: Outbox) -> None:
    async def go() -> None:
        await outbox.emit(make_event("c1", "ringing"))
        await outbox.emit(make_event("c1", "in-progress", duration=-5))
        await outbox.emit(make_event("c1", "answered"))
        await outbox.emit(make_event("c2", direction="sideways"))
        async with delivering(outbox, crm_settings(crm.url)):
            await wait_until(lambda: states(outbox)["dead"] == 2 and states(outbox)["delivered"] == 2)
    asyncio.run(go())
    assert crm.events_of("c1") == ["ringing", "answered"]
    dead = {row.call_id: row.last_error for row in outbox.store.rows("dead")}
    assert "INVALID: duration must not be negative" in dead["c1"]
    assert "INVALID: unknown direction 'sideways'" in dead["c2"]


DELIVERER_TO_KILL = """
import asyncio, sys
sys.path.insert(0, {tests!r})
from smdr.outbox import Outbox
from test_delivery_support import crm_settings, delivering

async def go():
    async with delivering(Outbox.open({path!r}), crm_settings({url!r}, timeout=60)):
        await asyncio.sleep(60)

asyncio.run(go())
"""


def test_events_in_flight_at_a_crash_are_delivered_again(double: CrmDouble, outbox: Outbox) -> None:
    crm = double  # it can hold requests at the server: they are in flight when the process dies
    crm.release_cdrs.clear()  # the CRM holds every CDR request: they stay in flight
    asyncio.run(_emit_calls(outbox, 12))
    script = DELIVERER_TO_KILL.format(tests=str(Path(__file__).parent), path=str(outbox.path), url=crm.url)
    process = subprocess.Popen([sys.executable, "-c", script])
    try:
        asyncio.run(wait_until(lambda: len(crm.received) >= 8, timeout=30))
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    in_flight = {r.fields["call_id"] for r in crm.received}
    assert states(outbox)["queued"] == 12
    crm.release_cdrs.set()

    async def deliver() -> None:
        async with delivering(outbox, crm_settings(crm.url)):
            await wait_until(lambda: states(outbox)["delivered"] == 12)
    asyncio.run(deliver())
    for call_id in in_flight:  # at least once: the CRM saw these twice and updated its one record
        assert crm.events_of(call_id) == ["answered", "answered"]
    assert len(crm.records) == 12


async def _emit_calls(outbox: Outbox, count: int) -> None:
    for index in range(count):
        await outbox.emit(make_event(f"c{index}"))


def test_backoff_is_capped_exponential_with_jitter() -> None:
    delays = [backoff_delay(attempt, 1.0, 300.0) for attempt in range(1, 13)]
    assert 0.8 <= delays[0] <= 1.2 and 1.6 <= delays[1] <= 2.4 and 6.4 <= delays[3] <= 9.6
    assert all(delay <= 300.0 for delay in delays) and delays[-1] >= 240.0


# --- the dispatcher never waits for its poll timer (regressions) ---------------------------------

def test_one_call_at_a_time_goes_on_without_the_poll_timer(crm: SimCrm, outbox: Outbox) -> None:
    # A finished call used to stay counted as busy until the next poll (1 s in production): with
    # concurrency 1 that was one event per poll. With an hour-long poll, only a real wake-up delivers.
    async def go() -> None:
        for n in range(20):
            await outbox.emit(make_event(f"c{n}"))
        async with delivering(outbox, crm_settings(crm.url, concurrency=1), poll_interval=3600):
            await wait_until(lambda: states(outbox)["delivered"] == 20, timeout=15)
    asyncio.run(go())


def test_call_records_keep_flowing_while_popups_are_always_in_flight(crm: SimCrm, outbox: Outbox) -> None:
    # Each popup holds the call records back only briefly: with a slow CRM and a ring every 35 ms
    # there is always a popup in flight, and the records used to stop altogether.
    crm.set_faults(latency_ms=60)

    async def go() -> None:
        for n in range(400):
            await outbox.emit(make_event(f"cdr{n}"))
        async with delivering(outbox, crm_settings(crm.url), poll_interval=3600):
            for n in range(60):
                await outbox.emit(make_event(f"ring{n}", "ringing", phone=f"0912000{n:04d}"))
                await asyncio.sleep(0.035)
            records = sum(1 for e in crm.events() if e["call_id"].startswith("cdr"))
            assert records >= 40, f"only {records} call records went out in 2 s of constant popups"
            await wait_until(lambda: states(outbox)["delivered"] == 460, timeout=60)
    asyncio.run(go())


def test_a_clock_set_back_an_hour_does_not_stall_delivery(crm: SimCrm, outbox: Outbox) -> None:
    # The PC clock was an hour fast when the CRM failed once; time sync then set it back. The backoff
    # must not wait for the wall clock to catch up (an hour of calls held back).
    offset = [3600.0]

    def clock() -> float:
        return time.time() + offset[0]

    async def go() -> None:
        crm.set_faults(error_rate=1.0)
        async with delivering(outbox, crm_settings(crm.url, retry_initial=0.5, retry_max=300), clock=clock):
            await outbox.emit(make_event("before"))
            await wait_until(lambda: crm.requests() >= 1)
            crm.set_faults(error_rate=0.0)
            offset[0] = 0.0
            for n in range(3):
                await outbox.emit(make_event(f"after{n}"))
            await wait_until(lambda: states(outbox)["delivered"] == 4, timeout=15)
    asyncio.run(go())


def test_a_database_error_while_planning_does_not_end_delivery(crm: SimCrm, outbox: Outbox,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # A real disk fault cannot be made here: the store fails once the way SQLite does on one.
    real = outbox.store.ready_rows  # what the call-record tasks plan from
    failures = [1]

    def flaky(*args: object, **kwargs: object) -> object:
        if failures[0]:
            failures[0] -= 1
            raise sqlite3.OperationalError("disk I/O error")
        return real(*args, **kwargs)

    monkeypatch.setattr(outbox.store, "ready_rows", flaky)

    async def go() -> None:
        for n in range(3):
            await outbox.emit(make_event(f"c{n}"))
        async with delivering(outbox, crm_settings(crm.url, retry_initial=0.05, retry_max=0.2)):
            await wait_until(lambda: states(outbox)["delivered"] == 3, timeout=15)
    asyncio.run(go())
    assert failures == [0]


def test_delivered_events_older_than_the_keep_time_leave_the_outbox(crm: SimCrm, outbox: Outbox) -> None:
    # Months of calls must not grow the outbox forever; queued events and dead letters always stay.
    async def go() -> None:
        for n in range(5):
            await outbox.emit(make_event(f"c{n}"))
        await outbox.emit(make_event("no-agent", agent=""))
        async with delivering(outbox, crm_settings(crm.url)):
            await wait_until(lambda: states(outbox)["delivered"] == 6)
        outbox.store.mark_dead(outbox.store.insert(make_event("dead1"), time.time()), "test", time.time())
        await outbox.emit(make_event("waiting"))  # stays queued: nobody delivers it below
        crm.set_faults(reject_secret=True)  # delivery pauses: "waiting" stays queued
        async with delivering(outbox, crm_settings(crm.url), keep_days=0.0, prune_interval=0.05):
            await wait_until(lambda: states(outbox)["delivered"] == 0)
    asyncio.run(go())
    assert states(outbox)["dead"] == 1 and states(outbox)["queued"] == 1
