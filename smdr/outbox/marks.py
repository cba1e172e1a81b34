"""Delivery marks: what the CRM confirmed, on its way to disk.

A mark goes to the outbox writer without the delivery waiting for it (one hand-over per event-loop
turn, see ``Outbox.mark_delivered``); the call stays claimed until its marks are committed, so the
dispatcher never sees a delivered event as still queued. A mark the disk refuses (full) is kept here
until it can be written; no new delivery starts meanwhile, so nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable

from .rows import DeliveryMark
from .sink import Outbox

log = logging.getLogger("smdr.outbox")


class DeliveryMarks:
    def __init__(self, outbox: Outbox, storage_failed: Callable[[sqlite3.Error], None]) -> None:
        self._outbox, self._storage_failed = outbox, storage_failed
        self.unsaved: list[DeliveryMark] = []  # delivered, refused by the disk: kept until written
        self._in_flight: set[asyncio.Future[None]] = set()

    def add(self, mark: DeliveryMark) -> asyncio.Future[None]:
        written = self._outbox.mark_delivered(mark)
        written.add_done_callback(lambda future: self._written(mark, future))
        self._in_flight.add(written)
        written.add_done_callback(self._in_flight.discard)
        return written

    async def settle(self) -> None:
        """Wait for the marks handed over (at the stop)."""
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

    def _written(self, mark: DeliveryMark, written: asyncio.Future[None]) -> None:
        error = None if written.cancelled() else written.exception()
        if error is None:
            if self._outbox.storage_problem is not None and not self._outbox.waiting:
                self._outbox.storage_recovered()
            return
        self.unsaved.append(mark)
        if isinstance(error, sqlite3.Error):
            self._storage_failed(error)
        else:
            log.error("a delivery mark could not be written: %s", error)


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
