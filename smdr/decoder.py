"""The synchronous core of a source: bytes in, call events out (framer -> parser -> normalizer -> tracker)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .framing import Framer
from .layouts.record import Parser, RecordRejected
from .model import CallEvent
from .normalize import Localizer, PhoneRules
from .quarantine import Quarantine
from .tracker import Tracker


@dataclass(slots=True)
class DecoderStats:
    records: int = 0          # framed records (including headers and quarantined ones)
    events: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)


class Decoder:
    def __init__(self, source: str, parser: Parser, *, localize: Localizer, phone: PhoneRules,
                 quarantine: Quarantine | None = None, tolerance: int = 120, gateway: str | None = None,
                 max_record: int = 4096) -> None:
        self.source = source
        self.parser = parser
        self.phone = phone
        self.quarantine = quarantine or Quarantine(None)
        self.tracker = Tracker(source, parser.name, localize, tolerance=tolerance, gateway=gateway or source)
        self.framer = Framer(max_record, self._overlong)
        self.position = 0
        self.events = 0

    @property
    def stats(self) -> DecoderStats:
        return DecoderStats(self.position, self.events, dict(self.parser.skipped), dict(self.quarantine.counts))

    def feed(self, chunk: bytes, received_at: datetime | None = None) -> list[CallEvent]:
        return self.records(self.framer.feed(chunk), received_at)

    def records(self, lines: list[bytes], received_at: datetime | None = None) -> list[CallEvent]:
        out: list[CallEvent] = []
        parse, normalize, add = self.parser.parse, self.phone.normalize, self.tracker.add
        position = self.position
        for line in lines:
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
            except Exception as exc:  # noqa: BLE001 - bad input must never stop the source
                self._reject(line, "internal-error", f"{type(exc).__name__}: {exc}", position)
        self.position = position
        self.events += len(out)
        return out

    def link_lost(self) -> None:
        """The connection dropped: a half-received record is kept in quarantine, never parsed half."""
        partial = self.framer.take_partial()
        if partial:
            self.position += 1
            self._reject(partial, "incomplete", "the link was lost in the middle of this record", self.position)

    def finish(self) -> list[CallEvent]:
        """End of a finite input: a last record without a line end is still a record."""
        partial = self.framer.take_partial()
        return self.records([partial]) if partial else []

    def _reject(self, raw: bytes, kind: str, reason: str, position: int) -> None:
        self.quarantine.add(raw, source=self.source, layout=self.parser.name, kind=kind, reason=reason,
                            position=position)

    def _overlong(self, fragment: bytes, continued: bool) -> None:
        if not continued:
            self.position += 1  # every fragment of one overlong line keeps that line's position
        self._reject(fragment, "too-long", f"longer than {self.framer.max_record} bytes without a line end",
                     self.position)
