"""Delivery marks: what the CRM confirmed, on its way to disk.

A mark goes to the outbox writer without the delivery waiting for it; the call stays claimed until its
marks are committed, so the dispatcher never sees a delivered event as still queued. The marks go in
batches: the first after a quiet spell is handed over on the next event-loop turn; while marks keep
coming (a backlog draining), at most one batch per ``MARKS_INTERVAL``, so a drain costs the writer
one transaction (and the event loop one wake-up) per batch instead of one per event or two. A mark
the disk refuses (full) is kept here until it can be written; no new delivery starts meanwhile, so
nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable

from .rows import DeliveryMark, mark_rows_delivered
from .sink import Outbox

log = logging.getLogger("smdr.outbox")

MARKS_INTERVAL = 0.005  # seconds at least between two batches of marks while they keep coming


class DeliveryMarks:
    def __init__(self, outbox: Outbox, storage_failed: Callable[[sqlite3.Error], None], *,
                 interval: float = MARKS_INTERVAL) -> None:
        self._outbox, self._storage_failed, self._interval = outbox, storage_failed, interval
        self.unsaved: list[DeliveryMark] = []  # delivered, refused by the disk: kept until written
        self._batch: list[DeliveryMark] = []  # the marks for the next hand-over
        self._batch_written: asyncio.Future[None] | None = None
        self._hand_over_timer: asyncio.Handle | None = None
        self._last_hand_over = float("-inf")  # loop.time()
        self._in_flight: set[asyncio.Future[None]] = set()
        self.batches = 0  # handed over to the writer

    def add(self, mark: DeliveryMark) -> asyncio.Future[None]:
        """Queue ``mark`` for the writer; the future is done once it is committed (or refused)."""
        if self._batch_written is None:
            loop = asyncio.get_running_loop()
            self._batch_written = loop.create_future()
            due = self._last_hand_over + self._interval
            self._hand_over_timer = (loop.call_soon(self._hand_over) if due <= loop.time()
                                     else loop.call_at(due, self._hand_over))
        self._batch.append(mark)
        return self._batch_written

    async def settle(self) -> None:
        """Hand over the batch at once and wait for every mark handed over (at the stop)."""
        if self._hand_over_timer is not None:
            self._hand_over_timer.cancel()
            self._hand_over()
        if self._in_flight:
            await asyncio.wait(set(self._in_flight))

    def save_unsaved(self, store_marks: Callable[[list[DeliveryMark]], None]) -> bool:
        """Write the marks the disk refused before; True when none is left."""
        if not self.unsaved:
            return True
        try:
            store_marks(self.unsaved)
        except sqlite3.Error as exc:
            self._storage_failed(exc)
            return False
        log.info("%d delivery mark(s) kept in memory are on disk", len(self.unsaved))
        self.unsaved.clear()
        self._outbox.storage_recovered()
        return True

    def _hand_over(self) -> None:
        marks, done = self._batch, self._batch_written
        assert done is not None
        self._batch, self._batch_written, self._hand_over_timer = [], None, None
        self._last_hand_over = asyncio.get_running_loop().time()
        self.batches += 1
        try:
            written = self._outbox.writer.submit(lambda conn: mark_rows_delivered(conn, marks), durable=False)
        except sqlite3.Error as exc:  # the writer is closed
            written = asyncio.get_running_loop().create_future()
            written.set_exception(exc)
        self._in_flight.add(done)
        done.add_done_callback(self._in_flight.discard)
        written.add_done_callback(lambda future: self._written(marks, future, done))

    def _written(self, marks: list[DeliveryMark], written: asyncio.Future[None], done: asyncio.Future[None]) -> None:
        error = written.exception() if not written.cancelled() else asyncio.CancelledError()
        if error is None:
            if self._outbox.storage_problem is not None and not self._outbox.waiting:
                self._outbox.storage_recovered()
        else:
            self.unsaved.extend(marks)
            if isinstance(error, sqlite3.Error):
                self._storage_failed(error)
            else:
                log.error("%d delivery mark(s) could not be written: %s", len(marks), error)
        if not done.done():
            done.set_result(None)  # the marks are settled: on disk, or kept in ``unsaved``


def when_written(marks: list[asyncio.Future[None]], then: Callable[[], None]) -> bool:
    """Call ``then`` once every mark is done; False (and nothing called) when they all are already."""
    left = sum(1 for mark in marks if not mark.done())
    if not left:
        return False

    def one_done(_: asyncio.Future[None]) -> None:
        nonlocal left
        left -= 1
        if not left:
            then()

    for mark in marks:
        if not mark.done():
            mark.add_done_callback(one_done)
    return True
