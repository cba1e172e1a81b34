"""The synchronous core of a source: bytes in, call events out (framer -> parser -> normalizer -> tracker)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .framing import Framer, Overlong
from .layouts.record import DEFAULT_EVENT, Parser, ParserContext, Record, RecordRejected
from .model import CallEvent
from .normalize import Localizer, PhoneRules
from .quarantine import Quarantine
from .tracker import make_tracker

# signals whose phone is what the line dialled (one digit, or digits of a call whose direction the fold
# decides): the fold normalizes the number it assembles
_DIALLED = frozenset({"digits", "on_hook"})


@dataclass(slots=True)
class DecoderStats:
    """Lines read = parsed + skipped + quarantined, always (an overlong line counts once)."""

    records: int = 0          # framed lines (including headers and quarantined ones)
    events: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)  # lines, by kind
    reprints: int = 0         # parsed records the PBX had printed before (its call memory again): not new calls
    parsed: int = 0           # lines that became a call record (reprints included)
    replayed_before: bool = False  # a capture already replayed to its end: nothing was read

    def summary(self) -> str:
        skipped, quarantined = sum(self.skipped.values()), sum(self.quarantined.values())
        return (f"{self.records} lines read = {self.parsed} parsed + {skipped} skipped "
                f"{_kinds(self.skipped)}+ {quarantined} quarantined {_kinds(self.quarantined)}; "
                f"{self.events} events").replace(" ;", ";")


def _kinds(counts: dict[str, int]) -> str:
    return f"({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}) " if counts else ""


class Decoder:
    def __init__(self, source: str, parser: Parser, *, localize: Localizer, phone: PhoneRules,
                 quarantine: Quarantine | None = None, tolerance: int = 120, gateway: str | None = None,
                 max_record: int = 4096, fold: str | None = None, context: ParserContext | None = None) -> None:
        self.source = source
        self.parser = parser
        self.phone = phone
        self.quarantine = quarantine or Quarantine(None)
        self.context = context if context is not None else getattr(parser, "context", None)
        strategy: str = (fold or getattr(parser, "fold", None) or getattr(getattr(parser, "spec", None), "fold", None)
                         or "line")
        self.tracker = make_tracker(strategy, source, parser.name, localize, tolerance=tolerance,
                                    gateway=gateway or source)
        configure = getattr(self.tracker, "configure", None)  # a strategy with options of its own
        if configure is not None:
            options = {**getattr(parser, "fold_options", {}), **(self.context.options if self.context else {})}
            configure(options, phone.normalize)
        own_framer = getattr(parser, "framer", None)  # a binary protocol frames its own bytes
        # overlong fragments come back from our framer in place, as Overlong
        self.framer = own_framer if own_framer is not None else Framer(max_record)
        self.position = 0
        self.events = 0
        self.parsed = 0
        self.quarantined: dict[str, int] = {}  # lines of this source, by kind (the quarantine is shared)
        intervals = [i for i in (getattr(parser, "tick_interval", None), self.tracker.tick_interval) if i]
        self.tick_interval: float | None = min(intervals) if intervals else None
        self.settle_seconds = max(float(getattr(parser, "settle_seconds", 0.0)), self.tracker.settle_seconds)

    @property
    def stats(self) -> DecoderStats:
        return DecoderStats(self.position, self.events, dict(self.parser.skipped), dict(self.quarantined),
                            self.tracker.reprints, self.parsed)

    def feed(self, chunk: bytes, received_at: datetime | None = None) -> list[CallEvent]:
        if self.context is not None and received_at is not None:
            self.context.received_at = received_at  # an own framer may note when a frame began
        return self.records(self.framer.feed(chunk), received_at)

    def tick(self, now: datetime) -> list[CallEvent]:
        """What the parser's and the fold's timers decide at ``now`` (calls nobody closed)."""
        out: list[CallEvent] = []
        parser_tick = getattr(self.parser, "tick", None)
        if parser_tick is not None:
            for rec in parser_tick(now) or ():
                self._add(rec, rec.raw.encode("utf-8", "surrogateescape"), self.position, now, out)
        out.extend(self.tracker.tick(now))
        self.events += len(out)
        return out

    def records(self, lines: list[bytes], received_at: datetime | None = None) -> list[CallEvent]:
        out: list[CallEvent] = []
        parse, add, fold = self.parser.parse, self._add, self.tracker.add
        normalize, normalized = self.phone.normalize, self.phone.memo.entries
        if self.context is not None and received_at is not None:
            self.context.received_at = received_at
        position = self.position
        parsed = 0
        for line in lines:
            if type(line) is Overlong:
                if not line.continued:
                    position += 1
                self._overlong(line, position)
                continue
            position += 1
            try:
                rec = parse(line)
            except RecordRejected as rejected:  # (a name of its own: compiled, a name has one type)
                self._reject(line, rejected.kind, rejected.detail, position)
                continue
            except Exception as exc:  # noqa: BLE001 - a code parser's bug must not stop the source
                self._reject(line, "parser-error", f"{type(exc).__name__}: {exc}", position)
                continue
            if type(rec) is not Record:
                if rec is None:
                    continue
                if type(rec) is list:  # a code parser's line that ends several calls (a CTI provider restart)
                    if all([add(one, line, position, received_at, out) for one in rec]):
                        parsed += 1
                elif add(rec, line, position, received_at, out):  # a code parser's own kind of record
                    parsed += 1
                continue
            try:  # _add, written out: this runs for every record
                if not rec.event:
                    rec.event = DEFAULT_EVENT[rec.stage]
                phone = rec.phone
                if phone and rec.signal not in _DIALLED:
                    known = normalized.get((phone, rec.direction))
                    rec.phone, rec.direction = known if known is not None else normalize(phone, rec.direction)
                fold(rec, position, received_at, out)
            except Exception as exc:  # noqa: BLE001 - bad input must never stop the source
                self._reject(line, "internal-error", f"{type(exc).__name__}: {exc}", position)
                continue
            parsed += 1
        self.position = position
        self.parsed += parsed
        self.events += len(out)
        return out

    def _add(self, rec, line: bytes, position: int, received_at: datetime | None, out: list[CallEvent]) -> bool:
        try:
            if not rec.event:  # a code parser may leave it to the stage
                rec.event = DEFAULT_EVENT[rec.stage]
            if rec.phone and rec.signal not in _DIALLED:
                rec.phone, rec.direction = self.phone.normalize(rec.phone, rec.direction)
            self.tracker.add(rec, position, received_at, out)
            return True
        except Exception as exc:  # noqa: BLE001 - bad input must never stop the source
            self._reject(line, "internal-error", f"{type(exc).__name__}: {exc}", position)
            return False

    def link_lost(self) -> None:
        """The connection dropped: a half-received record is kept in quarantine, never parsed half."""
        partial = self.framer.take_partial()
        if type(partial) is Overlong:
            self._overlong(partial, self.position)
        elif partial:
            self.position += 1
            self._reject(partial, "incomplete", "the link was lost in the middle of this record", self.position)

    def finish(self) -> list[CallEvent]:
        """End of a finite input: a last record without a line end is still a record."""
        partial = self.framer.take_partial()
        return self.records([partial]) if partial else []

    def _reject(self, raw: bytes, kind: str, reason: str, position: int, *, counted: bool = False) -> None:
        if not counted:
            self.quarantined[kind] = self.quarantined.get(kind, 0) + 1
        self.quarantine.add(bytes(raw), source=self.source, layout=self.parser.name, kind=kind, reason=reason,
                            position=position)

    def _overlong(self, fragment: Overlong, position: int) -> None:
        """Every fragment of one overlong line is kept under that line's position; the line counts once."""
        self._reject(fragment, "too-long", f"longer than {self.framer.max_record} bytes without a line end",
                     position, counted=fragment.continued)
