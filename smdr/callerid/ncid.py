"""An NCID server (Network Caller ID, ``ncidd``) as a source: its client protocol on TCP port 3333
(NCID API 1.0; docs/formats/callerid.md §6). Use ``tcp://server:3333`` with layout ``ncid``.

Lines are ``TYPE: *KEY*value*KEY*value*...*`` (pairs in any order). ``CID:`` = caller ID (popup);
``CIDINFO:`` with ``RING`` n > 0 = a ring, ``0`` = the rings stopped because it was answered, ``-1`` =
stopped unanswered, ``-2`` = hung up after the answer; ``OUT:`` = an outgoing call's number; ``END:``
with ``HTYPE`` ``CANCEL`` = not answered, ``BYE`` = ended (talk = ``ECALL`` - ``SCALL``). The server's
greeting (``200``, ``210``, ``250``-``253``, ``300``), its options (``OPT:``) and the call log it
replays at connect (``CIDLOG:``, ``HUPLOG:``, ... : calls of the past, already handled) are skipped;
messages (``MSG:``, ``NOT:``), blocked or auto-hung-up calls (``BLK:``, ``HUP:``) and smartphone
notices (``PID:``) are not calls of a line and are counted, not sent.
"""

from __future__ import annotations

from datetime import datetime

from ..layouts.record import Record, RecordRejected
from ..model import INBOUND, OUTBOUND
from .base import LineEventParser, number_or_none

_NOT_CALLS = {"MSG": "message", "NOT": "notice", "BLK": "blocked", "HUP": "auto-hangup", "PID": "smartphone",
              "OPT": "server-option", "WRK": "server-option", "REQ": "server-option", "RESP": "server-option"}
_CIDINFO_RING = {"0": "off_hook", "-1": "missed", "-2": "on_hook"}


def fields(text: str) -> dict[str, str]:
    """``*DATE*01142026*TIME*1508*`` -> {'DATE': '01142026', 'TIME': '1508'}."""
    parts = text.strip().strip("*").split("*")
    return {parts[i].strip().upper(): parts[i + 1].strip() for i in range(0, len(parts) - 1, 2)}


def _moment(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%m/%d/%Y %H:%M:%S")
    except ValueError:
        return None


class NcidParser(LineEventParser):
    """NCID server client protocol (CID:, CIDINFO:, OUT:, END:)"""

    name = "ncid"

    def parse(self, line: bytes) -> Record | None:
        text = line.decode("utf-8", "replace").strip()
        if not text:
            self.skip("blank")
            return None
        if text[:3].isdigit():
            self.skip("server-status")
            return None
        kind, colon, rest = text.partition(":")
        kind = kind.strip().upper()
        if not colon:
            raise RecordRejected("not-ncid", f"not an NCID line: {text[:64]!r}")
        if kind.endswith("LOG"):
            self.skip("call-log")
            return None
        if kind in _NOT_CALLS:
            self.skip(_NOT_CALLS[kind])
            return None
        values = fields(rest)
        line_name = values.get("LINE") or self.default_line
        number = number_or_none(values.get("NMBR", ""))
        if kind == "CID":
            return self.event(text, "caller_id", line=line_name, phone=number)
        if kind == "OUT":
            return self.event(text, "digits", line=line_name, phone=number, direction=OUTBOUND)
        if kind == "CIDINFO":
            ring = values.get("RING", "")
            signal = _CIDINFO_RING.get(ring, "ring" if ring.isdigit() else "")
            if not signal:
                raise RecordRejected("bad-field", f"CIDINFO RING {ring!r} is not a ring count: {text[:64]!r}")
            return self.event(text, signal, line=line_name)
        if kind == "END":
            return self._end(text, values, line_name, number)
        raise RecordRejected("unknown-type", f"an NCID line type this parser does not know: {kind!r}")

    def _end(self, text: str, values: dict[str, str], line: str, number: str | None) -> Record:
        outgoing = values.get("CTYPE", "").upper() == "OUT"
        direction = OUTBOUND if outgoing else INBOUND
        if values.get("HTYPE", "").upper() == "CANCEL" and not outgoing:
            return self.event(text, "missed", line=line, phone=number)
        start, end = _moment(values.get("SCALL", "")), _moment(values.get("ECALL", ""))
        talk = int((end - start).total_seconds()) if start and end and end >= start else 0
        return self.event(text, "on_hook", line=line, phone=number, duration=talk, direction=direction)
