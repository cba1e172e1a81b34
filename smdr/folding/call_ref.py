"""Fold by the PBX's own call id: for PBXs that print one record per call segment (Avaya IP Office).

Every segment of one real call (transfers, hunt groups, voicemail) carries the same ``call_ref``,
and every segment but the last says that more follow (``more``; IP Office: Continuation 1). They are
one CRM call: its call_id comes from the first segment, its ``agent`` is the extension that finally
handled it (the last segment that was connected to an extension; for a call nobody answered, the
last extension it rang), its ``phone`` the party of the last connected segment, its talk time the
sum of the connected segments, and it is ``answered`` when any segment was connected, else the
last segment's own event (``no_answer``, ``busy``). Segments before the last give a ``transferred``
event (a state on the way). A segment whose last record never arrives (link lost) is closed by the
timer tick after ``max_open`` seconds of received time with what is known, so no call stays open for
ever. A segment whose start lies outside the call's span is another call with the same id (the PBX
numbers calls again after a restart).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

from ..layouts.record import FINAL_STAGE, Record
from ..model import ANSWERED, NO_ANSWER, TRANSFERRED, CallEvent, Provenance
from .base import Fold, OpenCall, seconds

_MAX_REFS = 4096
_MAX_OPEN = timedelta(minutes=10)


class CallRefFold(Fold):
    name = "call_ref"
    tick_interval = 60.0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._open: dict[str, OpenCall] = {}     # call_ref -> call still expecting segments
        self._ended: OrderedDict[str, OpenCall] = OrderedDict()  # recently ended (a late segment still folds)
        self._opened_at: dict[str, datetime] = {}

    def open_calls(self) -> list[OpenCall]:
        return list(self._open.values())

    def restore(self, calls: list[OpenCall]) -> None:
        for call in calls:
            if call.ref:
                self._open[call.ref] = call

    def fold(self, rec: Record, start: datetime, end: datetime | None, provenance: Provenance,
             events: list[CallEvent]) -> None:
        ref = rec.call_ref or ""
        call = (self._open.get(ref) or self._ended.get(ref)) if ref else None
        if call is not None and not self._belongs(call, start):
            # the PBX numbers calls again after a restart: the same id on a later call is a new call
            if self._open.get(ref) is call:
                events.append(self._closed_event(ref, call))
            self._ended.pop(ref, None)
            call = None
        connected = rec.stage == FINAL_STAGE and rec.duration > 0
        if call is None:
            call = OpenCall(self.new_call_id(rec), rec.linename or "", rec.phone or "", rec.direction, start, end,
                            rec.stage, rec.event, rec.duration if connected else 0, rec.agent, provenance, ref,
                            connected)
        else:
            self.folded += 1
            self.remember_seen(rec)
            self._join(call, rec, start, end, connected)
        if ref and rec.more:
            self._open[ref] = call
            self._opened_at.setdefault(ref, provenance.received_at or start)
            event = TRANSFERRED
        else:
            if ref:
                self._close(ref, call)
            event = ANSWERED if call.connected else rec.event
        call.event = event
        events.append(CallEvent(
            call.call_id, call.direction, event, call.agent, call.phone or None, call.talk, rec.billduration,
            self.gateway, call.line or None, None, call.start, call.end if rec.stage == FINAL_STAGE else None,
            provenance))
        return

    def _join(self, call: OpenCall, rec: Record, start: datetime, end: datetime | None, connected: bool) -> None:
        if connected:
            call.talk += rec.duration
            if rec.agent:
                call.agent = rec.agent
            if rec.phone:  # the party it was connected to (an internal call picked up by another extension)
                call.phone = rec.phone
            call.connected = True
        elif not call.connected and rec.agent:
            call.agent = rec.agent  # nobody answered yet: the last extension it rang
        if not call.phone and rec.phone:
            call.phone = rec.phone
        if not call.line and rec.linename:
            call.line = rec.linename
        if end is not None:
            # segments of one call print the same start: each adds its own length after the previous
            later = call.end + seconds(rec.duration + rec.ring + rec.held) if (
                call.end is not None and start <= call.start) else end
            call.end = max(later, call.end) if call.end is not None else later
        call.stage = rec.stage

    def _belongs(self, call: OpenCall, start: datetime) -> bool:
        """Segments of one call print its start (or, with Call Splitting for Diverts, the moment it was
        forwarded, inside the call): a start outside the call's span is another call with the same id."""
        tolerance = self.tolerance
        return call.start - tolerance <= start <= (call.end or call.start) + tolerance

    def _close(self, ref: str, call: OpenCall) -> None:
        self._open.pop(ref, None)
        self._opened_at.pop(ref, None)
        call.stage = FINAL_STAGE
        ended = self._ended
        ended[ref] = call
        if len(ended) > _MAX_REFS:
            ended.popitem(last=False)  # O(1); next(iter(dict)) slows down as the front is deleted

    def tick(self, now: datetime) -> list[CallEvent]:
        """Close calls whose last segment never came (the link dropped between two segments)."""
        return [self._closed_event(ref, self._open[ref]) for ref, opened in list(self._opened_at.items())
                if now - opened >= _MAX_OPEN]

    def _closed_event(self, ref: str, call: OpenCall) -> CallEvent:
        """Close a call whose last segment never came, with what is known."""
        self._close(ref, call)
        return CallEvent(
            call.call_id, call.direction, ANSWERED if call.connected else NO_ANSWER, call.agent,
            call.phone or None, call.talk, None, self.gateway, call.line or None, None, call.start, call.end,
            call.provenance)
