"""What a layout makes of one record: the PBX's facts, mapped to Generic terms, before folding."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

from ..errors import SmdrError

RINGING_STAGE = "ringing"      # printed while the call rings (caller-ID line, RC): opens a popup
ANSWERED_STAGE = "answered"    # printed when it is answered (AN): the call is in progress
FINAL_STAGE = "final"          # printed when it ended: the record of the call (or of one leg)
STAGES = (RINGING_STAGE, ANSWERED_STAGE, FINAL_STAGE)
# What a caller-ID box reports about a line (fold: line_state); empty for a PBX's call record.
SIGNALS = ("ring", "caller_id", "off_hook", "on_hook", "digits", "missed")


@dataclass(slots=True)
class Record:
    """One record, in Generic terms. Build it by keyword (the order of the fields may grow); ``raw``,
    ``when`` and ``direction`` are required. (Compiled layouts pass all fields by position: ~3x faster.)"""

    raw: str
    when: datetime              # the printed date and time, naive local wall time
    direction: str
    time_is_end: bool = True    # True: `when` is the end of the call (start = end - duration - ring - held)
    event: str = ""             # empty: the default of the stage
    stage: str = FINAL_STAGE
    agent: str | None = None
    phone: str | None = None
    linename: str | None = None
    ring: int = 0
    duration: int = 0           # talk seconds
    held: int = 0               # seconds on hold or parked: not talk, but inside the call's span
    billduration: int | None = None
    continues: bool = False     # a later leg of a call printed before (transfer: TR, `*`)
    account: str | None = None
    call_ref: str | None = None  # the PBX's own call id (IP Office Call ID): records sharing it are one call
    more: bool = False          # with call_ref: more records of this call follow (IP Office Continuation)
    dated: bool = True          # False: the PBX printed no date here (it came from a date record or the clock)
    unknown: tuple[str, ...] = ()  # outputs printed as a sentinel (99:59'59"): their 0 means "not known"
    signal: str = ""            # a line event of a caller-ID box (SIGNALS), for the line_state fold

    # __init__ written out: the compiled build (hatch_build.py) compiles it; a dataclass's own stays interpreted
    def __init__(self, raw: str, when: datetime, direction: str, time_is_end: bool = True, event: str = "",
                 stage: str = FINAL_STAGE, agent: str | None = None, phone: str | None = None,
                 linename: str | None = None, ring: int = 0, duration: int = 0, held: int = 0,
                 billduration: int | None = None, continues: bool = False, account: str | None = None,
                 call_ref: str | None = None, more: bool = False, dated: bool = True,
                 unknown: tuple[str, ...] = (), signal: str = "") -> None:
        self.raw = raw
        self.when = when
        self.direction = direction
        self.time_is_end = time_is_end
        self.event = event
        self.stage = stage
        self.agent = agent
        self.phone = phone
        self.linename = linename
        self.ring = ring
        self.duration = duration
        self.held = held
        self.billduration = billduration
        self.continues = continues
        self.account = account
        self.call_ref = call_ref
        self.more = more
        self.dated = dated
        self.unknown = unknown
        self.signal = signal


_HOUR, _HALF_DAY, _DAY = timedelta(hours=1), timedelta(hours=12), timedelta(days=1)
DEFAULT_EVENT = {RINGING_STAGE: "ringing", ANSWERED_STAGE: "in-progress", FINAL_STAGE: "answered"}


@dataclass(slots=True)
class ParserContext:
    """What a parser may know besides the bytes: set up once per source, ``received_at`` kept current.

    ``received_at`` is when the bytes being parsed were received (aware, in the source's zone): the
    journal or capture timing on a replay, the clock on a live link, so a replay parses like the live
    run. A format that prints no date (Avaya CM) or no year takes it from here, or from
    ``reference_date`` (``smdr parse --reference-date``) when nothing was recorded.
    """

    date_order: str | None = None
    zone: Any = None
    options: dict[str, Any] = field(default_factory=dict)
    received_at: datetime | None = None
    reference_date: date | None = None
    current_date: date | None = None     # set by the PBX's own date records
    last_time: datetime | None = None    # the previous record's time (to notice midnight)

    def today(self) -> date:
        """The date a record without one belongs to, before midnight rollover is applied."""
        if self.current_date is not None:
            return self.current_date
        if self.received_at is not None:
            return self.received_at.date()
        if self.reference_date is not None:
            return self.reference_date
        return datetime.now(self.zone).date()

    def resolve_year(self, month: int, day: int) -> date:
        """The most recent month/day that is not in the future of the received (or reference) date."""
        ref = self.received_at.date() if self.received_at is not None else (
            self.reference_date or datetime.now(self.zone).date())
        for year in (ref.year, ref.year - 1, ref.year - 2, ref.year - 3, ref.year - 4):
            try:
                candidate = date(year, month, day)
            except ValueError:  # 29 February in a year that has none
                continue
            if candidate <= ref + timedelta(days=1):  # a day of slack for a PBX clock ahead of ours
                return candidate
        raise ValueError("a month and day")

    def received_moment(self) -> datetime:
        """The time of a record that prints none: when it was received (to the second, naive local), else
        00:00 of the date record's (or the reference) date, for a replay without timing."""
        received = self.received_at
        if received is not None:
            return received.replace(tzinfo=None, microsecond=0)
        return datetime.combine(self.today(), time())

    def set_date(self, value: date | None) -> None:
        """The PBX's date record; None: it could not be read (records take the received date again)."""
        self.current_date = value
        self.last_time = None

    def dateless(self, moment: Any) -> datetime:
        """A record that printed a time only: its date, moving to the next day when the times run through
        midnight (a time more than 12 h before the previous one) before the PBX's date record came."""
        day = self.current_date
        when = datetime.combine(self.today() if day is None else day, moment)
        received = self.received_at
        if day is None and received is not None and when > received.replace(tzinfo=None) + _HOUR:
            when -= _DAY  # printed just before midnight, received just after it
        last = self.last_time
        if last is not None and when < last - _HALF_DAY:
            when += _DAY
            self.current_date = when.date()
        self.last_time = when
        return when


class RecordRejected(SmdrError):
    """A record no rule can parse: it goes to quarantine, raw, with this reason."""

    def __init__(self, kind: str, detail: str) -> None:
        self.kind, self.detail = kind, detail
        super().__init__(f"{kind}: {detail}")


class Parser(Protocol):
    """What a compiled YAML layout is and what a code parser (entry point ``smdr.parsers``) provides.

    A code parser's factory is called with a ParserContext. ``parse`` returns a Record (or a list of them,
    for a line that ends several calls: a CTI provider restart), None for a line
    that is not a record (header, separator, blank: counted in ``skipped`` by reason), or raises
    RecordRejected. Optional: ``framer`` (an object with ``feed(bytes) -> list[bytes]`` and
    ``take_partial() -> bytes``) for a binary protocol that is not line-framed; ``tick(now) ->
    list[Record]`` with ``tick_interval`` (seconds) for records a timer decides ("no ring for 10 s").
    """

    name: str
    skipped: dict[str, int]

    def parse(self, line: bytes) -> Record | list[Record] | None: ...
