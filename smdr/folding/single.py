"""No folding: every record is a call of its own (a PBX that prints one complete record per call)."""

from __future__ import annotations

from datetime import datetime

from ..layouts.record import FINAL_STAGE, Record
from ..model import CallEvent
from .base import Fold, OpenCall


class SingleFold(Fold):
    name = "none"

    def add(self, rec: Record, position: int = 0, received_at: datetime | None = None,
            out: list[CallEvent] | None = None) -> list[CallEvent]:
        events: list[CallEvent] = [] if out is None else out
        if self.is_reprint(rec):
            return events
        start, end = self.span(rec)
        final = rec.stage == FINAL_STAGE
        call = OpenCall(self.new_call_id(rec), rec.linename or "", rec.phone or "", rec.direction, start, end,
                        rec.stage, rec.event, rec.duration if final else 0, rec.agent,
                        self.provenance(rec, position, received_at))
        events.append(self.event(call, rec, call.provenance))
        return events
