"""Fold the records of one real call into one call_id, and turn records into call events.

A PBX prints one call as several records: a caller-ID line while it rings and the answered line at the
end (KX-TES), RC / AN / final lines (KX-TD, KX-TDA), the legs of a transfer (TR, ``*``), a group's
unanswered segment and the extension that took the call. None of them prints a call id, so the fold
uses what they do print: the same CO line (which carries one call at a time), the same external
number, the same direction, and times that meet within ``tolerance`` seconds (the PBX prints minutes).
A fold that is not certain is not made: two CRM records are better than one wrong merge. In detail:

1. An answered or final record joins the open (ringing / in progress) call on its line that started
   within the tolerance, when the numbers agree (or one of them is unknown). An ICD group's segment
   is such an open call: the extension that answered completes it.
2. A record marked as a later leg (``continues``: TR, ``*``) joins the last ended call on its line whose
   span it starts in (within the tolerance), when the numbers agree.
3. A call still ringing when a later call starts on the same line was not answered: it gets a
   ``no_answer`` event (the line moved on).
Calls without a line (intercom) are never folded. A missed call on a family that prints no marker
for it (KX-TES) stays ringing until the next call on its line: no timer guesses it earlier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .layouts.record import FINAL_STAGE, RINGING_STAGE, Record
from .model import INTERNAL, NO_ANSWER, CallEvent, Provenance, make_call_id
from .normalize import Localizer

_CALLS_PER_LINE = 6
_MAX_LINES = 4096
_MAX_FIRST_RECORDS = 4096  # identical records share their printed minute: a short window is enough
_CACHED_SECONDS = 4 * 3600
_SECONDS = [timedelta(seconds=n) for n in range(_CACHED_SECONDS)]


@dataclass(slots=True)
class _Call:
    call_id: str
    line: str
    phone: str
    direction: str
    start: datetime
    end: datetime | None
    stage: str
    event: str
    talk: int
    agent: str | None
    provenance: Provenance


class Tracker:
    def __init__(self, source: str, layout: str, localize: Localizer, *, tolerance: int = 120,
                 gateway: str | None = None) -> None:
        self.source, self.layout, self.localize = source, layout, localize
        self._local = localize.cache
        self.gateway = gateway
        self.tolerance = timedelta(seconds=tolerance)
        self._open: dict[str, list[_Call]] = {}    # per line: calls ringing or in progress
        self._ended: dict[str, list[_Call]] = {}   # per line: the last few calls that ended, oldest first
        self._first_records: dict[str, int] = {}
        self.folded = 0

    def open_calls(self) -> list[_Call]:
        """Calls still ringing or in progress (what a restart must not forget)."""
        return [call for calls in self._open.values() for call in calls]

    def restore(self, calls: list[_Call]) -> None:
        """Take back the open calls saved by an earlier run of the same source."""
        for call in calls:
            self._remember(call.line, call)

    def add(self, rec: Record, position: int = 0, received_at: datetime | None = None,
            out: list[CallEvent] | None = None) -> list[CallEvent]:
        """The events this record gives (usually one), appended to ``out`` when given."""
        events: list[CallEvent] = [] if out is None else out
        start, end = self._span(rec)
        provenance = Provenance(self.source, self.layout, rec.raw, position, received_at)
        line = rec.linename or "" if rec.direction != INTERNAL else ""
        if line:
            open_calls = self._open.get(line)
            if rec.stage != RINGING_STAGE:
                call = self._match_open(open_calls, rec, start) if open_calls else None
                if call is None and rec.continues:
                    call = self._match_ended(line, rec, start)
                if call is not None:
                    self.folded += 1
                    events.append(self._fold(call, rec, end, provenance))
                    return events
            if open_calls:
                self._close_unanswered(line, open_calls, start, events)
        # a new call (the common case, kept inline: this runs for nearly every record)
        raw = rec.raw
        first = self._first_records
        seen = first.get(raw, 0)
        if len(first) >= _MAX_FIRST_RECORDS:  # keep the newer half (dicts keep insertion order)
            self._first_records = first = dict(list(first.items())[_MAX_FIRST_RECORDS // 2:])
        first[raw] = seen + 1
        final = rec.stage == FINAL_STAGE
        call = _Call(make_call_id(self.source, raw, seen), line, rec.phone or "", rec.direction, start, end,
                     rec.stage, rec.event, rec.duration if final else 0, rec.agent, provenance)
        if line:
            self._remember(line, call)
        events.append(CallEvent(
            call.call_id, call.direction, rec.event, call.agent, call.phone or None, call.talk,
            rec.billduration, self.gateway, line or rec.linename, None, start, end if final else None,
            provenance))
        return events

    def _span(self, rec: Record) -> tuple[datetime, datetime | None]:
        """Start and end, aware in the configured zone (the printed minute is localized once, cached)."""
        when = self._local.get(rec.when)
        if when is None:
            when = self.localize(rec.when)
        if rec.stage == RINGING_STAGE:
            return when, None
        if rec.time_is_end:
            back = rec.duration + rec.ring
            start = when - (_SECONDS[back] if back < _CACHED_SECONDS else timedelta(seconds=back))
            return start, when if rec.stage == FINAL_STAGE else None
        if rec.stage == FINAL_STAGE:
            ahead = rec.duration + rec.ring
            return when, when + (_SECONDS[ahead] if ahead < _CACHED_SECONDS else timedelta(seconds=ahead))
        return when, None

    def _match_open(self, calls: list[_Call], rec: Record, start: datetime) -> _Call | None:
        """Rule 1: the ringing / in-progress call on this line that started with this record."""
        phone = rec.phone or ""
        best: _Call | None = None
        best_gap = self.tolerance
        for call in calls:
            if call.direction != rec.direction or (phone and call.phone and phone != call.phone):
                continue
            gap = abs(start - call.start)
            if gap <= best_gap:
                best, best_gap = call, gap
        return best

    def _match_ended(self, line: str, rec: Record, start: datetime) -> _Call | None:
        """Rule 2: a later leg (transfer) of a call that ended on this line."""
        ended = self._ended.get(line)
        if not ended or not rec.continues:
            return None
        tol = self.tolerance
        phone = rec.phone or ""
        for call in reversed(ended):
            if (call.direction == rec.direction and call.phone == phone and call.end is not None
                    and call.start - tol <= start <= call.end + tol):
                return call
        return None

    def _fold(self, call: _Call, rec: Record, end: datetime | None, provenance: Provenance) -> CallEvent:
        if rec.stage == FINAL_STAGE:
            call.talk = call.talk + rec.duration if call.stage == FINAL_STAGE else rec.duration
            call.end = end
        if call.stage != FINAL_STAGE and rec.stage == FINAL_STAGE:
            self._move_to_ended(call)
        call.stage = rec.stage
        call.event = rec.event
        call.agent = rec.agent or call.agent
        if not call.phone and rec.phone:
            call.phone = rec.phone
        return self._event(call, rec, provenance)

    def _close_unanswered(self, line: str, calls: list[_Call], start: datetime, events: list[CallEvent]) -> None:
        """Rule 4: a call still ringing when a later call starts on the same line was not answered."""
        for call in list(calls):
            if call.stage == RINGING_STAGE and call.start + self.tolerance < start:
                call.event = NO_ANSWER
                self._move_to_ended(call)
                call.stage = FINAL_STAGE
                events.append(CallEvent(
                    call.call_id, call.direction, NO_ANSWER, call.agent, call.phone or None, 0, None,
                    self.gateway, call.line or None, None, call.start, None, call.provenance))

    def _remember(self, line: str, call: _Call) -> None:
        table = self._ended if call.stage == FINAL_STAGE else self._open
        calls = table.get(line)
        if calls is None:
            if len(table) >= _MAX_LINES:
                table.clear()
            calls = table[line] = []
        calls.append(call)
        if len(calls) > _CALLS_PER_LINE:
            del calls[0]

    def _move_to_ended(self, call: _Call) -> None:
        open_calls = self._open.get(call.line)
        if open_calls and call in open_calls:
            open_calls.remove(call)
        call.stage = FINAL_STAGE
        self._remember(call.line, call)

    def _event(self, call: _Call, rec: Record, provenance: Provenance) -> CallEvent:
        final = rec.stage == FINAL_STAGE
        return CallEvent(
            call.call_id, call.direction, rec.event, call.agent, call.phone or None,
            call.talk if final else 0, rec.billduration, self.gateway, call.line or rec.linename, None,
            call.start, call.end if final else None, provenance)
