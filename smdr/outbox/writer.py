"""The outbox's writes in a thread of their own: the event loop hands over work and goes on.

Group commit: every job queued while a transaction is being written goes into the next one, so a
burst on one source costs one transaction (and one fsync) per group instead of one per event, and no
source, popup or delivery waits on the event loop for another source's commit. A job that arrives
alone (a ringing event on a quiet line) is committed at once: nothing waits for a timer.

WAL checkpoints (a copy into the database and an fsync: milliseconds) run in a second thread on a
connection of its own, after commits and at most every ``CHECKPOINT_INTERVAL``, so they delay neither
the event loop nor the next commit; the writer connection's autocheckpoint, set higher, only bounds the
WAL when they lag. Nothing runs, and nothing wakes up, while nothing is written.

Each job runs inside a savepoint: a job that fails (a constraint, a bug) is rolled back alone and
its future gets the error; when SQLite itself abandons the transaction (a full disk), every job of the
group gets the error and nothing of the group is on disk.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import sys
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger("smdr.outbox")

T = TypeVar("T")
CHECKPOINT_INTERVAL = 0.25  # seconds at least between two background checkpoints
SWITCH_INTERVAL = 0.0005  # seconds: see OutboxWriter.__init__
THREAD_NICENESS = 10  # how much nicer than the event loop the outbox threads are (Linux: see _lower_priority)
Job = Callable[[sqlite3.Connection], Any]


class _Waiter:
    """Where a caller outside the event loop waits for its job's commit."""

    __slots__ = ("done", "ok", "value")

    def __init__(self) -> None:
        self.done, self.ok, self.value = threading.Event(), False, None

    def settle(self, ok: bool, value: Any) -> None:
        self.ok, self.value = ok, value
        self.done.set()


_Pending = tuple[Job, "asyncio.Future[Any] | _Waiter", bool]


