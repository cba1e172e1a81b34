"""One call across a caller-ID box and a PBX: sources that share a call space (``call_space:``).

Between the trackers and the sink (data flows one way): each source of the space hands its events to
the space, which passes them on, rewritten where two sources describe one real call. A source's new
call (its first event with a call_id the space has not seen) joins a call of ANOTHER source of the
space when the evidence is certain:

- same direction, starts within ``window`` seconds of each other (the PBX prints minutes and computes
  its start from the end; the box has its own clock: skew);
- the line or the external number agrees, and neither of the two, where both sides know it,
  contradicts; lines count only when one of the two sources maps its lines to the other's (``lines:``:
  the technician says which box line is which CO line), the number always;
- exactly one such call: two candidates mean two CRM calls, never one wrong merge;
- that call has not been joined already, and is not over when the newcomer only rings (that would
  reopen a finished call in the CRM).

The joining call takes the first call's call_id, so the CRM updates one record. Its starttime is the
first call's (it was seen live: the box's ring), everything else is the joining source's (the PBX's
record); the end is never before the start, nor closer to it than the talk time. Once the joining
source has given a final event, later non-ringing events of the first source for that call are
dropped (counted): the PBX's record is the firmer fact.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .evidence import line_key, same_line, same_number
from .model import FINAL_EVENTS, RINGING, UNKNOWN_PHONE, CallEvent
from .sinks import EventSink, MappedSink

DEFAULT_WINDOW = 150.0
_MAX_CALLS = 4096


@dataclass(slots=True)
class SpaceCall:
    call_id: str
    source: str
    direction: str
    line: str          # in the space's names (after the source's line map)
    phone: str
    start: datetime
    final: bool = False
    mapped: bool = False               # its source maps its lines to the space's (``lines:``)
    joined_by: str | None = None       # the other source's call_id merged into this one
    joined_final: bool = False


@dataclass(slots=True)
class SpaceStats:
    joined: int = 0
    ambiguous: int = 0      # a new call that fitted several calls: left as its own
    dropped: int = 0        # the first source's later events of a call the other source has finished


@dataclass(slots=True)
class CallSpace:
    name: str
    window: float = DEFAULT_WINDOW
    stats: SpaceStats = field(default_factory=SpaceStats)
    _calls: dict[str, SpaceCall] = field(default_factory=dict)
    _alias: dict[str, str] = field(default_factory=dict)   # joining call_id -> the call_id it took

    def route(self, source: str, event: CallEvent, lines: dict[str, str] | None = None) -> CallEvent | None:
        """The event to send on (rewritten if its call joined another source's), or None to drop it.
        ``lines`` maps the source's line names (as ``line_key`` spells them) to the space's."""
        owner_id = self._alias.get(event.call_id)
        if owner_id is not None:
            owner = self._calls[owner_id]
            return self._as_joined(owner, event)
        known = self._calls.get(event.call_id)
        if known is not None:
            if known.joined_final and event.event != RINGING:
                self.stats.dropped += 1
                return None
            known.final = known.final or event.event in FINAL_EVENTS
            return event
        line = (lines or {}).get(line_key(event.linename), event.linename) if event.linename else ""
        phone = event.phone if event.phone and event.phone != UNKNOWN_PHONE else ""
        newcomer = SpaceCall(event.call_id, source, event.direction, line, phone,
                             event.starttime or datetime.min, event.event in FINAL_EVENTS, bool(lines))
        owner = self._find(newcomer, event) if event.starttime is not None else None
        if owner is None:
            self._remember(newcomer)
            return event
        owner.joined_by = event.call_id
        self._alias[event.call_id] = owner.call_id
        self.stats.joined += 1
        return self._as_joined(owner, event)

    def _find(self, new: SpaceCall, event: CallEvent) -> SpaceCall | None:
        window = timedelta(seconds=self.window)
        found: list[SpaceCall] = []
        for call in self._calls.values():
            if (call.source == new.source or call.direction != new.direction or call.joined_by is not None
                    or abs(call.start - new.start) > window or (call.final and event.event == RINGING)):
                continue
            lines_known = bool(call.line and new.line and (call.mapped or new.mapped))
            phones_known = bool(call.phone and new.phone)
            if lines_known and not same_line(call.line, new.line):
                continue
            if phones_known and not same_number(call.phone, new.phone):
                continue
            if lines_known or phones_known:
                found.append(call)
        if len(found) > 1:
            self.stats.ambiguous += 1
            return None
        return found[0] if found else None

    def _as_joined(self, owner: SpaceCall, event: CallEvent) -> CallEvent:
        if event.event in FINAL_EVENTS:
            owner.joined_final = owner.final = True
        start = owner.start
        end = event.endtime
        if end is not None:
            end = max(end, start + timedelta(seconds=event.duration))
        return dataclasses.replace(event, call_id=owner.call_id, starttime=start, endtime=end)

    def _remember(self, call: SpaceCall) -> None:
        calls = self._calls
        calls[call.call_id] = call
        if len(calls) > _MAX_CALLS:  # the oldest half goes (dicts keep insertion order)
            for call_id in list(calls)[:_MAX_CALLS // 2]:
                gone = calls.pop(call_id)
                if gone.joined_by is not None:
                    self._alias.pop(gone.joined_by, None)


class SpaceSink(MappedSink):
    """A source's sink inside a call space: its events go through the space, then on to the real sink."""

    def __init__(self, space: CallSpace, source: str, sink: EventSink, lines: dict[str, str] | None = None) -> None:
        super().__init__(sink)
        self.space, self.source = space, source
        self.lines = {line_key(k): v for k, v in (lines or {}).items()}

    def change(self, event: CallEvent) -> CallEvent | None:
        return self.space.route(self.source, event, self.lines)
