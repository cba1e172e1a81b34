"""Fold by line evidence: for PBXs that print no call id (Panasonic, Siemens HiPath, Avaya CM).

A CO line (trunk) carries one call at a time, so records of one real call are those on the same line,
with the same external number and direction, whose times meet within ``tolerance`` seconds (the PBX
prints minutes). A fold that is not certain is not made: two CRM records are better than one wrong
merge. In detail:

1. An answered or final record joins the open (ringing / in progress) call on its line that started
   within the tolerance, when the numbers agree (or one of them is unknown). An ICD group's segment
   is such an open call: the extension that answered completes it.
2. A record marked as a later leg (``continues``: TR, ``*``) joins the last ended call on its line whose
   span it starts in (within the tolerance), when the numbers agree.
3. A ringing record joins the ringing call on its line with the same number that started within the
   tolerance: a PBX that prints one "ringing" line per called extension (HiPath) rings one call. It
   gives a ringing event for that extension under the same call_id.
4. A call still open when a later call starts on the same line is over: a ringing one was not
   answered (``no_answer``), an answered one (in progress, or an ICD segment nobody completed) ended
   with the talk time known so far (``answered``).
Calls without a line (intercom) are never folded. A missed call on a family that prints no marker
for it (KX-TES) stays ringing until the next call on its line: no timer guesses it earlier.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime

from ..layouts.record import ANSWERED_STAGE, FINAL_STAGE, RINGING_STAGE, Record
from ..model import ANSWERED, INTERNAL, NO_ANSWER, CallEvent, Provenance
from ..normalize import Localizer
from .base import Fold, OpenCall

_CALLS_PER_LINE = 6
_MAX_LINES = 4096
# A call that ended in the record that opened it (most calls) is remembered as the tuple (call_id, phone,
# direction, start, end, event, talk, agent, provenance, ring), not as an OpenCall: only a later leg of it
# (rule 2) needs the object, made then.


class LineFold(Fold):
    name = "line"

    def __init__(self, source: str, layout: str, localize: Localizer, *, tolerance: int = 120,
                 gateway: str | None = None) -> None:
        super().__init__(source, layout, localize, tolerance=tolerance, gateway=gateway)
        self._open: dict[str, list[OpenCall]] = {}    # per line: calls ringing or in progress
        # per line: the last few calls that ended, oldest first (an OpenCall, or the tuple above)
        self._ended: dict[str, deque[OpenCall | tuple]] = {}

    def open_calls(self) -> list[OpenCall]:
        return [call for calls in self._open.values() for call in calls]

    def restore(self, calls: list[OpenCall]) -> None:
        for call in calls:
            self._remember(call.line, call)

    def fold(self, rec: Record, start: datetime, end: datetime | None, provenance: Provenance,
             events: list[CallEvent]) -> None:
        line = rec.linename or "" if rec.direction != INTERNAL else ""
        if line:
            open_calls = self._open.get(line)
            if open_calls:
                call = self._match_open(open_calls, rec, start)
                if call is not None and (rec.stage != RINGING_STAGE or call.stage == RINGING_STAGE):
                    self.folded += 1
                    self.remember_seen(rec)
                    events.append(self._fold(call, rec, end, provenance))
                    return
            if rec.stage != RINGING_STAGE and rec.continues:
                call = self._match_ended(line, rec, start)
                if call is not None:
                    self.folded += 1
                    self.remember_seen(rec)
                    events.append(self._fold(call, rec, end, provenance))
                    return
            if open_calls:
                self._close_moved_on(open_calls, start, events)
        final = rec.stage == FINAL_STAGE
        call_id, talk = self.new_call_id(rec), rec.duration if final else 0
        if final and line:
            ended = self._ended.get(line)
            if ended is None:
                ended = self._ended_on(line)
            ended.append((call_id, rec.phone or "", rec.direction, start, end, rec.event, talk, rec.agent, provenance,
                          rec.ring))
        elif line:  # a call without a line is never folded: nothing to remember of it
            self._remember(line, OpenCall(call_id, line, rec.phone or "", rec.direction, start, end, rec.stage,
                                          rec.event, talk, rec.agent, provenance, "", False, rec.ring))
        events.append(CallEvent(call_id, rec.direction, rec.event, rec.agent, rec.phone or None, talk,
                                rec.billduration, self.gateway, line or rec.linename, None, start,
                                end if final else None, provenance))

    def _match_open(self, calls: list[OpenCall], rec: Record, start: datetime) -> OpenCall | None:
        """Rules 1 and 3: the open call on this line that started with this record."""
        phone = rec.phone or ""
        best: OpenCall | None = None
        best_gap = self.tolerance
        for call in calls:
            if call.direction != rec.direction or (phone and call.phone and phone != call.phone):
                continue
            gap = abs(start - call.start)
            if gap <= best_gap:
                best, best_gap = call, gap
        return best

    def _match_ended(self, line: str, rec: Record, start: datetime) -> OpenCall | None:
        """Rule 2: a later leg (transfer) of a call that ended on this line."""
        ended = self._ended.get(line)
        if not ended:
            return None
        tol = self.tolerance
        phone = rec.phone or ""
        for index in range(len(ended) - 1, -1, -1):  # the newest first
            call = ended[index]
            if isinstance(call, tuple):
                if (call[2] == rec.direction and call[1] == phone and call[4] is not None
                        and call[3] - tol <= start <= call[4] + tol):
                    joined = ended[index] = OpenCall(call[0], line, call[1], call[2], call[3], call[4], FINAL_STAGE,
                                                     call[5], call[6], call[7], call[8], "", False, call[9])
                    return joined
            elif (call.direction == rec.direction and call.phone == phone and call.end is not None
                    and call.start - tol <= start <= call.end + tol):
                return call
        return None

    def _fold(self, call: OpenCall, rec: Record, end: datetime | None, provenance: Provenance) -> CallEvent:
        if (rec.stage == ANSWERED_STAGE == call.stage and rec.duration == 0 and rec.ring == 0 < call.ring):
            # a group's segment rang (ring time), then the extension that took the call printed its own
            # record with no ring and no talk: that record ends the call, it is not another segment
            rec.stage, rec.event = FINAL_STAGE, ANSWERED
            end = self.span(rec)[1]
        call.ring = max(call.ring, rec.ring)
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
        return self.event(call, rec, provenance)

    def _close_moved_on(self, calls: list[OpenCall], start: datetime, events: list[CallEvent]) -> None:
        """Rule 4: a call still open when a later call starts on the same line is over."""
        for call in list(calls):
            if call.start + self.tolerance >= start:
                continue
            call.event = NO_ANSWER if call.stage == RINGING_STAGE else ANSWERED
            self._move_to_ended(call)
            events.append(CallEvent(
                call.call_id, call.direction, call.event, call.agent, call.phone or None, call.talk, None,
                self.gateway, call.line or None, None, call.start, call.end, call.provenance))

    def _remember(self, line: str, call: OpenCall) -> None:
        if call.stage == FINAL_STAGE:
            self._ended_on(line).append(call)
            return
        calls = self._open.get(line)
        if calls is None:
            if len(self._open) >= _MAX_LINES:
                self._open.clear()
            calls = self._open[line] = []
        calls.append(call)
        if len(calls) > _CALLS_PER_LINE:
            del calls[0]

    def _ended_on(self, line: str) -> deque[OpenCall | tuple]:
        ended = self._ended.get(line)
        if ended is None:
            if len(self._ended) >= _MAX_LINES:
                self._ended.clear()
            ended = self._ended[line] = deque(maxlen=_CALLS_PER_LINE)
        return ended

    def _move_to_ended(self, call: OpenCall) -> None:
        open_calls = self._open.get(call.line)
        if open_calls and call in open_calls:
            open_calls.remove(call)
        call.stage = FINAL_STAGE
        self._remember(call.line, call)
