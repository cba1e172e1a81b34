"""Cut a byte stream into records, whatever the PBX or the cable adds around them.

Line ends CR, LF and CRLF (and form feed / vertical tab, which start a new page or line) all end a
record. NUL padding, XON/XOFF and other control bytes are dropped. A record longer than
``max_record`` is cut and handed to ``on_overlong`` so that a stuck line cannot grow memory without
bound; the rest of that line, up to the next line end, goes the same way (``continued`` True).
"""

from __future__ import annotations

from collections.abc import Callable

_LINE_ENDS = b"\r\x0b\x0c"
# C0 controls other than TAB and the line ends, plus DEL: never part of a record.
_DROPPED = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13)) + b"\x7f"
_TABLE = bytes.maketrans(_LINE_ENDS, b"\n" * len(_LINE_ENDS))


class Framer:
    """Incremental framer: ``feed`` bytes, get complete records (without line ends) back."""

    __slots__ = ("max_record", "on_overlong", "_pending", "_discarding", "dropped_bytes", "overlong")

    def __init__(self, max_record: int = 4096,
                 on_overlong: Callable[[bytes, bool], None] | None = None) -> None:
        self.max_record = max_record
        self.on_overlong = on_overlong
        self._pending = b""
        self._discarding = False  # inside the tail of an overlong line
        self.dropped_bytes = 0
        self.overlong = 0

    def feed(self, chunk: bytes) -> list[bytes]:
        data = chunk.translate(_TABLE, _DROPPED)
        self.dropped_bytes += len(chunk) - len(data)
        if self._pending:
            data = self._pending + data
        parts = data.split(b"\n")
        self._pending = parts.pop()
        if self._discarding:
            if parts:
                self._overlong(parts[0], True)
                parts[0] = b""
                self._discarding = False
            else:
                self._overlong(self._pending, True)
                self._pending = b""
                return []
        records = [p for p in parts if p]
        if len(self._pending) > self.max_record:
            self._overlong(self._pending[: self.max_record], False)
            self._overlong(self._pending[self.max_record:], True)
            self._pending = b""
            self._discarding = True
        if records and max(map(len, records)) > self.max_record:
            records = self._split_overlong(records)
        return records

    def _split_overlong(self, records: list[bytes]) -> list[bytes]:
        kept = []
        for record in records:
            if len(record) > self.max_record:
                self._overlong(record, False)
            else:
                kept.append(record)
        return kept

    def _overlong(self, fragment: bytes, continued: bool) -> None:
        if not fragment:
            return
        self.overlong += 1  # fragments, not lines: each one is a quarantine entry
        if self.on_overlong is not None:
            self.on_overlong(fragment, continued)

    def take_partial(self) -> bytes:
        """The half-received record, if any, and forget it (on link loss or end of input)."""
        partial, self._pending = self._pending, b""
        if self._discarding:
            self._discarding = False
            self._overlong(partial, True)
            return b""
        return partial
