"""No folding: every record is a call of its own (a PBX that prints one complete record per call)."""

from __future__ import annotations

from datetime import datetime

from ..layouts.record import FINAL_STAGE, Record
from ..model import CallEvent, Provenance
from .base import Fold, OpenCall


class SingleFold(Fold):
    name = "none"

    def fold(self, rec: Record, start: datetime, end: datetime | None, provenance: Provenance,
             events: list[CallEvent]) -> None:
        final = rec.stage == FINAL_STAGE
        call = OpenCall(self.new_call_id(rec), rec.linename or "", rec.phone or "", rec.direction, start, end,
                        rec.stage, rec.event, rec.duration if final else 0, rec.agent, provenance)
        events.append(self.event(call, rec, provenance))
        return
