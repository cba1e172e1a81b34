"""The delivery worker: drains the outbox into the CRM, call by call, popups first.

Design:
- A call is delivered by one task at a time (the call is "claimed"); the task sends the call's oldest
  queued event, then the next, so the events of one call reach the CRM in arrival order. Different
  calls go in parallel, up to ``crm.concurrency`` tasks.
- The fast lane: ``Outbox.emit`` of a ringing event starts its call task at once, outside that budget
  (up to ``POPUP_LANE_SLOTS`` more tasks, each with its own pooled connection), so a popup neither
  waits for the poll interval nor queues behind a CDR backlog.
- A ringing event older than ``popup.max_age`` is no longer a popup: when a later event of the same
  call is queued, the ringing is marked ``superseded``; otherwise it goes out as ``popup.stale_event``.
- Network errors, timeouts and 5xx back off (capped, exponential, jittered), per event and for the
  whole CRM; a refused secret pauses all delivery with one error; an invalid record becomes a dead
  letter and the call's next event follows.
- Nothing is written while a request is in flight, so after a crash the event is still queued and is
  sent again: at least once, harmless since the CRM updates its record by call_id. A call-record task
  goes on with the next call at once; the delivery marks follow through the writer (smdr.outbox.marks).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..backoff import backoff_delay
from ..crm.client import EXTRA_CONNECTIONS, GenericClient, redact
from ..crm.popup import PopupAssistant
from ..crm.settings import CrmSettings, PopupSettings
from ..errors import CrmAuthError, CrmError, CrmRejected
from ..model import RINGING, CallEvent
from .early import Early, EarlySends, committed_id
from .holdback import PopupHoldBack, Releaser
from .marks import DeliveryMarks, when_written
from .outage import CrmOutage
from .pause import AuthPause
from .ready import ReadyCall, ReadyCalls
from .sink import Outbox
from .store import OutboxRow
from .upkeep import prune_in_background

log = logging.getLogger("smdr.outbox")

POPUP_LANE_SLOTS = EXTRA_CONNECTIONS
STORE_RETRY = 1.0  # seconds between tries to write delivery marks the disk refused


@dataclass(slots=True)
class DeliveryStats:
    delivered: int = 0
    dead: int = 0
    superseded: int = 0
    stale_popups: int = 0
    failures: int = 0


class Deliverer:
    """Delivers the outbox to the CRM until ``run``'s stop event is set."""

    def __init__(self, outbox: Outbox, client: GenericClient, crm: CrmSettings, popup: PopupSettings, *,
                 poll_interval: float = 1.0, clock: Callable[[], float] = time.time,
                 browser_opener: Callable[[str], Any] | None = None, keep_days: float = 30.0,
                 prune_interval: float = 3600.0) -> None:
        self._keep_seconds, self._prune_interval = keep_days * 86400.0, prune_interval
        self._outbox, self._store, self._client = outbox, outbox.store, client
        self._crm, self._popup = crm, popup
        self._poll, self._clock = poll_interval, clock
        self._assistant: PopupAssistant | None = None
        if popup.lookup or popup.open_browser_for:
            self._assistant = PopupAssistant(client, popup, opener=browser_opener or webbrowser.open)
        self.stats = DeliveryStats()
        self._claimed: set[str] = set()
        self._cdr_tasks: set[asyncio.Task[None]] = set()
        self._popup_tasks: set[asyncio.Task[None]] = set()
        self._early_tasks: set[asyncio.Task[None]] = set()  # popups sent before their commit: not in the lane
        self._early = EarlySends()
        self._side_tasks: set[asyncio.Task[Any]] = set()
        self._ready = ReadyCalls(self._store)
        self._wake = asyncio.Event()
        self._stopping = False
        self._ringing_waiting = True  # at start, queued ringing events go before the backlog
        self._outage = CrmOutage(self._store, client, crm, self._wake.set, lambda: self._stopping)
        self._horizon = crm.retry_max + 1  # a retry time further ahead: the clock was set back
        self._pause = AuthPause(self._store, crm, clock)
        self._marks = DeliveryMarks(outbox, self._storage_failed)
        self._storage_gate = 0.0      # time.monotonic() before which the outbox is not tried again
        self._hold_back = PopupHoldBack()
        self._running = False
        # Listening from construction on: a ringing emitted before run() has started still gets its
        # local popup, and its delivery is picked up first when run() starts.
        outbox.add_listener(self._on_emit)
        outbox.add_ringing_hook(self._ringing_coming)

    @property
    def paused(self) -> bool:
        return self._pause.paused

    async def run(self, stop: asyncio.Event) -> None:
        log.info("delivering to %s (%s, %d calls in parallel)", self._client.display_url,
                 self._crm.method, self._crm.concurrency)
        self._running = True
        watcher = asyncio.create_task(self._wake_on(stop))
        pruner = asyncio.create_task(prune_in_background(self._store, self._keep_seconds, self._prune_interval,
                                                         self._clock))
        try:
            while not stop.is_set():
                try:
                    self._dispatch()
                except Exception as exc:
                    log.exception("delivery: could not read the outbox; retrying")
                    self._note_failure(self._clock(), redact(f"outbox error: {type(exc).__name__}: {exc}"))
                try:
                    async with asyncio.timeout(self._wait_time()):
                        await self._wake.wait()
                except TimeoutError:
                    pass
                self._wake.clear()
        finally:
            self._outbox.remove_listener(self._on_emit)
            self._outbox.remove_ringing_hook(self._ringing_coming)
            watcher.cancel()
            self._outage.cancel()
            pruner.cancel()
            await self._finish_in_flight()
            await self._marks.settle()
            if not self._save_marks():
                log.error("%d delivery mark(s) could not be written (the disk is full): those events go to "
                          "the CRM once more after the restart (harmless: it updates the record of the "
                          "call_id)", len(self._marks.unsaved))
            await asyncio.gather(pruner, return_exceptions=True)

    # --- scheduling --------------------------------------------------------------------------

    def _on_emit(self, event_id: int, event: CallEvent) -> None:
        if event.event == RINGING and not self._pause.paused and not self._stopping:
            if self._assistant is not None and self._assistant.wants(event):
                self._spawn_side(self._assistant.on_ringing(event))
            if (self._running and event.call_id not in self._claimed
                    and len(self._popup_tasks) < POPUP_LANE_SLOTS):
                self._start_call(event.call_id, popup=True)
                return
            self._ringing_waiting = True
        self._wake.set()

    def _ringing_coming(self, event: CallEvent, row_id: asyncio.Future[int] | None) -> Releaser | None:
        """A ringing event is being committed. Its popup goes out now, from memory, when nothing of its
        call is queued before it (a crash before the commit loses nothing: the raw journal has the
        record); otherwise call records wait (briefly) from now, not from its task."""
        if self._pause.paused or self._stopping:
            return None
        if (row_id is not None and self._running and event.call_id not in self._claimed
                and self._early.has_room() and not self._outage.gated()
                and not self._store.heads_of_call(event.call_id)):
            self._early.started()
            self._start_call(event.call_id, popup=True, early=(event, row_id))
            return None
        return self._hold_back.popup_started()

    def _dispatch(self) -> None:
        now = self._clock()
        if time.monotonic() < self._storage_gate or not self._save_marks():
            return
        if self._pause.paused:
            self._maybe_probe(now)
            return
        if self._outage.gated():
            return
        if self._ringing_waiting:
            self._ringing_waiting = False
            for _, call_id in self._store.ready_heads(now, POPUP_LANE_SLOTS + len(self._claimed),
                                                      ringing_only=True, horizon=self._horizon):
                if call_id in self._claimed:
                    continue
                if len(self._popup_tasks) >= POPUP_LANE_SLOTS:
                    self._ringing_waiting = True
                    break
                self._start_call(call_id, popup=True)
        while len(self._cdr_tasks) < self._crm.concurrency:
            call = self._take_ready(now)
            if call is None:
                break
            self._start_call(call.call_id, popup=False, ready=call)

    def _save_marks(self) -> bool:
        return self._marks.save_unsaved(self._store.mark_many_delivered)

    def _storage_failed(self, exc: sqlite3.Error) -> None:
        self._storage_gate = time.monotonic() + STORE_RETRY
        self._outbox.storage_failed(exc)

    def _maybe_probe(self, now: float) -> None:
        """While paused by auth: try one event after retry_max, or at once if `smdr outbox retry` ran."""
        if self._claimed or self._stopping:
            return
        if not self._pause.probe_due(now):
            return
        heads = self._store.ready_heads(float("inf"), 1)
        if heads:
            self._pause.probe_started(now)
            self._start_call(heads[0][1], popup=False, probe=True)

    def _wait_time(self) -> float | None:
        """Until the next look at the outbox; None: until woken (nothing is queued that is not being
        sent, so only an emit or a finished call task can give work: no timer while idle)."""
        mono = time.monotonic()
        if not self._pause.paused and mono < self._outage.gate_until:
            return max(0.001, min(self._outage.gate_until - mono, self._crm.retry_max))
        try:
            if len(self._claimed) >= self._crm.concurrency or not self._store.has_queued():
                return None
        except sqlite3.Error:
            pass
        return self._poll

    def _start_call(self, call_id: str, *, popup: bool, probe: bool = False, ready: ReadyCall | None = None,
                    early: Early | None = None) -> None:
        self._claimed.add(call_id)
        if ready is None:
            self._ready.claimed_elsewhere(call_id)
        tasks = self._early_tasks if early is not None else self._popup_tasks if popup else self._cdr_tasks
        # from now until its ringing event is on the wire, a popup holds the call-record tasks back
        release = self._hold_back.popup_started() if popup else None
        task = asyncio.create_task(self._drive_call(ready or ReadyCall(call_id), popup=popup, probe=probe,
                                                    release=release, early=early))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _drive_call(self, call: ReadyCall, *, popup: bool, probe: bool, release: Releaser | None,
                          early: Early | None = None) -> None:
        """Send the call's queued events; a call-record task then goes on with the next ready call
        (no new task, no round through the dispatcher: the connection is not left idle meanwhile)."""
        current: ReadyCall | None = call
        while current is not None:
            await self._send_call(current, popup=popup, probe=probe, release=release, early=early)
            early = None
            current = None if popup or probe else self._next_ready()
        # leave the busy set before waking the dispatcher (a done-callback would run after it looked)
        task = asyncio.current_task()
        self._cdr_tasks.discard(task)
        self._popup_tasks.discard(task)
        self._early_tasks.discard(task)
        self._wake.set()

    def _next_ready(self) -> ReadyCall | None:
        if (self._stopping or self._pause.paused or self._marks.unsaved or self._outage.gated()
                or time.monotonic() < self._storage_gate or len(self._cdr_tasks) > self._crm.concurrency):
            return None
        call = self._take_ready(self._clock())
        if call is not None:
            self._claimed.add(call.call_id)
        return call

    def _take_ready(self, now: float) -> ReadyCall | None:
        return self._ready.next(now, 4 * self._crm.concurrency + len(self._claimed), self._claimed, self._horizon)

    async def _send_call(self, call: ReadyCall, *, popup: bool, probe: bool, release: Releaser | None,
                         early: Early | None = None) -> None:
        """Send the call's queued events in order until none is due or one fails. The call stays
        claimed until the delivery marks of what was sent are on disk. ``early``: a ringing event and its
        promised row id: sent at once, then settled as its row once that is committed."""
        call_id, first = call.call_id, True
        last_sent = 0  # the events sent, their marks not yet committed: still queued on disk
        marks: list[asyncio.Future[None]] = []
        sent_early: asyncio.Future[str] | None = None
        early_id: int | None = None
        try:
            if early is not None:
                sent_early = await self._early.send(self._client, early[0], release)
                early_id = await committed_id(early[1])
                if early_id is None:  # not on disk (held in memory): sent again once it is
                    return
            while not self._stopping and not self._marks.unsaved and (not self._pause.paused or (probe and first)):
                if not popup:
                    await self._hold_back.wait()  # up to a second while a burst is read: look again
                    if self._stopping or self._marks.unsaved or (self._pause.paused and not (probe and first)):
                        break
                now = self._clock()
                if self._outage.gated() and not (first and (popup or probe)):
                    break
                if call.head is not None:  # read with the batch of ready calls
                    row, more, call.head = call.head, call.more, None
                else:
                    heads = self._store.heads_of_call(call_id, after_id=last_sent)  # one look for two
                    row, more = (heads[0] if heads else None), len(heads) > 1
                if row is None or (now < row.next_attempt_at <= now + self._horizon and not probe):
                    break
                first = False
                # the popup's request is on the wire (or settled): call records may go on
                on_sent = release if release is not None and row.event == RINGING else None
                sent, sent_early = (sent_early, None) if row.id == early_id else (None, sent_early)
                settled = await self._deliver(row, now, marks, on_sent=on_sent, sent=sent)
                if on_sent is not None:
                    on_sent()
                if not settled or not more:  # an event queued meanwhile: once the claim is released
                    break
                last_sent = row.id
        except sqlite3.Error as exc:  # the outbox cannot be written (a full disk): one error, a pause
            self._storage_failed(exc)
        except Exception as exc:  # a bug: back off instead of spinning
            log.exception("delivery of call %s failed unexpectedly", call_id)
            self._note_failure(self._clock(), redact(f"internal error: {type(exc).__name__}: {exc}"))
        finally:
            if sent_early is not None:
                sent_early.exception()  # not settled as its row (not the call's head): sent again later
            if release is not None:
                release()
            if not when_written(marks, lambda: self._release(call_id)):
                self._claimed.discard(call_id)

    def _release(self, call_id: str) -> None:
        self._claimed.discard(call_id)
        self._wake.set()

    # --- one event -----------------------------------------------------------------------------

    async def _deliver(self, row: OutboxRow, now: float, marks: list[asyncio.Future[None]],
                       on_sent: Callable[[], None] | None = None, sent: asyncio.Future[str] | None = None) -> bool:
        """Send one event; True when it is settled (delivered, dead or superseded). A delivery mark goes
        to the outbox writer without waiting for it: its future is added to ``marks``. ``sent``: the
        outcome of its request, already made (a popup sent before its commit)."""
        try:
            event = row.call_event()
        except (ValueError, KeyError, TypeError) as exc:
            self._store.mark_dead(row.id, f"stored event is unreadable: {exc}", now)
            self.stats.dead += 1
            return True
        sent_event = None
        if row.event == RINGING and sent is None and now - row.created_at > self._popup.max_age:
            later = self._store.later_event_id(row.call_id, row.id)
            if later is not None:
                self._store.mark_superseded(row.id, later, now)
                self.stats.superseded += 1
                log.debug("call %s: ringing %d is stale, superseded by %d", row.call_id, row.id, later)
                return True
            sent_event = self._popup.stale_event
            self.stats.stale_popups += 1
        started = time.monotonic()
        try:
            record_id = await (sent if sent is not None else
                               self._client.process_cdr(event, event_name=sent_event, on_sent=on_sent))
        except CrmAuthError as exc:
            self._on_auth_failure(str(exc))
            return False
        except CrmRejected as exc:
            self._store.mark_dead(row.id, str(exc), self._clock())
            self.stats.dead += 1
            log.warning("call %s: event %d (%s) is a dead letter: %s", row.call_id, row.id, row.event, exc)
            return True
        except CrmError as exc:  # CrmUnavailable, and anything else the client did not classify
            now = self._clock()
            delay = backoff_delay(row.attempts + 1, self._crm.retry_initial, self._crm.retry_max)
            self._store.mark_retry(row.id, str(exc), now + delay)
            if started >= self._outage.last_success:  # else an answer from before the CRM came back: old news
                self._note_failure(now, str(exc))
            else:
                self.stats.failures += 1
            return False
        self.stats.delivered += 1
        mark = (row.id, record_id, sent_event, self._clock())
        marks.append(self._marks.add(mark))
        log.info("call %s delivered: %s %s, agent %s, phone %s, %d s (CRM record %s)", row.call_id, event.direction,
                 sent_event or event.event, event.agent or "-", event.phone or "-", event.duration, record_id)
        self._on_success(started)
        return True

    def _note_failure(self, now: float, message: str) -> None:
        self.stats.failures += 1
        self._outage.failed(now, message)

    def _on_success(self, started: float = float("inf")) -> None:
        """An event was delivered; a request sent before the outage was noticed does not end it (its
        answer left the CRM before it went down)."""
        resumed = self._pause.accepted()
        if self._outage.delivered(started) or resumed:  # else the dispatcher has nothing new to start
            self._wake.set()

    def _on_auth_failure(self, message: str) -> None:
        if self._pause.refused(message):
            self._ready.clear()

    # --- shutdown ------------------------------------------------------------------------------

    def _spawn_side(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    async def _finish_in_flight(self) -> None:
        """Let requests under way finish (their answer is recorded), cancel the rest."""
        self._stopping = True
        for task in self._side_tasks:
            task.cancel()
        pending = self._cdr_tasks | self._popup_tasks | self._early_tasks | self._side_tasks
        if pending:
            _, late = await asyncio.wait(pending, timeout=self._crm.timeout + 1)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)

    async def _wake_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake.set()
