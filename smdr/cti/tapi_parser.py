"""``tapi-trace``: TAPI line messages (the trace lines of ``tapi://``, live or replayed) -> call states.

Per call handle (a leg: one call as one line sees it): OFFERING gives ``ringing`` with the caller's
number (again when LINE_CALLINFO brings the number later), the first CONNECTED ``in-progress``, IDLE the
end: ``answered`` with the talk seconds (CONNECTED to DISCONNECTED, or to IDLE), ``busy`` if BUSY or
DISCONNECTED/BUSY was seen, else ``no_answer``. Legs whose dwRelatedCallID (or dwCallID: "tracks
transfers") names a call seen before are that call (one call_ref, so one call_id): a transferred call
rings at the new extension under the same call_id; a leg that ends while another leg of its call is
open, or that was ONHOLDPENDTRANSFER, gives ``transferred``; the call's talk is the sum of its legs.
The agent is the line's address (the extension). Direction from dwOrigin (OUTBOUND, INTERNAL,
EXTERNAL/INBOUND), else from the first state (OFFERING: inbound). When the provider reinitializes (or
closes a line), the handles are void: the open calls end with what is known (TAPI will not report
them again unless lineGetNewCalls is used, which this monitor does not do).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..layouts.record import ANSWERED_STAGE, FINAL_STAGE, RINGING_STAGE, ParserContext, Record, RecordRejected
from ..model import ANSWERED, BUSY, IN_PROGRESS, INBOUND, INTERNAL, NO_ANSWER, OUTBOUND, RINGING, TRANSFERRED

_MAX_CALLS = 4096
_REUSE_AFTER = timedelta(minutes=30)   # a TSP call id seen again this long after its call ended: a new call
_DIRECTIONS = {"OUTBOUND": OUTBOUND, "INTERNAL": INTERNAL, "EXTERNAL": INBOUND, "INBOUND": INBOUND}
_SKIPPED = {"OPEN": "open", "NEWCALL": "new-call", "REPLY": "reply", "CREATE": "line-created"}


@dataclass(slots=True)
class Call:
    ref: str
    direction: str
    phone: str = ""
    talk: int = 0
    connected: bool = False
    busy: bool = False
    legs: set[int] = field(default_factory=set)
    last: datetime | None = None


@dataclass(slots=True)
class Leg:
    handle: int
    line: str
    call: Call
    offered: bool = False
    rang_with: str | None = None
    connected_at: datetime | None = None
    ended_at: datetime | None = None
    transfer: bool = False


class TapiTraceParser:
    """TAPI line messages (tapi:// traces) -> ringing, in-progress, answered/no_answer/busy"""

    fold = "events"

    def __init__(self, context: ParserContext) -> None:
        self.name = "tapi-trace"
        self.skipped: dict[str, int] = {}
        self.context = context
        self.legs: dict[int, Leg] = {}
        self.calls: OrderedDict[int, Call] = OrderedDict()   # TSP call id -> call

    def _skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def _when(self, entry: dict[str, Any]) -> datetime:
        try:
            when = datetime.fromisoformat(entry["t"])
        except (KeyError, TypeError, ValueError):
            raise RecordRejected("bad-time", f"no readable received time 't' in {str(entry.get('t'))[:40]!r}") from None
        if when.tzinfo is not None:
            when = when.astimezone(self.context.zone) if self.context.zone is not None else when
            when = when.replace(tzinfo=None)
        return when

    def parse(self, line: bytes) -> Record | list[Record] | None:
        text = line.decode("utf-8", "replace").strip()
        if not text:
            return None
        try:
            entry = json.loads(text)
        except ValueError:
            raise RecordRejected("not-json", "a TAPI trace line is one JSON object") from None
        if not isinstance(entry, dict) or "msg" not in entry:
            raise RecordRejected("not-a-message", "a TAPI trace line needs 'msg'")
        kind = entry["msg"]
        if kind in _SKIPPED:
            self._skip(_SKIPPED[kind])
            return None
        when = self._when(entry)
        if kind == "REINIT":
            return self._end_all(text, when, lambda leg: True)
        if kind == "CLOSE":
            return self._end_all(text, when, lambda leg: leg.line == entry.get("line"))
        if kind not in ("CALLSTATE", "CALLINFO"):
            self._skip("other-message")
            return None
        try:
            handle = int(entry["call"])
        except (KeyError, TypeError, ValueError):
            raise RecordRejected("no-call", f"{kind} without a call handle") from None
        info = entry.get("info") or {}
        if kind == "CALLINFO":
            return self._info(text, when, handle, info)
        return self._state(text, when, handle, str(entry.get("state", "")), int(entry.get("mode") or 0),
                           str(entry.get("line") or ""), info)

    # -- legs and calls ------------------------------------------------------------------------

    def _leg(self, handle: int, line: str, state: str, info: dict[str, Any], when: datetime) -> Leg:
        origin = str(info.get("origin", ""))
        direction = _DIRECTIONS.get(origin) or (INBOUND if state in ("OFFERING", "ACCEPTED") else OUTBOUND)
        call = None
        for key in (info.get("related"), info.get("callid")):
            known = self.calls.get(key) if key else None
            if known is not None and (known.legs or known.last is None or when - known.last < _REUSE_AFTER):
                call = known
                break
        if call is None:
            call = Call(ref=f"{info.get('callid') or 'h' + str(handle)}@{when.isoformat()}", direction=direction)
        callid = info.get("callid")
        if callid:
            self.calls[callid] = call
            self.calls.move_to_end(callid)
            if len(self.calls) > _MAX_CALLS:
                self.calls.popitem(last=False)
        leg = Leg(handle, line, call)
        call.legs.add(handle)
        self.legs[handle] = leg
        self._learn_phone(leg, info)
        return leg

    def _learn_phone(self, leg: Leg, info: dict[str, Any]) -> None:
        call = leg.call
        if call.phone:
            return  # a transferred leg's caller is the extension that transferred: the customer stays
        if call.direction == OUTBOUND:
            call.phone = str(info.get("called") or info.get("connected") or "")
        else:
            call.phone = str(info.get("caller") or info.get("redirecting") or "")

    def _record(self, text: str, when: datetime, leg: Leg, stage: str, event: str, duration: int = 0) -> Record:
        call = leg.call
        call.last = when
        return Record(raw=text, when=when, direction=call.direction, time_is_end=stage == FINAL_STAGE,
                      event=event, stage=stage, agent=leg.line or None, phone=call.phone or None,
                      duration=duration, call_ref=call.ref)

    def _state(self, text: str, when: datetime, handle: int, state: str, mode: int, line: str,
               info: dict[str, Any]) -> Record | None:
        leg = self.legs.get(handle)
        if leg is None:
            if state == "IDLE":
                self._skip("idle-unknown-call")
                return None
            leg = self._leg(handle, line, state, info, when)
        else:
            self._learn_phone(leg, info)
        call = leg.call
        if state in ("OFFERING", "ACCEPTED") and not leg.offered:
            leg.offered = True
            leg.rang_with = call.phone
            return self._record(text, when, leg, RINGING_STAGE, RINGING)
        if state == "CONNECTED" and leg.connected_at is None:
            leg.connected_at = when
            call.connected = True
            return self._record(text, when, leg, ANSWERED_STAGE, IN_PROGRESS)
        if state == "BUSY" or (state == "DISCONNECTED" and mode & 0x20):
            call.busy = True
        if state == "ONHOLDPENDTRANSFER":
            leg.transfer = True
        if state == "DISCONNECTED" and leg.ended_at is None:
            leg.ended_at = when
        if state == "IDLE":
            return self._end(text, when, leg)
        self._skip("state-" + state.lower())
        return None

    def _info(self, text: str, when: datetime, handle: int, info: dict[str, Any]) -> Record | None:
        leg = self.legs.get(handle)
        if leg is None:
            self._skip("info-unknown-call")
            return None
        self._learn_phone(leg, info)
        if leg.offered and leg.connected_at is None and leg.call.phone and leg.rang_with != leg.call.phone:
            leg.rang_with = leg.call.phone  # the caller's number came after OFFERING: ring again with it
            return self._record(text, when, leg, RINGING_STAGE, RINGING)
        self._skip("call-info")
        return None

    def _close_leg(self, leg: Leg, when: datetime) -> None:
        call = leg.call
        self.legs.pop(leg.handle, None)
        call.legs.discard(leg.handle)
        if leg.connected_at is not None:
            end = leg.ended_at or when
            call.talk += max(0, round((end - leg.connected_at).total_seconds()))

    def _end(self, text: str, when: datetime, leg: Leg) -> Record:
        self._close_leg(leg, when)
        call = leg.call
        if leg.transfer or call.legs:
            return self._record(text, when, leg, ANSWERED_STAGE, TRANSFERRED)
        event = ANSWERED if call.connected else BUSY if call.busy else NO_ANSWER
        return self._record(text, when, leg, FINAL_STAGE, event, call.talk)

    def _end_all(self, text: str, when: datetime, which: Callable[[Leg], bool]) -> list[Record]:
        """The legs ``which`` picks are void: each of their calls ends once, with what is known."""
        by_call: dict[str, list[Leg]] = {}
        for leg in self.legs.values():
            if which(leg):
                by_call.setdefault(leg.call.ref, []).append(leg)
        records = []
        for legs in by_call.values():
            *others, last = legs
            for leg in others:
                self._close_leg(leg, when)
            last.transfer = False
            records.append(self._end(text, when, last))
        return records
