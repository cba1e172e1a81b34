"""CallerID.com "Whozz Calling?" units: the serial text records, and the same records in Ethernet Link
UDP packets (port 3520); docs/formats/callerid.md §5.

Call record (comprehensive format, fixed columns, one space between fields)::

    01 I S 0276 G B3 09/26 11:28 AM 800-240-4637 CallerID.com

line, ``I``/``O``, ``S`` start / ``E`` end, duration seconds (end only), caller-ID checksum ``G``
good / ``B`` bad, distinctive-ring type and ring count, date, 12 h time, number (14), name (15).
Detail records (``d`` toggle): ``01 R`` ring, ``F`` off hook, ``N`` on hook, ``H`` hook flash, with a
24 h time at the call record's date offset. The limited format (``$01 09/26 02:30 PM 8002404637 I
CallerID.com``) gives the number only.

Mapping: ``I S`` = caller ID; ``O S`` = the number an outgoing call dialled; ``E`` with a duration = on
hook with the unit's own talk time, ``I E`` with ``0000`` = not answered (the unit counts off-hook to
on-hook; NCID's wc2ncid reads ``E`` after an ``F`` as answered the same way); ``R``/``F``/``N`` = ring,
off hook, on hook. A number whose checksum is ``B`` is not trusted: the popup has no number.

Ethernet Link packets: ``^^<U>`` + 6 binary unit bytes + ``<S>`` + 6 binary serial bytes + ``$`` +
the record (62 characters, or 31 for a detail record), at fixed offsets (the binary bytes may hold any
value, so nothing is searched for inside them). One datagram is one packet; a replayed capture of
datagrams is cut at the same offsets.
"""

from __future__ import annotations

import re
from typing import ClassVar

from ..layouts.record import Record, RecordRejected
from ..model import INBOUND, OUTBOUND
from .base import LineEventParser, number_or_none

EL_MAGIC = b"^^<U>"
EL_TEXT = 21               # the record starts here
EL_CALL, EL_DETAIL = 83, 52
_DETAIL_TYPES = {"R": "ring", "F": "off_hook", "N": "on_hook"}
_LIMITED = re.compile(r"^\$?(\d\d)\s+\d\d/\d\d\s+\d\d:\d\d\s+[AP]M\s+(\S+)\s+([IO])\b")
_CALL = re.compile(r"^\$?(\d\d) ([IO]) ([SE]) (\d{4}) ([GB]) (..) ")


class WhozzParser(LineEventParser):
    """CallerID.com Whozz Calling? serial records"""

    name = "whozz-calling"
    # every call gets its E record: rings that stop decide nothing
    fold_options: ClassVar[dict[str, str]] = {"ring_end": "end_record"}

    def parse(self, line: bytes) -> Record | None:
        return self.text_record(line.decode("latin-1").rstrip("\r\n"))

    def text_record(self, text: str) -> Record | None:
        body = text[1:] if text.startswith("$") else text
        if not body.strip():
            self.skip("blank")
            return None
        call = _CALL.match(body)
        if call is not None:
            return self._call(text, body, call)
        if len(body) >= 4 and body[:2].isdigit() and body[2] == " " and body[3] in "RFNH" and (
                len(body) < 5 or body[4] == " "):
            if body[3] == "H":
                self.skip("hook-flash")
                return None
            return self.event(text, _DETAIL_TYPES[body[3]], line=body[:2])
        limited = _LIMITED.match(body)
        if limited is not None:
            line, number, io = limited.groups()
            signal = "caller_id" if io == "I" else "digits"
            return self.event(text, signal, line=line, phone=number_or_none(number),
                              direction=INBOUND if io == "I" else OUTBOUND)
        raise RecordRejected("not-whozz", f"not a Whozz Calling record: {text[:70]!r}")

    def _call(self, text: str, body: str, call: re.Match[str]) -> Record:
        line, io, phase, duration, checksum, _rings = call.groups()
        number = number_or_none(body[32:46]) if checksum == "G" else None
        direction = INBOUND if io == "I" else OUTBOUND
        seconds = int(duration)
        if phase == "S":
            return self.event(text, "caller_id" if io == "I" else "digits", line=line, phone=number,
                              direction=direction)
        if io == "I" and seconds == 0:
            return self.event(text, "missed", line=line, phone=number, direction=direction)
        return self.event(text, "on_hook", line=line, phone=number, duration=seconds, direction=direction)


class ElFramer:
    """Ethernet Link packets: one per datagram; in a replayed byte stream, cut at ``^^<U>`` by length."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, chunk: bytes) -> list[bytes]:
        buffer = self._buffer
        buffer += chunk
        frames: list[bytes] = []
        while buffer:
            start = buffer.find(EL_MAGIC)
            if start != 0:
                junk = bytes(buffer[:start if start > 0 else max(0, len(buffer) - len(EL_MAGIC) + 1)])
                if junk.strip(b"\r\n\x00 "):
                    frames.append(junk)  # not a packet: the parser rejects it into quarantine
                del buffer[:len(junk)]
                if start < 0:
                    break
                continue
            if len(buffer) <= EL_TEXT + 3:
                break
            size = EL_DETAIL if chr(buffer[EL_TEXT + 3]) in "RFNH" else EL_CALL
            if len(buffer) < size:
                break
            frames.append(bytes(buffer[:size]))
            del buffer[:size]
            while buffer[:1] in (b"\r", b"\n"):  # a unit that adds a line end after the record
                del buffer[:1]
        return frames

    def take_partial(self) -> bytes:
        partial = bytes(self._buffer)
        self._buffer.clear()
        return partial


class WhozzEthernetParser(WhozzParser):
    """CallerID.com Whozz Calling? Ethernet Link UDP packets (port 3520)"""

    name = "whozz-calling-el"

    def __init__(self, context) -> None:
        super().__init__(context)
        self.framer = ElFramer()

    def parse(self, packet: bytes) -> Record | None:
        if not packet.startswith(EL_MAGIC) or len(packet) < EL_TEXT + 4 or packet[11:14] != b"<S>":
            raise RecordRejected("not-ethernet-link", f"not an Ethernet Link packet: {packet[:40]!r}")
        unit = int.from_bytes(packet[5:11], "big")
        text = packet[EL_TEXT:].decode("latin-1").rstrip("\r\n")
        record = self.text_record(text)
        if record is not None:
            record.raw = f"unit {unit}: {text}"
        return record
