"""Oj Segal caller-ID boxes (پردازشگران اوج سگال, poscallerid.ir), the "new" two- and four-line models:
``@``-terminated text tokens per line (docs/formats/callerid.md §1.3; read from a third-party capture
and parser, no vendor document: **partial**).

    L1C09191714505@             caller ID on line 1
    L1R01@                      ring count (01, 02, ...)
    L1HF@                       off hook (the YasnaSDK names it "HookOn": its names are reversed)
    L1D9@                       one dialled digit
    L1HND:091219913344 T0257@   on hook: the digits dialled during the call, and a duration

Not documented, so configurable (``parser_options``): ``duration_unit`` of ``T<dddd>``: ``seconds``
(default, as the SDK reads it), ``mmss`` (minutes and seconds) or ``ignore`` (use the received clock);
``old_model: true`` reads ``L<n><number>@`` (no ``C``) as a caller ID, the older models' form the
SDK's other parser implies (never seen in a capture). Unknown tokens go to quarantine.
"""

from __future__ import annotations

import re
from typing import ClassVar

from ..errors import ConfigError
from ..layouts.record import Record, RecordRejected
from ..model import OUTBOUND
from .base import LineEventParser, number_or_none

_TOKEN = re.compile(r"^L(\d)(?:(C)(.*)|(R)(\d+)|(HF)|(D)([0-9*#])|(HND):\s*([0-9*#]*)\s*T(\d{1,4})|(\d{4,}))$")
DURATION_UNITS = ("seconds", "mmss", "ignore")


class AtFramer:
    """Records end with ``@``; line ends and control bytes around them are not part of them."""

    def __init__(self, max_record: int = 256) -> None:
        self._pending = bytearray()
        self.max_record = max_record

    def feed(self, chunk: bytes) -> list[bytes]:
        frames = []
        for byte in chunk:
            if byte == 0x40:  # @
                frames.append(bytes(self._pending) + b"@")
                self._pending.clear()
            elif byte >= 0x20:
                self._pending.append(byte)
                if len(self._pending) > self.max_record:
                    frames.append(bytes(self._pending))  # no '@' for far too long: quarantined
                    self._pending.clear()
        return [f for f in frames if f != b"@"]

    def take_partial(self) -> bytes:
        partial = bytes(self._pending)
        self._pending.clear()
        return partial


class OjSegalParser(LineEventParser):
    """Oj Segal caller-ID box, @-terminated tokens (partial: see the device notes)"""

    name = "oj-segal"
    # the box reports its hook: rings that stop are a missed call
    fold_options: ClassVar[dict[str, str]] = {"ring_end": "no_answer"}

    def __init__(self, context) -> None:
        super().__init__(context)
        self.framer = AtFramer()
        self.duration_unit = str(context.options.get("duration_unit", "seconds"))
        if self.duration_unit not in DURATION_UNITS:
            raise ConfigError(f"parser_options.duration_unit must be one of {', '.join(DURATION_UNITS)}")
        self.old_model = bool(context.options.get("old_model", False))

    def parse(self, frame: bytes) -> Record | None:
        text = frame.decode("latin-1").strip()
        match = _TOKEN.match(text[:-1]) if text.endswith("@") else None
        if match is None:
            raise RecordRejected("unknown-token", f"not an Oj Segal token: {text[:64]!r}")
        (line, cid, number, ring, _count, off_hook, digit, dialled, on_hook, digits, duration,
         old_number) = match.groups()
        if cid:
            return self.event(text, "caller_id", line=line, phone=number_or_none(number))
        if ring:
            return self.event(text, "ring", line=line)
        if off_hook:
            return self.event(text, "off_hook", line=line)
        if digit:
            return self.event(text, "digits", line=line, phone=dialled, direction=OUTBOUND)
        if on_hook:
            return self.event(text, "on_hook", line=line, phone=digits or None, duration=self._seconds(duration))
        if old_number and self.old_model:
            return self.event(text, "caller_id", line=line, phone=old_number)
        raise RecordRejected("unknown-token", f"not an Oj Segal token of this model: {text[:64]!r} "
                                              "(parser_options old_model: true reads L<n><number>@)")

    def _seconds(self, text: str) -> int:
        if self.duration_unit == "ignore":
            return 0
        value = text.zfill(4)
        if self.duration_unit == "mmss":
            return int(value[:2]) * 60 + int(value[2:])
        return int(value)
