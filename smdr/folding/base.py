"""What every folding strategy shares: the open-call record, spans, deterministic call ids, reprints.

A strategy (chosen by the layout's ``fold:``) decides which records belong to one real call. The
rest is common: the start and end a record implies, a call_id that is a function of the source and
the call's first record (so a replay gives the same ids), and a reprint of records already seen
(the PBX printing its call memory again) that must not become new calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from ..compiled import mypyc_attr
from ..layouts.record import FINAL_STAGE, RINGING_STAGE, Record
from ..model import CallEvent, CallIds, Provenance
from ..normalize import Localizer

_MAX_SEEN = 4096  # records remembered for call ids and reprints: more than a PBX's call memory
_CACHED_SECONDS = 4 * 3600
_SECONDS: dict[int, timedelta] = {}  # call lengths as they occur (below 4 h: bounded), not all built at import


def seconds(n: int) -> timedelta:
    delta = _SECONDS.get(n)
    if delta is None:
        delta = timedelta(seconds=n)
        if 0 <= n < _CACHED_SECONDS:
            _SECONDS[n] = delta
    return delta


class SeenRecords:
    """Record identity -> (calls it opened, sequence number when last seen), for at most ``limit`` records:
    once that many are remembered, the half first seen longest ago is forgotten.

    Kept as two halves, the older one dropped whole: forgetting costs no copy. A copy of the newer half
    (thousands of tuples allocated at once, and the collections that sets off) held the event loop for
    milliseconds every ``limit / 2`` records of a burst, and a popup on another source waited behind it.
    """

    __slots__ = ("_half", "_older", "_newer")

    def __init__(self, limit: int) -> None:
        self._half = limit // 2
        self._older: dict[str, tuple[int, int]] = {}  # the first ``_half`` remembered since the last forgetting
        self._newer: dict[str, tuple[int, int]] = {}

    def get(self, key: str) -> tuple[int, int] | None:
        found = self._newer.get(key)
        return self._older.get(key) if found is None else found

    def see(self, key: str, seq: int, opens: int) -> int:
        """``key`` seen at record ``seq``, opening ``opens`` more calls (0 or 1): how many it opened before."""
        older, newer = self._older, self._newer
        before = newer.get(key)
        if before is None:
            before = older.get(key)
        count = 0 if before is None else before[0]
        if len(older) + len(newer) >= 2 * self._half:
            self._older = older = newer
            self._newer = newer = {}
        if key in older or len(older) < self._half:  # a known record keeps its place
            older[key] = (count + opens, seq)
        else:
            newer[key] = (count + opens, seq)
        return count

    def __len__(self) -> int:
        return len(self._older) + len(self._newer)


@dataclass(slots=True)
class OpenCall:
    """A call the fold still remembers: open (ringing, in progress) or recently ended."""

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
    ref: str = ""             # the PBX's call id, for the call_ref strategy
    connected: bool = False   # a segment of it was answered (call_ref)
    ring: int = 0             # ring seconds its records printed

    # __init__ written out: the compiled build (hatch_build.py) compiles it; a dataclass's own stays interpreted
    def __init__(self, call_id: str, line: str, phone: str, direction: str, start: datetime, end: datetime | None,
                 stage: str, event: str, talk: int, agent: str | None, provenance: Provenance, ref: str = "",
                 connected: bool = False, ring: int = 0) -> None:
        self.call_id = call_id
        self.line = line
        self.phone = phone
        self.direction = direction
        self.start = start
        self.end = end
        self.stage = stage
        self.event = event
        self.talk = talk
        self.agent = agent
        self.provenance = provenance
        self.ref = ref
        self.connected = connected
        self.ring = ring


@mypyc_attr(allow_interpreted_subclasses=True)  # strategies of other modules and plugins
class Fold:
    """Records in, call events out. Subclasses implement ``add``; ``tick`` closes calls a timer decides."""

    # class attributes a strategy sets (ClassVar: compiled, a plain annotation would be an instance attribute)
    name: ClassVar[str] = "base"
    tick_interval: ClassVar[float | None] = None  # seconds between ticks, None: this strategy needs none
    settle_seconds: ClassVar[float] = 0.0  # quiet time after which the timers have decided what they can

    def __init__(self, source: str, layout: str, localize: Localizer, *, tolerance: int = 120,
                 gateway: str | None = None) -> None:
        self.source, self.layout, self.localize = source, layout, localize
        self._local = localize.cache
        self.gateway = gateway
        self.tolerance = timedelta(seconds=tolerance)
        self._call_id = CallIds(source)
        self.folded = 0
        self.reprints = 0
        # identity of a record -> (calls it opened, the sequence number of the record when it was last seen)
        self._seen = SeenRecords(_MAX_SEEN)
        self._latest: datetime | None = None   # the newest printed time
        self._seq = 0     # records checked for reprints
        # sequence number of the last record printed at another time than the newest (a newer one, or one
        # that stepped back): a record seen before it came back after time moved on
        self._moved = 0
        self._undated_rec: Record | None = None  # the last record printed without a date, and its identity
        self._undated_key = ""

    def add(self, rec: Record, position: int = 0, received_at: datetime | None = None,
            out: list[CallEvent] | None = None) -> list[CallEvent]:
        """The events this record gives (usually one), appended to ``out`` when given."""
        events: list[CallEvent] = [] if out is None else out
        # A record identical to one seen before, coming back after time moved on (a newer record, or one
        # that stepped back in time, came in between) is a reprint: the PBX printed its call memory
        # again. Repeated with nothing of the kind in between it may be a genuine repeat (a retry within
        # the minute): then it is a new call, as the call model says: when in doubt, two calls.
        printed = rec.when
        self._seq = seq = self._seq + 1
        if printed != self._latest:
            self._moved = seq
            if self._latest is None or printed > self._latest:
                self._latest = printed
        if rec.dated:
            before = self._seen.get(rec.raw)
        else:  # worked out once per record: new_call_id and remember_seen read it back
            self._undated_rec, self._undated_key = rec, self.identity(rec)
            before = self._seen.get(self._undated_key)
        if before is not None and before[1] < self._moved:
            self.reprints += 1
            return events
        # span(rec), written out: this runs for every record, and a call costs as much as the arithmetic
        when = self._local.get(printed)
        if when is None:
            when = self.localize(printed)
        stage = rec.stage
        if stage == RINGING_STAGE:
            start, end = when, None
        elif rec.time_is_end:
            if "duration" in rec.unknown:
                start = when
            else:
                length = rec.duration + rec.ring + rec.held
                start = when - (_SECONDS.get(length) or seconds(length))
            end = when if stage == FINAL_STAGE else None
        elif stage == FINAL_STAGE and "duration" not in rec.unknown:
            length = rec.duration + rec.ring + rec.held
            start, end = when, when + (_SECONDS.get(length) or seconds(length))
        else:
            start, end = when, None
        self.fold(rec, start, end, Provenance(self.source, self.layout, rec.raw, position, received_at), events)
        return events

    # -- what a strategy implements ------------------------------------------------------------
    def fold(self, rec: Record, start: datetime, end: datetime | None, provenance: Provenance,
             events: list[CallEvent]) -> None:
        """Append the events of ``rec`` (its span already worked out) to ``events``."""
        raise NotImplementedError

    def tick(self, now: datetime) -> list[CallEvent]:
        return []

    def open_calls(self) -> list[OpenCall]:
        return []

    def restore(self, calls: list[OpenCall]) -> None:
        """Take back the open calls saved by an earlier run of the same source."""

    # -- shared parts --------------------------------------------------------------------------
    def identity(self, rec: Record) -> str:
        """What the call_id is made of: the record as printed, plus its resolved time when the PBX
        printed no date (the same Avaya CM line on two days is two calls). A dated record's identity is
        its ``raw``: the hot path reads that directly."""
        return rec.raw if rec.dated else f"{rec.raw}\x1f{rec.when.isoformat()}"

    def _undated_identity(self, rec: Record) -> str:
        return self._undated_key if rec is self._undated_rec else self.identity(rec)

    def new_call_id(self, rec: Record) -> str:
        """The call_id of a call ``rec`` opens: a hash of the source and the record, plus how many calls
        the same record opened before (two calls the PBX printed alike keep two ids, the same on a replay)."""
        key = rec.raw if rec.dated else self._undated_identity(rec)
        return self._call_id(key, self._seen.see(key, self._seq, 1))

    def remember_seen(self, rec: Record) -> None:
        """A record folded into a call is seen too: its reprint must not open a call."""
        self._seen.see(rec.raw if rec.dated else self._undated_identity(rec), self._seq, 0)

    def span(self, rec: Record) -> tuple[datetime, datetime | None]:
        """Start and end, aware in the configured zone (the printed minute is localized once, cached).
        ``add`` works the same out inline; tests/test_folding.py checks that the two agree."""
        when = self._local.get(rec.when)
        if when is None:
            when = self.localize(rec.when)
        if rec.stage == RINGING_STAGE:
            return when, None
        length = rec.duration + rec.ring + rec.held
        if rec.time_is_end:
            start = when if "duration" in rec.unknown else when - seconds(length)
            return start, when if rec.stage == FINAL_STAGE else None
        if rec.stage == FINAL_STAGE and "duration" not in rec.unknown:
            return when, when + seconds(length)
        return when, None

    def event(self, call: OpenCall, rec: Record, provenance: Provenance, event: str | None = None) -> CallEvent:
        final = rec.stage == FINAL_STAGE
        return CallEvent(
            call.call_id, call.direction, event or rec.event, call.agent, call.phone or None,
            call.talk if final else 0, rec.billduration, self.gateway, call.line or rec.linename, None,
            call.start, call.end if final else None, provenance)
