"""``Outbox``: the EventSink at the end of the pipeline. An event is committed (by the writer thread,
smdr.outbox.writer) before emit() returns, or, while the disk refuses it (full, failing), held in memory
(bounded) and written as soon as it can be. The caller waits for its commit without holding the event
loop: other sources, popups and the delivery go on meanwhile. A big batch (a burst) is encoded in slices with
the loop free between them, and still written in one transaction. A ringing event's row id is promised to
the ringing hooks before its commit, so that its popup can go out while the commit is being written."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from ..eventjson import EventJson
from ..model import RINGING, CallEvent
from ..slicing import in_slices, urgent_over
from .rows import EncodedRows, encode_rows, insert_encoded, save_source_states
from .store import OutboxStore
from .writer import OutboxWriter

log = logging.getLogger("smdr.outbox")

# Called synchronously after each commit with (row id, event); the Deliverer uses it as its wake-up.
EmitListener = Callable[[int, CallEvent], None]
# Called when a ringing event is handed to the writer, before its commit, with the future of its row id
# (None when an earlier event of its call is not committed yet: the popup must not overtake it); what it
# returns is called once the commit is over (the Deliverer sends the popup meanwhile, or holds call
# records back).
RingingHook = Callable[[CallEvent, "asyncio.Future[int] | None"], Callable[[], None] | None]
# Told the storage problem (a short text) when it starts, None when it is over: the status flag.
StorageStatus = Callable[[str | None], None]

MEMORY_LIMIT = 20_000      # events held in memory while the disk refuses them (~30 MB)
STORE_RETRY_SECONDS = 1.0  # how often a refused disk is tried again


class Outbox:
    """Durable queue of call events for the CRM (see ``OutboxStore.open`` for what survives what)."""

    def __init__(self, store: OutboxStore, *, clock: Callable[[], float] = time.time,
                 memory_limit: int = MEMORY_LIMIT, on_storage: StorageStatus | None = None,
                 full_sync: bool = True) -> None:
        self.store = store
        store.no_checkpoints_here()
        self.writer = OutboxWriter(store.path, full_sync=full_sync)
        self._clock = clock
        self._listeners: list[EmitListener] = []
        self._ringing_hooks: list[RingingHook] = []
        self.memory_limit = memory_limit
        self.waiting: deque[tuple[CallEvent, float]] = deque()  # accepted, not on disk yet, in order
        self.dropped = 0  # events past the memory bound while the disk refused them
        self.storage_problem: str | None = None
        self._on_storage = on_storage
        self._retrying: asyncio.Task[None] | None = None
        self._waiting_states: dict[str, str] = {}  # source states that wait with the events
        self._states: dict[str, str] = {}  # the last state given per source (as committed or waiting)
        self._json = EventJson()
        self._uncommitted: dict[str, int] = {}  # call id -> its events handed to the writer, not committed
        self._handed_over: asyncio.Future[None] | None = None  # the last batch's hand-over to the writer

    @classmethod
    def open(cls, path: str | Path, *, full_sync: bool = True, on_storage: StorageStatus | None = None) -> Outbox:
        """``full_sync`` (the default): a committed call event survives a power cut too (one fsync per
        transaction, and a transaction holds every event that arrived meanwhile)."""
        return cls(OutboxStore.open(path), on_storage=on_storage, full_sync=full_sync)

    @property
    def path(self) -> Path:
        return self.store.path

    async def emit(self, event: CallEvent) -> None:
        await self._write([event], None)

    async def emit_many(self, events: list[CallEvent]) -> None:
        """The events in one transaction (``events`` is emptied: see EventSink.emit_many)."""
        batch = list(events)
        events.clear()
        await self._write(batch, None)

    async def commit_chunk(self, source: str, events: list[CallEvent], state: str) -> None:
        """A chunk's events and the source's state after it (journal position, open calls), in one
        transaction: after a kill, both are there or neither."""
        self._states[source] = state
        await self._write(events, {source: state})

    async def _write(self, events: list[CallEvent], states: dict[str, str] | None) -> None:
        """Hand the batch to the writer in call order (an earlier caller's batch may still be encoded: this
        one waits for its hand-over, not for its commit), then wait for its commit."""
        previous, handed_over = self._handed_over, asyncio.get_running_loop().create_future()
        self._handed_over = handed_over
        promised, releases = self._promise_ringing(events)  # a popup goes out at once
        ids: list[int] = []
        try:
            try:
                written = await self._hand_over(events, states, previous)
            finally:
                handed_over.set_result(None)
            if written is not None:
                ids = await written
        except sqlite3.Error as exc:
            self.storage_failed(exc)
            self._hold_all(events, states)
        finally:
            self._committed(events)
            for index, row_id in promised:
                if not row_id.done():
                    if index < len(ids):
                        row_id.set_result(ids[index])
                    else:  # held in memory (a refusing disk), or the writer was left (the stop)
                        row_id.set_exception(sqlite3.OperationalError("the event is not committed"))
                        row_id.exception()  # whoever was promised it may have stopped waiting: no warning
            for release in releases:
                if release is not None:
                    release()
        position = 0
        async for part in in_slices(events):
            for event_id, event in zip(ids[position:position + len(part)], part):
                self._notify(event_id, event)
            position += len(part)

    async def _hand_over(self, events: list[CallEvent], states: dict[str, str] | None,
                         previous: asyncio.Future[None] | None) -> asyncio.Future[list[int]] | None:
        """The batch's commit, once handed to the writer; None when it waits in memory."""
        now = self._clock()
        encoded = await self._encode(events, now)
        if previous is not None and not previous.done():
            await asyncio.wait({previous})
        if self.waiting or self._waiting_states:  # behind the ones already waiting: a call's events stay in order
            self._hold_all(events, states)
            return None
        # A popup under way (this batch's, sent from memory) gets onto the wire first: once the writer thread
        # works on the batch, each step of the popup's request waits for the GIL (bounded: URGENT_WAIT).
        await urgent_over()
        return self.writer.submit(_insert_job(encoded, states, now))

    async def _encode(self, events: list[CallEvent], now: float) -> list[tuple[int, EncodedRows]]:
        """The rows of ``events`` for ``insert_encoded``, one encoding per slice of events, with a turn of the
        loop between two (a burst's batch would otherwise hold it for milliseconds)."""
        return [(len(part), self._rows([(event, now) for event in part])) async for part in in_slices(events)]

    def _rows(self, events: list[tuple[CallEvent, float]]) -> EncodedRows:
        """``encode_rows`` of (event, accepted at) pairs, each payload written by the one EventJson."""
        line = self._json.line
        return encode_rows([(event.call_id, event.event, line(event), at) for event, at in events])

    def _promise_ringing(self, events: list[CallEvent]) -> tuple[
            list[tuple[int, asyncio.Future[int]]], list[Callable[[], None] | None]]:
        """Tell the ringing hooks of the batch's ringing events (on their way to the writer), promising
        their row ids where the popup may go out at once, and count the batch's calls as uncommitted."""
        promised: list[tuple[int, asyncio.Future[int]]] = []
        releases: list[Callable[[], None] | None] = []
        uncommitted = self._uncommitted
        for index, event in enumerate(events):
            call_id = event.call_id
            if event.event == RINGING and self._ringing_hooks:
                row_id: asyncio.Future[int] | None = None
                if call_id not in uncommitted and not self.waiting and not self._waiting_states:
                    row_id = asyncio.get_running_loop().create_future()
                    promised.append((index, row_id))
                releases.extend(_call_hook(hook, event, row_id) for hook in self._ringing_hooks)
            uncommitted[call_id] = uncommitted.get(call_id, 0) + 1
        return promised, releases

    def _committed(self, events: list[CallEvent]) -> None:
        uncommitted = self._uncommitted
        for event in events:
            left = uncommitted[event.call_id] - 1
            if left:
                uncommitted[event.call_id] = left
            else:
                del uncommitted[event.call_id]

    def _hold_all(self, events: list[CallEvent], states: dict[str, str] | None) -> None:
        for event in events:
            self._hold(event)
        if states:
            self._waiting_states.update(states)
            self._start_retrying()

    def source_state(self, source: str) -> str | None:
        """The state last committed for ``source`` (None: never, e.g. an outbox of an older smdr)."""
        if source in self._states:
            return self._states[source]
        try:
            return self.store.source_state(source)
        except sqlite3.Error as exc:
            log.warning("cannot read the saved state of %s from the outbox: %s", source, exc)
            return None

    def _hold(self, event: CallEvent) -> None:
        if len(self.waiting) >= self.memory_limit:
            self.dropped += 1
            if self.dropped == 1:
                log.error("%d call events wait in memory for the disk: the bound is reached; further events "
                          "are counted, not kept, until the disk takes them again", len(self.waiting))
            return
        self.waiting.append((event, self._clock()))
        self._start_retrying()

    def _start_retrying(self) -> None:
        if self._retrying is None or self._retrying.done():
            self._retrying = asyncio.get_running_loop().create_task(self._retry_until_stored())

    def storage_failed(self, exc: Exception) -> None:
        """The outbox could not be written (a full disk): one error for the whole episode, the flag set."""
        if self.storage_problem is not None:
            return
        self.storage_problem = f"cannot write the outbox: {exc}"
        log.error("%s (%s). The sources keep reading; up to %d call events wait in memory and are written as "
                  "soon as there is room; `smdr outbox status` shows it", self.storage_problem, self.path,
                  self.memory_limit)
        if self._on_storage is not None:
            self._on_storage(self.storage_problem)

    async def _retry_until_stored(self) -> None:
        while self.waiting or self._waiting_states:
            await asyncio.sleep(STORE_RETRY_SECONDS)
            await self.store_waiting()

    async def store_waiting(self) -> bool:
        """Write the events held in memory, in one transaction; True when none is left."""
        if not self.waiting and not self._waiting_states:
            return True
        batch, states, now = list(self.waiting), dict(self._waiting_states), self._clock()
        encoded = [(len(batch), self._rows(batch))]
        try:
            ids = await self.writer.submit(_insert_job(encoded, states, now))
        except sqlite3.Error as exc:
            self.storage_failed(exc)
            return False
        for _ in batch:
            self.waiting.popleft()
        for source, state in states.items():
            if self._waiting_states.get(source) == state:
                del self._waiting_states[source]
        self.storage_recovered(len(batch))
        for event_id, (event, _) in zip(ids, batch):
            self._notify(event_id, event)
        return True

    def storage_recovered(self, from_memory: int = 0) -> None:
        """A write went through: the end of the episode, if there was one."""
        if self.storage_problem is None:
            return
        lost, self.dropped = self.dropped, 0
        log.warning("the outbox can be written again: %d call event(s) written from memory%s", from_memory,
                    f"; {lost} beyond the memory bound were lost" if lost else "")
        self.storage_problem = None
        if self._on_storage is not None:
            self._on_storage(None)

    def _notify(self, event_id: int, event: CallEvent) -> None:
        for listener in tuple(self._listeners):
            try:
                listener(event_id, event)
            except Exception:  # the event is committed; a listener's bug must not make emit() fail
                log.exception("outbox listener failed for event %d", event_id)

    def backlog(self) -> int:
        return self.store.counts()["queued"] + len(self.waiting)

    def in_memory(self) -> int:
        return len(self.waiting)

    def add_listener(self, listener: EmitListener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: EmitListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def add_ringing_hook(self, hook: RingingHook) -> None:
        self._ringing_hooks.append(hook)

    def remove_ringing_hook(self, hook: RingingHook) -> None:
        if hook in self._ringing_hooks:
            self._ringing_hooks.remove(hook)

    async def aclose(self) -> None:
        if self._retrying is not None:
            self._retrying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retrying
        if (self.waiting or self._waiting_states) and not await self.store_waiting():
            log.error("%d call event(s) could not be written before the stop (the disk is still full): they "
                      "are lost unless the capture is replayed", len(self.waiting))
        self.close()

    def close(self) -> None:
        self.writer.close()
        self.store.close()


def _call_hook(hook: RingingHook, event: CallEvent, row_id: asyncio.Future[int] | None) -> Callable[[], None] | None:
    try:
        return hook(event, row_id)
    except Exception:  # the event is on its way to disk; a hook's bug must not make emit() fail
        log.exception("outbox ringing hook failed for call %s", event.call_id)
        return None


def _insert_job(encoded: list[tuple[int, EncodedRows]], states: dict[str, str] | None, now: float) -> Callable[
        [sqlite3.Connection], list[int]]:
    """The writer's job: the events (one statement per encoded slice) and the source states; their ids."""
    def write(conn: sqlite3.Connection) -> list[int]:
        ids: list[int] = []
        for count, rows in encoded:
            ids.extend(insert_encoded(conn, count, rows))
        if states:
            save_source_states(conn, states, now)
        return ids

    return write

