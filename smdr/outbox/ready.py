"""The calls the call-record tasks take next: read from the outbox a batch at a time, each with its
oldest queued event, so a task sends that event without another look at the outbox.

An event read with the batch is only used while nothing else can have sent it: a call claimed by
another task since the batch was read (a popup, a probe, the dispatcher) is handed out without it,
and its task looks the call up again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Container
from dataclasses import dataclass

from .store import OutboxRow, OutboxStore


@dataclass(slots=True)
class ReadyCall:
    call_id: str
    head: OutboxRow | None = None  # the call's oldest queued event; None: look it up before sending
    more: bool = False             # the call had more queued events after ``head``


class ReadyCalls:
    def __init__(self, store: OutboxStore) -> None:
        self._store = store
        self._calls: deque[ReadyCall] = deque()
        self._claimed_since_read: set[str] = set()  # claimed outside this queue since the batch was read

    def refill(self, now: float, limit: int, claimed: Container[str], horizon: float) -> None:
        """The next batch of due calls, oldest first (the claimed ones left out: they are being sent)."""
        self._claimed_since_read.clear()
        self._calls.extend(ReadyCall(row.call_id, row, more)
                           for row, more in self._store.ready_rows(now, limit, horizon=horizon)
                           if row.call_id not in claimed)

    def take(self, claimed: Container[str]) -> ReadyCall | None:
        """The oldest call of the batch not claimed meanwhile; None when the batch is used up."""
        while self._calls:
            call = self._calls.popleft()
            if call.call_id in claimed:
                continue
            if call.call_id in self._claimed_since_read:
                return ReadyCall(call.call_id)  # what was read may have been sent since
            return call
        return None

    def next(self, now: float, limit: int, claimed: Container[str], horizon: float) -> ReadyCall | None:
        """The next ready call not claimed; the outbox is read again (once) when the batch is used up."""
        call = self.take(claimed)
        if call is None:
            self.refill(now, limit, claimed, horizon)
            call = self.take(claimed)
        return call

    def claimed_elsewhere(self, call_id: str) -> None:
        if self._calls:
            self._claimed_since_read.add(call_id)

    def clear(self) -> None:
        self._calls.clear()
        self._claimed_since_read.clear()
