"""The outbox writer thread: group commit, one job's failure kept to itself, FULL only where durable."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import threading
import time
from pathlib import Path

import pytest
from test_delivery_support import make_event

from smdr.crm import CrmSettings, PopupSettings
from smdr.crm.client import GenericClient
from smdr.outbox import Deliverer, Outbox
from smdr.outbox.store import OutboxStore
from smdr.outbox.writer import THREAD_NICENESS, OutboxWriter


@pytest.fixture
def writer(tmp_path: Path):
    OutboxStore.open(tmp_path / "outbox.sqlite3").close()  # the schema
    writer = OutboxWriter(tmp_path / "outbox.sqlite3")
    yield writer
    writer.close()


def _insert(call_id: str):
    def job(conn: sqlite3.Connection) -> int:
        return int(conn.execute("INSERT INTO events (call_id, event, payload, created_at) VALUES (?, 'answered', "
                                "'{}', 0)", (call_id,)).lastrowid or 0)
    return job


def test_jobs_queued_while_a_transaction_is_written_share_the_next_one(writer: OutboxWriter) -> None:
    gate = threading.Event()

    async def go() -> list[int]:
        blocker = writer.submit(lambda conn: gate.wait(10))
        await asyncio.sleep(0.05)  # the writer thread is inside the first transaction
        futures = [writer.submit(_insert(f"c{n}")) for n in range(50)]
        gate.set()
        await blocker
        return await asyncio.gather(*futures)

    ids = asyncio.run(go())
    assert ids == sorted(ids) and len(set(ids)) == 50  # in submission order
    assert writer.transactions == 2


def test_a_failing_job_is_rolled_back_alone(writer: OutboxWriter, tmp_path: Path) -> None:
    gate = threading.Event()

    def broken(conn: sqlite3.Connection) -> None:
        _insert("broken")(conn)
        raise ValueError("a bug in one job")

    async def go() -> None:
        blocker = writer.submit(lambda conn: gate.wait(10))
        await asyncio.sleep(0.05)
        good, bad, other = writer.submit(_insert("a")), writer.submit(broken), writer.submit(_insert("b"))
        gate.set()
        await blocker
        await good, await other
        with pytest.raises(ValueError, match="a bug in one job"):
            await bad

    asyncio.run(go())
    conn = sqlite3.connect(tmp_path / "outbox.sqlite3")
    assert [row[0] for row in conn.execute("SELECT call_id FROM events ORDER BY id")] == ["a", "b"]
    conn.close()


def test_call_events_are_fsynced_and_delivery_marks_need_not_be(writer: OutboxWriter) -> None:
    def synchronous(conn: sqlite3.Connection) -> int:
        return int(conn.execute("PRAGMA synchronous").fetchone()[0])

    async def go() -> tuple[int, int]:
        return await writer.submit(synchronous), await writer.submit(synchronous, durable=False)

    assert asyncio.run(go()) == (2, 1)  # FULL, NORMAL


def test_a_job_from_outside_the_event_loop_waits_for_its_commit(writer: OutboxWriter) -> None:
    assert writer.run(_insert("x")) >= 1
    with pytest.raises(sqlite3.OperationalError):
        writer.run(lambda conn: conn.execute("SELECT nothing FROM nowhere"))


def test_an_idle_delivery_sets_no_timer_and_a_queued_event_gets_one(tmp_path: Path) -> None:
    async def go() -> tuple[float | None, float | None]:
        outbox = Outbox.open(tmp_path / "outbox.sqlite3")
        client = GenericClient(CrmSettings(url="http://127.0.0.1:9/api", secretkey="idle-test-secret"))
        deliverer = Deliverer(outbox, client, client.settings, PopupSettings())
        idle = deliverer._wait_time()
        await outbox.emit(make_event("c1"))
        busy = deliverer._wait_time()
        await client.aclose()
        await outbox.aclose()
        return idle, busy

    idle, busy = asyncio.run(go())
    assert idle is None and busy is not None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priority is set on Linux only")
def test_the_writer_and_checkpoint_threads_run_nicer_than_the_event_loop(writer: OutboxWriter) -> None:
    """A burst's commits must not take the CPU from the loop's popups: the outbox's threads are niced."""
    loop_nice = os.getpriority(os.PRIO_PROCESS, 0)
    writer.run(_insert("c1"))  # the checkpointer has a write to checkpoint: it is running too
    expected = min(loop_nice + THREAD_NICENESS, 19)
    deadline = time.monotonic() + 5  # a thread sets its priority as its first step: bounded wait for it
    while True:
        niceness = {thread.name: os.getpriority(os.PRIO_PROCESS, thread.native_id)
                    for thread in threading.enumerate()
                    if thread.name.startswith("smdr-outbox-") and thread.native_id is not None}
        if set(niceness.values()) == {expected} or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert niceness == {"smdr-outbox-writer": expected, "smdr-outbox-checkpoint": expected}
    assert os.getpriority(os.PRIO_PROCESS, 0) == loop_nice  # the calling (loop) thread keeps its own
