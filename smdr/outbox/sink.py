"""``Outbox``: the EventSink at the end of the pipeline. An event is on disk before emit() returns."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from ..model import CallEvent
from .store import OutboxStore

log = logging.getLogger("smdr.outbox")

# Called synchronously after each commit with (row id, event); the Deliverer uses it as its wake-up.
EmitListener = Callable[[int, CallEvent], None]


class Outbox:
    """Durable queue of call events for the CRM (see ``OutboxStore.open`` for what survives what)."""

    def __init__(self, store: OutboxStore, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self._clock = clock
        self._listeners: list[EmitListener] = []

    @classmethod
    def open(cls, path: str | Path, *, fsync_each_commit: bool = False) -> Outbox:
        return cls(OutboxStore.open(path, fsync_each_commit=fsync_each_commit))

    @property
    def path(self) -> Path:
        return self.store.path

    async def emit(self, event: CallEvent) -> None:
        # A plain synchronous commit: with WAL and synchronous=NORMAL it is one write() of a few
        # pages (tens of microseconds), cheaper than handing it to a thread and back.
        event_id = self.store.insert(event, self._clock())
        for listener in tuple(self._listeners):
            try:
                listener(event_id, event)
            except Exception:  # the event is committed; a listener's bug must not make emit() fail
                log.exception("outbox listener failed for event %d", event_id)

    def backlog(self) -> int:
        return self.store.counts()["queued"]

    def add_listener(self, listener: EmitListener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: EmitListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    async def aclose(self) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()
