"""A live source's raw journal and its committed state: what makes a kill -9 lose nothing that was read.

Every chunk is appended to the journal (smdr.journal) before it is parsed. After a chunk that ends a
line, its events and the source's state (the journal offset just after that line end, the line number,
the open calls) go to the sink in one ``commit_chunk``: the outbox writes them in one SQLite transaction.
A big chunk (a burst read at once) is decoded in slices, the event loop free between them, and committed
as one. The source does not wait for a commit before it reads on: the sink takes its calls in order
(smdr.outbox.sink) and its writer commits all that arrived during one commit in the next (each chunk's
events with its state: batched, never split), so a popup read right after another is not held behind
that one's fsync, and a burst costs one transaction per fsync. On start, the state is read back: the
open calls are restored (same call_id after the restart), and the journal after the committed offset,
read but never committed, is parsed again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime

from . import tracker_state
from .decoder import Decoder
from .journal import Journal, last_line_end, read_after
from .model import RINGING, CallEvent
from .sinks import EventSink
from .slicing import SLICE_BYTES, feed_in_slices, urgent_this_turn

log = logging.getLogger("smdr.journal")

Deliver = Callable[[Callable[[], Awaitable[None]]], Awaitable[None]]
MAX_IN_FLIGHT_EVENTS = 8192  # handed to the sink, not committed yet: the source waits beyond this


class SourceJournal:
    def __init__(self, name: str, journal: Journal, sink: EventSink, decoder: Decoder, deliver: Deliver) -> None:
        self.name, self.journal, self.sink, self.decoder = name, journal, sink, decoder
        self._deliver = deliver  # retries a sink call while the sink refuses it
        self.read_offset = journal.end
        self._open_calls = tracker_state.OpenCallsText()
        self._in_flight: deque[tuple[asyncio.Task[None], int]] = deque()  # handed to the sink, oldest first
        self._in_flight_events = 0

    def restore(self) -> bool:
        """Take back the committed state: True if there was one (else the caller uses the older
        open-calls file). The journal after it is then given by ``unparsed``."""
        text = self.sink.source_state(self.name)
        if text is None:
            return False
        try:
            state = json.loads(text)
            offset, line, entries, saved_at = int(state["offset"]), int(state["line"]), state["open"], state["at"]
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("%s: the saved state is not usable (%s); the journal is not parsed again", self.name, exc)
            return False
        self.read_offset, self.decoder.position = offset, line
        if time.time() - float(saved_at) <= tracker_state.MAX_AGE:
            restored = tracker_state.restore_json(self.decoder.tracker, entries)
            if restored:
                log.info("%s: %d call(s) still open from before the restart", self.name, restored)
        left = self.journal.end - offset
        if left > 0:
            log.warning("%s: %d byte(s) read before the restart were not committed: parsing them again from "
                        "the journal", self.name, left)
        return True

    async def recover(self, now: Callable[[], datetime]) -> None:
        """Parse again what the journal holds after the committed offset."""
        for chunk, received_at in list(read_after(self.journal.directory, self.read_offset)):
            await self.process(chunk, received_at or now(), append=False)
        await self.flush()
        self.read_offset = self.journal.end

    async def process(self, chunk: bytes, received_at: datetime, *, append: bool = True) -> list[CallEvent]:
        """Journal ``chunk``, parse it and hand its events with the source's state to the sink; returns
        the events (``flush`` waits until they are committed)."""
        if append:
            self.read_offset = self.journal.append(chunk)
        else:
            self.read_offset += len(chunk)
        events = await feed_in_slices(self.decoder, chunk, received_at)
        cut = last_line_end(chunk)
        # inside a line: nothing to commit with a state yet, the events go alone
        self.queue(events, self._state(self.read_offset - len(chunk) + cut) if cut else None)
        if len(chunk) <= SLICE_BYTES and any(event.event == RINGING for event in events):
            # a live ringing record: another source's burst waits until its popup has started (a slice
            # between each of these steps would delay the popup by one slice each)
            urgent_this_turn()
        while self._in_flight_events > MAX_IN_FLIGHT_EVENTS:  # a slow disk: the source waits for it
            await asyncio.wait({self._in_flight[0][0]})
            self._reap()
        return events

    def queue(self, events: list[CallEvent], state: str | None = None) -> None:
        """Hand events of this source (the timers' too) to the sink, after those handed before: the sink
        takes them in this order (a call's events stay in order) without the source waiting."""
        self._reap()
        if state is None and not events:
            return
        pending = list(events)  # emit_many takes them from this list: a retry goes on with the rest

        def call() -> Awaitable[None]:
            if state is not None:
                return self.sink.commit_chunk(self.name, events, state)
            return self.sink.emit_many(pending)

        self._in_flight.append((asyncio.get_running_loop().create_task(self._deliver(call)), len(events)))
        self._in_flight_events += len(events)

    async def flush(self) -> None:
        """Until everything handed over is committed (or held by the sink); a sink's bug is raised here."""
        while self._in_flight:
            await asyncio.wait({self._in_flight[0][0]})  # a cancelled flush leaves the commit alone
            self._reap()

    def _reap(self) -> None:
        while self._in_flight and self._in_flight[0][0].done():
            task, count = self._in_flight.popleft()
            self._in_flight_events -= count
            task.result()  # a sink's bug stops the source (it is started again), it is not lost

    def _state(self, offset: int) -> str:
        return (f'{{"offset": {offset}, "line": {self.decoder.position}, "at": {time.time():.3f}, '
                f'"open": {self._open_calls.text(self.decoder.tracker)}}}')

    def close(self) -> None:
        self.journal.close()
