"""Caller-ID modems: the text a voice/data modem prints after ``AT+VCID=1`` (or ``AT#CID=1``), or the
hex of the whole message after ``AT+VCID=2`` (docs/formats/callerid.md §4).

Formatted: ``RING`` (``RING A``: distinctive ring), ``DATE = MMDD``, ``TIME = HHMM``, ``NMBR = <number>``
(or ``O`` / ``P``; ``DDN_NMBR`` on some), ``NAME = <name>``, ``MESG = <hex>``, in any order, some
missing, with or without spaces around ``=``. The popup comes with the ``NMBR`` line: a frame with a
number only still pops up, a later ``NAME`` adds nothing the CRM needs. A second ``NMBR`` in the same
ring cycle (``O`` after the number, some telcos) is the same call. Unformatted: one line of hex digits
(``80...`` / ``04...``), decoded and checked like an FSK message (the checksum byte may be missing).
Modem chatter (``OK``, ``ERROR``, ``CONNECT``, the echo of ``AT`` commands) is skipped.
"""

from __future__ import annotations

import re

from ..layouts.record import Record, RecordRejected
from .base import LineEventParser, number_or_none
from .fsk import decode_message

_TAG = re.compile(r"^\s*([A-Z_]+)\s*=\s*(.*?)\s*$")
_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2}){4,}$")
_CHATTER = ("OK", "ERROR", "CONNECT", "NO CARRIER", "BUSY", "NO DIALTONE", "NO ANSWER", "VCON")
_NUMBER_TAGS = ("NMBR", "DDN_NMBR")
_OTHER_TAGS = ("DATE", "TIME", "NAME", "MESG")


class ModemParser(LineEventParser):
    """Caller-ID modem text (AT+VCID=1 formatted, =2 unformatted hex)"""

    name = "callerid-modem"

    def parse(self, line: bytes) -> Record | None:
        text = line.decode("latin-1").strip()
        upper = text.upper()
        if not upper:
            self.skip("blank")
            return None
        if upper == "RING" or re.fullmatch(r"RING ?[A-D]?", upper):
            return self.event(text, "ring")
        match = _TAG.match(upper)
        if match is not None:
            tag = match.group(1)
            if tag in _NUMBER_TAGS:
                value = text[text.index("=") + 1:].strip()
                return self.event(text, "caller_id", phone=number_or_none(value))
            if tag in _OTHER_TAGS:
                self.skip(tag.lower())
                return None
            raise RecordRejected("unknown-tag", f"a caller-ID tag this parser does not know: {text[:64]!r}")
        if _HEX.match(text):
            number, raw = decode_message(bytes.fromhex(text), self.skip, checked=False)
            return None if raw is None else self.event(text, "caller_id", phone=number)
        if upper.startswith("AT") or upper in _CHATTER:
            self.skip("modem-chatter")
            return None
        raise RecordRejected("not-caller-id", f"not a caller-ID modem line: {text[:64]!r}")
