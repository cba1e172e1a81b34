"""DTMF caller ID (CLIP), as a DTMF decoder box prints the detected tones: one character per tone.

Forms (ETSI EN 300 659-1 annex, spandsp, Asterisk; docs/formats/callerid.md §3):
``A<number>[D<redirected>][B<info>]C`` (B00 = number not available, B10 = private), ``D<number>C``
(Taiwan, Kuwait), ``A<number>#``, ``D1#`` private / ``D2#`` / ``D3#`` not available (Denmark,
Holland), ``<number>#`` without a start code. A message ends at ``C`` or ``#`` (or a line end); one
whose end tone was lost is closed by the timer after ``end_timeout`` seconds (10, as spandsp).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from ..layouts.record import Record, RecordRejected
from .base import LineEventParser

_END = frozenset(b"Cc#\r\n")
_FULL = re.compile(r"^([AD])?([0-9*]*)(?:D([0-9]*))?(?:B([0-9]*))?([C#])?$")
_REASONS = {"00": "number not available", "10": "private", "1": "private", "2": "international", "3": "not available"}


class DtmfFramer:
    """One message per end tone; the time its first tone came is kept for the end timeout."""

    def __init__(self, parser: DtmfParser) -> None:
        self.parser = parser
        self._pending = bytearray()
        self.started: datetime | None = None

    def feed(self, chunk: bytes) -> list[bytes]:
        frames = []
        for byte in chunk:
            if byte in _END:
                if byte not in b"\r\n":
                    self._pending.append(byte)
                if self._pending:
                    frames.append(bytes(self._pending))
                self._pending.clear()
                self.started = None
            elif byte > 0x20:  # a tone, or something else the parser will reject
                if byte in b"Aa" and self._pending:  # a new message began: the last one lost its end tone
                    frames.append(bytes(self._pending))
                    self._pending.clear()
                if not self._pending:
                    self.started = self.parser.context.received_at
                self._pending.append(byte)
                if len(self._pending) > 64:  # no end tone for far too long: not a message
                    frames.append(bytes(self._pending))
                    self._pending.clear()
        return frames

    def take_partial(self) -> bytes:
        partial = bytes(self._pending)
        self._pending.clear()
        self.started = None
        return partial


class DtmfParser(LineEventParser):
    """DTMF caller ID (A...C, D...C, A...#)"""

    name = "callerid-dtmf"
    tick_interval = 1.0

    def __init__(self, context) -> None:
        super().__init__(context)
        self.framer = DtmfFramer(self)
        self.end_timeout = timedelta(seconds=float(context.options.get("end_timeout", 10)))

    def parse(self, frame: bytes) -> Record | None:
        text = frame.decode("ascii", "replace").upper()
        match = _FULL.match(text)
        if match is None or not (match.group(1) or match.group(5)):
            raise RecordRejected("not-dtmf-clip", f"not a DTMF caller-ID message: {text[:64]!r}")
        start, digits, _redirected, info, _end = match.groups()
        if start == "D" and match.group(5) == "#" and digits in ("1", "2", "3"):
            return self.event(f"{text} ({_REASONS[digits]})", "caller_id")
        if info in ("00", "10") and not digits:
            return self.event(f"{text} ({_REASONS[info]})", "caller_id")
        return self.event(text, "caller_id", phone=digits or None)

    def tick(self, now: datetime) -> list[Record]:
        """A message whose end tone never came: what was received is the number (as Asterisk reads it)."""
        started = self.framer.started
        if started is None or now - started <= self.end_timeout:
            return []
        partial = self.framer.take_partial()
        try:
            record = self.parse(partial + b"C")
        except RecordRejected:
            self.skip("no-end-tone")
            return []
        record.raw = partial.decode("ascii", "replace") + " (no end tone)"
        return [record]
