"""Bellcore GR-30 / ETSI EN 300 659 FSK caller-ID messages, as a demodulator hands them over (bytes).

A message is ``type | length | data | checksum``; the checksum makes the byte sum 0 mod 256. SDMF
(0x04): ``MMDDHHMM`` then the number, or ``O`` / ``P`` (unavailable / private). MDMF (0x80, Bellcore
and ETSI call setup): parameters ``ptype | plen | value``: 0x01 date and time, 0x02 number, 0x04
reason for no number, 0x07 name, 0x08 reason for no name; unknown ones are skipped by their length.
Message waiting (0x06, 0x82) is not a call. The bytes are framed here (``FskFramer``): the line
framer never sees them; channel seizure (0x55) and fill bytes between messages are dropped, anything
else that is not a valid message goes to quarantine with the reason.
"""

from __future__ import annotations

from construct import Bytes, ConstructError, GreedyBytes, GreedyRange, Int8ub, Prefixed, Struct, this

from ..layouts.record import Record, RecordRejected
from .base import LineEventParser, number_or_none

SDMF, MDMF, SDMF_MWI, MDMF_MWI = 0x04, 0x80, 0x06, 0x82
CALL_TYPES = frozenset({SDMF, MDMF})
MESSAGE_TYPES = frozenset({SDMF, MDMF, SDMF_MWI, MDMF_MWI})
DATE_TIME, NUMBER, NO_NUMBER_REASON, NAME, NO_NAME_REASON = 0x01, 0x02, 0x04, 0x07, 0x08
FILL = frozenset(b"\x55\xff\x00")  # channel seizure, marks read as bytes, idle line

Message = Struct("type" / Int8ub, "length" / Int8ub, "data" / Bytes(this.length), "checksum" / Int8ub)
Parameters = GreedyRange(Struct("ptype" / Int8ub, "value" / Prefixed(Int8ub, GreedyBytes)))
Sdmf = Struct("datetime" / Bytes(8), "number" / GreedyBytes)


def checksum_ok(frame: bytes) -> bool:
    return sum(frame) % 256 == 0


def hex_text(frame: bytes) -> str:
    return frame.hex(" ")


class FskFramer:
    """Cuts a byte stream into messages: a known type, its length, the data and a valid checksum."""

    def __init__(self, max_junk: int = 512) -> None:
        self._buffer = bytearray()
        self._junk = bytearray()
        self.max_junk = max_junk

    def feed(self, chunk: bytes) -> list[bytes]:
        buffer = self._buffer
        buffer += chunk
        frames: list[bytes] = []
        while buffer:
            if buffer[0] not in MESSAGE_TYPES:
                self._skip(frames)
                continue
            if len(buffer) < 2 or len(buffer) < buffer[1] + 3:
                break  # wait for the rest of the message
            size = buffer[1] + 3
            frame = bytes(buffer[:size])
            if not checksum_ok(frame):
                self._skip(frames)  # a type byte inside noise, or a damaged message: resynchronise
                continue
            self._flush_junk(frames)
            frames.append(frame)
            del buffer[:size]
        return frames

    def _skip(self, frames: list[bytes]) -> None:
        self._junk.append(self._buffer.pop(0))
        if len(self._junk) >= self.max_junk:
            self._flush_junk(frames)

    def _flush_junk(self, frames: list[bytes]) -> None:
        junk = bytes(self._junk).lstrip(bytes(FILL))  # the seizure before a damaged message is not news
        self._junk.clear()
        if len(junk) > 2 and junk[0] in MESSAGE_TYPES and len(junk) > junk[1] + 3:
            size = junk[1] + 3  # a damaged message, then what came after it: quarantined apart
            frames.append(junk[:size])
            junk = junk[size:]
        if junk.strip(bytes(FILL)):
            frames.append(junk)  # the parser rejects it: kept in quarantine

    def take_partial(self) -> bytes:
        partial = bytes(self._junk) + bytes(self._buffer)
        self._junk.clear()
        self._buffer.clear()
        return partial if partial.strip(bytes(FILL)) else b""


class FskParser(LineEventParser):
    """Bellcore/ETSI FSK caller ID (SDMF, MDMF), binary"""

    name = "callerid-fsk"

    def __init__(self, context) -> None:
        super().__init__(context)
        self.framer = FskFramer()

    def parse(self, frame: bytes) -> Record | None:
        number, raw = decode_message(frame, self.skip)
        if raw is None:
            return None
        return self.event(raw, "caller_id", phone=number)


def decode_message(frame: bytes, skip=None, *, checked: bool = True) -> tuple[str | None, str | None]:
    """(number or None, the message as hex text) of a call message; (None, None) for message waiting.

    Raises RecordRejected for anything that is not a valid message. ``checked`` False accepts a message
    without its checksum byte (a modem's unformatted output may leave it out)."""
    if not frame or frame[0] not in MESSAGE_TYPES:
        raise RecordRejected("noise", f"{len(frame)} byte(s) that are not an FSK message: {hex_text(frame[:32])}")
    if checked or len(frame) != frame[1] + 2:
        if len(frame) < 3 or len(frame) != frame[1] + 3:
            raise RecordRejected("malformed", f"length byte {frame[1] if len(frame) > 1 else '-'} does not fit "
                                              f"{len(frame)} bytes: {hex_text(frame[:32])}")
        if not checksum_ok(frame):
            raise RecordRejected("checksum", f"checksum fails: {hex_text(frame[:32])}")
        data = Message.parse(frame).data
    else:
        data = frame[2:]
    raw = hex_text(frame)
    if frame[0] not in CALL_TYPES:
        if skip is not None:
            skip("message-waiting")
        return None, None
    try:
        if frame[0] == SDMF:
            return number_or_none(Sdmf.parse(data).number.decode("latin-1")), raw
        return _mdmf_number(data), raw
    except (ConstructError, ValueError) as exc:
        raise RecordRejected("malformed", f"{type(exc).__name__}: {exc}: {raw}") from None


def _mdmf_number(data: bytes) -> str | None:
    params = Parameters.parse(data)
    if sum(2 + len(p.value) for p in params) != len(data):
        raise ValueError("a parameter runs past the end of the message")
    for param in params:
        if param.ptype == NUMBER:
            return number_or_none(param.value.decode("latin-1"))
    return None  # only a reason for absence (0x04), or no number parameter at all
