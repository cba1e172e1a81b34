"""Fold by call events: for sources that report each state of a call as it happens (CTI: TAPI).

Every record is one state of the call its ``call_ref`` names (the parser keeps that id across
transfers). The first record of a call_ref gives the call its call_id and start; each record gives one
event with the record's own event and agent (the extension where the call is now); a final record ends
the call (talk = the record's duration). A later record with the same call_ref (a call transferred after
its first leg ended) is the same call: the CRM updates its record. Records without a call_ref are calls
of their own.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from ..layouts.record import FINAL_STAGE, Record
from ..model import CallEvent, Provenance
from .base import Fold, OpenCall

_MAX_CALLS = 4096


class EventsFold(Fold):
    name = "events"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._calls: OrderedDict[str, OpenCall] = OrderedDict()

    def open_calls(self) -> list[OpenCall]:
        return [call for call in self._calls.values() if call.stage != FINAL_STAGE]

    def restore(self, calls: list[OpenCall]) -> None:
        for call in calls:
            if call.ref:
                self._calls[call.ref] = call

    def fold(self, rec: Record, start: datetime, end: datetime | None, provenance: Provenance,
             events: list[CallEvent]) -> None:
        ref = rec.call_ref or ""
        call = self._calls.get(ref) if ref else None
        if call is None:
            call = OpenCall(self.new_call_id(rec), rec.linename or "", rec.phone or "", rec.direction, start, end,
                            rec.stage, rec.event, 0, rec.agent, provenance, ref)
            if ref:
                self._calls[ref] = call
                if len(self._calls) > _MAX_CALLS:
                    self._calls.popitem(last=False)
        else:
            self.folded += 1
            self.remember_seen(rec)
            self._calls.move_to_end(ref)
        call.agent = rec.agent or call.agent
        call.phone = call.phone or rec.phone or ""
        call.stage, call.event = rec.stage, rec.event
        final = rec.stage == FINAL_STAGE
        if final:
            call.talk = rec.duration
            call.end = max(end or start, call.start)
        events.append(CallEvent(
            call.call_id, call.direction, rec.event, call.agent, call.phone or None, call.talk if final else 0,
            rec.billduration, self.gateway, call.line or rec.linename, None, call.start,
            call.end if final else None, provenance))