class OutboxWriter:
    """Owns the writing connection; ``submit`` from the event loop, the thread commits."""

    def __init__(self, path: Path, *, full_sync: bool = True, autocheckpoint_pages: int = 2000) -> None:
        self.full_sync = full_sync
        # This thread lets go of the GIL around each SQLite call; while the event loop is busy (a burst),
        # taking it back waits out the interpreter's switch interval (5 ms by default) every time, and a
        # popup's commit waits behind those. A shorter interval bounds that wait (process-wide; the loop
        # thread is only interrupted while another thread wants the GIL).
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        self._conn = sqlite3.connect(path, isolation_level=None, timeout=10.0, check_same_thread=False)
        self._conn.execute(f"PRAGMA wal_autocheckpoint={autocheckpoint_pages}")
        self._synchronous = ""
        self._checkpoints = _Checkpointer(path)
        self._queue: deque[_Pending] = deque()
        self._wakeup = threading.Condition()
        self._closing = False
        self.transactions = 0
        self._thread = threading.Thread(target=self._run, name="smdr-outbox-writer", daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[sqlite3.Connection], T], *, durable: bool = True) -> asyncio.Future[T]:
        """Run ``job(connection)`` in the next transaction; the future has its result once committed.

        ``durable``: the transaction is fsync'ed before the future is settled (synchronous=FULL, when
        the writer was made with ``full_sync``); otherwise it survives a crash of this process, not
        always a power cut (a delivery mark: at worst the event is sent once more)."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._put((job, future, durable))
        return future

    def run(self, job: Callable[[sqlite3.Connection], T], *, durable: bool = True) -> T:
        """``submit`` for a caller outside the event loop (start-up, shutdown): blocks until committed."""
        waiter = _Waiter()
        self._put((job, waiter, durable))
        waiter.done.wait()
        if not waiter.ok:
            raise waiter.value  # type: ignore[misc]
        return waiter.value  # type: ignore[return-value]

    def close(self) -> None:
        """Commit what is queued, stop the thread, close the connection."""
        with self._wakeup:
            self._closing = True
            self._wakeup.notify()
        self._thread.join()
        self._conn.close()
        self._checkpoints.close()

    def _put(self, pending: _Pending) -> None:
        with self._wakeup:
            if self._closing:
                raise sqlite3.ProgrammingError("the outbox writer is closed")
            self._queue.append(pending)
            self._wakeup.notify()

    def _run(self) -> None:
        _lower_priority()
        while True:
            with self._wakeup:
                while not self._queue and not self._closing:
                    self._wakeup.wait()
                if not self._queue:
                    return
                batch = list(self._queue)
                self._queue.clear()
            self._commit(batch)

    def _commit(self, batch: list[_Pending]) -> None:
        results: list[tuple[bool, Any]] = []
        conn = self._conn
        try:
            self._set_synchronous(any(durable for _, _, durable in batch))
            conn.execute("BEGIN IMMEDIATE")
            if len(batch) == 1:  # nothing to keep apart: no savepoint (each statement costs a GIL hand-over)
                results.append((True, batch[0][0](conn)))
            else:
                for job, _, _ in batch:
                    results.append(self._run_job(conn, job))
                    if not conn.in_transaction:  # SQLite abandoned the transaction (a full disk)
                        raise results[-1][1]
            conn.execute("COMMIT")
            self.transactions += 1
        except Exception as exc:  # noqa: BLE001 - whatever it is goes to the waiting callers, the thread lives on
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            results = [(False, exc)] * len(batch)
        else:
            self._checkpoints.written()
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], tuple[bool, Any]]]] = {}
        for (_, waiter, _), result in zip(batch, results):
            if isinstance(waiter, _Waiter):
                waiter.settle(*result)
            else:
                by_loop.setdefault(waiter.get_loop(), []).append((waiter, result))
        for loop, settled in by_loop.items():  # one wake-up of the loop per transaction
            try:
                loop.call_soon_threadsafe(_settle, settled)
            except RuntimeError:
                pass  # the loop is closed: nobody waits any more

    @staticmethod
    def _run_job(conn: sqlite3.Connection, job: Job) -> tuple[bool, Any]:
        conn.execute("SAVEPOINT job")
        try:
            value = job(conn)
        except Exception as exc:  # noqa: BLE001 - a job's bug goes to its caller, not to the others
            if conn.in_transaction:
                conn.execute("ROLLBACK TO job")
                conn.execute("RELEASE job")
            return False, exc
        conn.execute("RELEASE job")
        return True, value

    def _set_synchronous(self, durable: bool) -> None:
        wanted = "FULL" if durable and self.full_sync else "NORMAL"
        if wanted != self._synchronous:
            self._conn.execute(f"PRAGMA synchronous={wanted}")
            self._synchronous = wanted


class _Checkpointer:
    """PASSIVE checkpoints in a thread of their own, after writes, at most every CHECKPOINT_INTERVAL."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._wakeup = threading.Condition()
        self._dirty = self._closing = False
        self._thread = threading.Thread(target=self._run, name="smdr-outbox-checkpoint", daemon=True)
        self._thread.start()

    def written(self) -> None:
        with self._wakeup:
            if not self._dirty:
                self._dirty = True
                self._wakeup.notify()

    def close(self) -> None:
        with self._wakeup:
            self._closing = True
            self._wakeup.notify()
        self._thread.join()

    def _run(self) -> None:
        _lower_priority()
        conn = sqlite3.connect(self._path, isolation_level=None, timeout=10.0, check_same_thread=False)
        try:
            while True:
                with self._wakeup:
                    while not self._dirty and not self._closing:
                        self._wakeup.wait()
                    if self._closing:
                        return
                    self._dirty = False
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:  # the writer's autocheckpoint still bounds the WAL
                    log.debug("background checkpoint failed: %s", exc)
                with self._wakeup:  # a burst: one checkpoint per interval, not one per commit
                    self._wakeup.wait_for(lambda: self._closing, CHECKPOINT_INTERVAL)
        finally:
            conn.close()


def _lower_priority() -> None:
    """Run the calling thread (the writer, the checkpointer) at a lower priority than the event loop's
    (nice +10): while the cores are busy (a burst being committed), each step of a popup on the loop,
    and the CRM and serial helpers beside it, get the CPU first; the commits take what is left. Linux
    only, where a thread is a task of its own: elsewhere ``setpriority`` of a thread id would name a
    process."""
    if not sys.platform.startswith("linux"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, 0, min(os.getpriority(os.PRIO_PROCESS, 0) + THREAD_NICENESS, 19))
    except OSError as exc:
        log.debug("the outbox threads keep the loop's priority: %s", exc)


def _settle(settled: list[tuple[asyncio.Future[Any], tuple[bool, Any]]]) -> None:
    for future, (ok, value) in settled:
        if future.done():
            continue  # cancelled by its waiter
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
