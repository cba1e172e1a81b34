"""The synchronous core of a source: bytes in, call events out (framer -> parser -> normalizer -> tracker)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .framing import Framer, Overlong
from .layouts.record import Parser, RecordRejected
from .model import CallEvent
from .normalize import Localizer, PhoneRules
from .quarantine import Quarantine
from .tracker import Tracker


@dataclass(slots=True)
class DecoderStats:
    """Lines read = parsed + skipped + quarantined, always (an overlong line counts once)."""

    records: int = 0          # framed lines (including headers and quarantined ones)
    events: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)  # lines, by kind
    parsed: int = 0           # lines that became a call record
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
                 max_record: int = 4096) -> None:
        self.source = source
        self.parser = parser
        self.phone = phone
        self.quarantine = quarantine or Quarantine(None)
        self.tracker = Tracker(source, parser.name, localize, tolerance=tolerance, gateway=gateway or source)
        self.framer = Framer(max_record)  # overlong fragments come back in place, as Overlong
        self.position = 0
        self.events = 0
        self.parsed = 0
        self.quarantined: dict[str, int] = {}  # lines of this source, by kind (the quarantine is shared)

    @property
    def stats(self) -> DecoderStats:
        return DecoderStats(self.position, self.events, dict(self.parser.skipped), dict(self.quarantined),
                            self.parsed)

    def feed(self, chunk: bytes, received_at: datetime | None = None) -> list[CallEvent]:
        return self.records(self.framer.feed(chunk), received_at)

    def records(self, lines: list[bytes], received_at: datetime | None = None) -> list[CallEvent]:
        out: list[CallEvent] = []
        parse, normalize, add = self.parser.parse, self.phone.normalize, self.tracker.add
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
            except RecordRejected as exc:
                self._reject(line, exc.kind, exc.detail, position)
                continue
            except Exception as exc:  # noqa: BLE001 - a code parser's bug must not stop the source
                self._reject(line, "parser-error", f"{type(exc).__name__}: {exc}", position)
                continue
            if rec is None:
                continue
            try:
                if rec.phone:
                    rec.phone, rec.direction = normalize(rec.phone, rec.direction)
                add(rec, position, received_at, out)
                parsed += 1
            except Exception as exc:  # noqa: BLE001 - bad input must never stop the source
                self._reject(line, "internal-error", f"{type(exc).__name__}: {exc}", position)
        self.position = position
        self.parsed += parsed
        self.events += len(out)
        return out

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
